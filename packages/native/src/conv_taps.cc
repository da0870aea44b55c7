// On maps of a few pixels, a 3x3 'same' window reads padding in most of its taps: on 2x2 maps only 16
// of the 36 products per pixel are real, on 4x4 100 of 144. oneDNN's direct kernels are built for
// large maps: they split work by pixel rows and load each weight block for a handful of pixels, and
// its filter gradient on 2x2x512 ran at a fifth of the machine's peak. Here each tap is one matrix
// product over the pixel pairs it joins, and only those: the inputs it reads and the outputs it
// writes are gathered into rows (batch x pixels of them), multiplied by that tap's [in, out] slice
// of the filter with oneDNN's sgemm, and added back.
#include "conv_taps.h"

#ifdef MWT_HAVE_DNNL

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <oneapi/dnnl/dnnl.h>

#include "parallel.h"

namespace mwt {
namespace {

// The pixel pairs one tap joins: row indices into the input's [batch * inH * inW] pixels and the
// output's [batch * outH * outW]. Within a tap each input pixel meets at most one output pixel.
struct TapPairs {
  std::vector<int64_t> in, out;
};

TapPairs tapPairs(const ConvGeometry& g, int kh, int kw) {
  TapPairs pairs;
  for (int n = 0; n < g.batch; n++) {
    for (int oh = 0; oh < g.outH; oh++) {
      const int ih = oh * g.strideH + kh * g.dilationH - g.padTop;
      if (ih < 0 || ih >= g.inH) continue;
      for (int ow = 0; ow < g.outW; ow++) {
        const int iw = ow * g.strideW + kw * g.dilationW - g.padLeft;
        if (iw < 0 || iw >= g.inW) continue;
        pairs.in.push_back((static_cast<int64_t>(n) * g.inH + ih) * g.inW + iw);
        pairs.out.push_back((static_cast<int64_t>(n) * g.outH + oh) * g.outW + ow);
      }
    }
  }
  return pairs;
}

// Row i of `to` = row rows[i] of `from` (rows of `width` floats).
void gatherRows(const float* from, const std::vector<int64_t>& rows, int width, float* to) {
  parallelFor(static_cast<int64_t>(rows.size()), width, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) std::memcpy(to + i * width, from + rows[i] * width, sizeof(float) * width);
  });
}

// Row rows[i] of `to` += row i of `from`. The rows of one tap are distinct, so chunks never collide.
void scatterAddRows(const float* from, const std::vector<int64_t>& rows, int width, float* to) {
  parallelFor(static_cast<int64_t>(rows.size()), width, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      float* target = to + rows[i] * width;
      const float* source = from + i * width;
      for (int c = 0; c < width; c++) target[c] += source[c];
    }
  });
}

// Row-major C = op(A) op(B) on oneDNN's OpenMP threads (ours sleep meanwhile).
void gemm(char transA, char transB, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
          int64_t ldc) {
  parkHelpers();
  dnnl_sgemm(transA, transB, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}

int64_t tapSize(const ConvGeometry& g) { return static_cast<int64_t>(g.inC) * g.outC; }
int64_t outputPixels(const ConvGeometry& g) { return static_cast<int64_t>(g.batch) * g.outH * g.outW; }

}  // namespace

// Maps of at most 16 pixels (4x4) between layers of 64 channels or more: there the products per tap
// are GEMMs of a useful size. MWT_NATIVE_TAPS=0 turns this off, to compare.
bool tapsTake(const ConvGeometry& g) {
  static const bool enabled = [] {
    const char* env = std::getenv("MWT_NATIVE_TAPS");
    return !(env != nullptr && std::strcmp(env, "0") == 0);
  }();
  return enabled && g.outH * g.outW <= 16 && g.inC >= 64 && g.outC >= 64;
}

bool tapsConv2d(const float* x, const float* filter, float* out, const ConvGeometry& g) {
  if (!tapsTake(g)) return false;
  std::fill_n(out, outputPixels(g) * g.outC, 0.0f);
  std::vector<float> rowsIn(static_cast<size_t>(outputPixels(g)) * g.inC);
  std::vector<float> rowsOut(static_cast<size_t>(outputPixels(g)) * g.outC);
  for (int kh = 0; kh < g.kH; kh++) {
    for (int kw = 0; kw < g.kW; kw++) {
      const TapPairs pairs = tapPairs(g, kh, kw);
      if (pairs.in.empty()) continue;
      gatherRows(x, pairs.in, g.inC, rowsIn.data());
      gemm('N', 'N', pairs.in.size(), g.outC, g.inC, rowsIn.data(), g.inC, filter + (kh * g.kW + kw) * tapSize(g), g.outC, rowsOut.data(), g.outC);
      scatterAddRows(rowsOut.data(), pairs.out, g.outC, out);
    }
  }
  return true;
}

bool tapsConv2dBackpropInput(const float* dy, const float* filter, float* dx, const ConvGeometry& g) {
  if (!tapsTake(g)) return false;
  std::fill_n(dx, static_cast<int64_t>(g.batch) * g.inH * g.inW * g.inC, 0.0f);
  std::vector<float> rowsOut(static_cast<size_t>(outputPixels(g)) * g.outC);
  std::vector<float> rowsIn(static_cast<size_t>(outputPixels(g)) * g.inC);
  for (int kh = 0; kh < g.kH; kh++) {
    for (int kw = 0; kw < g.kW; kw++) {
      const TapPairs pairs = tapPairs(g, kh, kw);
      if (pairs.in.empty()) continue;
      gatherRows(dy, pairs.out, g.outC, rowsOut.data());
      gemm('N', 'T', pairs.out.size(), g.inC, g.outC, rowsOut.data(), g.outC, filter + (kh * g.kW + kw) * tapSize(g), g.outC, rowsIn.data(), g.inC);
      scatterAddRows(rowsIn.data(), pairs.in, g.inC, dx);
    }
  }
  return true;
}

bool tapsConv2dBackpropFilter(const float* x, const float* dy, float* dFilter, const ConvGeometry& g) {
  if (!tapsTake(g)) return false;
  std::vector<float> rowsIn(static_cast<size_t>(outputPixels(g)) * g.inC);
  std::vector<float> rowsOut(static_cast<size_t>(outputPixels(g)) * g.outC);
  for (int kh = 0; kh < g.kH; kh++) {
    for (int kw = 0; kw < g.kW; kw++) {
      float* tap = dFilter + (kh * g.kW + kw) * tapSize(g);
      const TapPairs pairs = tapPairs(g, kh, kw);
      if (pairs.in.empty()) {
        std::fill_n(tap, tapSize(g), 0.0f);
        continue;
      }
      gatherRows(x, pairs.in, g.inC, rowsIn.data());
      gatherRows(dy, pairs.out, g.outC, rowsOut.data());
      gemm('T', 'N', g.inC, g.outC, pairs.in.size(), rowsIn.data(), g.inC, rowsOut.data(), g.outC, tap, g.outC);
    }
  }
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
