// Convolutions of small maps (the wide layers' 4x4 and 2x2) as one GEMM per filter tap, through
// oneDNN's sgemm (conv_taps.cc). Each returns false, computing nothing, where the geometry is not
// one it takes or the addon has no oneDNN; the caller then runs another kernel. The gradients
// overwrite their outputs, as every kernel in kernels.h does.
#pragma once

#include "kernels.h"

namespace mwt {

// Whether the three below take a geometry.
bool tapsTake(const ConvGeometry& g);
bool tapsConv2d(const float* x, const float* filter, float* out, const ConvGeometry& g);
bool tapsConv2dBackpropInput(const float* dy, const float* filter, float* dx, const ConvGeometry& g);
bool tapsConv2dBackpropFilter(const float* x, const float* dy, float* dFilter, const ConvGeometry& g);

}  // namespace mwt
