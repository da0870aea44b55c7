// On maps of a few pixels, a 3x3 'same' window reads padding in most of its taps: of a 2x2 map's 36
// (pixel, tap) products only 16 are real, of a 4x4 map's 144 100. oneDNN's direct kernels are built
// for large maps: they split work by pixel rows and load each weight block for a handful of pixels,
// and its filter gradient on 2x2x512 ran at a quarter of the machine's peak (counting every product,
// padding included). Here each tap is one matrix product over the pixel pairs it joins, and only
// those: the inputs it reads and the outputs it writes are gathered into rows (batch x pixels of
// them), multiplied by that tap's [in, out] slice of the filter with oneDNN's sgemm, and added back;
// the centre tap, which joins every pixel with itself, multiplies the arrays in place. Between
// 512-channel layers on two threads or more, the input gradient does the same transposed
// (inputGradientTransposed).
#include "conv_taps.h"

#ifdef MWT_HAVE_DNNL

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

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

// `to` (cols x rows) = `from` (rows x cols) transposed, a tile at a time so that both sides of a
// tile stay in L1; threads take disjoint bands of rows of `from`.
void transpose(const float* from, int64_t rows, int64_t cols, float* to) {
  constexpr int64_t kTile = 32;
  parallelFor((rows + kTile - 1) / kTile, kTile * cols, [&](int64_t begin, int64_t end) {
    for (int64_t r0 = begin * kTile; r0 < std::min(rows, end * kTile); r0 += kTile) {
      const int64_t r1 = std::min(rows, r0 + kTile);
      for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
        const int64_t c1 = std::min(cols, c0 + kTile);
        for (int64_t r = r0; r < r1; r++)
          for (int64_t c = c0; c < c1; c++) to[c * rows + r] = from[r * cols + c];
      }
    }
  });
}

// Column j of `to` (height x columns.size()) = column columns[j] of `from` (height x fromWidth).
void gatherColumns(const float* from, int64_t height, int64_t fromWidth, const std::vector<int64_t>& columns, float* to) {
  const int64_t width = static_cast<int64_t>(columns.size());
  parallelFor(height, width, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++)
      for (int64_t j = 0; j < width; j++) to[i * width + j] = from[i * fromWidth + columns[j]];
  });
}

// Column columns[j] of `to` (height x toWidth) += column j of `from` (height x columns.size()).
// The columns of one tap are distinct, and threads take disjoint rows.
void scatterAddColumns(const float* from, int64_t height, const std::vector<int64_t>& columns, int64_t toWidth, float* to) {
  const int64_t width = static_cast<int64_t>(columns.size());
  parallelFor(height, width, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++)
      for (int64_t j = 0; j < width; j++) to[i * toWidth + columns[j]] += from[i * width + j];
  });
}

// Row-major C = op(A) op(B) on oneDNN's OpenMP threads, as many as ours (conv_dnnl.cc may have
// left fewer in force); ours sleep meanwhile.
void gemm(char transA, char transB, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
          int64_t ldc) {
  omp_set_num_threads(threadCount());
  parkHelpers();
  dnnl_sgemm(transA, transB, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}

// Scratch rows, every one written before it is read (a vector would zero them first).
std::unique_ptr<float[]> uninitialized(int64_t floats) { return std::unique_ptr<float[]>(new float[floats]); }

int64_t tapSize(const ConvGeometry& g) { return static_cast<int64_t>(g.inC) * g.outC; }
int64_t outputPixels(const ConvGeometry& g) { return static_cast<int64_t>(g.batch) * g.outH * g.outW; }

// The forward pass (`forward`: from = x, out = y) and the input gradient (from = dy, out = dx): each
// tap adds (the rows of `from` it joins) x (its filter slice, transposed for the gradient) to the
// rows of `out` it joins.
void accumulateTaps(const float* from, const float* filter, bool forward, float* out, const ConvGeometry& g) {
  const int fromWidth = forward ? g.inC : g.outC;
  const int outWidth = forward ? g.outC : g.inC;
  const int64_t outRows = forward ? outputPixels(g) : static_cast<int64_t>(g.batch) * g.inH * g.inW;
  const std::vector<TapPairs> taps = tapPairs(g);
  const int identity = identityTap(taps);
  const char transpose = forward ? 'N' : 'T';
  // The identity tap writes every output row straight away; without one they start at zero.
  if (identity >= 0) {
    gemm('N', transpose, outRows, outWidth, fromWidth, from, fromWidth, filter + identity * tapSize(g), g.outC, out, outWidth);
  } else {
    std::fill_n(out, outRows * outWidth, 0.0f);
  }
  const std::unique_ptr<float[]> rowsFrom = uninitialized(outputPixels(g) * fromWidth);
  const std::unique_ptr<float[]> rowsTo = uninitialized(outputPixels(g) * outWidth);
  for (size_t t = 0; t < taps.size(); t++) {
    const TapPairs& pairs = taps[t];
    if (static_cast<int>(t) == identity || pairs.in.empty()) continue;
    gatherRows(from, forward ? pairs.in : pairs.out, fromWidth, rowsFrom.get());
    gemm('N', transpose, pairs.in.size(), outWidth, fromWidth, rowsFrom.get(), fromWidth, filter + t * tapSize(g), g.outC, rowsTo.get(), outWidth);
    scatterAddRows(rowsTo.get(), forward ? pairs.out : pairs.in, outWidth, out);
  }
}

// Whether the input gradient is computed transposed. Its products in accumulateTaps take the
// filter slices transposed, and oneDNN's sgemm packs a transposed B slowly where the taps join few
// pixel rows, on two threads most (512 x 512 slices, two threads: 32 rows 0.30 against 0.08 ms
// untransposed, 128 rows 0.53 against 0.34): the 2x2x512 input gradient at batch 32 ran at a
// quarter of the peak there. Transposed, every product is untransposed, at the cost of transposing
// dy and dx. Measured on an AMD EPYC (2 cores, AVX-512), that pays between 512-channel layers on
// two threads (2x2, batch 32: 2.2 ms a call instead of 3.9; 4x4 or batch 128: 5-18% faster), not
// on one thread (up to 6% slower, except at 2x2 and batch 32) nor between narrower layers
// (4x4x128, batch 128: 3.9-4.7 ms instead of 2.7-3.8).
bool inputGradientTransposes(const ConvGeometry& g) { return std::min(g.inC, g.outC) >= 512 && threadCount() > 1; }

// The input gradient as dxT [in, input pixels] = sum over taps of W_t [in, out] x dyT [out, the
// output pixels tap t joins]: dy transposed once, its columns gathered per tap, the products added
// into the columns of the input pixels the tap joins, and dxT transposed into dx.
void inputGradientTransposed(const float* dy, const float* filter, float* dx, const ConvGeometry& g) {
  const int64_t outPixels = outputPixels(g);
  const int64_t inPixels = static_cast<int64_t>(g.batch) * g.inH * g.inW;
  const std::vector<TapPairs> taps = tapPairs(g);
  const int identity = identityTap(taps);
  const std::unique_ptr<float[]> dyT = uninitialized(g.outC * outPixels);
  transpose(dy, outPixels, g.outC, dyT.get());
  const std::unique_ptr<float[]> dxT = uninitialized(g.inC * inPixels);
  // The identity tap (as many input pixels as output pixels) writes every column straight away.
  if (identity >= 0) {
    gemm('N', 'N', g.inC, outPixels, g.outC, filter + identity * tapSize(g), g.outC, dyT.get(), outPixels, dxT.get(), inPixels);
  } else {
    std::fill_n(dxT.get(), g.inC * inPixels, 0.0f);
  }
  const std::unique_ptr<float[]> columnsOut = uninitialized(g.outC * outPixels);
  const std::unique_ptr<float[]> columnsIn = uninitialized(g.inC * outPixels);
  for (size_t t = 0; t < taps.size(); t++) {
    const TapPairs& pairs = taps[t];
    if (static_cast<int>(t) == identity || pairs.in.empty()) continue;
    const int64_t joined = static_cast<int64_t>(pairs.out.size());
    gatherColumns(dyT.get(), g.outC, outPixels, pairs.out, columnsOut.get());
    gemm('N', 'N', g.inC, joined, g.outC, filter + t * tapSize(g), g.outC, columnsOut.get(), joined, columnsIn.get(), joined);
    scatterAddColumns(columnsIn.get(), g.inC, pairs.in, inPixels, dxT.get());
  }
  transpose(dxT.get(), g.inC, inPixels, dx);
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
  if (inputGradientTransposes(g)) {
    inputGradientTransposed(dy, filter, dx, g);
  } else {
    accumulateTaps(dy, filter, false, dx, g);
  }
  return true;
}

bool tapsConv2dBackpropFilter(const float* x, const float* dy, float* dFilter, const ConvGeometry& g) {
  if (!tapsTake(g)) return false;
  const std::vector<TapPairs> taps = tapPairs(g);
  const std::unique_ptr<float[]> rowsIn = uninitialized(outputPixels(g) * g.inC);
  const std::unique_ptr<float[]> rowsOut = uninitialized(outputPixels(g) * g.outC);
  for (size_t t = 0; t < taps.size(); t++) {
    const TapPairs& pairs = taps[t];
    float* tap = dFilter + t * tapSize(g);
    if (pairs.identity) {
      gemm('T', 'N', g.inC, g.outC, pairs.in.size(), x, g.inC, dy, g.outC, tap, g.outC);
    } else if (pairs.in.empty()) {
      std::fill_n(tap, tapSize(g), 0.0f);
    } else {
      gatherRows(x, pairs.in, g.inC, rowsIn.get());
      gatherRows(dy, pairs.out, g.outC, rowsOut.get());
      gemm('T', 'N', g.inC, g.outC, pairs.in.size(), rowsIn.get(), g.inC, rowsOut.get(), g.outC, tap, g.outC);
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
