// Float32 kernels of the native tfjs backend. Tensors are dense row-major arrays; images are NHWC
// and conv filters [kh, kw, in, out], as in tfjs. Kernels overwrite their outputs (the gradients that
// add up contributions clear theirs first), so callers pass arrays with any contents.
#pragma once

#include <cstdint>
#include <string>

namespace mwt {

// Spatial geometry of a 2-D convolution or pooling, as tfjs' computeConv2DInfo reports it.
struct ConvGeometry {
  int batch, inH, inW, inC;
  int outH, outW, outC;
  int kH, kW;
  int strideH, strideW;
  int dilationH, dilationW;
  int padTop, padLeft;
};

// Multiply-adds of a convolution over one row of output pixels (padded taps counted): the cost
// the kernels size their threading by.
inline double macsPerOutputRow(const ConvGeometry& g) { return static_cast<double>(g.outW) * g.kH * g.kW * g.inC * g.outC; }

void conv2d(const float* x, const float* filter, float* out, const ConvGeometry& g);
void conv2dBackpropInput(const float* dy, const float* filter, float* dx, const ConvGeometry& g);
void conv2dBackpropFilter(const float* x, const float* dy, float* dFilter, const ConvGeometry& g);
// Whether the three above run through oneDNN where they can (built with it, not turned off).
bool convUsesDnnl();
// Which kernel runs conv2d for a geometry: oneDNN's name for its implementation ("jit:avx512_core"),
// or "native" for the kernels in conv.cc.
std::string convImplementation(const ConvGeometry& g);

// c[b] = act(op(a[b]) @ op(b[b]) + bias); a batch of 1 broadcasts. op = transpose when asked.
enum class Activation { kLinear = 0, kRelu = 1 };
struct MatMulShape {
  int batch, batchA, batchB;
  int m, k, n;
  bool transposeA, transposeB;
};
void matMul(const float* a, const float* b, const float* bias, float* c, const MatMulShape& s, Activation act);

// Max pooling (outC == inC; kH/kW are the window). The gradient sends each output's gradient to the
// first maximum of its window in row-major order, like tfjs' cpu backend.
void maxPool(const float* x, float* out, const ConvGeometry& g);
void maxPoolGrad(const float* dy, const float* x, float* dx, const ConvGeometry& g);

// Training-mode BatchNorm fused with the MwT mask and ReLU: z is [batch, pixels, channels],
// out = act(gamma * (z - mean) / sqrt(var + eps) + beta) * mask[b] (mask may be null).
struct BatchNormShape {
  int batch, pixels, channels;
  bool relu;
  float epsilon;
};
void batchNormTrain(const float* z, const float* gamma, const float* beta, const float* mask, float* out, float* mean,
                    float* variance, const BatchNormShape& s);
// Gradients with respect to z, gamma, beta and (when mask is not null) the mask.
void batchNormTrainGrad(const float* dOut, const float* z, const float* gamma, const float* beta, const float* mask,
                        const float* mean, const float* variance, float* dz, float* dGamma, float* dBeta, float* dMask,
                        const BatchNormShape& s);

// Inference-mode BatchNorm (tfjs' FusedBatchNorm with per-channel statistics): x is [rows, channels],
// out = (x - mean) * scale / sqrt(variance + eps) + offset; scale and offset may be null (1 and 0).
void batchNormInference(const float* x, const float* mean, const float* variance, const float* offset, const float* scale,
                        float* out, int64_t rows, int channels, float epsilon);

// Elementwise ops with NumPy broadcasting; shapes are padded to the same rank by the caller.
// kAddRelu is relu(a + b) (a residual sum, or a bias, and the ReLU after it) in one pass; kReluGrad is
// a * step(b), the ReLU's gradient for a = dy and b = its output: each what its two tfjs ops compute.
enum class BinaryOp { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3, kMax = 4, kMin = 5, kAddRelu = 6, kReluGrad = 7 };
constexpr int kMaxRank = 6;
void binary(BinaryOp op, const float* a, const int* aShape, const float* b, const int* bShape, float* out,
            const int* outShape, int rank);

enum class UnaryOp { kRelu = 0, kStep = 1, kNeg = 2, kSquare = 3, kSqrt = 4, kRsqrt = 5, kExp = 6, kTanh = 7 };
void unary(UnaryOp op, const float* x, float* out, int64_t size, float alpha);

// out[o, r] = reduce over i of x[o, i, r]: a reduction over a contiguous run of axes.
enum class ReduceOp { kSum = 0, kMean = 1, kMax = 2 };
void reduce(ReduceOp op, const float* x, float* out, int64_t outer, int64_t inner, int64_t rest);

// One step of PyTorch's SGD: g = grad + wd * p; v' = m * v + g; p' = p - lr * (nesterov ? g + m * v' : v').
struct SgdConfig {
  float lr, momentum, weightDecay;
  bool nesterov;
};
void sgdUpdate(const float* param, const float* velocity, const float* grad, float* newParam, float* newVelocity,
               int64_t size, const SgdConfig& c);

// MwT's pairwise statistics of one layer's [batch, kernels] mask, over the pairs weighted by two
// [batch, batch] matrices (positive: same-label pairs, negative: the others):
//   sums = { sum P[i,j] S[i,j], sum N[i,j] S[i,j] },  S = n n^T,  n[i] = mask[i] / sqrt(|mask[i]|^2 + epsilon)
// its gradient with respect to the mask given dSums[2], and the Jaccard metrics of mask > 0:
//   out = { fraction of kernels on, sum P[i,j] J[i,j], sum N[i,j] J[i,j] }  (J = 1 for two empty rows).
struct PairShape {
  int batch, kernels;
  float epsilon;
};
void pairSimilaritySums(const float* mask, const float* positive, const float* negative, float* sums, const PairShape& s);
void pairSimilaritySumsGrad(const float* dSums, const float* mask, const float* positive, const float* negative, float* dMask,
                            const PairShape& s);
void maskJaccardMetrics(const float* mask, const float* positive, const float* negative, float* out, const PairShape& s);

// The MwT mask generator after its global average pool: pooled [batch, inputs], w1 [inputs, hidden],
// w2 [hidden, kernels], b2 [kernels];  mask = ReLU(tanh(ReLU(pooled @ w1) @ w2 + b2)), and the
// gradients of its four inputs given dMask (and the mask it computed).
struct GateShape {
  int batch, inputs, hidden, kernels;
};
void maskGate(const float* pooled, const float* w1, const float* w2, const float* b2, float* mask, const GateShape& s);
void maskGateGrad(const float* dMask, const float* mask, const float* pooled, const float* w1, const float* w2, float* dPooled,
                  float* dW1, float* dW2, float* dB2, const GateShape& s);

}  // namespace mwt
