// Batched matrix products for dense layers, mask generators and the MwT losses: small matrices
// (tens to hundreds of rows and columns), so a register-blocked loop along the output row beats
// packing. Transposed operands are copied to row-major first (cheap at these sizes).
#include <algorithm>
#include <vector>

#include "chunks.h"
#include "kernels.h"
#include "parallel.h"

namespace mwt {
namespace {

constexpr int kRows = 4;

// c[i, n0 .. n0+CT) for R rows: sum over k of a[i, k] * b[k, n0 ..].
template <int CT, int R>
inline void rowBlock(const float* a, const float* b, const float* bias, float* c, int k, int n, int n0, Activation act) {
  float acc[R][CT] = {};
  for (int kk = 0; kk < k; kk++) {
    const float* bRow = b + static_cast<int64_t>(kk) * n + n0;
    for (int r = 0; r < R; r++) {
      const float av = a[static_cast<int64_t>(r) * k + kk];
      for (int j = 0; j < CT; j++) acc[r][j] += av * bRow[j];
    }
  }
  for (int r = 0; r < R; r++) {
    float* cRow = c + static_cast<int64_t>(r) * n + n0;
    for (int j = 0; j < CT; j++) {
      float v = acc[r][j] + (bias != nullptr ? bias[n0 + j] : 0.0f);
      cRow[j] = act == Activation::kRelu && v < 0.0f ? 0.0f : v;
    }
  }
}

void rows(const float* a, const float* b, const float* bias, float* c, int64_t firstRow, int64_t lastRow, int k, int n,
          Activation act) {
  int64_t i = firstRow;
  for (; i + kRows <= lastRow; i += kRows) {
    forEachChunk(n, [&](int n0, auto chunk) {
      rowBlock<decltype(chunk)::value, kRows>(a + i * k, b, bias, c + i * n, k, n, n0, act);
    });
  }
  for (; i < lastRow; i++) {
    forEachChunk(n, [&](int n0, auto chunk) { rowBlock<decltype(chunk)::value, 1>(a + i * k, b, bias, c + i * n, k, n, n0, act); });
  }
}

// [rows, cols] -> [cols, rows]
void transpose(const float* src, float* dst, int rows, int cols) {
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) dst[static_cast<int64_t>(c) * rows + r] = src[static_cast<int64_t>(r) * cols + c];
}

}  // namespace

void matMul(const float* a, const float* b, const float* bias, float* c, const MatMulShape& s, Activation act) {
  const int64_t aSize = static_cast<int64_t>(s.m) * s.k;
  const int64_t bSize = static_cast<int64_t>(s.k) * s.n;
  // Row-major copies of transposed operands, one per distinct batch entry.
  std::vector<float> aRows(s.transposeA ? static_cast<size_t>(aSize) * s.batchA : 0);
  std::vector<float> bRows(s.transposeB ? static_cast<size_t>(bSize) * s.batchB : 0);
  for (int i = 0; s.transposeA && i < s.batchA; i++) transpose(a + i * aSize, aRows.data() + i * aSize, s.k, s.m);
  for (int i = 0; s.transposeB && i < s.batchB; i++) transpose(b + i * bSize, bRows.data() + i * bSize, s.n, s.k);
  const float* aData = s.transposeA ? aRows.data() : a;
  const float* bData = s.transposeB ? bRows.data() : b;
  // Work items: blocks of kRows rows of one batch entry.
  const int64_t blocksPerMatrix = (s.m + kRows - 1) / kRows;
  parallelFor(s.batch * blocksPerMatrix, static_cast<double>(kRows) * s.k * s.n, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; item++) {
      const int64_t batch = item / blocksPerMatrix;
      const int64_t first = (item % blocksPerMatrix) * kRows;
      const int64_t last = std::min<int64_t>(s.m, first + kRows);
      const float* aBatch = aData + (s.batchA == 1 ? 0 : batch) * aSize;
      const float* bBatch = bData + (s.batchB == 1 ? 0 : batch) * bSize;
      rows(aBatch, bBatch, bias, c + batch * s.m * s.n, first, last, s.k, s.n, act);
    }
  });
}

}  // namespace mwt
