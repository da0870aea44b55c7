// MwT's pairwise statistics of one masked layer over a batch (MWT.md sections 2 and 3), each one
// kernel where tfjs would run a dozen small ops per layer, each with its dispatch and tape costs:
//  - the weighted sums of the masks' cosine similarities that make the cohesion and coupling losses,
//  - their gradient with respect to the masks,
//  - the Jaccard metrics of the binarized masks.
// The pairs are given as two [batch, batch] weight matrices (nonzero where a pair counts), so these
// kernels know nothing of labels. Single-threaded: a batch of 128 with 64 kernels is ~1M
// multiply-adds, less than waking the pool would cost; the sums are therefore reproducible too.
#include <cmath>
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels.h"

namespace mwt {
namespace {

// Rows of the mask divided by sqrt(|row|^2 + epsilon), and those divisors.
struct NormalizedRows {
  std::vector<float> rows;  // [batch, kernels]
  std::vector<float> norms;  // [batch]
};

NormalizedRows normalizeRows(const float* mask, const PairShape& s) {
  NormalizedRows n{std::vector<float>(static_cast<size_t>(s.batch) * s.kernels), std::vector<float>(s.batch)};
  for (int i = 0; i < s.batch; i++) {
    const float* row = mask + static_cast<int64_t>(i) * s.kernels;
    float squares = 0;
    for (int k = 0; k < s.kernels; k++) squares += row[k] * row[k];
    const float norm = std::sqrt(squares + s.epsilon);
    n.norms[i] = norm;
    for (int k = 0; k < s.kernels; k++) n.rows[static_cast<size_t>(i) * s.kernels + k] = row[k] / norm;
  }
  return n;
}

// [kernels, batch] copy of a [batch, kernels] matrix, so that row i of S = n n^T is a sum of rows of
// it scaled by n[i, k]: contiguous, vectorizable axpys rather than dot-product reductions.
std::vector<float> transposed(const std::vector<float>& rows, const PairShape& s) {
  std::vector<float> t(rows.size());
  for (int i = 0; i < s.batch; i++)
    for (int k = 0; k < s.kernels; k++) t[static_cast<size_t>(k) * s.batch + i] = rows[static_cast<size_t>(i) * s.kernels + k];
  return t;
}

}  // namespace

void pairSimilaritySums(const float* mask, const float* positive, const float* negative, float* sums, const PairShape& s) {
  const NormalizedRows n = normalizeRows(mask, s);
  const std::vector<float> columns = transposed(n.rows, s);
  std::vector<float> similarity(s.batch);
  double positiveSum = 0, negativeSum = 0;
  for (int i = 0; i < s.batch; i++) {
    std::fill(similarity.begin(), similarity.end(), 0.0f);
    for (int k = 0; k < s.kernels; k++) {
      const float a = n.rows[static_cast<size_t>(i) * s.kernels + k];
      const float* column = columns.data() + static_cast<size_t>(k) * s.batch;
      for (int j = 0; j < s.batch; j++) similarity[j] += a * column[j];
    }
    const int64_t offset = static_cast<int64_t>(i) * s.batch;
    for (int j = 0; j < s.batch; j++) {
      positiveSum += static_cast<double>(similarity[j]) * positive[offset + j];
      negativeSum += static_cast<double>(similarity[j]) * negative[offset + j];
    }
  }
  sums[0] = static_cast<float>(positiveSum);
  sums[1] = static_cast<float>(negativeSum);
}

void pairSimilaritySumsGrad(const float* dSums, const float* mask, const float* positive, const float* negative, float* dMask,
                            const PairShape& s) {
  const NormalizedRows n = normalizeRows(mask, s);
  // d/dS[i, j] = G[i, j] = dSums[0] P[i, j] + dSums[1] N[i, j]; S is symmetric in n, so
  // d/dn[i] = sum over j of (G[i, j] + G[j, i]) n[j].
  std::vector<float> dn(s.kernels);
  for (int i = 0; i < s.batch; i++) {
    std::fill(dn.begin(), dn.end(), 0.0f);
    for (int j = 0; j < s.batch; j++) {
      const int64_t ij = static_cast<int64_t>(i) * s.batch + j;
      const int64_t ji = static_cast<int64_t>(j) * s.batch + i;
      const float weight = dSums[0] * (positive[ij] + positive[ji]) + dSums[1] * (negative[ij] + negative[ji]);
      if (weight == 0.0f) continue;
      const float* row = n.rows.data() + static_cast<size_t>(j) * s.kernels;
      for (int k = 0; k < s.kernels; k++) dn[k] += weight * row[k];
    }
    // n = m / r with r = sqrt(|m|^2 + eps): dm = (dn - n (n . dn)) / r.
    const float* ni = n.rows.data() + static_cast<size_t>(i) * s.kernels;
    float projection = 0;
    for (int k = 0; k < s.kernels; k++) projection += ni[k] * dn[k];
    float* out = dMask + static_cast<int64_t>(i) * s.kernels;
    for (int k = 0; k < s.kernels; k++) out[k] = (dn[k] - ni[k] * projection) / n.norms[i];
  }
}

void maskJaccardMetrics(const float* mask, const float* positive, const float* negative, float* out, const PairShape& s) {
  // Each row's "on" kernels (mask > 0) as a bitset, and their count.
  const int words = (s.kernels + 63) / 64;
  std::vector<uint64_t> bits(static_cast<size_t>(s.batch) * words, 0);
  std::vector<int> sizes(s.batch, 0);
  int64_t on = 0;
  for (int i = 0; i < s.batch; i++) {
    for (int k = 0; k < s.kernels; k++) {
      if (!(mask[static_cast<int64_t>(i) * s.kernels + k] > 0.0f)) continue;
      bits[static_cast<size_t>(i) * words + k / 64] |= uint64_t{1} << (k % 64);
      sizes[i]++;
    }
    on += sizes[i];
  }
  double cohesion = 0, coupling = 0;
  for (int i = 0; i < s.batch; i++) {
    for (int j = 0; j < s.batch; j++) {
      const int64_t ij = static_cast<int64_t>(i) * s.batch + j;
      if (positive[ij] == 0.0f && negative[ij] == 0.0f) continue;
      int intersection = 0;
      for (int w = 0; w < words; w++) intersection += __builtin_popcountll(bits[static_cast<size_t>(i) * words + w] & bits[static_cast<size_t>(j) * words + w]);
      const int united = sizes[i] + sizes[j] - intersection;
      // Two empty masks count as identical.
      const float jaccard = united > 0 ? static_cast<float>(intersection) / static_cast<float>(united) : 1.0f;
      cohesion += static_cast<double>(jaccard) * positive[ij];
      coupling += static_cast<double>(jaccard) * negative[ij];
    }
  }
  out[0] = static_cast<float>(static_cast<double>(on) / (static_cast<double>(s.batch) * s.kernels));
  out[1] = static_cast<float>(cohesion);
  out[2] = static_cast<float>(coupling);
}

}  // namespace mwt
