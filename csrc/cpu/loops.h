// Generic fused loops over dense memory, shared by every activation.
//
// All tensors an op touches have one dense layout (see layout.h), so element
// i of each is at offset i: the loops are flat, vectorized and split across
// threads in whole 64-element words, which lets a bit mask be written by
// several threads without sharing a word. Reduced types (half, bfloat16) are
// computed in float, as ATen does: converted in registers in the AVX2 and
// AVX-512 builds, staged through L1 float buffers in DEFAULT.
#pragma once

#include "../vec_isa.h"
#include "settings.h"

#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <ATen/cpu/vec/vec.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <type_traits>

#ifndef CPU_CAPABILITY
#define CPU_CAPABILITY DEFAULT
#endif

namespace torch_act::cpu {
inline namespace CPU_CAPABILITY {  // one build per CPU capability, see kernel_prelude.h

// Block of work per call: whole mask words, fits in L1 (reduced types are
// staged through float buffers of this size).
constexpr int64_t kStageBlock = 1024;

template <typename scalar_t>
using opmath_t = at::opmath_type<scalar_t>;

// Explicit Vectorized<T> code pays off only in a file compiled for AVX2 or
// AVX-512; in a DEFAULT build Vectorized<T> emulates lanes with scalar
// arrays, slower than a plain loop the compiler vectorizes by itself.
#if defined(CPU_CAPABILITY_AVX2) || defined(CPU_CAPABILITY_AVX512)
constexpr bool kExplicitVectors = true;
#else
constexpr bool kExplicitVectors = false;
#endif

// Writes v to p; with stream, as a non-temporal store (p aligned to a vector).
template <typename T>
inline void store(at::vec::Vectorized<T> v, T* p, bool stream) {
#if defined(CPU_CAPABILITY_AVX512)
  if (stream) {
    if constexpr (std::is_same_v<T, float>) return _mm512_stream_ps(p, v);
    if constexpr (std::is_same_v<T, double>) return _mm512_stream_pd(p, v);
  }
#elif defined(CPU_CAPABILITY_AVX2)
  if (stream) {
    if constexpr (std::is_same_v<T, float>) return _mm256_stream_ps(p, v);
    if constexpr (std::is_same_v<T, double>) return _mm256_stream_pd(p, v);
  }
#endif
  v.store(p);
}

// Orders a thread's streaming stores before whatever reads them next.
inline void store_fence() {
#if defined(CPU_CAPABILITY_AVX2) || defined(CPU_CAPABILITY_AVX512)
  _mm_sfence();
#endif
}

// Vectors of the compute type T = opmath_t<S> loaded from and stored to
// memory of type S. Half and bfloat16 convert on the fly in the AVX2 and
// AVX-512 builds (one vector of floats per load: no staging buffers, one
// pass over memory), with the same conversions Vectorized<S> uses.
template <typename S>
constexpr bool kDirectIo = std::is_same_v<S, opmath_t<S>> || kExplicitVectors;

template <typename S>
struct Io {
  using T = opmath_t<S>;
  using V = at::vec::Vectorized<T>;
  static V load(const S* p) {
    if constexpr (std::is_same_v<S, T>) {
      return V::loadu(p);
    } else {
#if defined(CPU_CAPABILITY_AVX512)
      __m512 o;
      at::vec::cvt_to_fp32<S>(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), o);
      return o;
#elif defined(CPU_CAPABILITY_AVX2)
      __m256 o;
      at::vec::cvt_to_fp32<S>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), o);
      return o;
#else
      static_assert(!std::is_same_v<S, S>, "reduced types are staged in DEFAULT builds");
#endif
    }
  }
  static void put(V v, S* p, bool stream) {
    if constexpr (std::is_same_v<S, T>) {
      store(v, p, stream);
    } else {
#if defined(CPU_CAPABILITY_AVX512)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), to_reduced(v));
#elif defined(CPU_CAPABILITY_AVX2)
      const __m128i r = std::is_same_v<S, c10::BFloat16> ? at::vec::cvtfp32_bf16(v) : at::vec::cvtfp32_fp16(v);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), r);
#else
      static_assert(!std::is_same_v<S, S>, "reduced types are staged in DEFAULT builds");
#endif
    }
  }

  // The first m < V::size() elements at p, the other lanes zero, and their
  // store: a loop's tail runs through the same vector code as its body, so
  // an element's result never depends on where it sits (its offset, the
  // tensor's size, a thread's or a shard's bounds). AVX-512 masks the
  // memory access; AVX2 goes through a zero-padded block on the stack.
  static V load_first(const S* p, int64_t m) {
#if defined(CPU_CAPABILITY_AVX512)
    const uint32_t k = (1u << m) - 1;
    if constexpr (std::is_same_v<S, float>) return _mm512_maskz_loadu_ps(static_cast<__mmask16>(k), p);
    if constexpr (std::is_same_v<S, double>) return _mm512_maskz_loadu_pd(static_cast<__mmask8>(k), p);
    if constexpr (!std::is_same_v<S, T>) {
      __m512 o;
      at::vec::cvt_to_fp32<S>(_mm256_maskz_loadu_epi16(static_cast<__mmask16>(k), p), o);
      return o;
    }
#endif
    alignas(64) S block[V::size()] = {};
    std::memcpy(block, p, m * sizeof(S));
    return load(block);
  }
  static void put_first(V v, S* p, int64_t m) {
#if defined(CPU_CAPABILITY_AVX512)
    const uint32_t k = (1u << m) - 1;
    if constexpr (std::is_same_v<S, float>) return _mm512_mask_storeu_ps(p, static_cast<__mmask16>(k), v);
    if constexpr (std::is_same_v<S, double>) return _mm512_mask_storeu_pd(p, static_cast<__mmask8>(k), v);
    if constexpr (!std::is_same_v<S, T>) return _mm256_mask_storeu_epi16(p, static_cast<__mmask16>(k), to_reduced(v));
#endif
    alignas(64) S block[V::size()];
    put(v, block, false);
    std::memcpy(p, block, m * sizeof(S));
  }

 private:
#if defined(CPU_CAPABILITY_AVX512)
  static __m256i to_reduced(V v) {
    return std::is_same_v<S, c10::BFloat16> ? at::vec::cvtfp32_bf16(v) : at::vec::cvtfp32_fp16(v);
  }
#endif
};

// Calls block(begin, length, inputs, outputs) for [begin, end) in blocks small
// enough to stay in L1, pointers already advanced to each block; without
// direct I/O (reduced types in the DEFAULT build) they point to float
// buffers of that size, converted from and back to memory.
// stage_blocks_in_opmath always converts reduced types (for loops written
// over T only).
template <typename scalar_t, size_t NIn, size_t NOut, bool Direct = kDirectIo<scalar_t>, typename Block>
void stage_blocks(std::array<const scalar_t*, NIn> in, std::array<scalar_t*, NOut> out,
                  int64_t begin, int64_t end, const Block& block) {
  using T = opmath_t<scalar_t>;
  if constexpr (Direct || std::is_same_v<scalar_t, T>) {
    // Blocks in L1 let a kernel that reads its input twice (mask bits, then
    // values) read memory once.
    std::array<const scalar_t*, NIn> i;
    std::array<scalar_t*, NOut> o;
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
}

template <typename scalar_t, size_t NIn, size_t NOut, typename Block>
void stage_blocks_in_opmath(std::array<const scalar_t*, NIn> in, std::array<scalar_t*, NOut> out,
                            int64_t begin, int64_t end, const Block& block) {
  stage_blocks<scalar_t, NIn, NOut, false>(in, out, begin, end, block);
}

// Whether a loop over n elements should write its outputs with streaming
// (non-temporal) stores: only when what it touches cannot stay in the
// last-level cache anyway, where skipping the read-for-ownership of every
// output line saves a third of the memory traffic; only for outputs aligned
// to a full vector (fresh tensors are 64-byte aligned) whose pages are
// already mapped (see pages_resident). Half and bfloat16 keep plain stores.
template <typename scalar_t, size_t NIn, size_t NOut>
bool use_streaming_stores(const std::array<scalar_t*, NOut>& out, int64_t n) {
  if constexpr (!std::is_same_v<scalar_t, opmath_t<scalar_t>>) {
    return false;
  } else {
    if (n * static_cast<int64_t>(sizeof(scalar_t) * (NIn + NOut)) < streaming_threshold_bytes()) return false;
    for (auto* p : out) {
      if (reinterpret_cast<uintptr_t>(p) % 64 != 0) return false;
      if (!pages_resident(p, n * static_cast<int64_t>(sizeof(scalar_t)))) return false;
    }
    return true;
  }
}

// Calls block(begin, length, inputs, outputs, stream) over [0, n) in
// parallel, begin always a multiple of 64 (whole mask words per thread);
// `stream` says whether to write outputs with store(..., stream).
template <typename scalar_t, size_t NIn, size_t NOut, typename Block>
void for_each_block(std::array<const scalar_t*, NIn> in, std::array<scalar_t*, NOut> out,
                    int64_t n, const Block& block) {
  const bool stream = use_streaming_stores<scalar_t, NIn, NOut>(out, n);
  const int64_t words = (n + 63) / 64;
  at::parallel_for(0, words, kGrainSize / 64, [&](int64_t word_begin, int64_t word_end) {
    stage_blocks<scalar_t, NIn, NOut>(in, out, word_begin * 64, std::min(n, word_end * 64),
                                      [&](int64_t b, int64_t len, auto i, auto o) {
                                        block(b, len, i, o, stream);
                                      });
    if (stream) store_fence();
  });
}

// The functors below are taken by value: a local copy of an activation's
// parameters cannot alias the output, which lets the compiler vectorize.

// In the loops below S is the memory type and T = opmath_t<S> the compute
// type; f takes T or Vectorized<T>.

// out[i] = f(a[i]). out may alias a.
template <typename S, typename F>
inline void map(const S* a, S* out, int64_t len, bool stream, F f) {
  using io = Io<S>;
  using T = typename io::T;
  constexpr int64_t L = io::V::size();
  int64_t i = 0;
  if constexpr (kExplicitVectors) {
    // Two independent vectors per step hide the latency of long math
    // (exp, tanh), as ATen's vectorized loops do.
    for (; i + 2 * L <= len; i += 2 * L) {
      const auto r0 = f(io::load(a + i)), r1 = f(io::load(a + i + L));
      io::put(r0, out + i, stream);
      io::put(r1, out + i + L, stream);
    }
    for (; i + L <= len; i += L) io::put(f(io::load(a + i)), out + i, stream);
    if (i < len) io::put_first(f(io::load_first(a + i, len - i)), out + i, len - i);
    return;
  }
  for (; i < len; ++i) out[i] = static_cast<S>(f(static_cast<T>(a[i])));
}

// out[i] = f(a[i], b[i]); a and out share a memory type, b may be T.
template <typename S, typename B, typename F>
inline void map2(const S* a, const B* b, S* out, int64_t len, bool stream, F f) {
  using io = Io<S>;
  using T = typename io::T;
  constexpr int64_t L = io::V::size();
  int64_t i = 0;
  if constexpr (kExplicitVectors) {
    for (; i + 2 * L <= len; i += 2 * L) {
      const auto r0 = f(io::load(a + i), Io<B>::load(b + i));
      const auto r1 = f(io::load(a + i + L), Io<B>::load(b + i + L));
      io::put(r0, out + i, stream);
      io::put(r1, out + i + L, stream);
    }
    for (; i + L <= len; i += L) io::put(f(io::load(a + i), Io<B>::load(b + i)), out + i, stream);
    if (i < len) io::put_first(f(io::load_first(a + i, len - i), Io<B>::load_first(b + i, len - i)), out + i, len - i);
    return;
  }
  for (; i < len; ++i) out[i] = static_cast<S>(f(static_cast<T>(a[i]), static_cast<T>(b[i])));
}

// (out[0][i], out[1][i]) = f(in[0][i], in[1][i], in[2][i]): f returns a
// std::pair (of T or of Vectorized<T>). Tails as map's.
template <typename S, typename F>
inline void map3_to2(std::array<const S*, 3> in, std::array<S*, 2> out, int64_t len, bool stream, F f) {
  using io = Io<S>;
  using T = typename io::T;
  constexpr int64_t L = io::V::size();
  int64_t i = 0;
  if constexpr (kExplicitVectors) {
    for (; i + L <= len; i += L) {
      const auto [r0, r1] = f(io::load(in[0] + i), io::load(in[1] + i), io::load(in[2] + i));
      io::put(r0, out[0] + i, stream);
      io::put(r1, out[1] + i, stream);
    }
    if (i < len) {
      const int64_t m = len - i;
      const auto [r0, r1] = f(io::load_first(in[0] + i, m), io::load_first(in[1] + i, m), io::load_first(in[2] + i, m));
      io::put_first(r0, out[0] + i, m);
      io::put_first(r1, out[1] + i, m);
    }
    return;
  }
  for (; i < len; ++i) {
    const auto [r0, r1] = f(static_cast<T>(in[0][i]), static_cast<T>(in[1][i]), static_cast<T>(in[2][i]));
    out[0][i] = static_cast<S>(r0);
    out[1][i] = static_cast<S>(r1);
  }
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

// Mask bits from and to lanes (math::lanes_to_bits / bits_to_lanes), in the
// AVX2 and AVX-512 builds, for float compute types.
constexpr bool kVectorBits = TORCH_ACT_FAST_FLOAT_MATH;

// f(v), or f(v, factor[i]) where the loop has a stream of per-element
// factors in the compute type T (RReLU's slopes); Factors is std::nullptr_t
// where it has none.
template <typename T, typename Factors, typename F, typename V, typename... Rest>
C10_ALWAYS_INLINE auto apply(const F& f, Factors factors, int64_t i, V v, Rest... rest) {
  if constexpr (std::is_same_v<Factors, std::nullptr_t>) {
    return f(v, rest...);
  } else if constexpr (std::is_same_v<V, T>) {
    return f(v, rest..., factors[i]);
  } else {
    return f(v, rest..., Io<T>::load(factors + i));
  }
}
template <typename T, typename Factors, typename F, typename V, typename... Rest>
C10_ALWAYS_INLINE auto apply_first(const F& f, Factors factors, int64_t i, int64_t m, V v, Rest... rest) {
  if constexpr (std::is_same_v<Factors, std::nullptr_t>) {
    return f(v, rest...);
  } else {
    return f(v, rest..., Io<T>::load_first(factors + i, m));
  }
}

// Packs pred(x[i]) into bit i % 64 of words[i / 64] and writes
// out[i] = f(x[i]) (or f(x[i], factors[i])) in the same pass (out may alias
// x: each value is read before it is overwritten). The last word's unused
// bits are zero so a mask's bytes are fully determined. pred takes T (gives
// bool) or Vectorized<T> (gives the lanes where the bit is set). Where the
// compute type is float the tail goes through the vectors too (batch
// invariance, see Io::load_first); double runs every element through the
// scalar forms.
template <typename S, typename Pred, typename F, typename Factors = std::nullptr_t>
inline void map_pack_bits(const S* x, S* out, int64_t len, uint64_t* words, bool stream, Pred pred,
                          F f, Factors factors = nullptr) {
  using io = Io<S>;
  using T = typename io::T;
  if constexpr (kVectorBits && std::is_same_v<T, float>) {
    constexpr int64_t L = io::V::size();
    for (int64_t w = 0; w * 64 < len; ++w) {
      const int64_t base = w * 64;
      uint64_t word = 0;
      if (base + 64 <= len) {
        for (int64_t j = 0; j < 64; j += L) {
          const auto v = io::load(x + base + j);
          word |= math::lanes_to_bits(pred(v)) << j;
          io::put(apply<T>(f, factors, base + j, v), out + base + j, stream);
        }
      } else {
        for (int64_t j = 0; base + j < len; j += L) {
          const int64_t m = std::min<int64_t>(L, len - base - j);
          const auto v = io::load_first(x + base + j, m);
          word |= (math::lanes_to_bits(pred(v)) & ((uint64_t{1} << m) - 1)) << j;
          io::put_first(apply_first<T>(f, factors, base + j, m, v), out + base + j, m);
        }
      }
      words[w] = word;
    }
    return;
  }
  alignas(64) uint8_t flags[64];
  for (int64_t w = 0; w * 64 < len; ++w) {
    const int64_t base = w * 64;
    const int64_t m = std::min<int64_t>(64, len - base);
    if (m < 64) std::memset(flags, 0, sizeof(flags));
    for (int64_t k = 0; k < m; ++k) flags[k] = pred(static_cast<T>(x[base + k])) ? 1 : 0;
    words[w] = pack_flag_bytes(flags);
    for (int64_t k = 0; k < m; ++k) {
      out[base + k] = static_cast<S>(apply<T>(f, factors, base + k, static_cast<T>(x[base + k])));
    }
  }
}

// out[i] = f(g[i], bit i of words) (or f(g[i], bit, factors[i])); f takes
// (T, bool) or (Vectorized<T>, the lanes where the bit is set). Tails as
// map_pack_bits'.
template <typename S, typename F, typename Factors = std::nullptr_t>
inline void map_with_bits(const S* g, const uint64_t* words, S* out, int64_t len, bool stream, F f,
                          Factors factors = nullptr) {
  using io = Io<S>;
  using T = typename io::T;
  if constexpr (kVectorBits && std::is_same_v<T, float>) {
    constexpr int64_t L = io::V::size();
    int64_t w = 0;
    for (; (w + 1) * 64 <= len; ++w) {
      const int64_t base = w * 64;
      const uint64_t word = words[w];
      for (int64_t j = 0; j < 64; j += L) {
        io::put(apply<T>(f, factors, base + j, io::load(g + base + j), math::bits_to_lanes(word >> j)),
                out + base + j, stream);
      }
    }
    for (int64_t j = 0; w * 64 + j < len; j += L) {
      const int64_t base = w * 64, m = std::min<int64_t>(L, len - base - j);
      io::put_first(apply_first<T>(f, factors, base + j, m, io::load_first(g + base + j, m),
                                   math::bits_to_lanes(words[w] >> j)),
                    out + base + j, m);
    }
    return;
  }
  alignas(64) uint8_t flags[64];
  for (int64_t w = 0; w * 64 < len; ++w) {
    const int64_t base = w * 64;
    const int64_t m = std::min<int64_t>(64, len - base);
    unpack_flag_bytes(words[w], flags);
    for (int64_t k = 0; k < m; ++k) {
      out[base + k] = static_cast<S>(apply<T>(f, factors, base + k, static_cast<T>(g[base + k]), flags[k] != 0));
    }
  }
}

}  // namespace CPU_CAPABILITY
}  // namespace torch_act::cpu
