// Max pooling over NHWC windows and its gradient, vectorized along channels.
#include <algorithm>
#include <limits>
#include <vector>

#include "kernels.h"
#include "parallel.h"
#include "window.h"

namespace mwt {

void maxPool(const float* x, float* out, const ConvGeometry& g) {
  const int channels = g.inC;
  const int64_t imagePixels = static_cast<int64_t>(g.inH) * g.inW;
  parallelFor(static_cast<int64_t>(g.batch) * g.outH, static_cast<double>(g.outW) * g.kH * g.kW * channels,
              [&](int64_t begin, int64_t end) {
                for (int64_t row = begin; row < end; row++) {
                  const int64_t b = row / g.outH;
                  const int oh = static_cast<int>(row % g.outH);
                  const float* image = x + b * imagePixels * channels;
                  for (int ow = 0; ow < g.outW; ow++) {
                    float* o = out + (row * g.outW + ow) * channels;
                    for (int c = 0; c < channels; c++) o[c] = -std::numeric_limits<float>::infinity();
                    forEachWindowPixel(g, oh, ow, [&](int, int64_t pixel) {
                      const float* v = image + pixel * channels;
                      for (int c = 0; c < channels; c++) o[c] = v[c] > o[c] ? v[c] : o[c];
                    });
                  }
                }
              });
}

void maxPoolGrad(const float* dy, const float* x, float* dx, const ConvGeometry& g) {
  const int channels = g.inC;
  const int64_t imageSize = static_cast<int64_t>(g.inH) * g.inW * channels;
  // Windows may overlap (stride < window): split by image so that no two threads add to one pixel.
  parallelFor(g.batch, static_cast<double>(g.outH) * g.outW * g.kH * g.kW * channels, [&](int64_t begin, int64_t end) {
    std::vector<float> best(channels);
    std::vector<int64_t> where(channels);
    for (int64_t b = begin; b < end; b++) {
      const float* image = x + b * imageSize;
      float* dImage = dx + b * imageSize;
      std::fill_n(dImage, imageSize, 0.0f);
      for (int oh = 0; oh < g.outH; oh++) {
        for (int ow = 0; ow < g.outW; ow++) {
          for (int c = 0; c < channels; c++) {
            best[c] = -std::numeric_limits<float>::infinity();
            where[c] = -1;
          }
          forEachWindowPixel(g, oh, ow, [&](int, int64_t pixel) {
            const float* v = image + pixel * channels;
            for (int c = 0; c < channels; c++) {
              // Strictly greater: the first maximum wins, as in tfjs (a NaN never does).
              if (v[c] > best[c]) {
                best[c] = v[c];
                where[c] = pixel * channels + c;
              }
            }
          });
          const float* grad = dy + ((b * g.outH + oh) * static_cast<int64_t>(g.outW) + ow) * channels;
          for (int c = 0; c < channels; c++)
            if (where[c] >= 0) dImage[where[c]] += grad[c];
        }
      }
    }
  });
}

}  // namespace mwt
