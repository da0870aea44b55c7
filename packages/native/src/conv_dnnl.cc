// Convolutions and their gradients through oneDNN (Debian's libdnnl-dev), compiled only where the
// build found it (MWT_HAVE_DNNL). For the wide layers of the paper's models (256-512 channels on
// 8x8 maps and up; conv_taps.cc takes the smaller maps) oneDNN's JIT kernels keep weight blocks in
// registers and L1 and run several times faster than the direct kernels in conv.cc. Activations stay
// NHWC (no reorder); the filter is reordered between our [kh, kw, in, out] and the blocked layout
// oneDNN picks.
//
// Primitives are cached by geometry: every call comes from Node's main thread, so the cache needs no
// lock. oneDNN runs on its own OpenMP threads, as many as our pool has (one for small convolutions);
// its convolutions give the same bits for the same thread count, which the resume tests rely on.
#include "conv_dnnl.h"

#ifdef MWT_HAVE_DNNL

#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <oneapi/dnnl/dnnl.hpp>

#include "denormals.h"
#include "parallel.h"

namespace mwt {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;

dnnl::engine& cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpuStream() {
  static dnnl::stream stream(cpuEngine());
  return stream;
}

enum class Pass { kForward, kInput, kFilter };

// What oneDNN calls the geometry: logical NCHW / OIHW dims, dilation counted from 0, right padding.
struct Problem {
  memory::desc src, weights, dst;
  memory::dims strides, dilates, padLeft, padRight;
  bool valid;
};

Problem describe(const ConvGeometry& g) {
  Problem p;
  p.src = memory::desc({g.batch, g.inC, g.inH, g.inW}, kF32, Tag::nhwc);
  p.weights = memory::desc({g.outC, g.inC, g.kH, g.kW}, kF32, Tag::any);
  p.dst = memory::desc({g.batch, g.outC, g.outH, g.outW}, kF32, Tag::nhwc);
  p.strides = {g.strideH, g.strideW};
  p.dilates = {g.dilationH - 1, g.dilationW - 1};
  p.padLeft = {g.padTop, g.padLeft};
  // tfjs' 'same' pads the bottom/right by what the last window needs; where that is negative (the
  // last rows are never read), oneDNN's floor division gives the same output size with 0.
  const int64_t bottom = static_cast<int64_t>(g.outH - 1) * g.strideH + (g.kH - 1) * g.dilationH + 1 - g.inH - g.padTop;
  const int64_t right = static_cast<int64_t>(g.outW - 1) * g.strideW + (g.kW - 1) * g.dilationW + 1 - g.inW - g.padLeft;
  p.padRight = {std::max<int64_t>(0, bottom), std::max<int64_t>(0, right)};
  const auto outSize = [](int64_t in, int64_t k, int64_t dilation, int64_t stride, int64_t pl, int64_t pr) {
    return (in + pl + pr - ((k - 1) * dilation + 1)) / stride + 1;
  };
  p.valid = outSize(g.inH, g.kH, g.dilationH, g.strideH, g.padTop, p.padRight[0]) == g.outH &&
            outSize(g.inW, g.kW, g.dilationW, g.strideW, g.padLeft, p.padRight[1]) == g.outW;
  return p;
}

// One cached pass of one geometry: the primitive and the memories it was created for.
struct Prepared {
  dnnl::primitive primitive;
  memory::desc weightsInner;  // the layout oneDNN chose for the filter (or its gradient)
  memory weightsInnerMemory;
  bool reorderWeights;
  std::string implementation;  // oneDNN's name for the kernel it picked
  int threads;                 // the OpenMP threads it was made for, and runs on
};

dnnl::convolution_forward::desc forwardDesc(const Problem& p) {
  return dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, p.src, p.weights, p.dst,
                                         p.strides, p.dilates, p.padLeft, p.padRight);
}

memory::desc userWeights(const ConvGeometry& g) { return memory::desc({g.outC, g.inC, g.kH, g.kW}, kF32, Tag::hwio); }

// On AVX-512 oneDNN lists its brgemm forward kernels first, yet for our shapes (NHWC, batch 32-128)
// its direct JIT kernels are as fast from 8x8 maps up and much faster below: 512 channels on 2x2,
// batch 32, one core, 4.5 against 14.0 ms; on 4x4, 16 against 23 ms. The choice depends only on the
// ISA and the geometry, so a run gives the same bits as the last.
void skipBrgemm(dnnl::convolution_forward::primitive_desc& forward) {
  while (std::strncmp(forward.impl_info_str(), "brg", 3) == 0 && forward.next_impl()) {
  }
}

// Its OpenMP threads flush denormals as ours do (the calling thread, OpenMP's thread 0, does so in
// each kernel call).
void flushDenormalsOnOpenMpThreads() {
  static const bool set = [] {
    omp_set_num_threads(threadCount());
#pragma omp parallel
    if (omp_get_thread_num() != 0) flushDenormalsForGood();
    return true;
  }();
  (void)set;
}

// oneDNN makes a primitive for the OpenMP thread count in force when it is created, and runs it on
// as many: ours, except for small convolutions, where waking a second thread and joining it costs
// more than it saves. Measured per layer on simcnn-small at batch 32 (two threads against one): the
// forward pass and input gradient lose below ~8M multiply-adds (1.8M: 0.35 against 0.14 ms), the
// filter gradient, which sums per-thread partial filters, below ~16M (7.2M: 0.59 against 0.14).
// A function of the geometry only, so a run gives the same bits as the last.
int threadsFor(Pass pass, const ConvGeometry& g) {
  const double macs = static_cast<double>(g.batch) * g.outH * macsPerOutputRow(g);
  const double serialBelow = pass == Pass::kFilter ? 16e6 : 8e6;
  return macs < serialBelow ? 1 : threadCount();
}

std::unique_ptr<Prepared> prepare(Pass pass, const ConvGeometry& g) {
  flushDenormalsOnOpenMpThreads();
  const int threads = threadsFor(pass, g);
  omp_set_num_threads(threads);
  const Problem p = describe(g);
  if (!p.valid) return nullptr;
  dnnl::engine& engine = cpuEngine();
  // The iterator behind a primitive descriptor keeps a pointer to its operation descriptor, so that
  // must outlive it for next_impl() (a temporary ends the list at the first implementation).
  const dnnl::convolution_forward::desc forwardOp = forwardDesc(p);
  dnnl::convolution_forward::primitive_desc forward(forwardOp, engine);
  skipBrgemm(forward);
  auto prepared = std::make_unique<Prepared>();
  prepared->threads = threads;
  switch (pass) {
    case Pass::kForward:
      prepared->primitive = dnnl::convolution_forward(forward);
      prepared->weightsInner = forward.weights_desc();
      prepared->implementation = forward.impl_info_str();
      break;
    case Pass::kInput: {
      const dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, p.src, p.weights, p.dst, p.strides, p.dilates,
                                                       p.padLeft, p.padRight);
      const dnnl::convolution_backward_data::primitive_desc pd(desc, engine, forward);
      prepared->primitive = dnnl::convolution_backward_data(pd);
      prepared->weightsInner = pd.weights_desc();
      prepared->implementation = pd.impl_info_str();
      break;
    }
    case Pass::kFilter: {
      const dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct, p.src, p.weights, p.dst, p.strides,
                                                          p.dilates, p.padLeft, p.padRight);
      const dnnl::convolution_backward_weights::primitive_desc pd(desc, engine, forward);
      prepared->primitive = dnnl::convolution_backward_weights(pd);
      prepared->weightsInner = pd.diff_weights_desc();
      prepared->implementation = pd.impl_info_str();
      break;
    }
  }
  prepared->reorderWeights = prepared->weightsInner != userWeights(g);
  if (prepared->reorderWeights) prepared->weightsInnerMemory = memory(prepared->weightsInner, engine);
  return prepared;
}

Prepared* cached(Pass pass, const ConvGeometry& g) {
  using Key = std::array<int, 16>;
  static std::map<Key, std::unique_ptr<Prepared>> cache;
  const Key key{static_cast<int>(pass), g.batch, g.inH, g.inW, g.inC, g.outH, g.outW, g.outC, g.kH, g.kW,
                g.strideH, g.strideW, g.dilationH, g.dilationW, g.padTop, g.padLeft};
  auto found = cache.find(key);
  if (found == cache.end()) found = cache.emplace(key, prepare(pass, g)).first;
  return found->second.get();
}

// Runs one pass; `weights` is the filter (forward, input gradient) or the filter gradient (written).
bool run(Pass pass, const ConvGeometry& g, const float* src, float* weights, float* dst) {
  Prepared* prepared = cached(pass, g);
  if (prepared == nullptr) return false;
  omp_set_num_threads(prepared->threads);
  // oneDNN's OpenMP threads get the cores: ours would spin beside them for the next job.
  if (prepared->threads > 1) parkHelpers();
  dnnl::engine& engine = cpuEngine();
  dnnl::stream& stream = cpuStream();
  const Problem p = describe(g);
  memory srcMemory(p.src, engine, const_cast<float*>(src));
  memory dstMemory(p.dst, engine, dst);
  memory user(userWeights(g), engine, weights);
  memory& inner = prepared->reorderWeights ? prepared->weightsInnerMemory : user;
  if (pass != Pass::kFilter && prepared->reorderWeights) dnnl::reorder(user, inner).execute(stream, user, inner);
  switch (pass) {
    case Pass::kForward:
      prepared->primitive.execute(stream, {{DNNL_ARG_SRC, srcMemory}, {DNNL_ARG_WEIGHTS, inner}, {DNNL_ARG_DST, dstMemory}});
      break;
    case Pass::kInput:
      prepared->primitive.execute(stream, {{DNNL_ARG_DIFF_SRC, srcMemory}, {DNNL_ARG_WEIGHTS, inner}, {DNNL_ARG_DIFF_DST, dstMemory}});
      break;
    case Pass::kFilter:
      prepared->primitive.execute(stream, {{DNNL_ARG_SRC, srcMemory}, {DNNL_ARG_DIFF_WEIGHTS, inner}, {DNNL_ARG_DIFF_DST, dstMemory}});
      if (prepared->reorderWeights) dnnl::reorder(inner, user).execute(stream, inner, user);
      break;
  }
  stream.wait();
  return true;
}

}  // namespace

bool dnnlAvailable() { return true; }

bool dnnlConv2d(const float* x, const float* filter, float* out, const ConvGeometry& g) {
  return run(Pass::kForward, g, x, const_cast<float*>(filter), out);
}

bool dnnlConv2dBackpropInput(const float* dy, const float* filter, float* dx, const ConvGeometry& g) {
  return run(Pass::kInput, g, dx, const_cast<float*>(filter), const_cast<float*>(dy));
}

bool dnnlConv2dBackpropFilter(const float* x, const float* dy, float* dFilter, const ConvGeometry& g) {
  return run(Pass::kFilter, g, x, dFilter, const_cast<float*>(dy));
}

std::string dnnlForwardImplementation(const ConvGeometry& g) {
  const Prepared* prepared = cached(Pass::kForward, g);
  return prepared == nullptr ? "" : prepared->implementation;
}

}  // namespace mwt

#else

namespace mwt {
bool dnnlAvailable() { return false; }
bool dnnlConv2d(const float*, const float*, float*, const ConvGeometry&) { return false; }
bool dnnlConv2dBackpropInput(const float*, const float*, float*, const ConvGeometry&) { return false; }
bool dnnlConv2dBackpropFilter(const float*, const float*, float*, const ConvGeometry&) { return false; }
std::string dnnlForwardImplementation(const ConvGeometry&) { return ""; }
}  // namespace mwt

#endif
