// The vector forms of the piecewise-linear activations (ReLU, the clamps,
// LeakyReLU, ELU's sides, the mask family's lanes): a comparison into a mask register
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

// torch's clamp (hardtanh, relu6): r = x < lo ? lo : x, then r > hi ? hi : r,
// NaN and -0 kept (vmaxps and vminps return their second operand, x, when
// either is NaN and when both are zeros); every lane hi where lo > hi.
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> clamp_between(at::vec::Vectorized<T> x, T lo, T hi) {
  using V = at::vec::Vectorized<T>;
#if defined(CPU_CAPABILITY_AVX512)
  if constexpr (std::is_same_v<T, float>) return _mm512_min_ps(_mm512_set1_ps(hi), _mm512_max_ps(_mm512_set1_ps(lo), x));
  if constexpr (std::is_same_v<T, double>) return _mm512_min_pd(_mm512_set1_pd(hi), _mm512_max_pd(_mm512_set1_pd(lo), x));
#elif defined(CPU_CAPABILITY_AVX2)
  if constexpr (std::is_same_v<T, float>) return _mm256_min_ps(_mm256_set1_ps(hi), _mm256_max_ps(_mm256_set1_ps(lo), x));
  if constexpr (std::is_same_v<T, double>) return _mm256_min_pd(_mm256_set1_pd(hi), _mm256_max_pd(_mm256_set1_pd(lo), x));
#endif
  const V r = V::blendv(x, V(lo), x < V(lo));
  return V::blendv(r, V(hi), r > V(hi));
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

// The mask family's lanes: where !(x <= bound) (x > bound or NaN: ReLU's bit
// at 0, Threshold's), and where x > 0 (LeakyReLU's): a mask register on
// AVX-512, all-ones vector lanes elsewhere.
template <typename T>
C10_ALWAYS_INLINE auto lanes_not_at_most(at::vec::Vectorized<T> x, T bound) {
  using V = at::vec::Vectorized<T>;
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<T, float>) {
    return lanes_not_le(x, VF(bound));
  } else
#endif
  {
    return (x > V(bound)) | (x != x);
  }
}

// x <= bound ? value : x (torch's threshold; NaN kept).
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> replace_at_most(at::vec::Vectorized<T> x, T bound, T value) {
  using V = at::vec::Vectorized<T>;
#if defined(CPU_CAPABILITY_AVX512)
  if constexpr (std::is_same_v<T, float>) {
    return _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(x, VF(bound), _CMP_LE_OQ), VF(value));
  }
#endif
  return V::blendv(x, V(value), x <= V(bound));
}

// Two comparisons of x in one set of lanes, for the bits of the mask family's
// intervals: `inside` is !(x <= lo || x >= hi) (lo < x < hi, or NaN: the
// bit of hardtanh_backward, which passes grad at NaN),
// `outside` is !(x >= lo && x <= hi) (x outside [lo, hi], or NaN: the
// shrinks'), `strictly_inside` is lo < x < hi without NaN (hardsigmoid's).
enum class Interval { inside, outside, strictly_inside };
template <Interval kind, typename T>
C10_ALWAYS_INLINE auto lanes_of(at::vec::Vectorized<T> x, T lo, T hi) {
  using V = at::vec::Vectorized<T>;
#if defined(CPU_CAPABILITY_AVX512)
  if constexpr (std::is_same_v<T, float>) {
    if constexpr (kind == Interval::inside) {
      return _mm512_mask_cmp_ps_mask(lanes_not_le(x, VF(lo)), x, VF(hi), _CMP_NGE_UQ);
    } else if constexpr (kind == Interval::outside) {
      return static_cast<Lanes>(_mm512_cmp_ps_mask(x, VF(lo), _CMP_NGE_UQ) | lanes_not_le(x, VF(hi)));
    } else {
      return _mm512_mask_cmp_ps_mask(lanes_lt(VF(lo), x), x, VF(hi), _CMP_LT_OQ);
    }
  } else
#elif defined(CPU_CAPABILITY_AVX2)
  if constexpr (std::is_same_v<T, float>) {
    if constexpr (kind == Interval::inside) {
      return bits_and(lanes_not_le(x, VF(lo)), VF(_mm256_cmp_ps(x, VF(hi), _CMP_NGE_UQ)));
    } else if constexpr (kind == Interval::outside) {
      return bits_or(VF(_mm256_cmp_ps(x, VF(lo), _CMP_NGE_UQ)), lanes_not_le(x, VF(hi)));
    } else {
      return bits_and(lanes_lt(VF(lo), x), lanes_lt(x, VF(hi)));
    }
  } else
#endif
  {
    const V nan = x != x;
    if constexpr (kind == Interval::inside) return ((x > V(lo)) | nan) & ((x < V(hi)) | nan);
    if constexpr (kind == Interval::outside) return (x < V(lo)) | (x > V(hi)) | nan;
    if constexpr (kind == Interval::strictly_inside) return (x > V(lo)) & (x < V(hi));
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
