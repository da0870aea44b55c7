// oneDNN's convolutions (conv_dnnl.cc), where the addon was built against it. Each returns false,
// computing nothing, where oneDNN is absent or cannot take the geometry; the caller then runs its
// own kernel. The gradients overwrite their outputs, as every kernel in kernels.h does.
#pragma once

#include <string>

#include "kernels.h"

namespace mwt {

bool dnnlAvailable();
bool dnnlConv2d(const float* x, const float* filter, float* out, const ConvGeometry& g);
bool dnnlConv2dBackpropInput(const float* dy, const float* filter, float* dx, const ConvGeometry& g);
bool dnnlConv2dBackpropFilter(const float* x, const float* dy, float* dFilter, const ConvGeometry& g);
// The name oneDNN gives the implementation that runs a geometry's forward pass, e.g.
// "jit:avx512_core"; empty where oneDNN is absent or cannot take the geometry.
std::string dnnlForwardImplementation(const ConvGeometry& g);

}  // namespace mwt
