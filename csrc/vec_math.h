// Vector math that ATen's Vectorized<T> does not do fast enough, or not
// accurately enough, on every x86 CPU: exp and expm1 for x <= 0, tanh, log1p
// on [0, 1] (sigmoid, from this exp, is in vec_accurate.h). Everything
// is forced inline: an out-of-line sigmoid (GCC's choice for a function
// several kernels share) costs a call and the overlap of the loops' two
// independent vectors per step.
//
// Vectorized<float>'s exp, expm1 and tanh are Sleef's 1-ulp functions (tanh
// goes to MKL's vsTanh where torch has MKL: fast on Intel, slow on AMD). The
// float versions here share one core: a = k ln2 + r with |r| <= ln2 / 2 (k
// rounded by adding a large constant, two-constant Cody-Waite), exp(r) or
// expm1(r) from minimax polynomials (tools/fit_exp_coefficients.py), and 2^k
// applied last, by vscalefps on AVX-512 (exact subnormal results; the AVX2
// build flushes results below 2^-126 to zero: callers whose results reach
// there take exp 2^64 times larger, vec_accurate.h's Deep). Every formula takes
// exp(-|x|) <= 1: no overflow path. tests/test_vec_math.py sweeps them
// against float64. Each function's result depends on its lane's value only
// (batch invariance, tests/test_batch_invariance.py).
//
// AVX2/AVX-512 builds and float only (vec_isa.h); other types and builds use ATen's.
#pragma once

#include "vec_isa.h"

#include <type_traits>

namespace torch_act::math {
inline namespace CPU_CAPABILITY {

#if TORCH_ACT_FAST_FLOAT_MATH
// --- exp's core ---------------------------------------------------------------

// Minimax coefficients from tools/fit_exp_coefficients.py, on
// r in [-ln2 / 2, ln2 / 2]: exp(r) ~ sum kExp[i] r^i (degree 6, within 1.2
// units of 2^-24 relative in float32), expm1(r) ~ r + r^2 sum kExpm1[i] r^i
// (1.4 units, relative: no cancellation near 0). 1 + expm1(r), rounded once,
// is exp within 0.6 units for one instruction more (GELU's tail takes it).
constexpr float kExp[] = {1e+00f, 1e+00f, 4.9999994e-01f, 1.6666432e-01f, 4.1668e-02f, 8.374159e-03f, 1.3843641e-03f};
constexpr float kExpm1[] = {4.9999997e-01f, 1.6666543e-01f, 4.16672e-02f, 8.366516e-03f, 1.3882506e-03f};

template <size_t N>
C10_ALWAYS_INLINE VF horner(const float (&c)[N], VF r) {
  VF p(c[N - 1]);
  for (size_t i = N - 1; i-- > 0;) p = at::vec::fmadd(p, r, VF(c[i]));
  return p;
}

// a = k ln2 + r, |r| <= ln2 / 2. k is round(a / ln2) taken by adding
// 1.5 * 2^23 (t keeps it in its low mantissa bits, for the AVX2 build's 2^k):
// exact for |a| < 2^21; two-constant Cody-Waite (k ln2_hi is exact for |k| < 2^9).
struct Reduced {
  VF k, t, r;
};
C10_ALWAYS_INLINE Reduced reduce(VF a) {
  using at::vec::fmadd;
  constexpr float kShift = 12582912.f;  // 1.5 * 2^23
  const VF t = fmadd(a, VF(1.44269504088896341f), VF(kShift));
  const VF k = t - VF(kShift);
  return {k, t, fmadd(k, VF(-1.428606765330187e-06f), fmadd(k, VF(-0.693145751953125f), a))};
}
// a + lo, `lo` a correction far below a's ulp: it joins the small remainder r, where it counts.
C10_ALWAYS_INLINE Reduced reduce(VF a, VF lo) {
  Reduced red = reduce(a);
  red.r = red.r + lo;
  return red;
}

C10_ALWAYS_INLINE VF exp_reduced(VF r) { return horner(kExp, r); }
C10_ALWAYS_INLINE VF expm1_reduced(VF r) { return at::vec::fmadd(r * r, horner(kExpm1, r), r); }

// p * 2^k, k = reduce(...).k. AVX-512: vscalefps, exact down to subnormals and
// zero. AVX2: 2^k built in the exponent bits from t, which needs
// k in [-126, 127]: callers clamp their argument (and zero what underflows).
C10_ALWAYS_INLINE VF times_pow2(VF p, const Reduced& red) {
#if defined(CPU_CAPABILITY_AVX512)
  return _mm512_scalef_ps(p, red.k);
#else
  // t's low mantissa bits hold k + 2^22: shifted by 23 only k remains.
  const __m256i k = _mm256_slli_epi32(_mm256_castps_si256(red.t), 23);
  return p * VF(_mm256_castsi256_ps(_mm256_add_epi32(k, _mm256_set1_epi32(127 << 23))));
#endif
}

// p * 2^k for k down to -190 in both builds (AVX2: 2^(k + 64) built, then an
// exact 2^-64: one rounding into the subnormal range). For the rare paths
// whose results reach there (GELU's tail).
C10_ALWAYS_INLINE VF times_pow2_exact(VF p, const Reduced& red) {
#if defined(CPU_CAPABILITY_AVX512)
  return _mm512_scalef_ps(p, red.k);
#else
  const __m256i k = _mm256_slli_epi32(_mm256_castps_si256(red.t), 23);
  return p * VF(_mm256_castsi256_ps(_mm256_add_epi32(k, _mm256_set1_epi32((127 + 64) << 23)))) * VF(0x1p-64f);
#endif
}
// Below this, exp underflows past float's normal range: the AVX2 build's
// 2^k needs k >= -126 and flushes results there to zero; the AVX-512 build
// needs only a finite k (scalef gives the subnormal or zero).
#if defined(CPU_CAPABILITY_AVX512)
constexpr float kExpArgumentMin = -104.f;  // exp(-104) < 2^-150: zero
#else
constexpr float kExpArgumentMin = -87.33f;  // exp(-87.33) > 2^-126
#endif

// exp(a) for a <= 0 from its reduction (NaN stays NaN); AVX2: zero below kExpArgumentMin.
C10_ALWAYS_INLINE VF exp_nonpositive_reduced(VF a, const Reduced& red) {
  const VF e = times_pow2(exp_reduced(red.r), red);
#if defined(CPU_CAPABILITY_AVX512)
  return e;
#else
  return _mm256_andnot_ps(lanes_lt(a, VF(kExpArgumentMin)), e);
#endif
}
C10_ALWAYS_INLINE VF exp_nonpositive_float(VF a) {
  return exp_nonpositive_reduced(a, reduce(clamp_below(a, kExpArgumentMin)));
}
// exp(a + lo), lo a correction far below a's ulp. (A separate function: r + 0
// is not r for r = -0, so the compiler would keep a zero lo's addition.)
C10_ALWAYS_INLINE VF exp_nonpositive_float(VF a, VF lo) {
  return exp_nonpositive_reduced(a, reduce(clamp_below(a, kExpArgumentMin), lo));
}

#if defined(CPU_CAPABILITY_AVX512)
// max(-|z|, kExpArgumentMin), a NaN z kept bit for bit (as negative_abs
// keeps it), in two instructions where xor, min and max take three: vrangeps
// picks the operand of smaller magnitude and sets its sign; its result for a
// NaN operand is not the NaN on every CPU (Zen 4 returns the bound), so
// vfixupimmps puts z back in NaN lanes (classes QNaN and SNaN -> token 1, z).
C10_ALWAYS_INLINE VF negative_abs_clamped(VF z) {
  return _mm512_fixupimm_ps(_mm512_range_ps(z, VF(kExpArgumentMin), 0x0E), z, _mm512_set1_epi32(0x11), 0);
}
#endif
// exp(-|z|), or exp(-|z| + lo) with lo a correction to -|z| far below its ulp.
C10_ALWAYS_INLINE VF exp_minus_abs_float(VF z) {
#if defined(CPU_CAPABILITY_AVX512)
  const VF a = negative_abs_clamped(z);
  return exp_nonpositive_reduced(a, reduce(a));
#else
  return exp_nonpositive_float(negative_abs(z));
#endif
}
C10_ALWAYS_INLINE VF exp_minus_abs_float(VF z, VF lo) {
#if defined(CPU_CAPABILITY_AVX512)
  const VF a = negative_abs_clamped(z);
  return exp_nonpositive_reduced(a, reduce(a, lo));
#else
  return exp_nonpositive_float(negative_abs(z), lo);
#endif
}

// expm1(a) for a <= 0 (lanes with a > 0 hold no meaningful value); NaN stays
// NaN. Below -30 it is -1 in float anyway. expm1(+-0) gives +0 (r + r^2 q):
// expm1_nonpositive gives it a's sign.
C10_ALWAYS_INLINE VF expm1_nonpositive_unsigned(VF a) {
  const Reduced red = reduce(clamp_below(a, -30.f));
  const VF two_k = times_pow2(VF(1.f), red);
  // 2^k em1 + (2^k - 1) is exactly em1 for k = 0 (no cancellation near 0).
  return at::vec::fmadd(two_k, expm1_reduced(red.r), two_k - VF(1.f));
}
C10_ALWAYS_INLINE VF expm1_nonpositive_float(VF a) { return with_sign_of(expm1_nonpositive_unsigned(a), a); }

// --- log(1 + e) for e in [0, 1] -------------------------------------------------

// log(1 + e) = 2 atanh(s) = 2s + s^3 L(s^2), s = e / (2 + e) in [0, 1/3]: no
// reduction by the exponent, one division. L from tools/fit_log1p_coefficients.py
// (0.075 units of 2^-24 relative). ATen's (Sleef's) log1p serves the whole line
// and cost Softplus's forward 3x the time of Sigmoid's.
constexpr float kLog1pTail[] = {6.666642e-01f, 4.002153e-01f, 2.8001747e-01f, 2.8012314e-01f};

// e in [0, 1] or NaN (a subnormal e loses its last bit in e / 2: the callers
// take exp(-|z|) 2^S larger where it is that small). s = h / (1 + h), h = e / 2 (d in
// [1, 1.5] for divide()); c carries what 1 + h and the quotient rounded away,
// so 2s + (2c + s^3 L) is rounded once: within 0.63 ulp (the fit script's
// float32 model; tests/test_vec_math.py sweeps Softplus and LogSigmoid).
C10_ALWAYS_INLINE VF log1p_unit_float(VF e) {
  using at::vec::fmadd;
  using at::vec::fnmadd;
  const VF h = e * VF(0.5f);
  const VF d = h + VF(1.f);
  const VF d_lo = (VF(1.f) - d) + h;  // 1 + h = d + d_lo exactly (Fast2Sum: h <= 1)
  const VF s = divide(h, d);
  // h / (d + d_lo) - s = (h - s d - s d_lo) / (d + d_lo); h - s d is exact.
  const VF c = fnmadd(s, d_lo, fnmadd(s, d, h)) * reciprocal_estimate(d);
  const VF w = s * s;
  return fmadd(s, VF(2.f), fmadd(s * w, horner(kLog1pTail, w), c + c));
}

#endif  // TORCH_ACT_FAST_FLOAT_MATH

// tanh(x) = sign(x) * -t / (t + 2) with t = expm1(-2|x|): no cancellation
// near 0, and t -> -1 gives exactly 1 for large |x|.
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> tanh(at::vec::Vectorized<T> x) {
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<T, float>) {
    const VF t = expm1_nonpositive_unsigned(negative_abs(x + x));
    // t / (t + 2) <= 0 (-0 at x = +-0); its magnitude takes x's sign (NaN stays NaN).
    return with_sign_of(divide(t, t + VF(2.f)), x);
  }
#endif
  return x.tanh();
}

// expm1(x) for x <= 0 (ELU's negative side; other lanes are not used).
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> expm1_nonpositive(at::vec::Vectorized<T> x) {
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<T, float>) return expm1_nonpositive_float(x);
#endif
  return x.expm1();
}

// log(1 + e) for e in [0, 1] (Softplus, LogSigmoid: e = exp(-|z|)).
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> log1p_unit(at::vec::Vectorized<T> e) {
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<T, float>) return log1p_unit_float(e);
#endif
  return e.log1p();
}

}  // namespace CPU_CAPABILITY
}  // namespace torch_act::math
