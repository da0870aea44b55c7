// On maps of a few pixels, a 3x3 'same' window reads padding in most of its taps: of a 2x2 map's 36
// (pixel, tap) products only 16 are real, of a 4x4 map's 144 100. oneDNN's direct kernels are built
// for large maps: they split work by pixel rows and load each weight block for a handful of pixels,
// and its filter gradient on 2x2x512 ran at a quarter of the machine's peak (counting every product,
// padding included). Here each tap is one matrix product over the pixel pairs it joins, and only
// those: the inputs it reads and the outputs it writes are gathered into rows (batch x pixels of
// them), multiplied by that tap's [in, out] slice of the filter with oneDNN's sgemm, and added back;
// the centre tap, which joins every pixel with itself, multiplies the arrays in place. Each pass is
// one OpenMP parallel region: every thread takes a band of the result's columns through all taps.
#include "conv_taps.h"

#ifdef MWT_HAVE_DNNL

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include "denormals.h"
#include "parallel.h"
#include "window.h"

namespace mwt {
namespace {

// The pixel pairs one tap joins: row indices into the input's [batch * inH * inW] pixels and the
// output's [batch * outH * outW]. Within a tap each input pixel meets at most one output pixel.
struct TapPairs {
  std::vector<int64_t> in, out;
  // Every pixel with itself (the centre tap of a stride-1 'same' conv): its product needs no gather.
  bool identity;
};

// The taps in [kh, kw] order.
std::vector<TapPairs> tapPairs(const ConvGeometry& g) {
  std::vector<TapPairs> taps(static_cast<size_t>(g.kH) * g.kW);
  const int64_t inPixels = static_cast<int64_t>(g.inH) * g.inW;
  for (int n = 0; n < g.batch; n++) {
    for (int oh = 0; oh < g.outH; oh++) {
      for (int ow = 0; ow < g.outW; ow++) {
        const int64_t out = (static_cast<int64_t>(n) * g.outH + oh) * g.outW + ow;
        forEachWindowPixel(g, oh, ow, [&](int tap, int64_t in) {
          taps[tap].in.push_back(n * inPixels + in);
          taps[tap].out.push_back(out);
        });
      }
    }
  }
  const int64_t pixels = static_cast<int64_t>(g.batch) * g.outH * g.outW;
  for (TapPairs& pairs : taps) {
    pairs.identity = static_cast<int64_t>(pairs.out.size()) == pixels && g.inH == g.outH && g.inW == g.outW;
    for (int64_t i = 0; pairs.identity && i < pixels; i++) pairs.identity = pairs.in[i] == i && pairs.out[i] == i;
  }
  return taps;
}

// The index of the identity tap, or -1.
int identityTap(const std::vector<TapPairs>& taps) {
  for (size_t t = 0; t < taps.size(); t++)
    if (taps[t].identity) return static_cast<int>(t);
  return -1;
}

// Rows rows[i] of `from` (rows of `stride` floats), their `width` floats from column `column`, as
// the rows of `to` (width floats each).
void gatherRows(const float* from, int64_t stride, const std::vector<int64_t>& rows, int64_t column, int64_t width, float* to) {
  for (size_t i = 0; i < rows.size(); i++) std::memcpy(to + i * width, from + rows[i] * stride + column, sizeof(float) * width);
}

// Row rows[i] of `to` (rows of `stride` floats) += row i of `from` (rows of `width` floats).
void scatterAddRows(const float* from, int64_t width, const std::vector<int64_t>& rows, int64_t stride, float* to) {
  for (size_t i = 0; i < rows.size(); i++) {
    float* target = to + rows[i] * stride;
    const float* source = from + i * width;
    for (int64_t c = 0; c < width; c++) target[c] += source[c];
  }
}

// Row-major C = op(A) op(B), on the calling thread: oneDNN's sgemm runs on one thread inside a
// parallel region.
void gemm(char transA, char transB, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
          int64_t ldc) {
  dnnl_sgemm(transA, transB, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}

// Columns [begin, end) of a matrix: one thread's share.
struct Band {
  int64_t begin, end;
  int64_t size() const { return end - begin; }
};

// Thread `thread` of `threads`' share of `columns`, cut at multiples of 16 floats (64-byte cache
// lines), so that no two threads write the same line. May be empty.
Band bandOf(int64_t columns, int thread, int threads) {
  const auto cut = [&](int at) { return at == threads ? columns : std::min(columns, (columns * at / threads + 8) / 16 * 16); };
  return {cut(thread), cut(thread + 1)};
}

// Runs body(thread, threads) once on each of oneDNN's OpenMP threads, as many as our pool has; ours
// sleep meanwhile. A pass is one parallel region in which each thread does its share of every tap's
// product, one after another: with a region (a wake-up and a join) per product and our pool's threads
// taking the gathers between them, the 2x2x512 forward pass at batch 32 took 2.1-3.7 ms a call on
// two threads of an AMD EPYC, now 1.5-1.6.
template <typename Body>
void onEveryThread(Body&& body) {
  omp_set_num_threads(threadCount());
  parkHelpers();
#pragma omp parallel
  {
    if (omp_get_thread_num() != 0) flushDenormalsForGood();
    body(omp_get_thread_num(), omp_get_num_threads());
  }
}

// A thread's scratch rows, kept between calls (the largest a pass needed: 4 MB each for 4x4x512 at
// batch 128): nothing is allocated per call, where an allocation this size may come fresh from the
// kernel, a page fault per 4 KiB. Every float is written before it is read.
float* scratch(std::vector<float>& buffer, int64_t floats) {
  if (static_cast<int64_t>(buffer.size()) < floats) buffer.resize(floats);
  return buffer.data();
}
thread_local std::vector<float> gatheredRows, productRows;

int64_t tapSize(const ConvGeometry& g) { return static_cast<int64_t>(g.inC) * g.outC; }
int64_t outputPixels(const ConvGeometry& g) { return static_cast<int64_t>(g.batch) * g.outH * g.outW; }
int64_t inputPixels(const ConvGeometry& g) { return static_cast<int64_t>(g.batch) * g.inH * g.inW; }

// The forward pass (`forward`: from = x, out = y) and the input gradient (from = dy, out = dx): each
// tap adds (the rows of `from` it joins) x (its filter slice, transposed for the gradient) to the
// rows of `out` it joins. Each thread computes a band of out's columns (output channels forward,
// input channels for the gradient): rows of `from` whole, the filter slices' band of columns.
void accumulateTaps(const float* from, const float* filter, bool forward, float* out, const ConvGeometry& g) {
  const int64_t fromWidth = forward ? g.inC : g.outC;
  const int64_t outWidth = forward ? g.outC : g.inC;
  const int64_t outRows = forward ? outputPixels(g) : inputPixels(g);
  const std::vector<TapPairs> taps = tapPairs(g);
  const int identity = identityTap(taps);
  const char transpose = forward ? 'N' : 'T';
  onEveryThread([&](int thread, int threads) {
    const Band band = bandOf(outWidth, thread, threads);
    if (band.size() == 0) return;
    // Tap t's filter slice [in, out], limited to the band's columns of the product: forward, the
    // slice's columns; for the gradient (the slice transposed), its rows.
    const auto slice = [&](int64_t t) { return filter + t * tapSize(g) + (forward ? band.begin : band.begin * g.outC); };
    // The identity tap writes the band of every output row straight away; without one they start at zero.
    if (identity >= 0) {
      gemm('N', transpose, outRows, band.size(), fromWidth, from, fromWidth, slice(identity), g.outC, out + band.begin, outWidth);
    } else {
      for (int64_t row = 0; row < outRows; row++) std::fill_n(out + row * outWidth + band.begin, band.size(), 0.0f);
    }
    float* rowsFrom = scratch(gatheredRows, outputPixels(g) * fromWidth);
    float* rowsTo = scratch(productRows, outputPixels(g) * band.size());
    for (size_t t = 0; t < taps.size(); t++) {
      const TapPairs& pairs = taps[t];
      if (static_cast<int>(t) == identity || pairs.in.empty()) continue;
      gatherRows(from, fromWidth, forward ? pairs.in : pairs.out, 0, fromWidth, rowsFrom);
      gemm('N', transpose, pairs.in.size(), band.size(), fromWidth, rowsFrom, fromWidth, slice(t), g.outC, rowsTo, band.size());
      scatterAddRows(rowsTo, band.size(), forward ? pairs.out : pairs.in, outWidth, out + band.begin);
    }
  });
}

// The filter gradient: tap t's slice [in, out] = (the rows of x it joins)^T x (the rows of dy it
// joins). Each thread computes a band of the slices' rows (input channels), which lie together.
void filterGradient(const float* x, const float* dy, float* dFilter, const ConvGeometry& g) {
  const std::vector<TapPairs> taps = tapPairs(g);
  onEveryThread([&](int thread, int threads) {
    const Band band = bandOf(g.inC, thread, threads);
    if (band.size() == 0) return;
    float* rowsIn = scratch(gatheredRows, outputPixels(g) * band.size());
    float* rowsOut = scratch(productRows, outputPixels(g) * g.outC);
    for (size_t t = 0; t < taps.size(); t++) {
      const TapPairs& pairs = taps[t];
      float* rows = dFilter + t * tapSize(g) + band.begin * g.outC;
      if (pairs.identity) {
        gemm('T', 'N', band.size(), g.outC, pairs.in.size(), x + band.begin, g.inC, dy, g.outC, rows, g.outC);
      } else if (pairs.in.empty()) {
        std::fill_n(rows, band.size() * g.outC, 0.0f);
      } else {
        gatherRows(x, g.inC, pairs.in, band.begin, band.size(), rowsIn);
        gatherRows(dy, g.outC, pairs.out, 0, g.outC, rowsOut);
        gemm('T', 'N', band.size(), g.outC, pairs.in.size(), rowsIn, band.size(), rowsOut, g.outC, rows, g.outC);
      }
    }
  });
}

}  // namespace

// Maps of at most 16 pixels (4x4) between layers of 128 channels or more, where the products per
// tap are GEMMs of a useful size, and 1x1 maps from 64 channels (one GEMM, no gather). On 8x8 maps,
// where 84% of the products are real, oneDNN's direct kernels stay faster (simcnn's 8x8x256
// forward, batch 32, one thread: 28.6 against 31.6 ms), and so they do on 3x3 maps of 64 channels
// (simcnn-small's, batch 32: 0.36 against 0.42 ms on one thread, 0.38 against 0.67 on two).
// MWT_NATIVE_TAPS=0 turns this off, to compare.
bool tapsTake(const ConvGeometry& g) {
  static const bool enabled = [] {
    const char* env = std::getenv("MWT_NATIVE_TAPS");
    return !(env != nullptr && std::strcmp(env, "0") == 0);
  }();
  const bool onePixel = g.outH == 1 && g.outW == 1;
  return enabled && g.outH * g.outW <= 16 && std::min(g.inC, g.outC) >= (onePixel ? 64 : 128);
}

bool tapsConv2d(const float* x, const float* filter, float* out, const ConvGeometry& g) {
  if (!tapsTake(g)) return false;
  accumulateTaps(x, filter, true, out, g);
  return true;
}

bool tapsConv2dBackpropInput(const float* dy, const float* filter, float* dx, const ConvGeometry& g) {
  if (!tapsTake(g)) return false;
  accumulateTaps(dy, filter, false, dx, g);
  return true;
}

bool tapsConv2dBackpropFilter(const float* x, const float* dy, float* dFilter, const ConvGeometry& g) {
  if (!tapsTake(g)) return false;
  filterGradient(x, dy, dFilter, g);
  return true;
}

}  // namespace mwt

#else

namespace mwt {
bool tapsTake(const ConvGeometry&) { return false; }
bool tapsConv2d(const float*, const float*, float*, const ConvGeometry&) { return false; }
bool tapsConv2dBackpropInput(const float*, const float*, float*, const ConvGeometry&) { return false; }
bool tapsConv2dBackpropFilter(const float*, const float*, float*, const ConvGeometry&) { return false; }
}  // namespace mwt

#endif
