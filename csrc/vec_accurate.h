// What keeps the smooth activations within a few ulp where the textbook
// formulas lose digits, for scalars (float, double) and Vectorized<T> alike:
// - arguments carried as hi + lo pairs: exp(-x^2 / 2) or erfc(-x / sqrt 2) for
//   |x| >> 1 multiply the rounding error of their argument by x^2 (GELU's
//   tails), and so does sigmoid(2u) that of 2u (GELU's tanh form);
// - results near the bottom of the type's range: an exp(-|z|) rounded into
//   the subnormal range, then multiplied by |x| or more, has lost most of its
//   digits. Where that could happen the exp is taken 2^S times larger and 2^-S
//   applied to the finished result (of_exp_minus_abs, GELU's normal_tail), so a
//   subnormal result is rounded once;
// - derivatives near their zeros. SiLU', GELU' (both forms) and Mish' cross zero at
// one negative x0, where they are the difference of two terms of about 0.2:
// the ordinary formula's absolute error, a few units of the type's 2^-p, is
// then many units of the small result's last place. Within a window around
// x0 the derivative is d P(d) instead, d = (x - x0_hi) - x0_lo (x - x0_hi is
// exact near x0, Sterbenz) and P its Taylor series at x0: every term has d's
// sign, so the result keeps its relative accuracy down to the zero.
// The tables, {window, x0_hi, x0_lo, P's coefficients}, are printed by
// tools/fit_root_polynomials.py from the exact math the accuracy test uses.
#pragma once

#include "vec_math.h"

#include <ATen/cpu/vec/vec.h>
#include <c10/macros/Macros.h>

#include <bit>
#include <cmath>
#include <cstddef>
#include <type_traits>
#include <utility>

#ifndef CPU_CAPABILITY
#define CPU_CAPABILITY DEFAULT
#endif

namespace torch_act::math {
inline namespace CPU_CAPABILITY {
// a * b + c with one rounding, and the other elementary functions, for either kind.
template <typename T>
C10_ALWAYS_INLINE std::enable_if_t<std::is_floating_point_v<T>, T> multiply_add(T a, T b, T c) { return std::fma(a, b, c); }
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> multiply_add(at::vec::Vectorized<T> a, at::vec::Vectorized<T> b,
                                                       at::vec::Vectorized<T> c) {
  return at::vec::fmadd(a, b, c);
}
// a * b - c with one rounding.
template <typename T>
C10_ALWAYS_INLINE std::enable_if_t<std::is_floating_point_v<T>, T> multiply_sub(T a, T b, T c) { return std::fma(a, b, -c); }
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> multiply_sub(at::vec::Vectorized<T> a, at::vec::Vectorized<T> b,
                                                       at::vec::Vectorized<T> c) {
  return at::vec::fmsub(a, b, c);
}
template <typename T> C10_ALWAYS_INLINE std::enable_if_t<std::is_floating_point_v<T>, T> exp_of(T a) { return std::exp(a); }
template <typename T> C10_ALWAYS_INLINE at::vec::Vectorized<T> exp_of(at::vec::Vectorized<T> a) { return a.exp(); }
template <typename T> C10_ALWAYS_INLINE std::enable_if_t<std::is_floating_point_v<T>, T> erfc_of(T a) { return std::erfc(a); }
template <typename T> C10_ALWAYS_INLINE at::vec::Vectorized<T> erfc_of(at::vec::Vectorized<T> a) { return a.erfc(); }
// a where x < 0, b elsewhere (NaN: b).
template <typename T>
C10_ALWAYS_INLINE std::enable_if_t<std::is_floating_point_v<T>, T> where_negative(T x, T a, T b) { return x < T(0) ? a : b; }
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> where_negative(at::vec::Vectorized<T> x, at::vec::Vectorized<T> a,
                                                         at::vec::Vectorized<T> b) {
  using V = at::vec::Vectorized<T>;
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<T, float>) return select(lanes_lt(x, V(0.f)), a, b);
#endif
  return V::blendv(b, a, x < V(T(0)));
}

// A constant as hi + lo in type T (float or double): {hi, lo}.
template <typename T>
struct Split {
  T hi, lo;
};
template <typename T>
constexpr Split<T> split_constant(Split<float> f, Split<double> d) {
  if constexpr (std::is_same_v<T, double>) {
    return {T(d.hi), T(d.lo)};
  } else {
    return {T(f.hi), T(f.lo)};
  }
}

// c * x as hi + lo (c given as hi + lo): the product's rounding error by fma.
template <typename T, typename V>
C10_ALWAYS_INLINE Split<V> times_split(Split<T> c, V x) {
  const V hi = V(c.hi) * x;
  return {hi, multiply_sub(V(c.hi), x, hi) + V(c.lo) * x};
}

// exp(hi + lo) for hi + lo <= 0, lo far below hi's ulp: exp(hi) (1 + lo).
template <typename V>
C10_ALWAYS_INLINE V exp_split(Split<V> a) {
  const V e = exp_of(a.hi);
  return multiply_add(e, a.lo, e);
}

// x clamped to [-bound, bound], NaN kept.
template <typename T>
C10_ALWAYS_INLINE std::enable_if_t<std::is_floating_point_v<T>, T> clamp_magnitude(T x, T bound) {
  return x < -bound ? -bound : (x > bound ? bound : x);
}
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> clamp_magnitude(at::vec::Vectorized<T> x, T bound) {
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<T, float>) return clamp_above(clamp_below(x, -bound), bound);
#endif
  return at::vec::clamp(x, at::vec::Vectorized<T>(-bound), at::vec::Vectorized<T>(bound));
}

// a / d, d in [1, 4]: the fast float build's divide, a plain division elsewhere.
template <typename V>
C10_ALWAYS_INLINE V quotient(V a, V d) {
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<V, at::vec::Vectorized<float>>) return divide(a, d);
#endif
  return a / d;
}

// Lane masks for either kind: a bool for scalars; for vectors math::Lanes in
// the fast float build, a vector of all-ones lanes otherwise.
template <typename T>
C10_ALWAYS_INLINE std::enable_if_t<std::is_floating_point_v<T>, bool> lanes_below(T a, T b) { return a < b; }
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> lanes_below(at::vec::Vectorized<T> a, at::vec::Vectorized<T> b) { return a < b; }
// lo <= x < hi.
template <typename T>
C10_ALWAYS_INLINE std::enable_if_t<std::is_floating_point_v<T>, bool> lanes_between(T x, T lo, T hi) {
  return lo <= x && x < hi;
}
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> lanes_between(at::vec::Vectorized<T> x, T lo, T hi) {
  using V = at::vec::Vectorized<T>;
  return (x >= V(lo)) & (x < V(hi));
}
C10_ALWAYS_INLINE bool any_lane(bool m) { return m; }
template <typename T>
C10_ALWAYS_INLINE bool any_lane(at::vec::Vectorized<T> m) {
  return m.zero_mask() != (1 << at::vec::Vectorized<T>::size()) - 1;  // zero_mask: the lanes that are 0
}
template <typename T>
C10_ALWAYS_INLINE std::enable_if_t<std::is_floating_point_v<T>, T> pick(bool m, T a, T b) { return m ? a : b; }
template <typename T>
C10_ALWAYS_INLINE at::vec::Vectorized<T> pick(at::vec::Vectorized<T> m, at::vec::Vectorized<T> a,
                                              at::vec::Vectorized<T> b) {
  return at::vec::Vectorized<T>::blendv(b, a, m);
}
#if TORCH_ACT_FAST_FLOAT_MATH
// Non-templates: chosen over the templates above for VF (AVX2: Lanes is VF itself).
C10_ALWAYS_INLINE Lanes lanes_below(VF a, VF b) { return lanes_lt(a, b); }
C10_ALWAYS_INLINE bool any_lane(Lanes m) { return any(m); }
C10_ALWAYS_INLINE VF pick(Lanes m, VF a, VF b) { return select(m, a, b); }
#endif

// Where exp(a) nears the bottom of T's range (a below `below`: exp(a) < 2^-115
// in float, 2^-1009 in double, so that it and its products with numbers of
// moderate size are still normal above it), exp(a + shift) = exp(a) 2^S is
// taken instead and `undo` = 2^-S applied to the finished result. shift = S ln2
// as hi + lo, hi a multiple of a's ulp at 2^6 (float) or 2^9 (double), so that
// a + hi is exact for every a below `below` whose exp(a + shift) is not zero
// anyway, and lo far below a's ulp (exp_split's exp(hi) (1 + lo) drops lo^2 / 2).
// exp(a) 2^S stays below 2^-51: beside 1 it is as negligible as exp(a).
template <typename T>
struct Deep {
  static constexpr T below = std::is_same_v<T, double> ? -700.0 : -80.0;
  static constexpr Split<T> shift = split_constant<T>({44.361419677734375f, -1.2189787e-07f},         // 64 ln2
                                                      {354.89135644669204, -4.496989917391496e-14});  // 512 ln2
  static constexpr T undo = std::is_same_v<T, double> ? 0x1p-512 : 0x1p-64;
};

// exp(hi + lo) for hi + lo <= 0, lo far below hi's ulp (the fast float exp or exp_split).
template <typename V>
C10_ALWAYS_INLINE V exp_nonpositive_split(Split<V> a) {
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<V, VF>) return exp_nonpositive_float(a.hi, a.lo);
#endif
  return exp_split(a);
}

// -|z| as hi + lo.
template <typename V>
C10_ALWAYS_INLINE Split<V> minus_abs(Split<V> z) {
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<V, VF>) return {negative_abs(z.hi), select(lanes_lt(z.hi, VF(0.f)), z.lo, VF(0.f) - z.lo)};
#endif
  return {where_negative(z.hi, z.hi, V(0) - z.hi), where_negative(z.hi, z.lo, V(0) - z.lo)};
}
template <typename V>
C10_ALWAYS_INLINE Split<V> minus_abs(V z) {
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<V, VF>) return {negative_abs(z), VF(0.f)};
#endif
  return {where_negative(z, z, V(0) - z), V(0)};
}
template <typename V> C10_ALWAYS_INLINE V high_part(Split<V> z) { return z.hi; }
template <typename V> C10_ALWAYS_INLINE V high_part(V z) { return z; }

// exp(-|z|) <= 1, z = hi + lo: no overflow, and z's low part kept.
template <typename V>
C10_ALWAYS_INLINE V exp_minus_abs(Split<V> z) {
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<V, VF>) {
    return exp_minus_abs_float(z.hi, select(lanes_lt(z.hi, VF(0.f)), z.lo, VF(0.f) - z.lo));
  }
#endif
  return exp_nonpositive_split(minus_abs(z));
}
template <typename V>
C10_ALWAYS_INLINE V exp_minus_abs(V z) {
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<V, VF>) return exp_minus_abs_float(z);
#endif
  return exp_of(where_negative(z, z, V(0) - z));
}

// f(exp(-|z|)) (z = hi + lo, or a plain V) for an f whose value where z < 0
// is exp(-|z|) times factors of moderate size, and which needs exp(-|z|) only
// beside 1 where z > 0. Where z < Deep<T>::below, f is given exp(-|z|) 2^S
// and its result multiplied by 2^-S (a subnormal result rounded once). Lanes
// above keep the ordinary result bit for bit: a vector pays for the deep
// form only when one of its lanes needs it (none, in ordinary data). Inline
// all the same: out of line, the call clobbers every vector register and GCC
// then reloads the loop's constants on every iteration (6 broadcasts in
// SiLU's forward loop).
template <typename T, typename Z, typename F>
C10_ALWAYS_INLINE auto of_deep_exp_minus_abs(Z z, F f) {
  using V = decltype(high_part(z));
  const V ordinary = f(exp_minus_abs(z));  // the other lanes, as the common path computes them
  Split<V> a = minus_abs(z);
  a.hi = a.hi + V(Deep<T>::shift.hi);
  a.lo = a.lo + V(Deep<T>::shift.lo);
  return pick(lanes_below(high_part(z), V(Deep<T>::below)), f(exp_nonpositive_split(a)) * V(Deep<T>::undo), ordinary);
}
template <typename T, typename Z, typename F>
C10_ALWAYS_INLINE auto of_exp_minus_abs(Z z, F f) {
  using V = decltype(high_part(z));
  if (any_lane(lanes_below(high_part(z), V(Deep<T>::below)))) [[unlikely]] return of_deep_exp_minus_abs<T>(z, f);
  return f(exp_minus_abs(z));
}

// (f(e), g(e)) from one exp(-|z|), each as of_exp_minus_abs gives it: a
// value and its derivative computed together (the gated family's backward).
template <typename T, typename Z, typename F, typename G>
C10_ALWAYS_INLINE auto of_exp_minus_abs2(Z z, F f, G g) {
  using V = decltype(high_part(z));
  if (any_lane(lanes_below(high_part(z), V(Deep<T>::below)))) [[unlikely]] {
    return std::pair<V, V>{of_deep_exp_minus_abs<T>(z, f), of_deep_exp_minus_abs<T>(z, g)};
  }
  const V e = exp_minus_abs(z);
  return std::pair<V, V>{f(e), g(e)};
}

// sigmoid(x) from e = exp(-|x|): e / (1 + e) for x < 0, 1 / (1 + e) elsewhere.
// Each is the quotient of numbers near 1 (never 1 - small), and 1 / (1 +
// exp(-x)) would be 0 where exp(-x) overflows, while sigmoid(x) is a
// subnormal down to -103 in float, -745 in double.
template <typename T, typename V>
C10_ALWAYS_INLINE V sigmoid(V x) {
  return of_exp_minus_abs<T>(x, [x](V e) { return quotient(where_negative(x, e, V(T(1))), V(T(1)) + e); });
}

// log(1 + exp(-|z|)), the part of softplus(z) = max(z, 0) + log(1 + exp(-|z|))
// that underflows with exp(-|z|): taken 2^S larger there (of_exp_minus_abs,
// for z below -80 / -700: pass z of the sign where the result is what is
// wanted), where log1p(e) is e to the last bit, so the result is rounded once.
template <typename V>
C10_ALWAYS_INLINE V log1p_of_unit(V e) {
  if constexpr (std::is_floating_point_v<V>) {
    return std::log1p(e);
  } else {
    return log1p_unit(e);
  }
}
template <typename T, typename V>
C10_ALWAYS_INLINE V log1p_exp_minus_abs(V z) {
  return of_exp_minus_abs<T>(z, [](V e) { return log1p_of_unit(e); });
}

// x sigmoid(z) from e = exp(-|z|), z of x's sign: x e / (1 + e) for x < 0, x / (1 + e) elsewhere.
template <typename V>
C10_ALWAYS_INLINE V times_sigmoid_from_exp(V x, V e) {
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<V, VF>) {
    return with_infinity_of(divide(mul_where(lanes_lt(x, VF(0.f)), x, e, x), e + VF(1.f)), x);
  }
#endif
  return where_negative(x, x * e, x) / (V(1) + e);
}

// Phi(x) = erfc(-x / sqrt 2) / 2 and phi(x) = exp(-x^2 / 2) / sqrt(2 pi),
// their arguments carried as hi + lo: erfc(t_hi + t_lo) = erfc(t_hi) -
// t_lo (2 / sqrt pi) exp(-t^2), exp(-t^2) being exp(-x^2 / 2) itself. For the
// types whose erfc and exp are accurate (double everywhere; float in the
// DEFAULT build). x is clamped to +-40 for them: Phi is 0 or 1 there.
template <typename V>
struct NormalParts {
  V cdf, pdf;
};
template <typename T, typename V>
C10_ALWAYS_INLINE NormalParts<V> normal_parts(V x) {
  const V xc = clamp_magnitude(x, T(40));
  const Split<V> t = times_split(split_constant<T>({-7.0710677e-01f, -1.21016175e-08f},
                                                   {-0.7071067811865476, 4.833646656726457e-17}), xc);
  const V h = xc * xc;
  const V e = exp_split(Split<V>{h * V(T(-0.5)), multiply_sub(xc, xc, h) * V(T(-0.5))});
  return {V(T(0.5)) * multiply_add(V(T(-1.1283791670955126)) * t.lo, e, erfc_of(t.hi)), e * V(T(0.3989422804014327))};
}

// Phi(x) far below 0: phi(x) S(y) / |x|, y = 1 / x^2, S the asymptotic series
// sum (2n - 1)!! (-y)^n (to n = 8: its terms fall below 1e-20 relative for
// |x| >= 36 in double, 1e-12 for |x| >= 12 in float). For x in [-40, start)
// (Phi(x) below 1e-285 in double, 1e-33 in float; nothing is left of it below
// -40) phi is taken 2^S times larger (Deep<T>) and 2^-S applied to the
// finished GELU or GELU': a subnormal result rounded once, where x Phi(x) and
// Phi + x phi from a subnormal erfc and exp lose up to 35 ulp. For the types
// normal_parts serves.
template <typename T>
struct NormalLowerTail {
  static constexpr T start = std::is_same_v<T, double> ? -36.0 : -12.0, end = -40.0;
};
template <typename V>
struct LowerTailParts {
  V pdf_scaled, series, y;  // phi(x) 2^S, S(y), y
};
template <typename T, typename V>
C10_ALWAYS_INLINE LowerTailParts<V> lower_tail_parts(V x) {
  constexpr T kSeries[] = {1, -1, 3, -15, 105, -945, 10395, -135135, 2027025};
  const V h = x * x;
  // -x^2 / 2 + S ln2, hi + lo: -h / 2 + shift.hi is exact over [end, start).
  const V e = exp_split(Split<V>{h * V(T(-0.5)) + V(Deep<T>::shift.hi),
                                 multiply_sub(x, x, h) * V(T(-0.5)) + V(Deep<T>::shift.lo)});
  const V y = V(T(1)) / h;
  V series(kSeries[8]);
  for (size_t k = 8; k-- > 0;) series = multiply_add(series, y, V(kSeries[k]));
  return {e * V(T(0.3989422804014327)), series, y};
}
// near(x), with the lanes in [end, start) taken from tail(x).
template <typename T, typename V, typename Near, typename Tail>
C10_ALWAYS_INLINE V with_normal_lower_tail(V x, Near near, Tail tail) {
  using Tail_ = NormalLowerTail<T>;
  const auto far = lanes_between(x, Tail_::end, Tail_::start);
  if (any_lane(far)) [[unlikely]] return pick(far, tail(x), near(x));
  return near(x);
}

namespace roots {
inline constexpr float kSiluRootFloat[] = {2e-01f, -1.2784646e+00f, 1.29792825e-08f, 2.178117e-01f, 1.466488e-01f, 1.8874815e-02f, -1.5222656e-02f, -6.606589e-03f, 1.266274e-04f, 7.9852185e-04f};
inline constexpr double kSiluRootDouble[] = {0.4, -1.2784645427610737, -1.0946994183093437e-16, 0.2178117057198001, 0.1466487969969469, 0.018874814223782312, -0.015222655223188032, -0.006606589138356696, 0.000126627410081122, 0.0007985218818397998, 0.00018570724361186496, -4.090534237428612e-05, -2.9733542213263917e-05, -2.942631888842464e-06, 2.346029682463866e-06, 8.599695028268575e-07, -3.051244750055421e-08, -9.266646309267441e-08, -1.8877622907727957e-08, 4.619379769031606e-09, 2.9177603026903803e-09, 2.3648315053103244e-10, -2.251366201881081e-10};
inline constexpr float kGeluRootFloat[] = {6e-02f, -7.5179154e-01f, 1.211445e-08f, 4.31494e-01f, 3.8828498e-01f, -1.8199677e-02f, -1.1400823e-01f, -1.4771522e-02f, 1.942168e-02f};
inline constexpr double kGeluRootDouble[] = {0.9, -0.7517915246935645, 1.4956759177009883e-17, 0.4314939923140469, 0.388284982990552, -0.018199676398671087, -0.1140082332972217, -0.014771522148244337, 0.019421679838189067, 0.004539228379125415, -0.002239538068073497, -0.0007448268386746817, 0.00018633974623233514, 8.615947861116571e-05, -1.121438018842664e-05, -7.74846130700372e-06, 4.3284506257392273e-07, 5.702764979242107e-07, -1.6044265494246427e-09, -3.5459866461783865e-08, -1.396942086426202e-09, 1.90319840501314e-09, 1.4506418938779426e-10, -8.950037692726255e-11, -9.950340824808053e-12, 3.725967039270119e-12, 5.482292964742324e-13, -1.3820118240601056e-13, -2.5871508475507507e-14, 4.578167824271334e-15, 1.0789662518230159e-15, -1.3507094681149317e-16};
inline constexpr float kGeluTanhRootFloat[] = {5e-01f, -7.5246143e-01f, 1.1339628e-08f, 4.304001e-01f, 3.8751844e-01f, -1.5782854e-02f, -1.13944486e-01f, -1.6619328e-02f, 1.9682309e-02f, 5.2610594e-03f, -2.4227318e-03f, -9.2744204e-04f, 2.6392765e-04f, 1.2425228e-04f, -3.495617e-05f, -1.5950896e-05f};
inline constexpr double kGeluTanhRootDouble[] = {0.5, -0.7524614220710163, 3.635560509207687e-17, 0.4304000910248585, 0.38751844613578895, -0.01578285352184803, -0.11394448308095899, -0.01661932834305256, 0.019682309459833118, 0.005261059254921912, -0.0024227318458750974, -0.0009274420230205449, 0.00026392764052681053, 0.00012425227802639782, -3.4956171694436116e-05, -1.5950896871645105e-05, 5.918611710894005e-06, 2.4335516344299543e-06, -9.898647747433667e-07, -4.3102482988029016e-07, 1.4157556987729473e-07, 7.520740909289922e-08, -1.6978217459781023e-08, -1.196180847972441e-08, 1.7637802707907564e-09, 1.744987137846621e-09, -1.708811216951738e-10, -2.433873557833449e-10};
inline constexpr float kMishRootFloat[] = {3e-01f, -1.1924312e+00f, -3.0439375e-09f, 2.6694793e-01f, 2.0473127e-01f, 4.190782e-02f, -2.0271823e-02f, -1.5821127e-02f, -3.360685e-03f, 1.0924055e-03f, 9.898181e-04f, 2.5412935e-04f};
inline constexpr double kMishRootDouble[] = {0.4, -1.1924312145154952, -4.8484829848031044e-17, 0.2669479140495345, 0.20473126408010586, 0.04190782104360987, -0.020271822716684245, -0.01582112656173338, -0.0033606849270232685, 0.0010924055409445854, 0.0009898181021289196, 0.00025412936386191073, -4.1961496031696126e-05, -5.582891567360688e-05, -1.72992708103044e-05, 9.427361327376651e-07, 2.9088199364912223e-06, 1.071676702702074e-06, 2.6879417855557728e-08, -1.4117255919499382e-07, -6.174424363104907e-08, -5.460186173028381e-09, 6.3895954615089855e-09, 3.3604012383661332e-09};
}  // namespace roots

// x - tanh(x) for |x| < 1.5, where it cancels (one ulp of tanh(x) is two or
// more of the difference below 1.41): x^3 P(x^2 - c), P near-minimax for (x - tanh x) / x^3
// (tools/fit_tanhshrink.py prints {c0_hi, c0_lo, c1, ...}). x^3 and P's
// leading coefficient are carried as hi + lo (fma gives the rounding errors of
// x x and x x^2): rounding them would cost a unit each; this is within 2 ulp.
namespace series {
inline constexpr double kTanhshrinkWindow = 1.5, kTanhshrinkCentre = 1.125;  // c = window^2 / 2
inline constexpr float kTanhshrinkFloat[] = {2.302497e-01f, -9.167274e-10f, -6.298397e-02f, 1.7491039e-02f, -4.867192e-03f, 1.3547157e-03f, -3.771028e-04f, 1.0520746e-04f, -2.9286104e-05f, 7.793796e-06f, -2.1695225e-06f, 8.5566455e-07f, -2.3818737e-07f};
inline constexpr double kTanhshrinkDouble[] = {0.23024970214677892, 2.0222691152820266e-18, -0.06298396506169865, 0.017491030600495887, -0.00486718968296191, 0.0013547848285535146, -0.0003771220802301151, 0.0001049775893248133, -2.9222118060200175e-05, 8.134424926664455e-06, -2.2643420549156968e-06, 6.303145445669624e-07, -1.75457730611111e-07, 4.884086921210281e-08, -1.3595605793650014e-08, 3.785453112190879e-09, -1.0537389914237788e-09, 2.9218910794100313e-10, -8.133532414263315e-11, 2.3579018914535305e-11, -6.56358192094635e-12, 1.3355404025595153e-12, -3.71768175457431e-13, 2.5143864230857145e-13, -6.999180639642659e-14};
}  // namespace series
template <typename T, typename V, size_t N>
C10_ALWAYS_INLINE V x_minus_tanh_near_zero(V x, const T (&c)[N]) {
  const V u_hi = x * x;
  const V u_lo = multiply_sub(x, x, u_hi);
  const V cube_hi = x * u_hi;
  const V cube_lo = multiply_sub(x, u_hi, cube_hi) + x * u_lo;
  const V v = u_hi - V(T(series::kTanhshrinkCentre));
  V p(c[N - 1]);
  for (size_t k = N - 1; k-- > 2;) p = multiply_add(p, v, V(c[k]));
  p = multiply_add(p, v, V(c[1])) + V(c[0]);
  return multiply_add(cube_hi, p, cube_lo * p);
}
template <typename T, typename V>
C10_ALWAYS_INLINE V x_minus_tanh_near_zero(V x) {
  if constexpr (std::is_same_v<T, double>) {
    return x_minus_tanh_near_zero(x, series::kTanhshrinkDouble);
  } else {
    return x_minus_tanh_near_zero(x, series::kTanhshrinkFloat);
  }
}

// d P(d) with d = t - x0_lo, t = x - x0_hi: Horner's rule with fused
// multiply-adds (scalar T or Vectorized<T>).
template <typename T, typename V, size_t N>
C10_ALWAYS_INLINE V near_root(V t, const T (&c)[N]) {
  const V d = t - V(c[2]);
  V p(c[N - 1]);
  for (size_t k = N - 1; k-- > 3;) p = multiply_add(p, d, V(c[k]));
  return d * p;
}

// The derivative given by `away` (computed by the caller for every lane),
// with the lanes inside c's window taken from d P(d). Vectors test whether
// any lane is near before paying for the polynomial.
template <typename T, size_t N>
C10_ALWAYS_INLINE T with_root(T x, const T (&c)[N], T away) {
  const T t = x - c[1];
  return std::abs(t) < c[0] ? near_root<T>(t, c) : away;
}
template <typename T, size_t N>
C10_ALWAYS_INLINE at::vec::Vectorized<T> with_root(at::vec::Vectorized<T> x, const T (&c)[N],
                                                   at::vec::Vectorized<T> away) {
  using V = at::vec::Vectorized<T>;
  const V t = x - V(c[1]);
#if TORCH_ACT_FAST_FLOAT_MATH
  if constexpr (std::is_same_v<T, float>) {
    // |t| by clearing the sign bit: only compared (a NaN lane compares false).
    const Lanes near = lanes_lt(bits_and(t, VF(std::bit_cast<float>(0x7fffffffu))), VF(c[0]));
    return any(near) ? select(near, near_root<T>(t, c), away) : away;
  }
#endif
  const V near = t.abs() < V(c[0]);
  if (near.zero_mask() == (1 << V::size()) - 1) return away;  // no lane near (zero_mask: lanes that are 0)
  return V::blendv(away, near_root<T>(t, c), near);
}

// with_root with the table of T's precision (float for float and the reduced types).
template <typename T, size_t NF, size_t ND, typename V>
C10_ALWAYS_INLINE V with_root_of(V x, const float (&f)[NF], const double (&d)[ND], V away) {
  if constexpr (std::is_same_v<T, double>) {
    return with_root(x, d, away);
  } else {
    return with_root(x, f, away);
  }
}

// d/dx [x sigmoid(z(x))] (SiLU: z = x; GELU's tanh form: z = 2u) from
// e = exp(-|z|), 1 + w and 1 + w + e, w = x z'(x) (the caller rounds each as
// few times as its w allows). With s = sigmoid(z) it is s + w s (1 - s):
//   x < 0:  e (1 + w + e) / (1 + e)^2    (s = e / (1 + e): no 1 - s anywhere)
//   x >= 0: (1 + (1 + w) e) / (1 + e)^2  (every term positive)
// 1 + w + e cancels only near the derivative's zero, which with_root covers.
// (1 + e)^2 is 1 + e (e + 2), one rounding where squaring 1 + e takes two.
template <typename V>
C10_ALWAYS_INLINE V sigmoid_product_derivative(V x, V e, V one_plus_w, V one_plus_w_plus_e) {
  return quotient(where_negative(x, e * one_plus_w_plus_e, multiply_add(one_plus_w, e, V(1))),
                  multiply_add(e, e + V(2), V(1)));
}

}  // namespace CPU_CAPABILITY
}  // namespace torch_act::math
