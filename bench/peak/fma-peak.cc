// The machine's measured fp32 peak: each thread runs independent fused multiply-adds on the widest
// vectors the compiler targets (-march=native), enough chains to hide the FMA latency. Each thread's
// rate is its flops over its own CPU time (CLOCK_THREAD_CPUTIME_ID), so that other processes on a
// shared machine do not lower the peak; the total is the sum over threads (one per core). Prints one
// JSON line {"threads": n, "gflops": total}. Built and run by bench/peak.ts.
#include <immintrin.h>

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

// Independent accumulators: enough to cover the FMA latency on both FMA ports (4-5 cycles x 2), few
// enough to stay in registers with the two constants. 16 on AVX2's 16 ymm registers spilled to the
// stack and measured half the peak (54 instead of 96 GFLOP/s on an AVX2 EPYC).
#if defined(__AVX512F__)
using Vec = __m512;
constexpr int kLanes = 16;
constexpr int kChains = 16;  // of 32 zmm registers
static inline Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
static inline Vec splat(float v) { return _mm512_set1_ps(v); }
static inline float first(Vec v) { return _mm512_reduce_add_ps(v); }
#else
using Vec = __m256;
constexpr int kLanes = 8;
constexpr int kChains = 12;  // of 16 ymm registers
static inline Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
static inline Vec splat(float v) { return _mm256_set1_ps(v); }
static inline float first(Vec v) { return _mm256_cvtss_f32(v); }
#endif

constexpr long kIterations = 20'000'000;

static double threadSeconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// GFLOP/s of this thread over its own CPU time; *sum keeps the result alive.
static double run(float seed, float* sum) {
  const double start = threadSeconds();
  Vec acc[kChains];
  for (int i = 0; i < kChains; i++) acc[i] = splat(seed + i);
  const Vec a = splat(0.999999f), b = splat(1e-7f);
  for (long it = 0; it < kIterations; it++)
    for (int i = 0; i < kChains; i++) acc[i] = fma(acc[i], a, b);
  const double seconds = threadSeconds() - start;
  *sum = 0;
  for (int i = 0; i < kChains; i++) *sum += first(acc[i]);
  return 2.0 * kLanes * kChains * static_cast<double>(kIterations) / seconds / 1e9;
}

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  std::vector<float> sums(threads);
  std::vector<double> rates(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; t++) pool.emplace_back([&, t] { rates[t] = run(static_cast<float>(t), &sums[t]); });
  for (auto& thread : pool) thread.join();
  double total = 0, check = 0;
  for (int t = 0; t < threads; t++) total += rates[t], check += sums[t];
  std::printf("{\"threads\": %d, \"gflops\": %.1f, \"check\": %g}\n", threads, total, check);
  return 0;
}
