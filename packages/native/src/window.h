// The input pixels a pooling or convolution window reads, shared by pool.cc and conv_taps.cc.
#pragma once

#include <cstdint>

#include "kernels.h"

namespace mwt {

// Visits the in-bounds window positions of output pixel (oh, ow) in row-major order:
// visit(position index within the window, input pixel offset in units of pixels).
template <typename Visit>
inline void forEachWindowPixel(const ConvGeometry& g, int oh, int ow, Visit&& visit) {
  for (int kh = 0; kh < g.kH; kh++) {
    const int ih = oh * g.strideH + kh * g.dilationH - g.padTop;
    if (ih < 0 || ih >= g.inH) continue;
    for (int kw = 0; kw < g.kW; kw++) {
      const int iw = ow * g.strideW + kw * g.dilationW - g.padLeft;
      if (iw < 0 || iw >= g.inW) continue;
      visit(kh * g.kW + kw, static_cast<int64_t>(ih) * g.inW + iw);
    }
  }
}

}  // namespace mwt
