// Training-mode BatchNorm fused with the MwT mask and the ReLU that follows it (see
// packages/core/src/ops/batch-norm.ts for the formulation). Work is split by image; each image's
// per-channel sums are taken in float vectors and added to per-chunk double accumulators, since a
// channel sums batch * pixels values.
#include <algorithm>
#include <cmath>
#include <vector>

#include "chunks.h"
#include "kernels.h"
#include "parallel.h"

namespace mwt {
namespace {

// Per-chunk, per-series, per-channel double accumulators, added up in chunk order after a parallel
// pass (so the totals do not depend on which thread ran which chunk).
class ChannelSums {
 public:
  ChannelSums(int64_t chunks, int series, int channels)
      : chunks_(chunks), series_(series), channels_(channels), data_(static_cast<size_t>(chunks) * series * channels, 0.0) {}
  double* chunk(int64_t chunk, int series) { return data_.data() + (static_cast<size_t>(chunk) * series_ + series) * channels_; }
  double total(int series, int channel) const {
    double sum = 0;
    for (int64_t chunk = 0; chunk < chunks_; chunk++) sum += data_[(static_cast<size_t>(chunk) * series_ + series) * channels_ + channel];
    return sum;
  }

 private:
  int64_t chunks_;
  int series_, channels_;
  std::vector<double> data_;
};

template <typename V>
inline void addTo(double* target, V v, int lanes) {
  float values[16];
  std::memcpy(values, &v, sizeof(V));
  for (int i = 0; i < lanes; i++) target[i] += values[i];
}

template <typename V>
inline V relu(V y) {
  const V zero = V{} * 0;
  return y > zero ? y : zero;
}

// Sum and sum of squares of channels [c, c + CT) over one image.
template <int CT>
void statsChunk(const float* image, int pixels, int channels, int c, double* sum, double* squares) {
  using L = ChunkLayout<CT>;
  using V = typename L::Vector;
  for (int j = 0; j < L::count; j++) {
    V s{}, q{};
    const float* p = image + c + j * L::lanes;
    for (int r = 0; r < pixels; r++, p += channels) {
      const V z = load<V>(p);
      s += z;
      q += z * z;
    }
    addTo(sum + c + j * L::lanes, s, L::lanes);
    addTo(squares + c + j * L::lanes, q, L::lanes);
  }
}

template <int CT>
void normalizeChunk(const float* image, float* out, const float* mask, int pixels, int channels, int c, const float* scale,
                    const float* shift, bool relu) {
  using L = ChunkLayout<CT>;
  using V = typename L::Vector;
  for (int j = 0; j < L::count; j++) {
    const int first = c + j * L::lanes;
    const V a = load<V>(scale + first), b = load<V>(shift + first);
    const V m = mask != nullptr ? load<V>(mask + first) : a * 0 + 1;
    for (int r = 0; r < pixels; r++) {
      V y = load<V>(image + static_cast<int64_t>(r) * channels + first) * a + b;
      if (relu) y = mwt::relu(y);
      store(out + static_cast<int64_t>(r) * channels + first, y * m);
    }
  }
}

// Pass 1 of the gradient over one image: dy (written to dz), its per-channel sums and dMask.
template <int CT>
void gradientChunk(const float* dOut, const float* z, float* dz, const float* mask, float* dMask, int pixels, int channels,
                   int c, const float* mean, const float* invStd, const float* gamma, const float* beta, bool relu,
                   double* sumDy, double* sumDyXhat) {
  using L = ChunkLayout<CT>;
  using V = typename L::Vector;
  for (int j = 0; j < L::count; j++) {
    const int first = c + j * L::lanes;
    const V mu = load<V>(mean + first), is = load<V>(invStd + first), ga = load<V>(gamma + first), be = load<V>(beta + first);
    const V m = mask != nullptr ? load<V>(mask + first) : mu * 0 + 1;
    V sDy{}, sDyXhat{}, dm{};
    for (int r = 0; r < pixels; r++) {
      const int64_t at = static_cast<int64_t>(r) * channels + first;
      const V xhat = (load<V>(z + at) - mu) * is;
      const V y = ga * xhat + be;
      const V g = load<V>(dOut + at);
      dm += g * (relu ? mwt::relu(y) : y);
      V dy = g * m;
      if (relu) dy = y > V{} * 0 ? dy : V{} * 0;
      store(dz + at, dy);
      sDy += dy;
      sDyXhat += dy * xhat;
    }
    if (dMask != nullptr) store(dMask + first, dm);
    addTo(sumDy + first, sDy, L::lanes);
    addTo(sumDyXhat + first, sDyXhat, L::lanes);
  }
}

// Pass 2: dz = k * (dy - dBeta / N - xhat * dGamma / N), dy read back from dz.
template <int CT>
void inputGradientChunk(const float* z, float* dz, int pixels, int channels, int c, const float* mean, const float* invStd,
                        const float* k, const float* dBetaMean, const float* dGammaMean) {
  using L = ChunkLayout<CT>;
  using V = typename L::Vector;
  for (int j = 0; j < L::count; j++) {
    const int first = c + j * L::lanes;
    const V mu = load<V>(mean + first), is = load<V>(invStd + first), kv = load<V>(k + first);
    const V db = load<V>(dBetaMean + first), dg = load<V>(dGammaMean + first);
    for (int r = 0; r < pixels; r++) {
      const int64_t at = static_cast<int64_t>(r) * channels + first;
      const V xhat = (load<V>(z + at) - mu) * is;
      store(dz + at, kv * (load<V>(dz + at) - db - xhat * dg));
    }
  }
}

}  // namespace

void batchNormTrain(const float* z, const float* gamma, const float* beta, const float* mask, float* out, float* mean,
                    float* variance, const BatchNormShape& s) {
  const int C = s.channels;
  const int64_t imageSize = static_cast<int64_t>(s.pixels) * C;
  const double count = static_cast<double>(s.batch) * s.pixels;
  const int64_t chunks = chunkCount(s.batch, 2.0 * imageSize);
  ChannelSums sums(chunks, 2, C);
  parallelForChunks(s.batch, chunks, [&](int64_t part, int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; b++) {
      forEachChunk(C, [&](int c, auto chunk) {
        statsChunk<decltype(chunk)::value>(z + b * imageSize, s.pixels, C, c, sums.chunk(part, 0), sums.chunk(part, 1));
      });
    }
  });
  std::vector<float> scale(C), shift(C);
  for (int c = 0; c < C; c++) {
    const double m = sums.total(0, c) / count;
    mean[c] = static_cast<float>(m);
    variance[c] = static_cast<float>(std::max(0.0, sums.total(1, c) / count - m * m));
    scale[c] = gamma[c] / std::sqrt(variance[c] + s.epsilon);
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  parallelFor(s.batch, 3.0 * imageSize, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; b++) {
      forEachChunk(C, [&](int c, auto chunk) {
        normalizeChunk<decltype(chunk)::value>(z + b * imageSize, out + b * imageSize, mask != nullptr ? mask + b * C : nullptr, s.pixels, C, c,
                                               scale.data(), shift.data(), s.relu);
      });
    }
  });
}

void batchNormTrainGrad(const float* dOut, const float* z, const float* gamma, const float* beta, const float* mask,
                        const float* mean, const float* variance, float* dz, float* dGamma, float* dBeta, float* dMask,
                        const BatchNormShape& s) {
  const int C = s.channels;
  const int64_t imageSize = static_cast<int64_t>(s.pixels) * C;
  const float count = static_cast<float>(static_cast<double>(s.batch) * s.pixels);
  std::vector<float> invStd(C);
  for (int c = 0; c < C; c++) invStd[c] = 1.0f / std::sqrt(variance[c] + s.epsilon);
  const int64_t chunks = chunkCount(s.batch, 8.0 * imageSize);
  ChannelSums sums(chunks, 2, C);
  parallelForChunks(s.batch, chunks, [&](int64_t part, int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; b++) {
      forEachChunk(C, [&](int c, auto chunk) {
        gradientChunk<decltype(chunk)::value>(dOut + b * imageSize, z + b * imageSize, dz + b * imageSize, mask != nullptr ? mask + b * C : nullptr,
                                              dMask != nullptr ? dMask + b * C : nullptr, s.pixels, C, c, mean, invStd.data(), gamma, beta,
                                              s.relu, sums.chunk(part, 0), sums.chunk(part, 1));
      });
    }
  });
  std::vector<float> k(C), dBetaMean(C), dGammaMean(C);
  for (int c = 0; c < C; c++) {
    dBeta[c] = static_cast<float>(sums.total(0, c));
    dGamma[c] = static_cast<float>(sums.total(1, c));
    k[c] = gamma[c] * invStd[c];
    dBetaMean[c] = dBeta[c] / count;
    dGammaMean[c] = dGamma[c] / count;
  }
  parallelFor(s.batch, 5.0 * imageSize, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; b++) {
      forEachChunk(C, [&](int c, auto chunk) {
        inputGradientChunk<decltype(chunk)::value>(z + b * imageSize, dz + b * imageSize, s.pixels, C, c, mean, invStd.data(), k.data(),
                                                   dBetaMean.data(), dGammaMean.data());
      });
    }
  });
}

void batchNormInference(const float* x, const float* mean, const float* variance, const float* offset, const float* scale,
                        float* out, int64_t rows, int channels, float epsilon) {
  // One multiply-add per element: per-channel factor and shift, computed once.
  std::vector<float> factor(channels), shift(channels);
  for (int c = 0; c < channels; c++) {
    factor[c] = (scale != nullptr ? scale[c] : 1.0f) / std::sqrt(variance[c] + epsilon);
    shift[c] = (offset != nullptr ? offset[c] : 0.0f) - mean[c] * factor[c];
  }
  parallelFor(rows, static_cast<double>(channels), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
      const float* in = x + r * channels;
      float* o = out + r * channels;
      for (int c = 0; c < channels; c++) o[c] = in[c] * factor[c] + shift[c];
    }
  });
}

}  // namespace mwt
