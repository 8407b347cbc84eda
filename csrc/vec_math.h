// Vector math that ATen's Vectorized<T> does not do fast enough.
//
// Vectorized<float>'s exp, expm1 and tanh are Sleef's 1-ulp functions in
// double-float arithmetic, which make the forwards of ELU, Sigmoid and Tanh
// compute-bound. The float versions here share one core: x = k ln2 + r with
// |r| <= ln2 / 2 (two-constant Cody-Waite), expm1(r) from its Taylor series
// to degree 7 (truncation below 0.3 ulp), and 2^k put in the exponent bits.
// They stay within 2.5 ulp of the exact values (tests/test_vec_math.py
// sweeps float32 against float64) and run 2-3x faster. AVX2/AVX-512 builds
// only; other types and builds use ATen's.
#pragma once

#include <ATen/cpu/vec/vec.h>

#include <limits>
#include <type_traits>

#ifndef CPU_CAPABILITY
#define CPU_CAPABILITY DEFAULT
#endif

namespace torch_act::math {
inline namespace CPU_CAPABILITY {

#if defined(CPU_CAPABILITY_AVX2) || defined(CPU_CAPABILITY_AVX512)

// 2^k for integral k in [-126, 127].
inline at::vec::Vectorized<float> pow2(at::vec::Vectorized<float> k) {
#if defined(CPU_CAPABILITY_AVX512)
  return _mm512_castsi512_ps(
      _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(k), _mm512_set1_epi32(127)), 23));
#else
  return _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23));
#endif
}

// x = k ln2 + r: returns k (integral) and sets em1_r = expm1(r).
inline at::vec::Vectorized<float> reduce_expm1(at::vec::Vectorized<float> x,
                                               at::vec::Vectorized<float>& em1_r) {
  using V = at::vec::Vectorized<float>;
  using at::vec::fmadd;
  const V k = (x * V(1.44269504088896341f)).round();
  V r = fmadd(k, V(-0.693145751953125f), x);  // k * ln2_hi is exact for |k| < 2^9
  r = fmadd(k, V(-1.428606765330187e-06f), r);
  V q = V(1.f / 5040);
  q = fmadd(q, r, V(1.f / 720));
  q = fmadd(q, r, V(1.f / 120));
  q = fmadd(q, r, V(1.f / 24));
  q = fmadd(q, r, V(1.f / 6));
  q = fmadd(q, r, V(0.5f));
  em1_r = fmadd(r * r, q, r);
  return k;
}
#endif

// expm1(x) for x <= 0 (ELU's negative side; other lanes are not used).
template <typename T>
at::vec::Vectorized<T> expm1_nonpositive(at::vec::Vectorized<T> x) {
#if defined(CPU_CAPABILITY_AVX2) || defined(CPU_CAPABILITY_AVX512)
  if constexpr (std::is_same_v<T, float>) {
    using V = at::vec::Vectorized<float>;
    // Below -17.4 expm1 rounds to -1; clamping keeps 2^k a normal float.
    V em1_r;
    const V two_k = pow2(reduce_expm1(at::vec::maximum(x, V(-30.f)), em1_r));
    const V result = at::vec::fmadd(two_k, em1_r, two_k - V(1.f));
    // expm1(-0) is -0 (r + r^2 q gives +0); NaN stays NaN.
    return V::blendv(result, x, (x == V(0.f)) | (x != x));
  }
#endif
  return x.expm1();
}

// 1 / (1 + exp(-x)), as torch computes it (exp(-x) overflowing to inf gives 0).
template <typename T>
at::vec::Vectorized<T> sigmoid(at::vec::Vectorized<T> x) {
  using V = at::vec::Vectorized<T>;
#if defined(CPU_CAPABILITY_AVX2) || defined(CPU_CAPABILITY_AVX512)
  if constexpr (std::is_same_v<T, float>) {
    // exp(-x) for -x in [-80, ln(FLT_MAX)]: below, 1 + exp(-x) is 1 anyway;
    // above, it overflows to inf. 2^k = 2^(k-1) * 2 keeps k = 128 in range.
    const V e = x.neg();
    V em1_r;
    const V k = reduce_expm1(at::vec::minimum(at::vec::maximum(e, V(-80.f)), V(88.7228f)), em1_r);
    V exp_e = (pow2(k - V(1.f)) * (em1_r + V(1.f))) * V(2.f);
    exp_e = V::blendv(exp_e, V(std::numeric_limits<float>::infinity()), e > V(88.72283935546875f));
    const V result = (V(1.f) + exp_e).reciprocal();
    return V::blendv(result, x, x != x);
  }
#endif
  return (V(T(1)) + x.neg().exp()).reciprocal();
}

// tanh(x) = sign(x) * -t / (t + 2) with t = expm1(-2|x|): no cancellation
// near 0, and t -> -1 gives exactly 1 for large |x|.
template <typename T>
at::vec::Vectorized<T> tanh(at::vec::Vectorized<T> x) {
#if defined(CPU_CAPABILITY_AVX2) || defined(CPU_CAPABILITY_AVX512)
  if constexpr (std::is_same_v<T, float>) {
    using V = at::vec::Vectorized<float>;
    const V sign_bit(-0.f);
    const V t = expm1_nonpositive(x.abs() * V(-2.f));
    const V magnitude = t.neg() / (t + V(2.f));
    return V::blendv(magnitude | (x & sign_bit), x, x != x);
  }
#endif
  return x.tanh();
}

}  // namespace CPU_CAPABILITY
}  // namespace torch_act::math
