// The MwT mask generator after its global average pool (MWT.md section 1), forward and backward,
// each one kernel where tfjs runs five ops forward and about fifteen backward per masked layer:
//   hidden = ReLU(pooled @ w1),  t = tanh(hidden @ w2 + b2),  mask = ReLU(t)
// The backward pass takes the mask (tanh's derivative is 1 - mask^2 wherever the mask is on) and
// recomputes the hidden units (one small product) instead of keeping them alive between the passes.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels.h"

namespace mwt {
namespace {

MatMulShape product(int m, int k, int n, bool transposeA, bool transposeB) { return MatMulShape{1, 1, 1, m, k, n, transposeA, transposeB}; }

std::vector<float> hiddenUnits(const float* pooled, const float* w1, const GateShape& s) {
  std::vector<float> hidden(static_cast<size_t>(s.batch) * s.hidden);
  matMul(pooled, w1, nullptr, hidden.data(), product(s.batch, s.inputs, s.hidden, false, false), Activation::kRelu);
  return hidden;
}

}  // namespace

void maskGate(const float* pooled, const float* w1, const float* w2, const float* b2, float* mask, const GateShape& s) {
  const std::vector<float> hidden = hiddenUnits(pooled, w1, s);
  const int64_t size = static_cast<int64_t>(s.batch) * s.kernels;
  matMul(hidden.data(), w2, b2, mask, product(s.batch, s.hidden, s.kernels, false, false), Activation::kLinear);
  for (int64_t i = 0; i < size; i++) mask[i] = std::max(std::tanh(mask[i]), 0.0f);
}

void maskGateGrad(const float* dMask, const float* mask, const float* pooled, const float* w1, const float* w2, float* dPooled,
                  float* dW1, float* dW2, float* dB2, const GateShape& s) {
  const std::vector<float> hidden = hiddenUnits(pooled, w1, s);
  // Through ReLU (gradient 0 at 0, as tfjs) and tanh: d/d(logits) = dMask * [t > 0] * (1 - t^2), and t = mask where t > 0.
  std::vector<float> dLogits(static_cast<size_t>(s.batch) * s.kernels);
  for (size_t i = 0; i < dLogits.size(); i++) dLogits[i] = mask[i] > 0.0f ? dMask[i] * (1.0f - mask[i] * mask[i]) : 0.0f;
  std::fill(dB2, dB2 + s.kernels, 0.0f);
  for (int b = 0; b < s.batch; b++)
    for (int k = 0; k < s.kernels; k++) dB2[k] += dLogits[static_cast<size_t>(b) * s.kernels + k];
  matMul(hidden.data(), dLogits.data(), nullptr, dW2, product(s.hidden, s.batch, s.kernels, true, false), Activation::kLinear);
  std::vector<float> dHidden(hidden.size());
  matMul(dLogits.data(), w2, nullptr, dHidden.data(), product(s.batch, s.kernels, s.hidden, false, true), Activation::kLinear);
  for (size_t i = 0; i < dHidden.size(); i++)
    if (!(hidden[i] > 0.0f)) dHidden[i] = 0.0f;
  matMul(pooled, dHidden.data(), nullptr, dW1, product(s.inputs, s.batch, s.hidden, true, false), Activation::kLinear);
  matMul(dHidden.data(), w1, nullptr, dPooled, product(s.batch, s.hidden, s.inputs, false, true), Activation::kLinear);
}

}  // namespace mwt
