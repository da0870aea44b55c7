// Compile-time channel chunks: kernels vectorize along a channel dimension whose length is only
// known at run time, so they process it in chunks of a fixed width held in SIMD registers (GCC
// vector extensions, so the layout is ours and not the auto-vectorizer's guess), with several
// pixels at a time to reuse every weight load.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace mwt {

#if defined(__AVX512F__)
constexpr int kLanes = 16;
#elif defined(__AVX__)
constexpr int kLanes = 8;
#else
constexpr int kLanes = 4;
#endif
constexpr int kWidestChunk = 4 * kLanes;
// Accumulator registers a microkernel may use (of 32 zmm with AVX-512, 16 ymm otherwise).
constexpr int kAccumulators = kLanes == 16 ? 16 : 8;

typedef float Float4 __attribute__((vector_size(16)));
typedef float Float8 __attribute__((vector_size(32)));
typedef float Float16 __attribute__((vector_size(64)));

template <int N>
struct VectorOf;
template <>
struct VectorOf<1> { using type = float; };
template <>
struct VectorOf<4> { using type = Float4; };
template <>
struct VectorOf<8> { using type = Float8; };
template <>
struct VectorOf<16> { using type = Float16; };

// A chunk of CT channels as `count` vectors of `lanes` floats.
template <int CT>
struct ChunkLayout {
  static constexpr int lanes = CT >= kLanes ? kLanes : CT;
  static constexpr int count = CT / lanes;
  using Vector = typename VectorOf<lanes>::type;
  // Pixels per block: as many as fill the accumulators, at most 8.
  static constexpr int pixels = kAccumulators / count > 8 ? 8 : (kAccumulators / count < 1 ? 1 : kAccumulators / count);
};

template <typename V>
inline V load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}

template <typename V>
inline void store(float* p, V v) {
  std::memcpy(p, &v, sizeof(V));
}

template <int N>
using Chunk = std::integral_constant<int, N>;

// Calls body(first, Chunk<width>{}) over [0, channels) in the widest chunks that fit.
template <typename Body>
inline void forEachChunk(int channels, Body&& body) {
  int first = 0;
  while (first < channels) {
    const int left = channels - first;
    if (left >= kWidestChunk) {
      body(first, Chunk<kWidestChunk>{});
      first += kWidestChunk;
    } else if (kWidestChunk > 32 && left >= 32) {
      body(first, Chunk<(kWidestChunk > 32 ? 32 : kWidestChunk)>{});
      first += 32;
    } else if (kWidestChunk > 16 && left >= 16) {
      body(first, Chunk<(kWidestChunk > 16 ? 16 : kWidestChunk)>{});
      first += 16;
    } else if (left >= 8) {
      body(first, Chunk<8>{});
      first += 8;
    } else if (left >= 4) {
      body(first, Chunk<4>{});
      first += 4;
    } else {
      body(first, Chunk<1>{});
      first += 1;
    }
  }
}

// Calls block(first, std::integral_constant<int, P>{}) over [first, end) in blocks of P pixels, in
// order, then the remainder in blocks of P/2, P/4 ... 1, so that no pixel runs through the slowest
// path needlessly.
template <int P, typename Block>
inline void forEachPixelBlock(int64_t first, int64_t end, Block&& block) {
  for (; first + P <= end; first += P) block(first, std::integral_constant<int, P>{});
  if constexpr (P > 1) forEachPixelBlock<P / 2>(first, end, block);
}

}  // namespace mwt
