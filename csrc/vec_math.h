// Vector math that ATen's Vectorized<T> does not do fast enough, or not
// accurately enough. Everything is forced inline: an out-of-line sigmoid
// (GCC's choice for a function several kernels share) costs a call and the
// overlap of the loops' two independent vectors per step.
//
// Vectorized<float>'s exp, expm1 and tanh are Sleef's 1-ulp functions in
// double-float arithmetic, which make the forwards of ELU, Sigmoid and Tanh
// compute-bound; its erf is a 5-term formula with an absolute error of
// 1.5e-7 (no relative accuracy near 0, and none at all in 1 + erf(x) for
// negative x, where GELU needs it). The float versions here share one core: x = k ln2 + r with
// |r| <= ln2 / 2 (two-constant Cody-Waite), expm1(r) from its Taylor series
// to degree 7 (truncation below 0.3 ulp), and 2^k put in the exponent bits.
// They stay within 2.5 ulp of the exact values (tests/test_vec_math.py
// sweeps float32 against float64) and run 2-3x faster. AVX2/AVX-512 builds
// only; other types and builds use ATen's.
#pragma once

#include <ATen/cpu/vec/vec.h>
#include <c10/macros/Macros.h>

#include <limits>
#include <type_traits>

#ifndef CPU_CAPABILITY
#define CPU_CAPABILITY DEFAULT
#endif

namespace torch_act::math {
inline namespace CPU_CAPABILITY {

#if defined(CPU_CAPABILITY_AVX2) || defined(CPU_CAPABILITY_AVX512)

// 2^k for integral k in [-126, 127].
C10_ALWAYS_INLINE at::vec::Vectorized<float> pow2(at::vec::Vectorized<float> k) {
#if defined(CPU_CAPABILITY_AVX512)
  return _mm512_castsi512_ps(
      _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(k), _mm512_set1_epi32(127)), 23));
#else
  return _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23));
#endif
}

// x + lo = k ln2 + r: returns k (integral) and sets em1_r = expm1(r). `lo`, a
// correction far below x's ulp, joins the small remainder r, where it counts.
C10_ALWAYS_INLINE at::vec::Vectorized<float> reduce_expm1(at::vec::Vectorized<float> x, at::vec::Vectorized<float>& em1_r,
                                               at::vec::Vectorized<float> lo = at::vec::Vectorized<float>(0.f)) {
  using V = at::vec::Vectorized<float>;
  using at::vec::fmadd;
  const V k = (x * V(1.44269504088896341f)).round();
  V r = fmadd(k, V(-0.693145751953125f), x);  // k * ln2_hi is exact for |k| < 2^9
  r = fmadd(k, V(-1.428606765330187e-06f), r) + lo;
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

#if defined(CPU_CAPABILITY_AVX2) || defined(CPU_CAPABILITY_AVX512)

// The normal distribution's CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2 (GELU's
// erf) from float32 polynomials fitted by tools/fit_erf_coefficients.py, in
// x itself (rounding x / sqrt 2 would cost up to a unit):
//   Phi(-s) = exp(-s^2/2) R_i(s - mid_i), s = |x|, in 8 intervals of width 1.35,
//   the coefficients of each lane's interval picked by one permute each;
//   Phi(s) = 1 - Phi(-s). A vector whose lanes all have s < 3 (98% of vectors
//   of normally distributed inputs) uses one 14-term polynomial for that range
//   instead: no lookups, a third fewer instructions.
// exp(-x^2 / 2) is computed from x^2 split exactly into h + l (an fma), so
// the lower tail keeps its relative accuracy where exp(-x^2/2) is tiny; and
// Phi(x) for x < 0 is the tail itself, never 1 - (1 - ...), so x Phi(x) (GELU)
// has no cancellation. Within 3 ulp (tests/test_vec_math.py sweeps GELU).
namespace erf_coefficients {
constexpr float kCdfCentralMid = 1.5e+00f;
constexpr float kCdfCentral[] = {2.0578067e-01f, -9.027128e-02f, 3.5186864e-02f, -1.2496996e-02f, 4.1104066e-03f, -1.2662781e-03f, 3.6832233e-04f, -1.0194803e-04f, 2.71544e-05f, -6.8455747e-06f, 1.535813e-06f, -3.7778676e-07f, 1.3105226e-07f, -2.6839373e-08f};
constexpr float kCdfIntervalsPerUnit = 7.407407e-01f;
alignas(32) constexpr float kCdfMid[8] = {6.75e-01f, 2.025e+00f, 3.375e+00f, 4.725e+00f, 6.075e+00f, 7.425e+00f, 8.775e+00f, 1.1475e+01f};
alignas(32) constexpr float kCdfTail[9][8] = {
    {3.1375885e-01f, 1.6654676e-01f, 1.0978967e-01f, 8.107062e-02f, 6.401818e-02f, 5.2803762e-02f, 4.489471e-02f, 3.450798e-02f},
    {-1.8715495e-01f, -6.168508e-02f, -2.840214e-02f, -1.5883617e-02f, -1.0031834e-02f, -6.874335e-03f, -4.9912087e-03f, -2.9631983e-03f},
    {9.3714684e-02f, 2.0817226e-02f, 6.9662244e-03f, 3.0102653e-03f, 1.5373955e-03f, 8.809113e-04f, 5.484292e-04f, 2.5263877e-04f},
    {-4.1301943e-02f, -6.51016e-03f, -1.6303833e-03f, -5.533717e-04f, -2.3071896e-04f, -1.11189525e-04f, -5.9580765e-05f, -2.1389737e-05f},
    {1.645897e-02f, 1.9085868e-03f, 3.6592546e-04f, 9.889681e-05f, 3.3944616e-05f, 1.3832292e-05f, 6.402019e-06f, 1.7985711e-06f},
    {-6.0162516e-03f, -5.2831066e-04f, -7.9031044e-05f, -1.7212304e-05f, -4.9004398e-06f, -1.6968299e-06f, -6.805817e-07f, -1.5001444e-07f},
    {2.0622076e-03f, 1.394476e-04f, 1.6500739e-05f, 2.9239764e-06f, 6.950168e-07f, 2.0539387e-07f, 7.160916e-08f, 1.2448262e-08f},
    {-7.262567e-04f, -3.7316353e-05f, -3.4690142e-06f, -4.9852906e-07f, -9.877539e-08f, -2.489298e-08f, -7.540572e-09f, -1.0933592e-09f},
    {2.147392e-04f, 8.9365285e-06f, 6.774873e-07f, 8.0767215e-08f, 1.3531029e-08f, 2.9353446e-09f, 7.774866e-10f, 8.941752e-11f},
};
}  // namespace erf_coefficients

#if defined(CPU_CAPABILITY_AVX512)
using LaneIndex = __m512i;
// Whether no lane of a comparison's result is set.
C10_ALWAYS_INLINE bool none_set(at::vec::Vectorized<float> lanes) {
  return _mm512_movepi32_mask(_mm512_castps_si512(lanes)) == 0;
}
// Lane i of table[index[i]], index in [0, 8).
C10_ALWAYS_INLINE at::vec::Vectorized<float> lookup8(const float* table, LaneIndex index) {
  return _mm512_permutexvar_ps(index, _mm512_castps256_ps512(_mm256_load_ps(table)));
}
// The interval of s >= 0: floor(s / 1.35), at most 7.
C10_ALWAYS_INLINE LaneIndex tail_interval(at::vec::Vectorized<float> s) {
  const __m512i i = _mm512_cvttps_epi32(s * at::vec::Vectorized<float>(erf_coefficients::kCdfIntervalsPerUnit));
  return _mm512_min_epi32(i, _mm512_set1_epi32(7));
}
#else
using LaneIndex = __m256i;
C10_ALWAYS_INLINE bool none_set(at::vec::Vectorized<float> lanes) { return _mm256_movemask_ps(lanes) == 0; }
C10_ALWAYS_INLINE at::vec::Vectorized<float> lookup8(const float* table, LaneIndex index) {
  return _mm256_permutevar8x32_ps(_mm256_load_ps(table), index);
}
C10_ALWAYS_INLINE LaneIndex tail_interval(at::vec::Vectorized<float> s) {
  const __m256i i = _mm256_cvttps_epi32(s * at::vec::Vectorized<float>(erf_coefficients::kCdfIntervalsPerUnit));
  return _mm256_min_epi32(i, _mm256_set1_epi32(7));
}
#endif

// R_i(s - mid_i), each lane's coefficients looked up. Out of line: it is the
// rare path, and inlined it would crowd the common one's registers.
[[gnu::noinline, gnu::cold]] inline at::vec::Vectorized<float> tail_ratio_by_interval(at::vec::Vectorized<float> s) {
  using V = at::vec::Vectorized<float>;
  namespace c = erf_coefficients;
  const LaneIndex i = tail_interval(s);
  const V u = s - lookup8(c::kCdfMid, i);
  V r = lookup8(c::kCdfTail[8], i);
  for (int k = 7; k >= 0; --k) r = at::vec::fmadd(r, u, lookup8(c::kCdfTail[k], i));
  return r;
}

// scale * Phi(x), and phi(x) where `pdf` is given. exp(-x^2/2) = 2^k (1 + m)
// from x^2 = h + l split exactly (l joins the reduced argument); scale * 2^k
// is taken first, so a tiny Phi never passes through a subnormal (x Phi(x)
// stays normal down to x = -13), and R (1 + m) is one fma.
C10_ALWAYS_INLINE at::vec::Vectorized<float> scaled_normal_cdf(at::vec::Vectorized<float> x, at::vec::Vectorized<float> scale,
                                                    at::vec::Vectorized<float>* pdf) {
  using V = at::vec::Vectorized<float>;
  using at::vec::fmadd;
  namespace c = erf_coefficients;
  // exp(-x^2 / 2) = 2^k (1 + m), 0 below float's normal range.
  const V h = x * x;
  const V v = h * V(-0.5f);  // exact
  V m;
  const V two_k = pow2(reduce_expm1(at::vec::maximum(v, V(-87.33f)), m, at::vec::fmsub(x, x, h) * V(-0.5f)));
  const V underflow = v < V(-87.33f);
  if (pdf != nullptr) *pdf = V::blendv(fmadd(two_k, m, two_k) * V(0.3989422804014327f), V(0.f), underflow);
  // R_i(s - mid_i). Past 13.5 exp underflows: the clamp only keeps the
  // polynomial finite (NaN stays NaN).
  const V s = at::vec::minimum(x.abs(), V(13.5f));
  V r;
  if (none_set(s >= V(3.f))) [[likely]] {
    const V u = s - V(c::kCdfCentralMid);
    r = V(c::kCdfCentral[13]);
    for (int k = 12; k >= 0; --k) r = fmadd(r, u, V(c::kCdfCentral[k]));
  } else {
    r = tail_ratio_by_interval(s);
  }
  // scale * Phi(-|x|), 0 where it underflows; for x < 0 then scale * 0, so that
  // -inf gives -inf * 0 = NaN, as torch's x * Phi(x) does.
  const V lower = V::blendv((scale * two_k) * fmadd(r, m, r), V(0.f), underflow);
  return V::blendv(scale - lower, V::blendv(lower, scale * V(0.f), underflow), x < V(0.f));
}

#endif

// scale * Phi(x), Phi the standard normal CDF; `pdf`, if given, gets
// phi(x) = exp(-x^2/2) / sqrt(2 pi). Other types and builds: erfc(-x / sqrt 2) / 2
// with ATen's (Sleef's) erfc.
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> normal_cdf(at::vec::Vectorized<T> x, at::vec::Vectorized<T> scale,
                                  at::vec::Vectorized<T>* pdf = nullptr) {
  using V = at::vec::Vectorized<T>;
#if defined(CPU_CAPABILITY_AVX2) || defined(CPU_CAPABILITY_AVX512)
  if constexpr (std::is_same_v<T, float>) return scaled_normal_cdf(x, scale, pdf);
#endif
  if (pdf != nullptr) *pdf = (x * x * V(T(-0.5))).exp() * V(T(0.3989422804014327));
  return scale * V(T(0.5)) * (x * V(T(-0.7071067811865476))).erfc();
}

// expm1(x) for x <= 0 (ELU's negative side; other lanes are not used).
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> expm1_nonpositive(at::vec::Vectorized<T> x) {
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
C10_ALWAYS_INLINE at::vec::Vectorized<T> sigmoid(at::vec::Vectorized<T> x) {
  using V = at::vec::Vectorized<T>;
#if defined(CPU_CAPABILITY_AVX2) || defined(CPU_CAPABILITY_AVX512)
  if constexpr (std::is_same_v<T, float>) {
    // exp(-x) for -x in [-80, 88]: below, 1 + exp(-x) is 1 anyway; above,
    // inf, so the result is 0 where the exact one is below 6e-39 (subnormal).
    // NaN propagates through every step.
    const V e = x.neg();
    V m;
    const V two_k = pow2(reduce_expm1(at::vec::minimum(at::vec::maximum(e, V(-80.f)), V(88.f)), m));
    const V exp_e = V::blendv(at::vec::fmadd(two_k, m, two_k), V(std::numeric_limits<float>::infinity()), e > V(88.f));
    return (V(1.f) + exp_e).reciprocal();
  }
#endif
  return (V(T(1)) + x.neg().exp()).reciprocal();
}

// tanh(x) = sign(x) * -t / (t + 2) with t = expm1(-2|x|): no cancellation
// near 0, and t -> -1 gives exactly 1 for large |x|.
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> tanh(at::vec::Vectorized<T> x) {
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
