// GELU's erf form, x Phi(x), and its derivative Phi(x) + x phi(x), Phi and
// phi the standard normal CDF and density, in float32 for the AVX2/AVX-512
// builds, from polynomials fitted by tools/fit_erf_coefficients.py in x
// itself (rounding x / sqrt 2 would cost up to a unit). With s = |x|:
// - s < 4 (every lane of 99.9% of 16-lane vectors of normal inputs), no exp:
//   Q(s) = Phi(-s) and A(s) = Phi(-s) - s phi(s) straight from a polynomial
//   in s - mid_i, in 8 intervals of width 0.5, each lane's coefficients
//   picked by one permute; then GELU = x Q (x < 0) or x - x Q (x >= 0), and
//   GELU' = A (x < 0) or 1 - A (x >= 0). The tail is Q itself, never
//   1 - (1 - ...): relative accuracy for x < 0, where GELU needs it.
// - a vector with a lane at s >= 4 (or inf) takes, out of line, the tail:
//   Phi(-s) = exp(-s^2/2) R(s), R (Mills' ratio over sqrt(2 pi)) in 8
//   intervals of width 1.35 up to 14.5, where x Phi(-s) underflows to zero;
//   exp(-s^2/2) from s^2 split exactly into h + l (an fma), and 2^k applied
//   last, to x e R, so a result near the bottom of float's range is rounded
//   once. Lanes below 4 keep the near result: each lane's value depends on
//   itself only (batch invariance).
// Forward within 3 ulp (tests/test_vec_math.py). This is also ATen's
// shape of the problem: torch's CPU GELU runs oneDNN's JIT kernel, a
// piecewise polynomial in erf's argument (absolutely, not relatively,
// accurate: it returns 0 for x below about -5).
#pragma once

#include "vec_accurate.h"
#include "vec_math.h"

namespace torch_act::math {
inline namespace CPU_CAPABILITY {

#if TORCH_ACT_FAST_FLOAT_MATH
namespace erf_coefficients {
constexpr float kNearEnd = 4.f, kNearIntervalsPerUnit = 2.f;
constexpr float kTailIntervalsPerUnit = 7.407407e-01f;  // 1 / 1.35
// Past this x Phi(-s) underflows to zero (the last interval's fit ends here).
constexpr float kTailEnd = 14.5f;
alignas(32) constexpr float kNearMid[8] = {2.5e-01f, 7.5e-01f, 1.25e+00f, 1.75e+00f, 2.25e+00f, 2.75e+00f, 3.25e+00f, 3.75e+00f};
alignas(32) constexpr float kQ[8][8] = {
    {4.0129367e-01f, 2.2662735e-01f, 1.0564978e-01f, 4.0059157e-02f, 1.2224473e-02f, 2.9797633e-03f, 5.7702506e-04f, 8.8417284e-05f},
    {-3.8666812e-01f, -3.0113742e-01f, -1.8264909e-01f, -8.627732e-02f, -3.1739652e-02f, -9.093562e-03f, -2.029048e-03f, -3.5259567e-04f},
    {4.83335e-02f, 1.1292652e-01f, 1.1415568e-01f, 7.5492665e-02f, 3.570711e-02f, 1.2503646e-02f, 3.2972018e-03f, 6.611169e-04f},
    {6.0416855e-02f, 2.1957906e-02f, -1.7123329e-02f, -2.965779e-02f, -2.1490386e-02f, -9.9460995e-03f, -3.2338034e-03f, -7.676298e-04f},
    {-1.1830512e-02f, -2.2936797e-02f, -1.3675197e-02f, 3.923472e-04f, 6.1370055e-03f, 4.754209e-03f, 2.0780405e-03f, 6.0946814e-04f},
    {-8.469485e-03f, 1.4787707e-04f, 5.9862696e-03f, 4.30989e-03f, 4.618355e-04f, -1.1222606e-03f, -8.653424e-04f, -3.419766e-04f},
    {1.9013486e-03f, 3.0037495e-03f, 5.838792e-04f, -1.2876849e-03f, -9.874778e-04f, -1.251471e-04f, 1.886528e-04f, 1.3244245e-04f},
    {9.193054e-04f, -3.462734e-04f, -8.012109e-04f, -1.7639669e-04f, 2.610352e-04f, 1.7548024e-04f, 1.2415478e-05f, -2.9819486e-05f},
};
alignas(32) constexpr float kA[8][8] = {
    {3.0462664e-01f, 7.7427825e-04f, -1.2266158e-01f, -1.1092615e-01f, -5.9189744e-02f, -2.2027534e-02f, -6.0173813e-03f, -1.2338165e-03f},
    {-7.4916947e-01f, -4.3288505e-01f, -7.9908974e-02f, 9.166965e-02f, 9.720268e-02f, 5.058294e-02f, 1.7373724e-02f, 4.2531854e-03f},
    {1.9031309e-01f, 3.881849e-01f, 2.7825454e-01f, 7.077444e-02f, -3.7938826e-02f, -4.4544276e-02f, -2.1637896e-02f, -6.6524837e-03f},
    {2.2983517e-01f, 1.9017061e-02f, -1.3686793e-01f, -1.15878925e-01f, -3.0727228e-02f, 1.2509467e-02f, 1.4077851e-02f, 6.0715065e-03f},
    {-6.973627e-02f, -1.1413195e-01f, -3.0961087e-02f, 3.968108e-02f, 3.5883266e-02f, 8.334055e-03f, -3.676067e-03f, -3.3647746e-03f},
    {-4.7902945e-02f, 1.4564053e-02f, 4.0242508e-02f, 1.2112819e-02f, -1.060987e-02f, -8.701484e-03f, -1.4538947e-03f, 9.279894e-04f},
    {1.487675e-02f, 1.923336e-02f, -2.9330063e-03f, -1.1274964e-02f, -2.8344023e-03f, 2.5782327e-03f, 1.6608085e-03f, 1.4500109e-04f},
    {6.733196e-03f, -4.4696564e-03f, -5.81962e-03f, 1.0195598e-03f, 2.6312345e-03f, 3.42062e-04f, -5.597191e-04f, -2.3744412e-04f},
};
alignas(32) constexpr float kTailMid[8] = {6.75e-01f, 2.025e+00f, 3.375e+00f, 4.725e+00f, 6.075e+00f, 7.425e+00f, 8.775e+00f, 1.1975e+01f};
alignas(32) constexpr float kTail[9][8] = {
    {3.1375885e-01f, 1.6654676e-01f, 1.0978967e-01f, 8.107062e-02f, 6.401818e-02f, 5.2803762e-02f, 4.489471e-02f, 3.3086974e-02f},
    {-1.8715495e-01f, -6.168508e-02f, -2.840214e-02f, -1.5883617e-02f, -1.0031834e-02f, -6.874335e-03f, -4.9912087e-03f, -2.725747e-03f},
    {9.3714684e-02f, 2.0817226e-02f, 6.9662244e-03f, 3.0102653e-03f, 1.5373955e-03f, 8.809113e-04f, 5.484292e-04f, 2.2307559e-04f},
    {-4.1301943e-02f, -6.51016e-03f, -1.6303833e-03f, -5.533717e-04f, -2.3071896e-04f, -1.11189525e-04f, -5.9580765e-05f, -1.81395e-05f},
    {1.645897e-02f, 1.9085868e-03f, 3.6592546e-04f, 9.889681e-05f, 3.3944616e-05f, 1.3832292e-05f, 6.402019e-06f, 1.4656371e-06f},
    {-6.0162516e-03f, -5.2831066e-04f, -7.9031044e-05f, -1.7212304e-05f, -4.9004398e-06f, -1.6968299e-06f, -6.805817e-07f, -1.17340825e-07f},
    {2.0622076e-03f, 1.394476e-04f, 1.6500737e-05f, 2.9239764e-06f, 6.9501687e-07f, 2.0539396e-07f, 7.160921e-08f, 9.366176e-09f},
    {-7.262567e-04f, -3.7316353e-05f, -3.4690142e-06f, -4.98529e-07f, -9.877538e-08f, -2.4892932e-08f, -7.540549e-09f, -8.1511675e-10f},
    {2.147392e-04f, 8.936529e-06f, 6.774877e-07f, 8.0767116e-08f, 1.35309985e-08f, 2.9352307e-09f, 7.77422e-10f, 6.4138646e-11f},
};
}  // namespace erf_coefficients

#if defined(CPU_CAPABILITY_AVX512)
using LaneIndex = __m512i;
// Lane i of table[index[i] % 8] (the permute reads the index's low bits).
C10_ALWAYS_INLINE VF lookup8(const float* table, LaneIndex index) {
  return _mm512_permutexvar_ps(index, _mm512_castps256_ps512(_mm256_load_ps(table)));
}
C10_ALWAYS_INLINE LaneIndex truncate(VF v) { return _mm512_cvttps_epi32(v); }
C10_ALWAYS_INLINE LaneIndex at_most_7(LaneIndex i) { return _mm512_min_epi32(i, _mm512_set1_epi32(7)); }
// Where x is -inf, NaN; elsewhere y (one vfixupimmps: -inf's class answers QNaN).
C10_ALWAYS_INLINE VF nan_at_negative_infinity(VF y, VF x) {
  return _mm512_fixupimm_ps(y, x, _mm512_set1_epi32(3 << 16), 0);
}
// Where x is +-inf, NaN; elsewhere y.
C10_ALWAYS_INLINE VF nan_at_infinities(VF y, VF x) {
  return _mm512_fixupimm_ps(y, x, _mm512_set1_epi32(0x33 << 16), 0);
}
C10_ALWAYS_INLINE VF add_where(Lanes m, VF a, VF b, VF c) { return _mm512_mask_add_ps(c, m, a, b); }
#else
using LaneIndex = __m256i;
C10_ALWAYS_INLINE VF lookup8(const float* table, LaneIndex index) {
  return _mm256_permutevar8x32_ps(_mm256_load_ps(table), index);
}
C10_ALWAYS_INLINE LaneIndex truncate(VF v) { return _mm256_cvttps_epi32(v); }
C10_ALWAYS_INLINE LaneIndex at_most_7(LaneIndex i) { return _mm256_min_epi32(i, _mm256_set1_epi32(7)); }
C10_ALWAYS_INLINE VF nan_at_negative_infinity(VF y, VF x) {
  const VF infinity(std::numeric_limits<float>::infinity());
  return _mm256_blendv_ps(y, VF(std::numeric_limits<float>::quiet_NaN()), _mm256_cmp_ps(x, -infinity, _CMP_EQ_OQ));
}
C10_ALWAYS_INLINE VF nan_at_infinities(VF y, VF x) {
  const VF infinity(std::numeric_limits<float>::infinity());
  return _mm256_blendv_ps(y, VF(std::numeric_limits<float>::quiet_NaN()), _mm256_cmp_ps(x.abs(), infinity, _CMP_EQ_OQ));
}
C10_ALWAYS_INLINE VF add_where(Lanes m, VF a, VF b, VF c) { return _mm256_blendv_ps(c, a + b, m); }
#endif

// The polynomial of each lane's interval, table[k][i] the coefficient of
// (s - mids[i])^k.
template <size_t Terms>
C10_ALWAYS_INLINE VF interval_polynomial(const float (&table)[Terms][8], const float* mids, LaneIndex i, VF s) {
  const VF u = s - lookup8(mids, i);
  VF r = lookup8(table[Terms - 1], i);
  for (size_t k = Terms - 1; k-- > 0;) r = at::vec::fmadd(r, u, lookup8(table[k], i));
  return r;
}

// Q(s) or A(s) for s < 4 (other lanes: no meaningful value; NaN stays NaN).
template <size_t Terms>
C10_ALWAYS_INLINE VF near_polynomial(const float (&table)[Terms][8], VF s) {
  namespace c = erf_coefficients;
  return interval_polynomial(table, c::kNearMid, truncate(s * VF(c::kNearIntervalsPerUnit)), s);
}

// --- the tail, for vectors with a lane at s >= 4 ------------------------------------

// For s = min(|x|, kTailEnd): Phi(-s) = 2^k exp(r) R and
// phi(s) = 2^k exp(r) / sqrt(2 pi). signed_s is s with x's sign (finite
// where x is inf).
struct NormalTail {
  Reduced red;
  VF ratio, signed_s;
};
C10_ALWAYS_INLINE NormalTail normal_tail(VF x) {
  namespace c = erf_coefficients;
  const VF s = clamp_above(abs(x), c::kTailEnd);
  const VF h = s * s;
  const VF minus_half_h = h * VF(-0.5f);  // exact
  // Clamped where exp times the tail's factors (below 15) is zero in float: at
  // -104, the plain exp's own bound, GELU'(-inf) would be 3 subnormal units.
  const Reduced red = reduce(clamp_below(minus_half_h, -120.f), at::vec::fmsub(s, s, h) * VF(-0.5f));
  const LaneIndex i = at_most_7(truncate(s * VF(c::kTailIntervalsPerUnit)));
  return {red, interval_polynomial(c::kTail, c::kTailMid, i, s), with_sign_of(s, x)};
}

// 2^k exp(r) p: the lower tail's scaling applied last.
C10_ALWAYS_INLINE VF tail_scaled(const NormalTail& n, VF p) {
  return times_pow2_exact(p * (expm1_reduced(n.red.r) + VF(1.f)), n.red);  // exp(r), the accurate way
}

// GELU and GELU' of every lane by the tail's formulas. Out of line: the rare
// path, and inlined it would crowd the common one's registers.
[[gnu::noinline, gnu::cold]] inline VF gelu_erf_by_tail(VF x) {
  const NormalTail n = normal_tail(x);
  const VF lower = tail_scaled(n, n.signed_s * n.ratio);  // x Phi(-|x|)
  // x >= 0: x - x Phi(-x); x < 0 (and NaN): x Phi(x) itself. -inf: NaN (-inf * 0), as torch's.
  return nan_at_negative_infinity(sub_where(lanes_ge(x, VF(0.f)), x, lower, lower), x);
}
// Phi(x) + x phi(x) = [x >= 0] + 2^k e (x / sqrt(2 pi) -+ R): one scaling for
// both terms. +-inf: NaN (inf * 0), as torch's.
[[gnu::noinline, gnu::cold]] inline VF gelu_erf_derivative_by_tail(VF x) {
  const NormalTail n = normal_tail(x);
  const Lanes nonnegative = lanes_ge(x, VF(0.f));
  const VF xc = n.signed_s * VF(0.3989422804014327f);
  const VF d = tail_scaled(n, select(nonnegative, xc - n.ratio, xc + n.ratio));
  return nan_at_infinities(add_where(nonnegative, d, VF(1.f), d), x);
}

// Lanes at s >= 4 (or +-inf) replaced by `by_tail`'s.
template <typename ByTail>
C10_ALWAYS_INLINE VF with_tail(VF x, VF s, VF near, ByTail by_tail) {
  const Lanes far = lanes_ge(s, VF(erf_coefficients::kNearEnd));
  if (any(far)) [[unlikely]] return select(far, by_tail(x), near);
  return near;
}
#endif  // TORCH_ACT_FAST_FLOAT_MATH

// x Phi(x) from normal_parts (scalar or Vectorized<T>, T double, or float
// outside the fast float build). x = -inf gives NaN (-inf * 0), as torch's;
// +inf gives inf.
template <typename T, typename V>
C10_ALWAYS_INLINE V gelu_erf_from_normal_parts(V x) {
  return with_normal_lower_tail<T>(
      x, [](V v) { return v * normal_parts<T>(v).cdf; },
      [](V v) {
        const LowerTailParts<V> t = lower_tail_parts<T>(v);
        return (t.pdf_scaled * t.series) * V(-Deep<T>::undo);  // x Phi(x) = -phi(x) S(y)
      });
}

// x Phi(x) for vectors.
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> gelu_erf(at::vec::Vectorized<T> x) {
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<T, float>) {
    const VF s = abs(x);
    const VF lower = x * near_polynomial(erf_coefficients::kQ, s);  // x Phi(-|x|)
    return with_tail(x, s, sub_where(lanes_ge(x, VF(0.f)), x, lower, lower), gelu_erf_by_tail);
  }
#endif
  return gelu_erf_from_normal_parts<T>(x);
}

// Phi(x) + x phi(x) (scalar or Vectorized<T>). NaN at +-inf (inf * 0), as torch's.
template <typename T, typename V>
C10_ALWAYS_INLINE V gelu_erf_derivative(V x) {
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<V, VF>) {
    const VF s = abs(x);
    const VF a = near_polynomial(erf_coefficients::kA, s);
    return with_tail(x, s, sub_where(lanes_ge(x, VF(0.f)), VF(1.f), a, a), gelu_erf_derivative_by_tail);
  }
#endif
  return with_normal_lower_tail<T>(
      x,
      [](V v) {
        const NormalParts<V> p = normal_parts<T>(v);
        return multiply_add(v, p.pdf, p.cdf);
      },
      [](V v) {  // Phi + x phi = x phi(x) (1 - y S(y))
        const LowerTailParts<V> t = lower_tail_parts<T>(v);
        return (v * t.pdf_scaled) * multiply_add(V(T(0)) - t.y, t.series, V(T(1))) * V(Deep<T>::undo);
      });
}

}  // namespace CPU_CAPABILITY
}  // namespace torch_act::math
