// Direct NHWC convolutions and their two gradients. No im2col: with the few channels of the models
// trained here (8..64), an im2col copy costs more than the arithmetic. Each kernel vectorizes along
// a channel dimension (see chunks.h) and reads the input through a zero-padded view, so that the
// inner loops never test bounds.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "chunks.h"
#include "conv_dnnl.h"
#include "conv_taps.h"
#include "kernels.h"
#include "parallel.h"

namespace mwt {
namespace {

// An image batch seen with the conv's padding applied: pixel (r, q) of the view is input pixel
// (r - padTop, q - padLeft), or zero outside the input. Covers every pixel a window reads.
struct PaddedView {
  std::unique_ptr<float[]> storage;
  float* data;
  int height, width;
  int64_t rowStride, imageStride;
};

int paddedHeight(const ConvGeometry& g) { return (g.outH - 1) * g.strideH + (g.kH - 1) * g.dilationH + 1; }
int paddedWidth(const ConvGeometry& g) { return (g.outW - 1) * g.strideW + (g.kW - 1) * g.dilationW + 1; }

bool needsPadding(const ConvGeometry& g) {
  return g.padTop != 0 || g.padLeft != 0 || paddedHeight(g) > g.inH || paddedWidth(g) > g.inW;
}

// A zero-padded copy of x, or x itself where no window reaches outside it.
PaddedView padInput(const float* x, const ConvGeometry& g) {
  PaddedView view;
  const int channels = g.inC;
  if (!needsPadding(g)) {
    view.data = const_cast<float*>(x);
    view.height = g.inH;
    view.width = g.inW;
    view.rowStride = static_cast<int64_t>(g.inW) * channels;
    view.imageStride = view.rowStride * g.inH;
    return view;
  }
  view.height = paddedHeight(g);
  view.width = paddedWidth(g);
  view.rowStride = static_cast<int64_t>(view.width) * channels;
  view.imageStride = view.rowStride * view.height;
  // Uninitialized: every element is written below, the border as zeros, the rest copied.
  view.storage.reset(new float[static_cast<size_t>(view.imageStride) * g.batch]);
  view.data = view.storage.get();
  const int firstCol = std::max(0, g.padLeft);
  const int lastCol = std::max(firstCol, std::min(view.width, g.inW + g.padLeft));
  parallelFor(g.batch, static_cast<double>(view.imageStride), [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; b++) {
      for (int r = 0; r < view.height; r++) {
        float* row = view.data + b * view.imageStride + r * view.rowStride;
        const int inRow = r - g.padTop;
        if (inRow < 0 || inRow >= g.inH || lastCol == firstCol) {
          std::memset(row, 0, sizeof(float) * static_cast<size_t>(view.rowStride));
          continue;
        }
        std::memset(row, 0, sizeof(float) * static_cast<size_t>(firstCol) * channels);
        const float* src = x + ((b * g.inH + inRow) * g.inW + (firstCol - g.padLeft)) * channels;
        std::memcpy(row + static_cast<int64_t>(firstCol) * channels, src, sizeof(float) * static_cast<size_t>(lastCol - firstCol) * channels);
        std::memset(row + static_cast<int64_t>(lastCol) * channels, 0, sizeof(float) * static_cast<size_t>(view.width - lastCol) * channels);
      }
    }
  });
  return view;
}

// The filter taps that read some input pixel. The others only ever see padding (e.g. all but the
// centre tap of a 3x3 'same' conv over a 1x1 image), so skipping them is exact.
struct TapRange {
  int khBegin, khEnd, kwBegin, kwEnd;
};

// [begin, end) of the taps k for which some output position o reads input o * stride + k * dilation - pad in [0, size).
void usedTaps(int taps, int outSize, int stride, int dilation, int pad, int inSize, int& begin, int& end) {
  begin = taps;
  end = 0;
  for (int k = 0; k < taps; k++) {
    for (int o = 0; o < outSize; o++) {
      const int i = o * stride + k * dilation - pad;
      if (i >= 0 && i < inSize) {
        begin = std::min(begin, k);
        end = k + 1;
        break;
      }
    }
  }
  if (begin > end) begin = end;
}

TapRange usedTaps(const ConvGeometry& g) {
  TapRange t{};
  usedTaps(g.kH, g.outH, g.strideH, g.dilationH, g.padTop, g.inH, t.khBegin, t.khEnd);
  usedTaps(g.kW, g.outW, g.strideW, g.dilationW, g.padLeft, g.inW, t.kwBegin, t.kwEnd);
  return t;
}

// Walks output pixels in order (numbered b * outH * outW + oh * outW + ow), giving where each one's
// window starts in a padded image batch. Blocks of pixels may span rows and images, so that small
// images (3x3, 1x1) still fill the register blocks.
class PixelWalk {
 public:
  PixelWalk(const ConvGeometry& g, int64_t rowStride, int64_t imageStride, int64_t first)
      : g_(g), rowStride_(rowStride), imageStride_(imageStride) {
    const int64_t perImage = static_cast<int64_t>(g.outH) * g.outW;
    b_ = first / perImage;
    oh_ = static_cast<int>((first % perImage) / g.outW);
    ow_ = static_cast<int>(first % g.outW);
  }

  // Offset of the current pixel's window in the padded batch; then moves to the next pixel.
  int64_t next() {
    const int64_t offset = b_ * imageStride_ + static_cast<int64_t>(oh_) * g_.strideH * rowStride_ + static_cast<int64_t>(ow_) * g_.strideW * g_.inC;
    if (++ow_ == g_.outW) {
      ow_ = 0;
      if (++oh_ == g_.outH) {
        oh_ = 0;
        b_++;
      }
    }
    return offset;
  }

 private:
  const ConvGeometry& g_;
  int64_t rowStride_, imageStride_;
  int64_t b_;
  int oh_, ow_;
};

// Pixels per tile: the channel chunks of a tile run over the same few windows while they are in cache.
constexpr int64_t kTilePixels = 64;

// Calls tile(begin, end) over [first, last) in tiles of kTilePixels.
template <typename Tile>
inline void forEachTile(int64_t first, int64_t last, Tile&& tile) {
  for (int64_t begin = first; begin < last; begin += kTilePixels) tile(begin, std::min(last, begin + kTilePixels));
}

// ---- forward: out[p, co] = sum over (kh, kw, ci) of x[p's window pixel, ci] * f[kh, kw, ci, co]

template <int CT, int P>
inline void forwardPixels(const float* const* xs, const float* f, float* const* outs, const ConvGeometry& g, const TapRange& taps,
                          int64_t rowStride) {
  using L = ChunkLayout<CT>;
  using V = typename L::Vector;
  V acc[P][L::count] = {};
  for (int kh = taps.khBegin; kh < taps.khEnd; kh++) {
    for (int kw = taps.kwBegin; kw < taps.kwEnd; kw++) {
      const int64_t offset = kh * g.dilationH * rowStride + static_cast<int64_t>(kw) * g.dilationW * g.inC;
      const float* w = f + static_cast<int64_t>(kh * g.kW + kw) * g.inC * g.outC;
      for (int ci = 0; ci < g.inC; ci++, w += g.outC) {
        V wv[L::count];
        for (int j = 0; j < L::count; j++) wv[j] = load<V>(w + j * L::lanes);
        for (int p = 0; p < P; p++) {
          const float a = xs[p][offset + ci];
          for (int j = 0; j < L::count; j++) acc[p][j] += a * wv[j];
        }
      }
    }
  }
  for (int p = 0; p < P; p++)
    for (int j = 0; j < L::count; j++) store(outs[p] + j * L::lanes, acc[p][j]);
}

// Output channels [co, co + CT) of pixels [begin, end).
template <int CT>
void forwardPixelRange(const PaddedView& in, const float* f, float* out, int co, const ConvGeometry& g, const TapRange& taps,
                       int64_t begin, int64_t end) {
  PixelWalk walk(g, in.rowStride, in.imageStride, begin);
  forEachPixelBlock<ChunkLayout<CT>::pixels>(begin, end, [&](int64_t q, auto block) {
    constexpr int P = decltype(block)::value;
    const float* xs[P];
    float* outs[P];
    for (int p = 0; p < P; p++) {
      xs[p] = in.data + walk.next();
      outs[p] = out + (q + p) * g.outC + co;
    }
    forwardPixels<CT, P>(xs, f + co, outs, g, taps, in.rowStride);
  });
}

// ---- filter gradient: dF[kh, kw, ci, co] = sum over pixels p of x[p's window pixel, ci] * dy[p, co]

template <int CT, int P>
inline void filterPixels(const float* const* xs, const float* const* dys, float* dF, const ConvGeometry& g, const TapRange& taps,
                         int64_t rowStride) {
  using L = ChunkLayout<CT>;
  using V = typename L::Vector;
  V d[P][L::count];
  for (int p = 0; p < P; p++)
    for (int j = 0; j < L::count; j++) d[p][j] = load<V>(dys[p] + j * L::lanes);
  for (int kh = taps.khBegin; kh < taps.khEnd; kh++) {
    for (int kw = taps.kwBegin; kw < taps.kwEnd; kw++) {
      const int64_t offset = kh * g.dilationH * rowStride + static_cast<int64_t>(kw) * g.dilationW * g.inC;
      float* row = dF + static_cast<int64_t>(kh * g.kW + kw) * g.inC * g.outC;
      for (int ci = 0; ci < g.inC; ci++, row += g.outC) {
        V acc[L::count];
        for (int j = 0; j < L::count; j++) acc[j] = load<V>(row + j * L::lanes);
        for (int p = 0; p < P; p++) {
          const float a = xs[p][offset + ci];
          for (int j = 0; j < L::count; j++) acc[j] += a * d[p][j];
        }
        for (int j = 0; j < L::count; j++) store(row + j * L::lanes, acc[j]);
      }
    }
  }
}

template <int CT>
void filterPixelRange(const PaddedView& in, const float* dy, float* dF, int co, const ConvGeometry& g, const TapRange& taps,
                      int64_t begin, int64_t end) {
  PixelWalk walk(g, in.rowStride, in.imageStride, begin);
  forEachPixelBlock<ChunkLayout<CT>::pixels>(begin, end, [&](int64_t q, auto block) {
    constexpr int P = decltype(block)::value;
    const float* xs[P];
    const float* dys[P];
    for (int p = 0; p < P; p++) {
      xs[p] = in.data + walk.next();
      dys[p] = dy + (q + p) * g.outC + co;
    }
    filterPixels<CT, P>(xs, dys, dF + co, g, taps, in.rowStride);
  });
}

// ---- input gradient: dx[p's window pixel (kh, kw), ci] += sum over co of dy[p, co] * f[kh, kw, ci, co],
// with the filter transposed to [kh, kw, co, ci] so that the inner loop runs along ci. The pixels of a
// block never write the same element for one tap (their windows start at distinct pixels), so a
// block may span rows; windows of different blocks overlap, so threads split the work by image.

template <int CT, int P>
inline void inputPixels(float* const* dxs, const float* const* dys, const float* ft, const ConvGeometry& g, const TapRange& taps,
                        int64_t rowStride) {
  using L = ChunkLayout<CT>;
  using V = typename L::Vector;
  for (int kh = taps.khBegin; kh < taps.khEnd; kh++) {
    for (int kw = taps.kwBegin; kw < taps.kwEnd; kw++) {
      const int64_t offset = kh * g.dilationH * rowStride + static_cast<int64_t>(kw) * g.dilationW * g.inC;
      V acc[P][L::count];
      for (int p = 0; p < P; p++)
        for (int j = 0; j < L::count; j++) acc[p][j] = load<V>(dxs[p] + offset + j * L::lanes);
      const float* w = ft + static_cast<int64_t>(kh * g.kW + kw) * g.outC * g.inC;
      for (int co = 0; co < g.outC; co++, w += g.inC) {
        V wv[L::count];
        for (int j = 0; j < L::count; j++) wv[j] = load<V>(w + j * L::lanes);
        for (int p = 0; p < P; p++) {
          const float a = dys[p][co];
          for (int j = 0; j < L::count; j++) acc[p][j] += a * wv[j];
        }
      }
      for (int p = 0; p < P; p++)
        for (int j = 0; j < L::count; j++) store(dxs[p] + offset + j * L::lanes, acc[p][j]);
    }
  }
}

template <int CT>
void inputPixelRange(float* target, int64_t rowStride, int64_t imageStride, const float* dy, const float* ft, int ci,
                     const ConvGeometry& g, const TapRange& taps, int64_t begin, int64_t end) {
  PixelWalk walk(g, rowStride, imageStride, begin);
  forEachPixelBlock<ChunkLayout<CT>::pixels>(begin, end, [&](int64_t q, auto block) {
    constexpr int P = decltype(block)::value;
    float* dxs[P];
    const float* dys[P];
    for (int p = 0; p < P; p++) {
      dxs[p] = target + walk.next() + ci;
      dys[p] = dy + (q + p) * g.outC;
    }
    inputPixels<CT, P>(dxs, dys, ft + ci, g, taps, rowStride);
  });
}

// Which convolutions oneDNN runs, where the addon has it. Measured per layer (bench/conv-layers.ts,
// CPU time at 1 thread) it is 1.3-3x faster than the kernels here on the zoo's layers from 1 to 512
// channels (about even on the filter gradient of 2x2 maps, which conv_taps.cc now takes, through
// oneDNN's sgemm). MWT_NATIVE_DNNL=0 turns it off, to compare.
bool dnnlEnabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("MWT_NATIVE_DNNL");
    return dnnlAvailable() && !(env != nullptr && std::strcmp(env, "0") == 0);
  }();
  return enabled;
}

// What oneDNN is given for a geometry. Where some taps only ever read padding (3x3 'same' convs of
// 1x1 maps: all but the centre), the smaller convolution over the taps used, which gives the same
// output and gradients without the work of the others (oneDNN would compute them all): its filter
// is the part of ours that those taps occupy, when that part is contiguous ([kh, kw, in, out]: one
// row of taps, or whole rows).
struct DnnlProblem {
  ConvGeometry geometry;
  int64_t filterOffset;  // where the used taps start in our filter, in floats
  int64_t filterSize;    // how many floats they span
};

std::optional<DnnlProblem> dnnlProblem(const ConvGeometry& g) {
  if (!dnnlEnabled()) return std::nullopt;
  const TapRange taps = usedTaps(g);
  const int rows = taps.khEnd - taps.khBegin;
  const int cols = taps.kwEnd - taps.kwBegin;
  if (rows <= 0 || cols <= 0 || (rows > 1 && cols != g.kW)) return std::nullopt;
  const int64_t tapSize = static_cast<int64_t>(g.inC) * g.outC;
  DnnlProblem problem{g, (static_cast<int64_t>(taps.khBegin) * g.kW + taps.kwBegin) * tapSize, static_cast<int64_t>(rows) * cols * tapSize};
  problem.geometry.kH = rows;
  problem.geometry.kW = cols;
  problem.geometry.padTop = g.padTop - taps.khBegin * g.dilationH;
  problem.geometry.padLeft = g.padLeft - taps.kwBegin * g.dilationW;
  // Padding the used taps never needed: oneDNN has no negative padding, so our kernels run these.
  if (problem.geometry.padTop < 0 || problem.geometry.padLeft < 0) return std::nullopt;
  return problem;
}

}  // namespace

bool convUsesDnnl() { return dnnlEnabled(); }

std::string convImplementation(const ConvGeometry& g) {
  if (dnnlEnabled() && tapsTake(g)) return "gemm per tap";
  const std::optional<DnnlProblem> problem = dnnlProblem(g);
  const std::string dnnl = problem ? dnnlForwardImplementation(problem->geometry) : "";
  return dnnl.empty() ? "native" : dnnl;
}

void conv2d(const float* x, const float* filter, float* out, const ConvGeometry& g) {
  if (dnnlEnabled() && tapsConv2d(x, filter, out, g)) return;
  const std::optional<DnnlProblem> problem = dnnlProblem(g);
  if (problem && dnnlConv2d(x, filter + problem->filterOffset, out, problem->geometry)) return;
  const PaddedView in = padInput(x, g);
  const TapRange taps = usedTaps(g);
  const int64_t rows = static_cast<int64_t>(g.batch) * g.outH;
  parallelFor(rows, macsPerOutputRow(g), [&](int64_t begin, int64_t end) {
    forEachTile(begin * g.outW, end * g.outW, [&](int64_t first, int64_t last) {
      forEachChunk(g.outC, [&](int co, auto chunk) { forwardPixelRange<decltype(chunk)::value>(in, filter, out, co, g, taps, first, last); });
    });
  });
}

void conv2dBackpropFilter(const float* x, const float* dy, float* dFilter, const ConvGeometry& g) {
  if (dnnlEnabled() && tapsConv2dBackpropFilter(x, dy, dFilter, g)) return;
  const int64_t size = static_cast<int64_t>(g.kH) * g.kW * g.inC * g.outC;
  const std::optional<DnnlProblem> problem = dnnlProblem(g);
  if (problem && dnnlConv2dBackpropFilter(x, dy, dFilter + problem->filterOffset, problem->geometry)) {
    // The taps that only read padding get no gradient.
    std::fill(dFilter, dFilter + problem->filterOffset, 0.0f);
    std::fill(dFilter + problem->filterOffset + problem->filterSize, dFilter + size, 0.0f);
    return;
  }
  const PaddedView in = padInput(x, g);
  const TapRange taps = usedTaps(g);
  std::fill_n(dFilter, size, 0.0f);
  const int64_t rows = static_cast<int64_t>(g.batch) * g.outH;
  // One accumulator per chunk (chunk 0 writes straight into the output), added up in chunk order.
  const int64_t chunks = chunkCount(rows, macsPerOutputRow(g));
  std::vector<std::vector<float>> partials(chunks - 1, std::vector<float>(static_cast<size_t>(size), 0.0f));
  parallelForChunks(rows, chunks, [&](int64_t part, int64_t begin, int64_t end) {
    float* acc = part > 0 ? partials[part - 1].data() : dFilter;
    forEachTile(begin * g.outW, end * g.outW, [&](int64_t first, int64_t last) {
      forEachChunk(g.outC, [&](int co, auto chunk) { filterPixelRange<decltype(chunk)::value>(in, dy, acc, co, g, taps, first, last); });
    });
  });
  for (const std::vector<float>& partial : partials)
    for (int64_t i = 0; i < size; i++) dFilter[i] += partial[i];
}

void conv2dBackpropInput(const float* dy, const float* filter, float* dx, const ConvGeometry& g) {
  if (dnnlEnabled() && tapsConv2dBackpropInput(dy, filter, dx, g)) return;
  const std::optional<DnnlProblem> problem = dnnlProblem(g);
  if (problem && dnnlConv2dBackpropInput(dy, filter + problem->filterOffset, dx, problem->geometry)) return;
  std::fill_n(dx, static_cast<int64_t>(g.batch) * g.inH * g.inW * g.inC, 0.0f);
  // [kh, kw, ci, co] -> [kh, kw, co, ci]
  std::vector<float> transposed(static_cast<size_t>(g.kH) * g.kW * g.inC * g.outC);
  for (int k = 0; k < g.kH * g.kW; k++)
    for (int ci = 0; ci < g.inC; ci++)
      for (int co = 0; co < g.outC; co++)
        transposed[(static_cast<size_t>(k) * g.outC + co) * g.inC + ci] = filter[(static_cast<size_t>(k) * g.inC + ci) * g.outC + co];
  const TapRange taps = usedTaps(g);

  // Accumulate into a padded buffer (or dx itself when the windows stay inside it), then crop.
  const bool padded = needsPadding(g);
  const int height = padded ? paddedHeight(g) : g.inH;
  const int width = padded ? paddedWidth(g) : g.inW;
  const int64_t rowStride = static_cast<int64_t>(width) * g.inC;
  const int64_t imageStride = rowStride * height;
  std::vector<float> storage(padded ? static_cast<size_t>(imageStride) * g.batch : 0, 0.0f);
  float* target = padded ? storage.data() : dx;

  // Windows of neighbouring rows overlap, so the work is split by image.
  const int64_t pixelsPerImage = static_cast<int64_t>(g.outH) * g.outW;
  parallelFor(g.batch, macsPerOutputRow(g) * g.outH, [&](int64_t begin, int64_t end) {
    forEachTile(begin * pixelsPerImage, end * pixelsPerImage, [&](int64_t first, int64_t last) {
      forEachChunk(g.inC, [&](int ci, auto chunk) {
        inputPixelRange<decltype(chunk)::value>(target, rowStride, imageStride, dy, transposed.data(), ci, g, taps, first, last);
      });
    });
  });
  if (!padded) return;
  const int firstCol = std::max(0, g.padLeft);
  const int lastCol = std::min(width, g.inW + g.padLeft);
  parallelFor(g.batch, static_cast<double>(imageStride), [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; b++) {
      for (int r = 0; r < height; r++) {
        const int inRow = r - g.padTop;
        if (inRow < 0 || inRow >= g.inH || lastCol <= firstCol) continue;
        const float* src = target + b * imageStride + r * rowStride + static_cast<int64_t>(firstCol) * g.inC;
        float* dst = dx + ((b * g.inH + inRow) * g.inW + (firstCol - g.padLeft)) * g.inC;
        std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(lastCol - firstCol) * g.inC);
      }
    }
  });
}

}  // namespace mwt
