// The x86 vector instructions the fast float32 math and the mask family's
// loops are written with, one small function each, for the AVX2 and AVX-512
// builds (TORCH_ACT_FAST_FLOAT_MATH): lanes (an AVX-512 mask register, or
// an all-ones AVX2 vector), selection and masked arithmetic, sign bits,
// clamps, division, and lanes <-> mask bits.
//
// What made the first kernels 2-3x slower than ATen on Intel's AVX-512
// (Sapphire Rapids), found with llvm-mca (tools/mca.py), and what replaces it:
// - division (vdivps zmm: one per 10 cycles there): in the AVX-512 build a
//   14-bit reciprocal (rcp14) and one Markstein correction, 4 instructions,
//   within 0.6 ulp of the quotient, always applied to denominators in [1, 2];
//   the AVX2 build keeps vdivps, cheap on Zen;
// - comparisons through Vectorized<float> (mask register -> vector -> mask):
//   mask registers used directly (`Lanes`), with masked multiplies and blends;
// - NaN-propagating clamps (maximum/minimum: compare + or): the raw
//   instructions, which return their second operand when either is NaN, so
//   clamp(x) keeps a NaN x.
// Everything is forced inline.
#pragma once

#include <ATen/cpu/vec/vec.h>
#include <c10/macros/Macros.h>

#include <cstdint>
#include <limits>

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
// -|x| and |x| that leave a NaN exactly as it is (min/max return their second
// operand, x, for NaN). Setting or clearing its sign bit would make a second
// NaN, and where the two meet in a commutative operation the compiler's
// operand order picks the result's bits, which then differ between the
// unrolled copies of a loop (batch invariance).
C10_ALWAYS_INLINE VF negative_abs(VF x) {
#if defined(CPU_CAPABILITY_AVX512)
  return _mm512_min_ps(_mm512_xor_ps(x, _mm512_set1_ps(-0.f)), x);
#else
  return _mm256_min_ps(_mm256_xor_ps(x, _mm256_set1_ps(-0.f)), x);
#endif
}
C10_ALWAYS_INLINE VF abs(VF x) {
#if defined(CPU_CAPABILITY_AVX512)
  return _mm512_max_ps(_mm512_xor_ps(x, _mm512_set1_ps(-0.f)), x);
#else
  return _mm256_max_ps(_mm256_xor_ps(x, _mm256_set1_ps(-0.f)), x);
#endif
}

// a / d for d in [1, 2] (a finite or NaN): 14-bit reciprocal and one
// Markstein step on AVX-512 (error (2^-14)^2 before the last rounding);
// vdivps on AVX2.
C10_ALWAYS_INLINE VF divide(VF a, VF d) {
#if defined(CPU_CAPABILITY_AVX512)
  // q - (q d - a) r rather than q + (a - q d) r: the same value, and a = -0
  // keeps its sign (-0 - +0 is -0; +0 + -0 would be +0).
  const __m512 r = _mm512_rcp14_ps(d);
  const __m512 q = _mm512_mul_ps(a, r);
  return _mm512_fnmadd_ps(_mm512_fmsub_ps(q, d, a), r, q);
#else
  return _mm256_div_ps(a, d);
#endif
}

// y, but +inf where x is +inf: divide()'s correction step makes inf / d NaN
// on AVX-512 (one vfixupimmps: +inf's class answers +inf); vdivps gives inf.
C10_ALWAYS_INLINE VF with_infinity_of(VF y, VF x) {
#if defined(CPU_CAPABILITY_AVX512)
  return _mm512_fixupimm_ps(y, x, _mm512_set1_epi32(5 << 20), 0);
#else
  (void)x;
  return y;
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
// About 1 / d (AVX-512: 14 bits, AVX2: 12): for corrections already far below
// the result's ulp, where a few bits of them are all that counts.
C10_ALWAYS_INLINE VF reciprocal_estimate(VF d) {
#if defined(CPU_CAPABILITY_AVX512)
  return _mm512_rcp14_ps(d);
#else
  return _mm256_rcp_ps(d);
#endif
}
#else
// Declared only, for loops.h's discarded vector branches in the DEFAULT build.
uint64_t lanes_to_bits(at::vec::Vectorized<float> lanes);
at::vec::Vectorized<float> bits_to_lanes(uint64_t bits);
#endif  // TORCH_ACT_FAST_FLOAT_MATH

}  // namespace CPU_CAPABILITY
}  // namespace torch_act::math
