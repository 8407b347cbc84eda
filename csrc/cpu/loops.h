// Generic fused loops over dense memory, shared by every activation.
//
// All tensors an op touches have one dense layout (see layout.h), so element
// i of each is at offset i: the loops are flat, vectorized and split across
// threads in whole 64-element words, which lets a bit mask be written by
// several threads without sharing a word. Reduced types (half, bfloat16) are
// staged through float buffers and computed in float, as ATen does.
#pragma once

#include "kernel_table.h"

#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <ATen/cpu/vec/vec.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>

#ifndef CPU_CAPABILITY
#define CPU_CAPABILITY DEFAULT
#endif

namespace torch_act::cpu {
inline namespace CPU_CAPABILITY {  // one build per CPU capability, see activations.h

// Block of work per call: whole mask words, fits in L1 (reduced types are
// staged through float buffers of this size).
constexpr int64_t kStageBlock = 1024;

template <typename scalar_t>
using opmath_t = at::opmath_type<scalar_t>;

// Calls block(begin, length, inputs, outputs) over [0, n) in parallel, with
// pointers already advanced to `begin`, which is always a multiple of 64.
template <typename scalar_t, size_t NIn, size_t NOut, typename Block>
void for_each_block(std::array<const scalar_t*, NIn> in, std::array<scalar_t*, NOut> out,
                    int64_t n, const Block& block) {
  using T = opmath_t<scalar_t>;
  const int64_t words = (n + 63) / 64;
  at::parallel_for(0, words, kGrainSize / 64, [&](int64_t word_begin, int64_t word_end) {
    const int64_t begin = word_begin * 64;
    const int64_t end = std::min(n, word_end * 64);
    if constexpr (std::is_same_v<scalar_t, T>) {
      // Blocks small enough to stay in L1, so a kernel that reads its input
      // twice (mask bits, then values) reads memory once.
      std::array<const T*, NIn> i;
      std::array<T*, NOut> o;
      for (int64_t b = begin; b < end; b += kStageBlock) {
        for (size_t k = 0; k < NIn; ++k) i[k] = in[k] + b;
        for (size_t k = 0; k < NOut; ++k) o[k] = out[k] + b;
        block(b, std::min(kStageBlock, end - b), i, o);
      }
    } else {
      T in_buf[NIn][kStageBlock];
      T out_buf[NOut][kStageBlock];
      std::array<const T*, NIn> i;
      std::array<T*, NOut> o;
      for (size_t k = 0; k < NIn; ++k) i[k] = in_buf[k];
      for (size_t k = 0; k < NOut; ++k) o[k] = out_buf[k];
      for (int64_t b = begin; b < end; b += kStageBlock) {
        const int64_t len = std::min(kStageBlock, end - b);
        for (size_t k = 0; k < NIn; ++k) at::vec::convert(in[k] + b, in_buf[k], len);
        block(b, len, i, o);
        for (size_t k = 0; k < NOut; ++k) at::vec::convert(out_buf[k], out[k] + b, len);
      }
    }
  });
}

// Explicit Vectorized<T> code pays off only in a file compiled for AVX2 or
// AVX-512; in a DEFAULT build Vectorized<T> emulates lanes with scalar
// arrays, slower than a plain loop the compiler vectorizes by itself.
#if defined(CPU_CAPABILITY_AVX2) || defined(CPU_CAPABILITY_AVX512)
constexpr bool kExplicitVectors = true;
#else
constexpr bool kExplicitVectors = false;
#endif

// The functors below are taken by value: a local copy of an activation's
// parameters cannot alias the output, which lets the compiler vectorize.

// out[i] = f(a[i]); f takes T or Vectorized<T>. out may alias a.
template <typename T, typename F>
inline void map(const T* a, T* out, int64_t len, F f) {
  using V = at::vec::Vectorized<T>;
  int64_t i = 0;
  if constexpr (kExplicitVectors) {
    for (; i + V::size() <= len; i += V::size()) f(V::loadu(a + i)).store(out + i);
  }
  for (; i < len; ++i) out[i] = f(a[i]);
}

// out[i] = f(a[i], b[i]).
template <typename T, typename F>
inline void map2(const T* a, const T* b, T* out, int64_t len, F f) {
  using V = at::vec::Vectorized<T>;
  int64_t i = 0;
  if constexpr (kExplicitVectors) {
    for (; i + V::size() <= len; i += V::size()) f(V::loadu(a + i), V::loadu(b + i)).store(out + i);
  }
  for (; i < len; ++i) out[i] = f(a[i], b[i]);
}

// Bit k of a mask word is element k of its 64. Packing goes through one byte
// per element (a loop the compiler vectorizes), then 8 bytes of 0/1 become
// 8 bits with one multiplication; never bit by bit.
inline uint64_t pack_flag_bytes(const uint8_t* flags) {
  uint64_t word = 0;
  for (int b = 0; b < 8; ++b) {
    uint64_t eight;
    std::memcpy(&eight, flags + 8 * b, 8);
    word |= ((eight * 0x0102040810204080ULL) >> 56) << (8 * b);
  }
  return word;
}

inline void unpack_flag_bytes(uint64_t word, uint8_t* flags) {
  for (int b = 0; b < 8; ++b) {
    // Spread byte b over 8 bytes, keep bit j in byte j, turn it into 0/1.
    uint64_t t = ((word >> (8 * b)) & 0xFF) * 0x0101010101010101ULL;
    t = (((t & 0x8040201008040201ULL) + 0x7F7F7F7F7F7F7F7FULL) >> 7) & 0x0101010101010101ULL;
    std::memcpy(flags + 8 * b, &t, 8);
  }
}

// The bits of a comparison's lanes (all ones / all zeros), lane 0 lowest:
// one movemask instead of a loop over lanes.
#if defined(CPU_CAPABILITY_AVX512)
inline uint64_t lane_bits(at::vec::Vectorized<float> lanes) {
  return _mm512_movepi32_mask(_mm512_castps_si512(lanes));
}
#elif defined(CPU_CAPABILITY_AVX2)
inline uint64_t lane_bits(at::vec::Vectorized<float> lanes) {
  return static_cast<uint32_t>(_mm256_movemask_ps(lanes));
}
#endif

// Packs pred(x[i]) into bit i % 64 of words[i / 64]; the last word's unused
// bits are zero so a mask's bytes are fully determined. pred takes T (gives
// bool) or Vectorized<T> (gives the comparison's lanes).
template <typename T, typename Pred>
inline void pack_bits(const T* x, int64_t len, uint64_t* words, Pred pred) {
  int64_t w = 0;
  if constexpr (kExplicitVectors && std::is_same_v<T, float>) {
    using V = at::vec::Vectorized<float>;
    for (; (w + 1) * 64 <= len; ++w) {
      const float* chunk = x + w * 64;
      uint64_t word = 0;
      for (int64_t j = 0; j < 64; j += V::size()) word |= lane_bits(pred(V::loadu(chunk + j))) << j;
      words[w] = word;
    }
  }
  alignas(64) uint8_t flags[64];
  for (; w * 64 < len; ++w) {
    const T* chunk = x + w * 64;
    const int64_t m = std::min<int64_t>(64, len - w * 64);
    if (m < 64) std::memset(flags, 0, sizeof(flags));
    for (int64_t k = 0; k < m; ++k) flags[k] = pred(chunk[k]) ? 1 : 0;
    words[w] = pack_flag_bytes(flags);
  }
}

// out[i] = f(g[i], bit i of words).
template <typename T, typename F>
inline void map_with_bits(const T* g, const uint64_t* words, T* out, int64_t len, F f) {
  alignas(64) uint8_t flags[64];
  for (int64_t w = 0; w * 64 < len; ++w) {
    const int64_t base = w * 64;
    const int64_t m = std::min<int64_t>(64, len - base);
    unpack_flag_bytes(words[w], flags);
    for (int64_t k = 0; k < m; ++k) out[base + k] = f(g[base + k], flags[k] != 0);
  }
}

}  // namespace CPU_CAPABILITY
}  // namespace torch_act::cpu
