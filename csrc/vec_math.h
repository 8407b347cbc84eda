// Vector math that ATen's Vectorized<T> does not do fast enough, or not
// accurately enough, on every x86 CPU. Everything is forced inline: an
// out-of-line sigmoid (GCC's choice for a function several kernels share)
// costs a call and the overlap of the loops' two independent vectors per step.
//
// Vectorized<float>'s exp, expm1 and tanh are Sleef's 1-ulp functions (tanh
// goes to MKL's vsTanh where torch has MKL: fast on Intel, slow on AMD), and
// its erf is a 5-term formula with an absolute error of 1.5e-7 (no relative
// accuracy near 0, and none at all in 1 + erf(x) for negative x, where GELU
// needs it). The float versions here share one core: a = k ln2 + r with
// |r| <= ln2 / 2 (k rounded by adding a large constant, two-constant
// Cody-Waite), exp(r) or expm1(r) from minimax polynomials
// (tools/fit_exp_coefficients.py), and 2^k applied last.
// tests/test_vec_math.py sweeps them against float64.
//
// What made the first version 2-3x slower than ATen on Intel's AVX-512
// (Sapphire Rapids), found with llvm-mca (tools/mca.py), and what replaces it:
// - division (vdivps zmm: one per 10 cycles there): in the AVX-512 build a
//   14-bit reciprocal (rcp14) and one Markstein correction, 4 instructions,
//   within 0.6 ulp of the quotient, always applied to denominators in [1, 2];
//   the AVX2 build keeps vdivps, cheap on Zen;
// - comparisons through Vectorized<float> (mask register -> vector -> mask):
//   mask registers used directly (`Lanes`), with masked multiplies and blends;
// - NaN-propagating clamps (maximum/minimum: compare + or): the raw
//   instructions, which return their second operand when either is NaN, so
//   clamp(x) keeps a NaN x;
// - 2^k by integer shifts and a clamp: vscalefps, which also gives exact
//   subnormal results (the AVX2 build flushes results below 2^-126 to zero);
// - exp(x) for x > 0 (overflow handling): every formula uses exp(-|x|) <= 1.
// Each function's result depends on its lane's value only: a vector whose
// lanes take another path (GELU's tail) still gives each lane what it would
// give alone (batch invariance, tests/test_batch_invariance.py).
//
// AVX2/AVX-512 builds and float only; other types and builds use ATen's.
#pragma once

#include <ATen/cpu/vec/vec.h>
#include <c10/macros/Macros.h>

#include <limits>
#include <type_traits>

#ifndef CPU_CAPABILITY
#define CPU_CAPABILITY DEFAULT
#endif

#if defined(CPU_CAPABILITY_AVX2) || defined(CPU_CAPABILITY_AVX512)
#define TORCH_ACT_FAST_FLOAT_MATH 1
#else
#define TORCH_ACT_FAST_FLOAT_MATH 0
#endif

namespace torch_act::math {
inline namespace CPU_CAPABILITY {

#if TORCH_ACT_FAST_FLOAT_MATH
using VF = at::vec::Vectorized<float>;

// --- lanes, selection, signs: one instruction each where the ISA has it ---------

#if defined(CPU_CAPABILITY_AVX512)
using Lanes = __mmask16;  // a mask register
C10_ALWAYS_INLINE Lanes lanes_lt(VF a, VF b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
C10_ALWAYS_INLINE Lanes lanes_ge(VF a, VF b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
C10_ALWAYS_INLINE Lanes lanes_not_le(VF a, VF b) { return _mm512_cmp_ps_mask(a, b, _CMP_NLE_UQ); }  // NaN: set
C10_ALWAYS_INLINE bool any(Lanes m) { return m != 0; }
// a where m is set, b elsewhere.
C10_ALWAYS_INLINE VF select(Lanes m, VF a, VF b) { return _mm512_mask_blend_ps(m, b, a); }
// a * b where m is set, c elsewhere.
C10_ALWAYS_INLINE VF mul_where(Lanes m, VF a, VF b, VF c) { return _mm512_mask_mul_ps(c, m, a, b); }
C10_ALWAYS_INLINE VF sub_where(Lanes m, VF a, VF b, VF c) { return _mm512_mask_sub_ps(c, m, a, b); }
C10_ALWAYS_INLINE VF bits_or(VF a, VF b) { return _mm512_or_ps(a, b); }
C10_ALWAYS_INLINE VF bits_and(VF a, VF b) { return _mm512_and_ps(a, b); }
// |magnitude| with the sign bit of `sign` (one vpternlogd: sign-bit mask ? sign : magnitude).
C10_ALWAYS_INLINE VF with_sign_of(VF magnitude, VF sign) {
  return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_set1_epi32(INT32_MIN), _mm512_castps_si512(sign),
                                                       _mm512_castps_si512(magnitude), 0xCA));
}
#else
using Lanes = VF;  // all ones where set
C10_ALWAYS_INLINE Lanes lanes_lt(VF a, VF b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
C10_ALWAYS_INLINE Lanes lanes_ge(VF a, VF b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
C10_ALWAYS_INLINE Lanes lanes_not_le(VF a, VF b) { return _mm256_cmp_ps(a, b, _CMP_NLE_UQ); }
C10_ALWAYS_INLINE bool any(Lanes m) { return _mm256_movemask_ps(m) != 0; }
C10_ALWAYS_INLINE VF select(Lanes m, VF a, VF b) { return _mm256_blendv_ps(b, a, m); }
C10_ALWAYS_INLINE VF mul_where(Lanes m, VF a, VF b, VF c) { return _mm256_blendv_ps(c, a * b, m); }
C10_ALWAYS_INLINE VF sub_where(Lanes m, VF a, VF b, VF c) { return _mm256_blendv_ps(c, a - b, m); }
C10_ALWAYS_INLINE VF bits_or(VF a, VF b) { return _mm256_or_ps(a, b); }
C10_ALWAYS_INLINE VF bits_and(VF a, VF b) { return _mm256_and_ps(a, b); }
C10_ALWAYS_INLINE VF with_sign_of(VF magnitude, VF sign) {
  const __m256 bit = _mm256_set1_ps(-0.f);
  return _mm256_or_ps(_mm256_andnot_ps(bit, magnitude), _mm256_and_ps(bit, sign));
}
#endif

// Lanes <-> bits (lane 0 the lowest bit), for the bit-packed masks of the
// mask family: one instruction or two, never a loop over lanes.
#if defined(CPU_CAPABILITY_AVX512)
C10_ALWAYS_INLINE uint64_t lanes_to_bits(Lanes m) { return m; }
C10_ALWAYS_INLINE Lanes bits_to_lanes(uint64_t bits) { return static_cast<__mmask16>(bits); }
#else
C10_ALWAYS_INLINE uint64_t lanes_to_bits(Lanes m) { return static_cast<uint32_t>(_mm256_movemask_ps(m)); }
C10_ALWAYS_INLINE Lanes bits_to_lanes(uint64_t bits) {
  // Lane k keeps bit k of the broadcast byte, then compares it to itself.
  const __m256i select = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  const __m256i kept = _mm256_and_si256(_mm256_set1_epi32(static_cast<int>(bits & 0xFF)), select);
  return _mm256_castsi256_ps(_mm256_cmpeq_epi32(kept, select));
}
#endif

// max(x, lo) and min(x, hi) that keep a NaN x (the instructions return their
// second operand when either is NaN): no extra work for NaN.
C10_ALWAYS_INLINE VF clamp_below(VF x, float lo) {
#if defined(CPU_CAPABILITY_AVX512)
  return _mm512_max_ps(_mm512_set1_ps(lo), x);
#else
  return _mm256_max_ps(_mm256_set1_ps(lo), x);
#endif
}
C10_ALWAYS_INLINE VF clamp_above(VF x, float hi) {
#if defined(CPU_CAPABILITY_AVX512)
  return _mm512_min_ps(_mm512_set1_ps(hi), x);
#else
  return _mm256_min_ps(_mm256_set1_ps(hi), x);
#endif
}
C10_ALWAYS_INLINE VF negative_abs(VF x) { return bits_or(x, VF(-0.f)); }

// a / d for d in [1, 2] (a finite or NaN): 14-bit reciprocal and one
// Markstein step on AVX-512 (error (2^-14)^2 before the last rounding);
// vdivps on AVX2.
C10_ALWAYS_INLINE VF divide(VF a, VF d) {
#if defined(CPU_CAPABILITY_AVX512)
  const __m512 r = _mm512_rcp14_ps(d);
  const __m512 q = _mm512_mul_ps(a, r);
  return _mm512_fmadd_ps(_mm512_fnmadd_ps(q, d, a), r, q);
#else
  return _mm256_div_ps(a, d);
#endif
}

// 1 / d for d in [1, 2]: rcp14 and one Newton step on AVX-512.
C10_ALWAYS_INLINE VF reciprocal(VF d) {
#if defined(CPU_CAPABILITY_AVX512)
  const __m512 r = _mm512_rcp14_ps(d);
  return _mm512_fmadd_ps(_mm512_fnmadd_ps(d, r, _mm512_set1_ps(1.f)), r, r);
#else
  return _mm256_div_ps(_mm256_set1_ps(1.f), d);
#endif
}

// --- exp's core ---------------------------------------------------------------

// Minimax coefficients from tools/fit_exp_coefficients.py, on
// r in [-ln2 / 2, ln2 / 2]: exp(r) ~ sum kExp[i] r^i (degree 6, within 1.2
// units of 2^-24 in float32), expm1(r) ~ r + r^2 sum kExpm1[i] r^i (1.4 units,
// relative: no cancellation near 0).
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

// Below this, exp underflows past float's normal range: the AVX2 build's
// 2^k needs k >= -126 and flushes results there to zero; the AVX-512 build
// needs only a finite k (scalef gives the subnormal or zero).
#if defined(CPU_CAPABILITY_AVX512)
constexpr float kExpArgumentMin = -104.f;  // exp(-104) < 2^-150: zero
#else
constexpr float kExpArgumentMin = -87.33f;  // exp(-87.33) > 2^-126
#endif

// exp(a) for a <= 0 (NaN stays NaN); AVX2: zero below kExpArgumentMin.
C10_ALWAYS_INLINE VF exp_nonpositive_float(VF a) {
  const Reduced red = reduce(clamp_below(a, kExpArgumentMin));
  const VF e = times_pow2(exp_reduced(red.r), red);
#if defined(CPU_CAPABILITY_AVX512)
  return e;
#else
  return _mm256_andnot_ps(lanes_lt(a, VF(kExpArgumentMin)), e);
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

// --- sigmoid and friends: from e = exp(-|z|) <= 1, no overflow, no cancellation ---

// sigmoid(z) = 1 / (1 + e) for z >= 0 and e / (1 + e) for z < 0: each is the
// quotient of numbers near 1 (never 1 - small), so sigmoid and 1 - sigmoid
// (= sigmoid(-z)) both keep their relative accuracy.
struct SigmoidParts {
  Lanes negative;  // z < 0
  VF e, denominator;
};
C10_ALWAYS_INLINE SigmoidParts sigmoid_parts(VF z) {
  const VF e = exp_nonpositive_float(negative_abs(z));
  return {lanes_lt(z, VF(0.f)), e, e + VF(1.f)};
}
#else
// Declared only, for loops.h's discarded vector branches in the DEFAULT build.
uint64_t lanes_to_bits(at::vec::Vectorized<float> lanes);
at::vec::Vectorized<float> bits_to_lanes(uint64_t bits);
#endif  // TORCH_ACT_FAST_FLOAT_MATH

// scale * sigmoid(z), as torch's 1 / (1 + exp(-z)) (exp(-z) overflowing to
// inf gives 0). SiLU is times_sigmoid(x, x), GELU's tanh form x sigmoid(2u).
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> times_sigmoid(at::vec::Vectorized<T> scale, at::vec::Vectorized<T> z) {
  using V = at::vec::Vectorized<T>;
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<T, float>) {
    // Not divide(): its correction step makes inf / 1 NaN.
    const SigmoidParts p = sigmoid_parts(z);
    return mul_where(p.negative, scale, p.e, scale) * reciprocal(p.denominator);
  }
#endif
  return scale * (V(T(1)) + z.neg().exp()).reciprocal();
}

template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> sigmoid(at::vec::Vectorized<T> x) {
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<T, float>) {
    const SigmoidParts p = sigmoid_parts(x);
    return divide(select(p.negative, p.e, VF(1.f)), p.denominator);
  }
#endif
  return times_sigmoid(at::vec::Vectorized<T>(T(1)), x);
}

// sigmoid(z) and 1 - sigmoid(z) (= sigmoid(-z): no cancellation as z grows),
// for the derivatives of SiLU and GELU's tanh form.
template <typename T>
struct SigmoidPair {
  at::vec::Vectorized<T> s, complement;
};
template <typename T>
C10_ALWAYS_INLINE SigmoidPair<T> sigmoid_pair(at::vec::Vectorized<T> z) {
  using V = at::vec::Vectorized<T>;
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<T, float>) {
    const SigmoidParts p = sigmoid_parts(z);
    const VF r = reciprocal(p.denominator), er = p.e * r;
    return {select(p.negative, er, r), select(p.negative, r, er)};
  }
#endif
  const V s = sigmoid(z);
  return {s, V(T(1)) - s};
}

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

// --- piecewise-linear activations: a comparison into a mask register and one
// masked instruction on AVX-512, where Vectorized<T>'s compare and blend
// convert mask -> vector -> mask. Exact, so equal to torch's bit for bit.

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

// expm1(x) for x <= 0 (ELU's negative side; other lanes are not used).
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> expm1_nonpositive(at::vec::Vectorized<T> x) {
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<T, float>) return expm1_nonpositive_float(x);
#endif
  return x.expm1();
}

// exp(x) for x <= 0 (ELU's derivative from its input; other lanes are not used).
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> exp_nonpositive(at::vec::Vectorized<T> x) {
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<T, float>) return exp_nonpositive_float(x);
#endif
  return x.exp();
}

}  // namespace CPU_CAPABILITY
}  // namespace torch_act::math

