// Elementwise kernels: binary ops with broadcasting, unary activations, reductions over a run of
// axes, and the SGD update.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "chunks.h"
#include "kernels.h"
#include "parallel.h"

namespace mwt {
namespace {

// tfjs' ReLU and Step (alpha where x <= 0): NaN passes through both. Vector forms with explicit
// selects: GCC leaves every scalar form of these unvectorized (Step ran 6x slower than ReLU, a
// visible share of a training step).
inline float relu(float x) { return x > 0.0f ? x : (std::isnan(x) ? x : 0.0f); }
inline float step(float x, float alpha) { return x > 0.0f ? 1.0f : (std::isnan(x) ? x : alpha); }
inline Float16 relu(Float16 x) { return x > 0.0f ? x : (x != x ? x : Float16{}); }
inline Float16 step(Float16 x, Float16 alpha) { return x > 0.0f ? Float16{} + 1.0f : (x != x ? x : alpha); }

template <BinaryOp Op>
constexpr bool kVectorSelects = Op == BinaryOp::kAddRelu || Op == BinaryOp::kReluGrad;

// On floats, and on Float16 vectors for the ops with kVectorSelects.
template <BinaryOp Op, typename V>
inline V apply(V a, V b) {
  if constexpr (Op == BinaryOp::kAddRelu) {
    return relu(a + b);
  } else if constexpr (Op == BinaryOp::kReluGrad) {
    return a * step(b, V{});
  } else if constexpr (Op == BinaryOp::kAdd) {
    return a + b;
  } else if constexpr (Op == BinaryOp::kSub) {
    return a - b;
  } else if constexpr (Op == BinaryOp::kMul) {
    return a * b;
  } else if constexpr (Op == BinaryOp::kDiv) {
    return a / b;
  } else if constexpr (Op == BinaryOp::kMax) {
    return std::isnan(a) || a > b ? a : b;  // tfjs propagates NaN
  } else {
    return std::isnan(a) || a < b ? a : b;
  }
}

// The innermost axis, in its three cases: both operands run along it, or one is broadcast.
template <BinaryOp Op>
inline void line(const float* a, int64_t aStep, const float* b, int64_t bStep, float* out, int64_t n) {
  if (aStep == 1 && bStep == 1) {
    int64_t i = 0;
    // The vector forms of ReLU and Step (see relu).
    if constexpr (kVectorSelects<Op>) {
      for (; i + 16 <= n; i += 16) store(out + i, apply<Op>(load<Float16>(a + i), load<Float16>(b + i)));
    }
    for (; i < n; i++) out[i] = apply<Op>(a[i], b[i]);
  } else if (aStep == 1) {
    const float bv = b[0];
    for (int64_t i = 0; i < n; i++) out[i] = apply<Op>(a[i], bv);
  } else if (bStep == 1) {
    const float av = a[0];
    for (int64_t i = 0; i < n; i++) out[i] = apply<Op>(av, b[i]);
  } else {
    const float v = apply<Op>(a[0], b[0]);
    for (int64_t i = 0; i < n; i++) out[i] = v;
  }
}

// Shapes reduced to the fewest axes: neighbours merge when each operand is either broadcast along
// both or runs along both.
struct Layout {
  int rank = 0;
  int64_t shape[kMaxRank];
  int64_t aStride[kMaxRank];
  int64_t bStride[kMaxRank];
};

Layout layoutOf(const int* aShape, const int* bShape, const int* outShape, int rank) {
  Layout l;
  for (int d = 0; d < rank; d++) {
    if (outShape[d] == 1) continue;  // drops out of every index
    const bool aFull = aShape[d] != 1;
    const bool bFull = bShape[d] != 1;
    if (l.rank > 0) {
      const int last = l.rank - 1;
      const bool aWasFull = l.aStride[last] != 0;
      const bool bWasFull = l.bStride[last] != 0;
      if (aFull == aWasFull && bFull == bWasFull) {
        l.shape[last] *= outShape[d];
        continue;
      }
    }
    l.shape[l.rank] = outShape[d];
    l.aStride[l.rank] = aFull ? 1 : 0;
    l.bStride[l.rank] = bFull ? 1 : 0;
    l.rank++;
  }
  // Markers -> element strides, innermost first.
  int64_t aNext = 1, bNext = 1;
  for (int d = l.rank - 1; d >= 0; d--) {
    if (l.aStride[d] != 0) {
      l.aStride[d] = aNext;
      aNext *= l.shape[d];
    }
    if (l.bStride[d] != 0) {
      l.bStride[d] = bNext;
      bNext *= l.shape[d];
    }
  }
  return l;
}

template <BinaryOp Op>
void broadcastBinary(const float* a, const float* b, float* out, const Layout& l) {
  if (l.rank == 0) {
    out[0] = apply<Op>(a[0], b[0]);
    return;
  }
  const int inner = l.rank - 1;
  const int64_t n = l.shape[inner];
  int64_t lines = 1;
  for (int d = 0; d < inner; d++) lines *= l.shape[d];
  parallelFor(lines, static_cast<double>(n), [&](int64_t begin, int64_t end) {
    // The first line's index by division, the following ones by counting (an odometer), since a
    // broadcast along a short inner axis (e.g. [B, 1, 1, C] to [B, H, W, C]) has many short lines.
    int64_t index[kMaxRank] = {};
    int64_t aOffset = 0, bOffset = 0;
    for (int64_t rest = begin, d = inner - 1; d >= 0; d--) {
      index[d] = rest % l.shape[d];
      rest /= l.shape[d];
      aOffset += index[d] * l.aStride[d];
      bOffset += index[d] * l.bStride[d];
    }
    for (int64_t lineIndex = begin; lineIndex < end; lineIndex++) {
      line<Op>(a + aOffset, l.aStride[inner], b + bOffset, l.bStride[inner], out + lineIndex * n, n);
      for (int d = inner - 1; d >= 0; d--) {
        aOffset += l.aStride[d];
        bOffset += l.bStride[d];
        if (++index[d] < l.shape[d]) break;
        aOffset -= l.aStride[d] * l.shape[d];
        bOffset -= l.bStride[d] * l.shape[d];
        index[d] = 0;
      }
    }
  });
}

}  // namespace

void binary(BinaryOp op, const float* a, const int* aShape, const float* b, const int* bShape, float* out,
            const int* outShape, int rank) {
  const Layout l = layoutOf(aShape, bShape, outShape, rank);
  switch (op) {
    case BinaryOp::kAdd: return broadcastBinary<BinaryOp::kAdd>(a, b, out, l);
    case BinaryOp::kSub: return broadcastBinary<BinaryOp::kSub>(a, b, out, l);
    case BinaryOp::kMul: return broadcastBinary<BinaryOp::kMul>(a, b, out, l);
    case BinaryOp::kDiv: return broadcastBinary<BinaryOp::kDiv>(a, b, out, l);
    case BinaryOp::kMax: return broadcastBinary<BinaryOp::kMax>(a, b, out, l);
    case BinaryOp::kMin: return broadcastBinary<BinaryOp::kMin>(a, b, out, l);
    case BinaryOp::kAddRelu: return broadcastBinary<BinaryOp::kAddRelu>(a, b, out, l);
    case BinaryOp::kReluGrad: return broadcastBinary<BinaryOp::kReluGrad>(a, b, out, l);
  }
}

namespace {

// ReLU's gradient mask: 1 where x > 0, alpha elsewhere, NaN kept.
void stepRange(const float* x, float* out, int64_t begin, int64_t end, float alpha) {
  const Float16 alphas = Float16{} + alpha;
  int64_t i = begin;
  for (; i + 16 <= end; i += 16) store(out + i, step(load<Float16>(x + i), alphas));
  for (; i < end; i++) out[i] = step(x[i], alpha);
}

}  // namespace

void unary(UnaryOp op, const float* x, float* out, int64_t size, float alpha) {
  parallelFor(size, op == UnaryOp::kExp || op == UnaryOp::kTanh ? 20.0 : 1.0, [&](int64_t begin, int64_t end) {
    switch (op) {
      case UnaryOp::kRelu:
        for (int64_t i = begin; i < end; i++) out[i] = relu(x[i]);
        break;
      case UnaryOp::kStep:
        stepRange(x, out, begin, end, alpha);
        break;
      case UnaryOp::kNeg:
        for (int64_t i = begin; i < end; i++) out[i] = -x[i];
        break;
      case UnaryOp::kSquare:
        for (int64_t i = begin; i < end; i++) out[i] = x[i] * x[i];
        break;
      case UnaryOp::kSqrt:
        for (int64_t i = begin; i < end; i++) out[i] = std::sqrt(x[i]);
        break;
      case UnaryOp::kRsqrt:
        for (int64_t i = begin; i < end; i++) out[i] = 1.0f / std::sqrt(x[i]);
        break;
      case UnaryOp::kExp:
        for (int64_t i = begin; i < end; i++) out[i] = std::exp(x[i]);
        break;
      case UnaryOp::kTanh:
        for (int64_t i = begin; i < end; i++) out[i] = std::tanh(x[i]);
        break;
    }
  });
}

namespace {

// acc = acc (+ or max) value, where a NaN wins a max as in tfjs.
inline void combine(double& acc, double value, bool isMax) {
  acc = isMax ? (value > acc || std::isnan(value) ? value : acc) : acc + value;
}

inline void accumulate(double* acc, const float* row, int64_t rest, bool isMax) {
  if (isMax) {
    for (int64_t r = 0; r < rest; r++) combine(acc[r], row[r], true);
  } else {
    for (int64_t r = 0; r < rest; r++) acc[r] += row[r];
  }
}

}  // namespace

void reduce(ReduceOp op, const float* x, float* out, int64_t outer, int64_t inner, int64_t rest) {
  const bool isMax = op == ReduceOp::kMax;
  const double init = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
  const double divisor = op == ReduceOp::kMean ? static_cast<double>(inner) : 1.0;
  // Many independent outputs: split them. Few (e.g. per-channel sums over a whole batch): split the
  // reduced axis, one partial result per chunk, combined in chunk order.
  if (outer >= threadCount()) {
    parallelFor(outer, static_cast<double>(inner * rest), [&](int64_t begin, int64_t end) {
      std::vector<double> acc(static_cast<size_t>(rest));
      for (int64_t o = begin; o < end; o++) {
        std::fill(acc.begin(), acc.end(), init);
        for (int64_t i = 0; i < inner; i++) accumulate(acc.data(), x + (o * inner + i) * rest, rest, isMax);
        for (int64_t r = 0; r < rest; r++) out[o * rest + r] = static_cast<float>(acc[r] / divisor);
      }
    });
    return;
  }
  const int64_t chunks = chunkCount(inner, static_cast<double>(outer * rest));
  std::vector<double> partials(static_cast<size_t>(chunks) * outer * rest, init);
  parallelForChunks(inner, chunks, [&](int64_t part, int64_t begin, int64_t end) {
    for (int64_t o = 0; o < outer; o++) {
      double* acc = partials.data() + (static_cast<size_t>(part) * outer + o) * rest;
      for (int64_t i = begin; i < end; i++) accumulate(acc, x + (o * inner + i) * rest, rest, isMax);
    }
  });
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t r = 0; r < rest; r++) {
      double value = init;
      for (int64_t part = 0; part < chunks; part++) combine(value, partials[(static_cast<size_t>(part) * outer + o) * rest + r], isMax);
      out[o * rest + r] = static_cast<float>(value / divisor);
    }
  }
}

void sgdUpdate(const float* param, const float* velocity, const float* grad, float* newParam, float* newVelocity,
               int64_t size, const SgdConfig& c) {
  parallelFor(size, 6.0, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      const float g = grad[i] + c.weightDecay * param[i];
      const float v = c.momentum * velocity[i] + g;
      newVelocity[i] = v;
      newParam[i] = param[i] - c.lr * (c.nesterov ? g + c.momentum * v : v);
    }
  });
}

}  // namespace mwt
