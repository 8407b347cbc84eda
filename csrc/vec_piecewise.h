// The vector forms of the piecewise-linear activations (ReLU, ReLU6, LeakyReLU,
// ELU's sides, the mask family's lanes): a comparison into a mask register
// and one masked instruction on AVX-512, where Vectorized<T>'s compare and
// blend convert mask -> vector -> mask. Exact, so equal to torch's bit for
// bit; Vectorized<T>'s forms for other types and builds.
#pragma once

#include "vec_isa.h"

#include <type_traits>

namespace torch_act::math {
inline namespace CPU_CAPABILITY {

// a where x <= 0, b elsewhere (NaN included): ELU's sides, one comparison
// into a mask register on AVX-512.
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> select_nonpositive(at::vec::Vectorized<T> x, at::vec::Vectorized<T> a,
                                                           at::vec::Vectorized<T> b) {
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<T, float>) return select(lanes_ge(VF(0.f), x), a, b);
#endif
  return at::vec::Vectorized<T>::blendv(b, a, x <= at::vec::Vectorized<T>(T(0)));
}

// torch's relu, x < 0 ? 0 : x (NaN and -0 kept): vmaxps returns its second
// operand, x, when either is NaN and when both are zeros.
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> relu(at::vec::Vectorized<T> x) {
  using V = at::vec::Vectorized<T>;
#if defined(CPU_CAPABILITY_AVX512)
  if constexpr (std::is_same_v<T, float>) return _mm512_max_ps(_mm512_setzero_ps(), x);
  if constexpr (std::is_same_v<T, double>) return _mm512_max_pd(_mm512_setzero_pd(), x);
#elif defined(CPU_CAPABILITY_AVX2)
  if constexpr (std::is_same_v<T, float>) return _mm256_max_ps(_mm256_setzero_ps(), x);
  if constexpr (std::is_same_v<T, double>) return _mm256_max_pd(_mm256_setzero_pd(), x);
#endif
  return V::blendv(x, V(T(0)), x < V(T(0)));
}

// torch's relu6, min(max(x, 0), 6) with NaN and -0 kept: vmaxps and vminps
// return their second operand, x, when either is NaN and when both are zeros.
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> relu6(at::vec::Vectorized<T> x) {
  using V = at::vec::Vectorized<T>;
#if defined(CPU_CAPABILITY_AVX512)
  if constexpr (std::is_same_v<T, float>) return _mm512_min_ps(_mm512_set1_ps(6.f), relu(x));
  if constexpr (std::is_same_v<T, double>) return _mm512_min_pd(_mm512_set1_pd(6.0), relu(x));
#elif defined(CPU_CAPABILITY_AVX2)
  if constexpr (std::is_same_v<T, float>) return _mm256_min_ps(_mm256_set1_ps(6.f), relu(x));
  if constexpr (std::is_same_v<T, double>) return _mm256_min_pd(_mm256_set1_pd(6.0), relu(x));
#endif
  const V r = relu(x);
  return V::blendv(r, V(T(6)), r > V(T(6)));
}

// x > 0 ? x : x * slope.
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> leaky(at::vec::Vectorized<T> x, at::vec::Vectorized<T> slope) {
#if defined(CPU_CAPABILITY_AVX512)
  if constexpr (std::is_same_v<T, float>) {
    return _mm512_mask_mul_ps(x, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_NGT_UQ), x, slope);
  }
#endif
  return at::vec::Vectorized<T>::blendv(x * slope, x, x > at::vec::Vectorized<T>(T(0)));
}

// The mask family's lanes: where !(x <= 0) (x > 0 or NaN: ReLU's bit), and
// where x > 0 (LeakyReLU's): a mask register on AVX-512, all-ones vector
// lanes elsewhere.
template <typename T>
C10_ALWAYS_INLINE auto lanes_not_at_most_zero(at::vec::Vectorized<T> x) {
  using V = at::vec::Vectorized<T>;
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<T, float>) {
    return lanes_not_le(x, VF(0.f));
  } else
#endif
  {
    return (x > V(T(0))) | (x != x);
  }
}
// Where !(x <= 0) and !(x >= 6) (0 < x < 6, or NaN: ReLU6's bit, torch's
// hardtanh_backward passes grad there).
template <typename T>
C10_ALWAYS_INLINE auto lanes_inside_relu6(at::vec::Vectorized<T> x) {
  using V = at::vec::Vectorized<T>;
#if defined(CPU_CAPABILITY_AVX512)
  if constexpr (std::is_same_v<T, float>) {
    return _mm512_mask_cmp_ps_mask(lanes_not_le(x, VF(0.f)), x, VF(6.f), _CMP_NGE_UQ);
  } else
#elif defined(CPU_CAPABILITY_AVX2)
  if constexpr (std::is_same_v<T, float>) {
    return bits_and(lanes_not_le(x, VF(0.f)), VF(_mm256_cmp_ps(x, VF(6.f), _CMP_NGE_UQ)));
  } else
#endif
  {
    const V nan = x != x;
    return ((x > V(T(0))) | nan) & ((x < V(T(6))) | nan);
  }
}
template <typename T>
C10_ALWAYS_INLINE auto lanes_above_zero(at::vec::Vectorized<T> x) {
  using V = at::vec::Vectorized<T>;
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<T, float>) {
    return lanes_lt(VF(0.f), x);
  } else
#endif
  {
    return x > V(T(0));
  }
}

// v where `set` (lanes as above), 0 elsewhere; v where set, v * factor elsewhere.
#if TORCH_ACT_FAST_FLOAT_MATH
C10_ALWAYS_INLINE VF keep_where(Lanes set, VF v) {
#if defined(CPU_CAPABILITY_AVX512)
  return _mm512_maskz_mov_ps(set, v);
#else
  return _mm256_and_ps(v, set);
#endif
}
C10_ALWAYS_INLINE VF scale_where_not(Lanes set, VF v, VF factor) {
#if defined(CPU_CAPABILITY_AVX512)
  return _mm512_mask_mul_ps(v, _knot_mask16(set), v, factor);
#else
  return v * VF(_mm256_blendv_ps(factor, _mm256_set1_ps(1.f), set));  // v * 1 is v exactly
#endif
}
#endif
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> keep_where(at::vec::Vectorized<T> set, at::vec::Vectorized<T> v) {
  return v & set;
}
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> scale_where_not(at::vec::Vectorized<T> set, at::vec::Vectorized<T> v,
                                                         at::vec::Vectorized<T> factor) {
  // v * 1 is v exactly: one product either way, as torch's.
  return v * at::vec::Vectorized<T>::blendv(factor, at::vec::Vectorized<T>(T(1)), set);
}

}  // namespace CPU_CAPABILITY
}  // namespace torch_act::math
