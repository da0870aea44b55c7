// The MwT mask generator after its global average pool (MWT.md section 1), forward and backward,
// each one kernel where tfjs runs five ops forward and about fifteen backward per masked layer:
//   hidden = ReLU(pooled @ w1),  t = tanh(hidden @ w2 + b2),  mask = ReLU(t)
// The backward pass recomputes hidden and t (a few hundred thousand multiply-adds) instead of
// keeping them alive between the passes.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels.h"

namespace mwt {
namespace {

MatMulShape product(int m, int k, int n, bool transposeA, bool transposeB) { return MatMulShape{1, 1, 1, m, k, n, transposeA, transposeB}; }

struct GateActivations {
  std::vector<float> hidden;  // [batch, hidden]
  std::vector<float> t;       // [batch, kernels]
};

GateActivations activations(const float* pooled, const float* w1, const float* w2, const float* b2, const GateShape& s) {
  GateActivations a{std::vector<float>(static_cast<size_t>(s.batch) * s.hidden), std::vector<float>(static_cast<size_t>(s.batch) * s.kernels)};
  matMul(pooled, w1, nullptr, a.hidden.data(), product(s.batch, s.inputs, s.hidden, false, false), Activation::kRelu);
  matMul(a.hidden.data(), w2, b2, a.t.data(), product(s.batch, s.hidden, s.kernels, false, false), Activation::kLinear);
  for (float& v : a.t) v = std::tanh(v);
  return a;
}

}  // namespace

void maskGate(const float* pooled, const float* w1, const float* w2, const float* b2, float* mask, const GateShape& s) {
  const GateActivations a = activations(pooled, w1, w2, b2, s);
  for (size_t i = 0; i < a.t.size(); i++) mask[i] = std::max(a.t[i], 0.0f);
}

void maskGateGrad(const float* dMask, const float* pooled, const float* w1, const float* w2, const float* b2, float* dPooled,
                  float* dW1, float* dW2, float* dB2, const GateShape& s) {
  const GateActivations a = activations(pooled, w1, w2, b2, s);
  // Through ReLU (gradient 0 at 0, as tfjs) and tanh: d/d(logits) = dMask * [t > 0] * (1 - t^2).
  std::vector<float> dLogits(a.t.size());
  for (size_t i = 0; i < a.t.size(); i++) dLogits[i] = a.t[i] > 0.0f ? dMask[i] * (1.0f - a.t[i] * a.t[i]) : 0.0f;
  std::fill(dB2, dB2 + s.kernels, 0.0f);
  for (int b = 0; b < s.batch; b++)
    for (int k = 0; k < s.kernels; k++) dB2[k] += dLogits[static_cast<size_t>(b) * s.kernels + k];
  matMul(a.hidden.data(), dLogits.data(), nullptr, dW2, product(s.hidden, s.batch, s.kernels, true, false), Activation::kLinear);
  std::vector<float> dHidden(a.hidden.size());
  matMul(dLogits.data(), w2, nullptr, dHidden.data(), product(s.batch, s.kernels, s.hidden, false, true), Activation::kLinear);
  for (size_t i = 0; i < dHidden.size(); i++)
    if (!(a.hidden[i] > 0.0f)) dHidden[i] = 0.0f;
  matMul(pooled, dHidden.data(), nullptr, dW1, product(s.inputs, s.batch, s.hidden, true, false), Activation::kLinear);
  matMul(dHidden.data(), w1, nullptr, dPooled, product(s.batch, s.hidden, s.inputs, false, true), Activation::kLinear);
}

}  // namespace mwt
