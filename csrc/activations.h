// The math of every activation, written once: one struct per line of
// torch_act/include/torch_act/activation_list.h, deriving from its params::
// struct (name, family and hyper-parameters, csrc/declarations.h).
//
// Each struct gives the forms its family (the list line's; what backward
// keeps) calls, over the "opmath" type T (float for float/half/bfloat16,
// double for double):
//   forward(x)                         f, as a scalar and an at::vec::Vectorized overload
//   family Mask:    mask_bit(x), backward(grad, bit)      the bit and grad * f' from it
//   family Output:  backward_from_output(grad, y)         grad * f' from the output
//   family Input:   backward_from_input(grad, x)          grad * f' from the input
//   family OutputOrInput: both, and saves_output() to pick one
//   and double_backward_from_*(gg, g, saved): d(backward)/d(saved) times gg,
//   in ATen ops (a template over the tensor type, instantiated by autograd only).
// The weighted family's (PReLU) and gated family's forms are described
// where they are defined. FamilyFormsOf at the end checks them all.
// The scalar forms are C10_HOST_DEVICE: the CUDA kernels call them too. The
// vector forms are forced inline: GCC kept SiLU's backward out of line once
// it grew, a call per vector in the loop.
// A struct whose hyper-parameter picks between formulas gives them as nested
// structs, lists them in `forms`, and gives with_form(f), which calls f with
// the one picked (the free with_form below).
// Comparisons and products by a hyper-parameter are exact and match
// torch.nn bit for bit; the smooth ones are within 4 ulp of the exact value
// over the whole line (tests/test_accuracy.py), from vec_math.h's exp in the
// AVX2 and AVX-512 builds and ATen's elsewhere, and vec_accurate.h's forms.
#pragma once

#include "declarations.h"
#include "vec_accurate.h"
#include "vec_math.h"
#include "vec_math_normal.h"
#include "vec_piecewise.h"

#include <ATen/cpu/vec/vec.h>
#include <c10/macros/Macros.h>

#include <c10/core/ScalarType.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

// Compiled once per CPU capability (cpu/capability_*.cpp): each build lives in
// a namespace of its own, like ATen's vector code, so the linker never mixes them.
#ifndef CPU_CAPABILITY
#define CPU_CAPABILITY DEFAULT
#endif

namespace torch_act::act {
inline namespace CPU_CAPABILITY {

template <typename T>
using Vec = at::vec::Vectorized<T>;

// Hyper-parameters are doubles converted to T where used: reduced types then
// apply them as float and float64 as double, as ATen does.

// The backward of the mask family where the derivative is 1 where the bit is
// set and 0 elsewhere: selects rather than multiplies, so an inf/NaN grad on
// the flat side gives 0, as torch's threshold_backward and hardtanh_backward.
struct PassesWhereSet {
  template <typename T> C10_HOST_DEVICE T backward(T grad, bool bit) const { return bit ? grad : T(0); }
  // `set_lanes`: the lanes where the bit is set (math::Lanes, or all-ones vector lanes).
  template <typename T, typename Lanes> C10_ALWAYS_INLINE Vec<T> backward(Vec<T> grad, Lanes set_lanes) const {
    return math::keep_where(set_lanes, grad);
  }
};

// The host scalar and the vector forward and backward_from_input of a struct
// whose math is written once for both kinds, as static forward_any<T>(x) and
// derivative<T>(x) over V = T or Vec<T> (GELU's tanh form, SiLU, Mish). On
// the device the struct declares its own scalar forms, which hide these.
template <typename Self>
struct FormsFromAny {
#if !defined(__CUDA_ARCH__)
  template <typename T> T forward(T x) const { return Self::template forward_any<T>(x); }
  template <typename T> T backward_from_input(T grad, T x) const { return grad * Self::template derivative<T>(x); }
#endif
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const { return Self::template forward_any<T>(x); }
  template <typename T> C10_ALWAYS_INLINE Vec<T> backward_from_input(Vec<T> grad, Vec<T> x) const {
    return grad * Self::template derivative<T>(x);
  }
  // (f(x), grad * f'(x)) sharing their work, where Self gives forward_and_derivative.
  template <typename T, typename S = Self>
  C10_ALWAYS_INLINE auto forward_and_backward_from_input(Vec<T> grad, Vec<T> x) const
      -> decltype(S::template forward_and_derivative<T>(x), std::pair<Vec<T>, Vec<T>>()) {
    const auto [value, derivative] = S::template forward_and_derivative<T>(x);
    return {value, grad * derivative};
  }
};

// ReLU: y = max(x, 0), NaN propagates, and -0.0 stays -0.0 as in torch (only
// x < 0 is replaced). The mask bit is !(x <= 0) so that the gradient at NaN
// is grad and at -0.0 is 0, as torch's threshold_backward(grad, result, 0).
struct ReLU : params::relu, PassesWhereSet {
  template <typename T> C10_HOST_DEVICE T forward(T x) const { return x < T(0) ? T(0) : x; }
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const { return math::relu(x); }
  template <typename T> C10_HOST_DEVICE bool mask_bit(T x) const { return !(x <= T(0)); }
  // The lanes where the bit is set: x > 0, or NaN.
  template <typename T> C10_ALWAYS_INLINE auto mask_bit(Vec<T> x) const { return math::lanes_not_at_most(x, T(0)); }
};

// torch's clamp between lo and hi (Hardtanh, ReLU6): NaN propagates, -0.0
// stays -0.0, every value is hi where lo > hi. The bit is !(x <= lo || x >= hi),
// so the gradient is 0 at lo and hi and grad at NaN, as torch's hardtanh_backward.
template <typename T> C10_HOST_DEVICE T clamp_between(T x, T lo, T hi) {
  const T r = x < lo ? lo : x;
  return r > hi ? hi : r;
}
template <typename T> C10_HOST_DEVICE bool inside(T x, T lo, T hi) { return !(x <= lo || x >= hi); }

struct Hardtanh : params::hardtanh, PassesWhereSet {
  // As torch.nn.functional.hardtanh, which refuses it in Python before its op.
  std::string invalid_params() const { return min_val > max_val ? "min_val cannot be greater than max_val" : ""; }
  template <typename T> C10_HOST_DEVICE T forward(T x) const { return clamp_between(x, T(min_val), T(max_val)); }
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const {
    return math::clamp_between(x, T(min_val), T(max_val));
  }
  template <typename T> C10_HOST_DEVICE bool mask_bit(T x) const { return inside(x, T(min_val), T(max_val)); }
  template <typename T> C10_ALWAYS_INLINE auto mask_bit(Vec<T> x) const {
    return math::lanes_of<math::Interval::inside>(x, T(min_val), T(max_val));
  }
};

// ReLU6: torch's hardtanh(x, 0, 6).
struct ReLU6 : params::relu6, PassesWhereSet {
  template <typename T> C10_HOST_DEVICE T forward(T x) const { return clamp_between(x, T(0), T(6)); }
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const { return math::clamp_between(x, T(0), T(6)); }
  template <typename T> C10_HOST_DEVICE bool mask_bit(T x) const { return inside(x, T(0), T(6)); }
  template <typename T> C10_ALWAYS_INLINE auto mask_bit(Vec<T> x) const {
    return math::lanes_of<math::Interval::inside>(x, T(0), T(6));
  }
};

// Threshold: y = x <= threshold ? value : x (NaN kept); the bit !(x <= threshold)
// as torch's threshold_backward. Reduced types compare in float, as torch.
struct Threshold : params::threshold, PassesWhereSet {
  template <typename T> C10_HOST_DEVICE T forward(T x) const { return x <= T(threshold) ? T(value) : x; }
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const {
    return math::replace_at_most(x, T(threshold), T(value));
  }
  template <typename T> C10_HOST_DEVICE bool mask_bit(T x) const { return !(x <= T(threshold)); }
  template <typename T> C10_ALWAYS_INLINE auto mask_bit(Vec<T> x) const {
    return math::lanes_not_at_most(x, T(threshold));
  }
};

// The shrinks: the bit is !(-lambd <= x <= lambd) (NaN: set), as torch's
// hardshrink_backward and softshrink_backward.
template <typename T> C10_HOST_DEVICE bool outside(T x, T lambd) { return !(x >= -lambd && x <= lambd); }

// Hardshrink: y = x where the bit is set, +0 elsewhere.
struct Hardshrink : params::hardshrink, PassesWhereSet {
  template <typename T> C10_HOST_DEVICE T forward(T x) const { return outside(x, T(lambd)) ? x : T(0); }
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const { return math::keep_where(mask_bit(x), x); }
  template <typename T> C10_HOST_DEVICE bool mask_bit(T x) const { return outside(x, T(lambd)); }
  template <typename T> C10_ALWAYS_INLINE auto mask_bit(Vec<T> x) const {
    return math::lanes_of<math::Interval::outside>(x, T(-lambd), T(lambd));
  }
};

// Softshrink: x - lambd above lambd, x + lambd below -lambd, +0 between, NaN
// kept. torch refuses a lambd outside [0, the dtype's largest value].
struct Softshrink : params::softshrink, PassesWhereSet {
  std::string invalid_params(at::ScalarType dtype) const {
    const double largest = dtype == at::kDouble ? std::numeric_limits<double>::max()
                           : dtype == at::kHalf ? double(std::numeric_limits<c10::Half>::max())
                           : dtype == at::kBFloat16 ? double(std::numeric_limits<c10::BFloat16>::max())
                                                    : double(std::numeric_limits<float>::max());
    if (lambd >= 0 && lambd <= largest) return "";
    std::ostringstream why;
    why << "lambda must be in range [0, " << largest << "] for input dtype " << dtype << ", but found " << lambd;
    return why.str();
  }
  template <typename T> C10_HOST_DEVICE T forward(T x) const {
    return outside(x, T(lambd)) ? (x > T(lambd) ? x - T(lambd) : x + T(lambd)) : T(0);
  }
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const {
    const Vec<T> l = Vec<T>(T(lambd));
    return math::keep_where(mask_bit(x), Vec<T>::blendv(x + l, x - l, x > l));
  }
  template <typename T> C10_HOST_DEVICE bool mask_bit(T x) const { return outside(x, T(lambd)); }
  template <typename T> C10_ALWAYS_INLINE auto mask_bit(Vec<T> x) const {
    return math::lanes_of<math::Interval::outside>(x, T(-lambd), T(lambd));
  }
};

// Hardsigmoid: clamp(x + 3, 0, 6) / 6 (a division, as torch: x / 6 and
// x * (1 / 6) differ in the last bit); the bit -3 < x < 3 (NaN: clear, as
// torch's hardsigmoid_backward), where the derivative is 1/6. torch's float64
// backward multiplies by 1/6 rounded to float (3e-8 off): here 1/6 in T.
struct Hardsigmoid : params::hardsigmoid {
  template <typename T> C10_HOST_DEVICE T forward(T x) const { return clamp_between(x + T(3), T(0), T(6)) / T(6); }
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const {
    return math::clamp_between(x + Vec<T>(T(3)), T(0), T(6)) / Vec<T>(T(6));
  }
  template <typename T> C10_HOST_DEVICE bool mask_bit(T x) const { return x > T(-3) && x < T(3); }
  template <typename T> C10_ALWAYS_INLINE auto mask_bit(Vec<T> x) const {
    return math::lanes_of<math::Interval::strictly_inside>(x, T(-3), T(3));
  }
  template <typename T> C10_HOST_DEVICE T backward(T grad, bool bit) const { return bit ? grad * (T(1) / T(6)) : T(0); }
  template <typename T, typename Lanes> C10_ALWAYS_INLINE Vec<T> backward(Vec<T> grad, Lanes set_lanes) const {
    return math::keep_where(set_lanes, grad * Vec<T>(T(1) / T(6)));
  }
};

// LeakyReLU: y = x > 0 ? x : slope * x. Gradient grad * slope on the negative
// side (a product, so -inf * 0 is NaN exactly as in torch).
struct LeakyReLU : params::leaky_relu {
  template <typename T> C10_HOST_DEVICE T forward(T x) const { return x > T(0) ? x : x * T(negative_slope); }
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const {
    return math::leaky(x, Vec<T>(T(negative_slope)));
  }
  template <typename T> C10_HOST_DEVICE bool mask_bit(T x) const { return x > T(0); }
  template <typename T> C10_ALWAYS_INLINE auto mask_bit(Vec<T> x) const { return math::lanes_above_zero(x); }
  // grad * 1 is grad exactly; selecting the factor first vectorizes better.
  template <typename T> C10_HOST_DEVICE T backward(T grad, bool bit) const {
    return grad * (bit ? T(1) : T(negative_slope));
  }
  template <typename T, typename Lanes> C10_ALWAYS_INLINE Vec<T> backward(Vec<T> grad, Lanes set_lanes) const {
    return math::scale_where_not(set_lanes, grad, Vec<T>(T(negative_slope)));
  }
};

// Random bits for element `index` of a call with `seed`: a hash of the pair,
// so every backend draws the same number for an element wherever and in
// whatever order it runs, and backward can draw it again instead of keeping
// it. mix32 is a bijection of 32 bits (the "lowbias32" multipliers from
// Chris Wellons' hash-prospector search), applied twice so that all 64 bits
// of seed and index reach every output bit.
C10_HOST_DEVICE inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  return x ^ (x >> 16);
}
C10_HOST_DEVICE inline uint32_t random_bits(int64_t seed, int64_t index) {
  const uint64_t s = static_cast<uint64_t>(seed), i = static_cast<uint64_t>(index);
  return mix32(mix32(static_cast<uint32_t>(i) + static_cast<uint32_t>(s)) ^
               (static_cast<uint32_t>(i >> 32) + static_cast<uint32_t>(s >> 32)));
}

// RReLU: LeakyReLU whose slope is drawn per element from U(lower, upper) in
// training (torch's rule: x <= 0 ? x * slope : x, so the gradient at NaN is
// grad) and is (lower + upper) / 2 out of training, where it is torch's
// leaky_relu bit for bit (gradient at NaN grad * slope). The slope of an
// element is a function of the op's seed and the element's index in memory
// order (the mask's bit order), so backward keeps the 1-bit mask and the seed.
struct RReLU : params::rrelu {
  static constexpr bool slope_per_element = true;
  // torch.nn's checks and words, out of training too.
  std::string invalid_params() const {
    std::ostringstream why;
    if (!std::isfinite(lower)) {
      why << "rrelu: lower bound must be finite, got " << lower;
    } else if (!std::isfinite(upper)) {
      why << "rrelu: upper bound must be finite, got " << upper;
    } else if (lower > upper) {
      why << "Lower bound should be less than or equal to the upper bound";
    }
    return why.str();
  }
  // Element index's slope: lower + w u in double, u in [0, 1) of 29 random
  // bits and w = upper - lower cut to 24 significant bits (towards zero, so
  // w u < upper - lower). 24 + 29 bits: w u is exact, so the sum rounds once
  // whether or not the compiler fuses it into an FMA (GCC and nvcc may):
  // every CPU build, CUDA and a reference in numpy get the same slope.
  // (Cut with bits: GCC's AVX-512 vectorizer dropped a float round trip.)
  template <typename T> C10_HOST_DEVICE T slope(int64_t index) const {
    if (!training) return T((lower + upper) / 2);
    const double width = std::bit_cast<double>(std::bit_cast<uint64_t>(upper - lower) & ~((uint64_t{1} << 29) - 1));
    const double u = static_cast<int32_t>(random_bits(seed, index) >> 3) * 0x1p-29;
    return T(lower + width * u);
  }
  // The slopes of elements begin .. begin + len - 1 (a loop the compiler vectorizes).
  template <typename T> void fill_slopes(int64_t begin, int64_t len, T* out) const {
    if (!training) {
      std::fill_n(out, len, T((lower + upper) / 2));
      return;
    }
    for (int64_t k = 0; k < len; ++k) out[k] = slope<T>(begin + k);
  }
  template <typename T> C10_HOST_DEVICE T forward(T x, T slope) const { return x > T(0) ? x : x * slope; }
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x, Vec<T> slope) const { return math::leaky(x, slope); }
  template <typename T> C10_HOST_DEVICE bool mask_bit(T x) const { return training ? !(x <= T(0)) : x > T(0); }
  template <typename T> C10_ALWAYS_INLINE auto mask_bit(Vec<T> x) const {
    return training ? math::lanes_not_at_most(x, T(0)) : math::lanes_above_zero(x);
  }
  template <typename T> C10_HOST_DEVICE T backward(T grad, bool bit, T slope) const {
    return grad * (bit ? T(1) : slope);
  }
  template <typename T, typename Lanes> C10_ALWAYS_INLINE Vec<T> backward(Vec<T> grad, Lanes set_lanes, Vec<T> slope) const {
    return math::scale_where_not(set_lanes, grad, slope);
  }
};

// The forward and mask backward of element `index`, whether or not the
// activation's slope varies per element (RReLU's): what the CUDA kernels call.
template <typename Act>
constexpr bool kSlopePerElement = requires { Act::slope_per_element; };
template <typename Act, typename T>
C10_HOST_DEVICE T forward_of_element(const Act& act, T x, int64_t index) {
  if constexpr (kSlopePerElement<Act>) {
    return act.forward(x, act.template slope<T>(index));
  } else {
    return act.forward(x);
  }
}
template <typename Act, typename T>
C10_HOST_DEVICE T mask_backward_of_element(const Act& act, T grad, bool bit, int64_t index) {
  if constexpr (kSlopePerElement<Act>) {
    return act.backward(grad, bit, act.template slope<T>(index));
  } else {
    return act.backward(grad, bit);
  }
}

// ELU (scale = input_scale = 1): y = x <= 0 ? alpha * expm1(x) : x.
// For alpha >= 0, y <= 0 exactly where x <= 0, so the derivative follows
// from the output: grad * (y + alpha), no exp. For alpha < 0 it needs the input.
struct ELU : params::elu {
  bool saves_output() const { return alpha >= 0; }
  template <typename T> C10_HOST_DEVICE T forward(T x) const {
    return x <= T(0) ? std::expm1(x) * T(alpha) : x;
  }
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const {
    return math::select_nonpositive(x, math::expm1_nonpositive(x) * Vec<T>(T(alpha)), x);
  }
  // Both take the negative side where the saved value is <= 0, so a NaN
  // input's gradient is grad (NaN <= 0 is false), as torch.nn's scalar and
  // CUDA kernels give (its CPU vector body gives NaN there: torch disagrees
  // with itself, torch_act does not).
  template <typename T> C10_HOST_DEVICE T backward_from_output(T grad, T y) const {
    return y <= T(0) ? grad * (y + T(alpha)) : grad;
  }
  template <typename T> C10_ALWAYS_INLINE Vec<T> backward_from_output(Vec<T> grad, Vec<T> y) const {
    return math::select_nonpositive(y, grad * (y + Vec<T>(T(alpha))), grad);
  }
  template <typename T> C10_HOST_DEVICE T backward_from_input(T grad, T x) const {
    return x <= T(0) ? grad * T(alpha) * std::exp(x) : grad;
  }
  template <typename T> C10_ALWAYS_INLINE Vec<T> backward_from_input(Vec<T> grad, Vec<T> x) const {
    // alpha exp(x) for x <= 0, near underflow without an exp rounded into the subnormals first.
    const Vec<T> derivative = math::of_exp_minus_abs<T>(x, [this](Vec<T> e) { return Vec<T>(T(alpha)) * e; });
    return math::select_nonpositive(x, grad * derivative, grad);
  }
  // Zero unless the saved value is < 0, as torch.nn's second derivative
  // (zero at the kink and at NaN).
  template <typename Tensor>
  Tensor double_backward_from_output(const Tensor& gg, const Tensor& g, const Tensor& y) const {
    return (gg * g).masked_fill((y < 0).logical_not(), 0);
  }
  template <typename Tensor>
  Tensor double_backward_from_input(const Tensor& gg, const Tensor& g, const Tensor& x) const {
    return (gg * g * alpha * x.exp()).masked_fill((x < 0).logical_not(), 0);
  }
};

// SELU: scale * ELU(x, alpha) with torch's constants: y = x <= 0 ?
// expm1(x) * (alpha scale) : x * scale, alpha scale rounded once as torch's
// negcoef. Backward keeps the input, as torch.nn's: from the output, y + alpha
// scale would round alpha scale to float in float32 and lose f' where y
// saturates; from the input it is alpha scale exp(x), exact near underflow too.
struct SELU : params::selu {
  static constexpr double kAlpha = 1.6732632423543772848170429916717, kScale = 1.0507009873554804934193349852946;
  static constexpr double kNegative = kAlpha * kScale;
  template <typename T> C10_HOST_DEVICE T forward(T x) const {
    return x <= T(0) ? std::expm1(x) * T(kNegative) : x * T(kScale);
  }
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const {
    return math::select_nonpositive(x, math::expm1_nonpositive(x) * Vec<T>(T(kNegative)), x * Vec<T>(T(kScale)));
  }
  // NaN: grad * scale (NaN <= 0 is false), as torch.nn's scalar path.
  template <typename T> C10_HOST_DEVICE T backward_from_input(T grad, T x) const {
    return x <= T(0) ? grad * T(kNegative) * std::exp(x) : grad * T(kScale);
  }
  template <typename T> C10_ALWAYS_INLINE Vec<T> backward_from_input(Vec<T> grad, Vec<T> x) const {
    const Vec<T> derivative = math::of_exp_minus_abs<T>(x, [](Vec<T> e) { return Vec<T>(T(kNegative)) * e; });
    return math::select_nonpositive(x, grad * derivative, grad * Vec<T>(T(kScale)));
  }
  template <typename Tensor>
  Tensor double_backward_from_input(const Tensor& gg, const Tensor& g, const Tensor& x) const {
    return (gg * g * kNegative * x.exp()).masked_fill((x < 0).logical_not(), 0);
  }
};

// CELU: y = x <= 0 ? alpha * expm1(x / alpha) : x (torch: ELU with input
// scale 1 / alpha; x / alpha here, rounded once). y <= 0 exactly where x <= 0
// for either sign of alpha, so backward reads the output: grad * (y + alpha)
// / alpha there. alpha = 0 is refused, as torch.
struct CELU : params::celu {
  std::string invalid_params() const { return alpha == 0 ? "ZeroDivisionError: alpha cannot be 0 for CELU" : ""; }
  template <typename T> C10_HOST_DEVICE T forward(T x) const {
    return x <= T(0) ? std::expm1(x / T(alpha)) * T(alpha) : x;
  }
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const {
    const Vec<T> u = x / Vec<T>(T(alpha));  // <= 0 where x <= 0 and alpha > 0
    const Vec<T> e = alpha > 0 ? math::expm1_nonpositive(u) : u.expm1();
    return math::select_nonpositive(x, e * Vec<T>(T(alpha)), x);
  }
  template <typename T> C10_HOST_DEVICE T backward_from_output(T grad, T y) const {
    return y <= T(0) ? grad * ((y + T(alpha)) / T(alpha)) : grad;
  }
  template <typename T> C10_ALWAYS_INLINE Vec<T> backward_from_output(Vec<T> grad, Vec<T> y) const {
    return math::select_nonpositive(y, grad * ((y + Vec<T>(T(alpha))) / Vec<T>(T(alpha))), grad);
  }
  template <typename Tensor>
  Tensor double_backward_from_output(const Tensor& gg, const Tensor& g, const Tensor& y) const {
    return (gg * g / alpha).masked_fill((y < 0).logical_not(), 0);
  }
};

// The scalar softplus(z) = max(z, 0) + log1p(exp(-|z|)) and sigmoid(z) from
// exp(-|z|), for every backend (C10_HOST_DEVICE): neither cancels nor
// overflows; double and the DEFAULT build take these on the CPU.
template <typename T> C10_HOST_DEVICE T softplus_of(T z) {
  return (z > T(0) ? z : T(0)) + std::log1p(std::exp(z < T(0) ? z : -z));
}
template <typename T> C10_HOST_DEVICE T sigmoid_of(T z) {
  const T e = std::exp(z < T(0) ? z : -z);
  return (z < T(0) ? e : T(1)) / (T(1) + e);
}

// Sigmoid: y = 1 / (1 + exp(-x)); dy/dx = (1 - y) * y.
struct Sigmoid : params::sigmoid {
  // From e = exp(-|x|) <= 1 (sigmoid_of): 1 / (1 + exp(-x)) is 0 where exp(-x) overflows,
  // below -88.7 in float, while sigmoid(x) is still a (subnormal) float down to -103.
  template <typename T> C10_HOST_DEVICE T forward(T x) const { return sigmoid_of(x); }
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const { return math::sigmoid<T>(x); }
  template <typename T> C10_HOST_DEVICE T backward_from_output(T grad, T y) const { return grad * (T(1) - y) * y; }
  template <typename T> C10_ALWAYS_INLINE Vec<T> backward_from_output(Vec<T> grad, Vec<T> y) const {
    return grad * (Vec<T>(T(1)) - y) * y;
  }
  // From the input (the gated family has the gate, not sigmoid of it): e / (1 + e)^2,
  // e = exp(-|x|), where (1 - y) y would cancel for x >> 0 (1 - y is y's rounding error there).
#if defined(__CUDA_ARCH__)
  template <typename T> __device__ T backward_from_input(T grad, T x) const {
    const T e = exp(-fabs(x));
    return grad * (e / ((T(1) + e) * (T(1) + e)));
  }
#else
  template <typename T> T backward_from_input(T grad, T x) const {
    const T e = std::exp(-std::abs(x));
    return grad * (e / ((T(1) + e) * (T(1) + e)));
  }
#endif
  template <typename T> C10_ALWAYS_INLINE Vec<T> backward_from_input(Vec<T> grad, Vec<T> x) const {
    return grad * math::of_exp_minus_abs<T>(x, [](Vec<T> e) {
      const Vec<T> d = Vec<T>(T(1)) + e;
      return e / (d * d);
    });
  }
  template <typename Tensor>
  Tensor double_backward_from_output(const Tensor& gg, const Tensor& g, const Tensor& y) const {
    return gg * g * (1 - 2 * y);
  }
};

// Tanh: dy/dx = 1 - y^2.
struct Tanh : params::tanh {
  template <typename T> C10_HOST_DEVICE T forward(T x) const { return std::tanh(x); }
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const { return math::tanh(x); }
  // (1 - y)(1 + y): 1 - y is exact for y >= 1/2, where 1 - y * y would cancel.
  template <typename T> C10_HOST_DEVICE T backward_from_output(T grad, T y) const {
    return grad * ((T(1) - y) * (T(1) + y));
  }
  template <typename T> C10_ALWAYS_INLINE Vec<T> backward_from_output(Vec<T> grad, Vec<T> y) const {
    return grad * at::vec::fnmadd(y, y, Vec<T>(T(1)));  // 1 - y^2, one rounding
  }
  template <typename Tensor>
  Tensor double_backward_from_output(const Tensor& gg, const Tensor& g, const Tensor& y) const {
    return -2 * gg * g * y;
  }
};

// GELU: x * Phi(x), Phi the standard normal CDF (approximate 'none'); or
// 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3) ('tanh'), computed as
// x * sigmoid(2u), which has no cancellation for x < 0. Backward reads the input.
struct GELU : params::gelu {
  static constexpr double kSqrt2OverPi = 0.7978845608028654, kCubic = 0.044715, kInvSqrt2Pi = 0.3989422804014327;
  bool tanh_form = approximate == "tanh";
  std::string invalid_params() const {
    if (approximate == "none" || tanh_form) return "";
    return "expected 'approximate' to be 'none' or 'tanh', but got '" + approximate + "'";
  }
  // The CPU's scalar forms run in double: erfc(x / sqrt 2) for x << 0 would
  // amplify the rounding of a float argument 2 x^2 times. On the GPU double
  // math runs at a fraction of float's rate and made GELU compute-bound (half
  // the copy bandwidth on an H100), so there T is the compute type (float for
  // float/half/bfloat16), as torch's CUDA GELU; where the amplification shows,
  // |GELU(x)| < 1e-4.
  // Backward: grad * (Phi + x phi).
  struct Erf {
#if defined(__CUDA_ARCH__)
    template <typename T> __device__ T forward(T x) const { return x * T(0.5) * erfc(x * T(-M_SQRT1_2)); }
    template <typename T> __device__ T backward_from_input(T grad, T x) const {
      return grad * (T(0.5) * erfc(x * T(-M_SQRT1_2)) + x * T(kInvSqrt2Pi) * exp(T(-0.5) * x * x));
    }
#else
    template <typename T> T forward(T x) const { return T(math::gelu_erf_from_normal_parts<double>(double(x))); }
    template <typename T> T backward_from_input(T grad, T x) const { return grad * T(derivative<double>(double(x))); }
#endif
    template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const { return math::gelu_erf(x); }
    template <typename T> C10_ALWAYS_INLINE Vec<T> backward_from_input(Vec<T> grad, Vec<T> x) const {
      return grad * derivative<T>(x);
    }
    // Phi + x phi, and d P(d) near its zero at -0.7518.
    template <typename T, typename V = T> static C10_ALWAYS_INLINE V derivative(V x) {
      return math::with_root_of<T>(x, math::roots::kGeluRootFloat, math::roots::kGeluRootDouble,
                                   math::gelu_erf_derivative<T>(x));
    }
  };
  // x sigmoid(2u), 2u = A x (1 + k x^2), A = 2 sqrt(2 / pi), k = 0.044715. For
  // x < 0, sigmoid(2u) multiplies the relative error of 2u by |2u| (up to 104
  // in float): 2u is carried as hi + lo, A and k too. x is clamped for 2u to
  // where exp(-|2u|) is zero in T even when taken 2^S larger near underflow
  // (math::Deep): |x| 13 in float, 30 in double (|2u| 177 and 1977), so 2u's
  // low part stays far below its ulp. Its derivative is s + w s (1 - s),
  // w = x (2u)' (math::sigmoid_product_derivative).
  struct TanhForm : FormsFromAny<TanhForm> {
    template <typename T> static constexpr T kClamp = std::is_same_v<T, double> ? 30.0 : 13.0;
    // A = 2 sqrt(2 / pi) as hi + lo.
    template <typename T> static constexpr math::Split<T> kA =
        math::split_constant<T>({1.5957692e+00f, -4.534068e-08f}, {1.5957691216057308, -9.96930880911092e-17});
    template <typename T, typename V> static C10_ALWAYS_INLINE math::Split<V> two_u(V x) {
      const V xc = math::clamp_magnitude(x, kClamp<T>);
      const auto k = math::split_constant<T>({4.4715e-02f, 1.5461444e-09f}, {0.044715, 2.1960211427085595e-18});
      const V x2 = xc * xc;
      math::Split<V> t = math::times_split(k, x2);  // k x^2, + k x^2's own low part below
      t.lo = math::multiply_add(V(k.hi), math::multiply_sub(xc, xc, x2), t.lo);
      const V q = V(T(1)) + t.hi, b = q - V(T(1));  // 1 + k x^2 = q + q_lo (two-sum)
      const V q_lo = ((V(T(1)) - (q - b)) + (t.hi - b)) + t.lo;
      const math::Split<V> ax = math::times_split(kA<T>, xc);
      const V z = ax.hi * q;
      return {z, math::multiply_sub(ax.hi, q, z) + math::multiply_add(ax.hi, q_lo, ax.lo * q)};
    }
    template <typename T, typename V> static C10_ALWAYS_INLINE V forward_any(V x) {
      return math::of_exp_minus_abs<T>(two_u<T>(x), [x](V e) { return math::times_sigmoid_from_exp(x, e); });
    }
    // f'(x) from e = exp(-|2u|), the parts that need no e computed first.
    template <typename T, typename V> static C10_ALWAYS_INLINE auto derivative_from_exp(V x) {
      const V xc = math::clamp_magnitude(x, kClamp<T>);
      // w = x (2u)' = A x (1 + 3 k x^2), and 1 + w with A x carried as hi + lo:
      // (1 + w) + e cancels by up to a third next to the zero's window. Both from
      // the clamped x, + (x - x): NaN at x = +-inf, where torch.nn's derivative is
      // NaN (inf * 0), unchanged elsewhere.
      const math::Split<V> ax = math::times_split(kA<T>, xc);
      const V q = math::multiply_add(V(T(3 * kCubic)) * xc, xc, V(T(1)));
      const V nan_at_infinity = x - x;
      const V one_plus_w = math::multiply_add(ax.lo, q, math::multiply_add(ax.hi, q, V(T(1)))) + nan_at_infinity;
      return [=](V e) {
        // 1 + w + e with its one rounding at its own size: it is 1 + w shrunk by up to 3x next to the root's window.
        const V sum = math::multiply_add(ax.hi, q, math::multiply_add(ax.lo, q, V(T(1)) + e)) + nan_at_infinity;
        return math::sigmoid_product_derivative(x, e, one_plus_w, sum);
      };
    }
    template <typename T, typename V> static C10_ALWAYS_INLINE V derivative(V x) {
      const V away = math::of_exp_minus_abs<T>(two_u<T>(x), derivative_from_exp<T>(x));
      return math::with_root_of<T>(x, math::roots::kGeluTanhRootFloat, math::roots::kGeluTanhRootDouble, away);
    }
    // Both from one 2u and one exp: the gated family's backward needs f(x) and f'(x) at once.
    template <typename T, typename V> static C10_ALWAYS_INLINE std::pair<V, V> forward_and_derivative(V x) {
      const auto [value, away] = math::of_exp_minus_abs2<T>(
          two_u<T>(x), [x](V e) { return math::times_sigmoid_from_exp(x, e); }, derivative_from_exp<T>(x));
      return {value, math::with_root_of<T>(x, math::roots::kGeluTanhRootFloat, math::roots::kGeluTanhRootDouble, away)};
    }
#if defined(__CUDA_ARCH__)
    template <typename T> static __device__ T two_u_plain(T x) { return T(2 * kSqrt2OverPi) * x * (T(1) + T(kCubic) * x * x); }
    template <typename T> __device__ T forward(T x) const { return x / (T(1) + exp(-two_u_plain(x))); }
    template <typename T> __device__ T backward_from_input(T grad, T x) const {
      const T s = T(1) / (T(1) + exp(-two_u_plain(x)));
      return grad * (s + T(2) * x * s * (T(1) - s) * T(kSqrt2OverPi) * (T(1) + T(3 * kCubic) * x * x));
    }
#endif
  };
  using forms = List<Erf, TanhForm>;
  template <typename F> void with_form(const F& f) const { tanh_form ? f(TanhForm{}) : f(Erf{}); }
  template <typename Tensor>
  Tensor double_backward_from_input(const Tensor& gg, const Tensor& g, const Tensor& x) const {
    if (tanh_form) {
      const Tensor s = (2 * kSqrt2OverPi * (x + kCubic * x * x * x)).sigmoid();
      const Tensor du = kSqrt2OverPi * (1 + 3 * kCubic * x * x);
      const Tensor ds = 2 * s * (1 - s) * du;
      const Tensor d2s = 2 * (ds * (1 - 2 * s) * du + s * (1 - s) * (6 * kSqrt2OverPi * kCubic) * x);
      return gg * g * (2 * ds + x * d2s);
    }
    return gg * g * kInvSqrt2Pi * (-0.5 * x * x).exp() * (2 - x * x);  // phi (2 - x^2)
  }
};

// SiLU (swish): x * sigmoid(x); d/dx = s (1 + x (1 - s)), written without
// 1 - s (math::sigmoid_product_derivative) and as d P(d) near its zero at
// -1.2785. Backward reads the input.
struct SiLU : params::silu, FormsFromAny<SiLU> {
  // x sigmoid(x) and its derivative from e = exp(-|x|), the same forms for scalars and vectors.
  template <typename V> static C10_ALWAYS_INLINE V value_from_exp(V x, V e) { return math::times_sigmoid_from_exp(x, e); }
  template <typename T, typename V> static C10_ALWAYS_INLINE V derivative_from_exp(V x, V e) {
    const V one_plus_x = V(T(1)) + x;
    return math::sigmoid_product_derivative(x, e, one_plus_x, one_plus_x + e);
  }
  template <typename T, typename V> static C10_ALWAYS_INLINE V forward_any(V x) {
    return math::of_exp_minus_abs<T>(x, [x](V e) { return value_from_exp(x, e); });
  }
  template <typename T, typename V> static C10_ALWAYS_INLINE V derivative(V x) {
    const V away = math::of_exp_minus_abs<T>(x, [x](V e) { return derivative_from_exp<T>(x, e); });
    return math::with_root_of<T>(x, math::roots::kSiluRootFloat, math::roots::kSiluRootDouble, away);
  }
  // Both from one exp: the gated family's backward needs f(x) and f'(x) at once.
  template <typename T, typename V> static C10_ALWAYS_INLINE std::pair<V, V> forward_and_derivative(V x) {
    const auto [value, away] = math::of_exp_minus_abs2<T>(
        x, [x](V e) { return value_from_exp(x, e); }, [x](V e) { return derivative_from_exp<T>(x, e); });
    return {value, math::with_root_of<T>(x, math::roots::kSiluRootFloat, math::roots::kSiluRootDouble, away)};
  }
#if defined(__CUDA_ARCH__)
  template <typename T> __device__ T forward(T x) const { return x / (T(1) + exp(-x)); }
  template <typename T> __device__ T backward_from_input(T grad, T x) const {
    const T s = T(1) / (T(1) + exp(-x));
    return grad * s * (T(1) + x * (T(1) - s));
  }
#endif
  template <typename Tensor>
  Tensor double_backward_from_input(const Tensor& gg, const Tensor& g, const Tensor& x) const {
    const Tensor s = x.sigmoid();
    return gg * g * s * (1 - s) * (2 + x * (1 - 2 * s));
  }
};

// Hardswish: x * clamp(x + 3, 0, 6) / 6, in torch's order of operations (bit
// for bit). Its derivative x / 3 + 1/2 on (-3, 3) is linear in x: backward
// keeps the input. 0 for x <= -3, grad for x >= 3 and at NaN (torch's scalar
// path; its CPU vector body gives NaN there).
struct Hardswish : params::hardswish {
  template <typename T> C10_HOST_DEVICE T forward(T x) const { return x * clamp_between(x + T(3), T(0), T(6)) / T(6); }
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const {
    return x * math::clamp_between(x + Vec<T>(T(3)), T(0), T(6)) / Vec<T>(T(6));
  }
  template <typename T> C10_HOST_DEVICE T backward_from_input(T grad, T x) const {
    return x <= T(-3) ? T(0) : (x < T(3) ? grad * (x / T(3) + T(0.5)) : grad);
  }
  template <typename T> C10_ALWAYS_INLINE Vec<T> backward_from_input(Vec<T> grad, Vec<T> x) const {
    const Vec<T> inside = Vec<T>::blendv(grad, grad * (x / Vec<T>(T(3)) + Vec<T>(T(0.5))), x < Vec<T>(T(3)));
    return Vec<T>::blendv(inside, Vec<T>(T(0)), x <= Vec<T>(T(-3)));
  }
  // torch's: grad_output * grad / 3 on (-3, 3), 0 elsewhere.
  template <typename Tensor>
  Tensor double_backward_from_input(const Tensor& gg, const Tensor& g, const Tensor& x) const {
    return (gg * g / 3.0).masked_fill(((x > -3) & (x < 3)).logical_not(), 0);
  }
};

// Mish: x tanh(softplus(x)). In u = exp(-|x|) <= 1, tanh(log(1 + e^x)) = n / d:
//   x >= 0: n = 1 + 2u,      d = 1 + 2u + 2u^2   ((1 + e^x)^2 -+ 1 over e^2x)
//   x < 0:  n = u (u + 2),   d = n + 2
// sums of positive terms, no overflow. f' = tanh(sp) + x s (1 - tanh(sp)^2),
// s = sigmoid(x), is a ratio of polynomials in u:
//   x >= 0: 1 - u^2 C / D, C = 2 - 4x + (4 - 4x) u + 4u^2, D = d^2 expanded
//   x < 0:  u B / D',      B = 4 (1 + x) + (6 + 4x) u + 4u^2 + u^3, D' = d^2 expanded
// (the sum as written cancels all over x < 0, 8 ulp off at x = -2.5 in float;
// as 1 - small for x >= 0 and with the squares expanded this is within 4). B cancels
// only near f's zero at -1.19 (with_root there). Backward keeps the input.
struct Mish : params::mish, FormsFromAny<Mish> {
  template <typename T, typename V> static C10_ALWAYS_INLINE V forward_any(V x) {
    return math::of_exp_minus_abs<T>(x, [x](V u) {
      const V u_plus_2 = u + V(T(2));
      const V n = math::where_negative(x, u * u_plus_2, math::multiply_add(V(T(2)), u, V(T(1))));
      const V d = math::where_negative(x, math::multiply_add(u, u_plus_2, V(T(2))), math::multiply_add(V(T(2)) * u, u, n));
      return x * n / d;
    });
  }
  template <typename T, typename V> static C10_ALWAYS_INLINE V derivative(V x) {
    using math::multiply_add;
    // x clamped where u = 0 anyway (4x would overflow, and 0 times it be NaN);
    // + (x - x) gives NaN at +-inf, as torch.nn's (its x s (1 - t^2) is inf * 0 there).
    const V xc = math::clamp_magnitude(x, T(1e4));
    const V away = math::of_exp_minus_abs<T>(x, [xc](V u) {
      const V four_x = V(T(4)) * xc;
      const V b = multiply_add(u, multiply_add(u, u + V(T(4)), four_x + V(T(6))), V(T(4)) * (xc + V(T(1))));
      const V d2_below = multiply_add(u, multiply_add(u, multiply_add(u, u + V(T(4)), V(T(8))), V(T(8))), V(T(4)));
      const V c = multiply_add(u, multiply_add(V(T(4)), u, V(T(4)) - four_x), V(T(2)) - four_x);
      const V d2_above = multiply_add(u, multiply_add(u, multiply_add(u, multiply_add(V(T(4)), u, V(T(8))), V(T(8))), V(T(4))), V(T(1)));
      return math::where_negative(xc, u * b / d2_below, V(T(1)) - u * u * c / d2_above);
    }) + (x - x);
    return math::with_root_of<T>(x, math::roots::kMishRootFloat, math::roots::kMishRootDouble, away);
  }
#if defined(__CUDA_ARCH__)
  template <typename T> __device__ T forward(T x) const {
    const T u = ::exp(x < T(0) ? x : -x);
    const T n = x < T(0) ? u * (u + T(2)) : T(1) + T(2) * u;
    return x * n / (x < T(0) ? n + T(2) : n + T(2) * u * u);
  }
  template <typename T> __device__ T backward_from_input(T grad, T x) const {
    const T u = ::exp(x < T(0) ? x : -x);
    const T xc = x < T(-1e4) ? T(-1e4) : (x > T(1e4) ? T(1e4) : x);
    if (x < T(0)) {
      const T b = T(4) * (xc + T(1)) + u * (T(4) * xc + T(6) + u * (u + T(4)));
      return grad * (u * b / (T(4) + u * (T(8) + u * (T(8) + u * (u + T(4))))) + (x - x));
    }
    const T c = T(2) - T(4) * xc + u * (T(4) - T(4) * xc + T(4) * u);
    return grad * (T(1) - u * u * c / (T(1) + u * (T(4) + u * (T(8) + u * (T(8) + T(4) * u)))) + (x - x));
  }
#endif
  template <typename Tensor>
  Tensor double_backward_from_input(const Tensor& gg, const Tensor& g, const Tensor& x) const {
    // f'' = 2 s (1 - t^2) + x s (1 - s) (1 - t^2) - 2 x s^2 t (1 - t^2), t = tanh(softplus(x)).
    const Tensor s = x.sigmoid();
    const Tensor t = x.exp().log1p().tanh();  // exp overflows to inf where t is 1 anyway
    const Tensor sech2 = 1 - t * t;
    return gg * g * s * sech2 * (2 + x * (1 - s) - 2 * x * s * t);
  }
};

// Softplus: x * beta > threshold ? x : softplus(x * beta) / beta, as torch.
// Backward keeps the input: grad * sigmoid(x * beta) (grad beyond the threshold).
struct Softplus : params::softplus {
  template <typename T> C10_HOST_DEVICE T forward(T x) const {
    const T z = x * T(beta);
    return z > T(threshold) ? x : softplus_of(z) / T(beta);
  }
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const {
    const Vec<T> z = x * Vec<T>(T(beta));
    const Vec<T> y = math::relu(z) + math::log1p_exp_minus_abs<T>(z);
    // y / 1 is y: torch.nn's default beta skips a division (vdivps zmm, slow on Intel).
    return Vec<T>::blendv(beta == 1 ? y : y / Vec<T>(T(beta)), x, z > Vec<T>(T(threshold)));
  }
  template <typename T> C10_HOST_DEVICE T backward_from_input(T grad, T x) const {
    const T z = x * T(beta);
    return z > T(threshold) ? grad : grad * sigmoid_of(z);
  }
  template <typename T> C10_ALWAYS_INLINE Vec<T> backward_from_input(Vec<T> grad, Vec<T> x) const {
    const Vec<T> z = x * Vec<T>(T(beta));
    return Vec<T>::blendv(grad * math::sigmoid<T>(z), grad, z > Vec<T>(T(threshold)));
  }
  template <typename Tensor>
  Tensor double_backward_from_input(const Tensor& gg, const Tensor& g, const Tensor& x) const {
    const Tensor s = (x * beta).sigmoid();
    return (gg * g * beta * s * (1 - s)).masked_fill(x * beta > threshold, 0);
  }
};

// LogSigmoid: log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)); backward keeps
// the input: grad * sigmoid(-x).
struct LogSigmoid : params::logsigmoid {
  template <typename T> C10_HOST_DEVICE T forward(T x) const { return -softplus_of(-x); }
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const {
    // Of -x: the deep exp is taken where its argument is below -80 (-700), and
    // log1p(exp(-|x|)) underflows where x is large and positive, not negative.
    return math::where_negative(x, x, Vec<T>(T(0))) - math::log1p_exp_minus_abs<T>(Vec<T>(T(0)) - x);
  }
  template <typename T> C10_HOST_DEVICE T backward_from_input(T grad, T x) const { return grad * sigmoid_of(-x); }
  template <typename T> C10_ALWAYS_INLINE Vec<T> backward_from_input(Vec<T> grad, Vec<T> x) const {
    return grad * math::sigmoid<T>(Vec<T>(T(0)) - x);
  }
  template <typename Tensor>
  Tensor double_backward_from_input(const Tensor& gg, const Tensor& g, const Tensor& x) const {
    const Tensor s = x.sigmoid();
    return -gg * g * s * (1 - s);
  }
};

// Softsign: x / (1 + |x|), as torch's composite (the same division, bit for
// bit, NaN at +-inf as torch's); backward keeps the input: grad / (1 + |x|)^2
// as grad (r r), r = 1 / (1 + |x|), which does not overflow; + (x - x) makes
// it NaN at +-inf where torch.nn's is (0 elsewhere, nothing changes).
struct Softsign : params::softsign {
  template <typename T> C10_HOST_DEVICE T forward(T x) const { return x / ((x < T(0) ? -x : x) + T(1)); }
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const { return x / (x.abs() + Vec<T>(T(1))); }
  template <typename T> C10_HOST_DEVICE T backward_from_input(T grad, T x) const {
    const T r = T(1) / ((x < T(0) ? -x : x) + T(1));
    return grad * (r * r + (x - x));
  }
  template <typename T> C10_ALWAYS_INLINE Vec<T> backward_from_input(Vec<T> grad, Vec<T> x) const {
    const Vec<T> r = Vec<T>(T(1)) / (x.abs() + Vec<T>(T(1)));
    return grad * (r * r + (x - x));
  }
  template <typename Tensor>
  Tensor double_backward_from_input(const Tensor& gg, const Tensor& g, const Tensor& x) const {
    return -2 * gg * g * x.sign() / (x.abs() + 1).pow(3);
  }
};

// Tanhshrink: x - tanh(x), from x^3 P(x^2 - c) where that cancels, |x| < 1.5
// (math::x_minus_tanh_near_zero). Backward keeps the input: grad tanh(x)^2.
// Squaring a tanh doubles its error (4.8 ulp at x = 4.1 in float, 4.2 at 0.87),
// so up to |x| = 1 it is (x - s)^2, s = x - tanh(x) from the series, with the
// subtraction's rounding error carried into the square (Fast2Sum: |s| < |x|);
// beyond, 1 - sech(x)^2 = 1 - 4e / (1 + e)^2, e = exp(-2|x|), where the small
// term's error hardly shows.
struct Tanhshrink : params::tanhshrink {
  static constexpr double kWindow = math::series::kTanhshrinkWindow, kSquareUpTo = 1.0;
  template <typename T, typename V> static C10_ALWAYS_INLINE V tanh_squared_near_zero(V x) {
    const V s = math::x_minus_tanh_near_zero<T>(x);
    const V hi = x - s, lo = (x - hi) - s;
    return math::multiply_add(hi, hi, V(T(2)) * hi * lo);
  }
  template <typename V> static C10_ALWAYS_INLINE V one_minus_sech_squared(V e) {
    const V one_plus_e = V(1) + e;
    return V(1) - V(4) * e / (one_plus_e * one_plus_e);
  }
#if defined(__CUDA_ARCH__)
  template <typename T> __device__ T forward(T x) const { return x - ::tanh(x); }
  template <typename T> __device__ T backward_from_input(T grad, T x) const {
    const T t = ::tanh(x);
    return grad * (t * t);
  }
#else
  template <typename T> T forward(T x) const {
    return std::abs(x) < T(kWindow) ? math::x_minus_tanh_near_zero<T>(x) : x - std::tanh(x);
  }
  template <typename T> T backward_from_input(T grad, T x) const {
    return grad * (std::abs(x) <= T(kSquareUpTo) ? tanh_squared_near_zero<T>(x)
                                                 : one_minus_sech_squared(std::exp(T(-2) * std::abs(x))));
  }
#endif
  template <typename T> C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x) const {
    return Vec<T>::blendv(x - math::tanh(x), math::x_minus_tanh_near_zero<T>(x), x.abs() < Vec<T>(T(kWindow)));
  }
  template <typename T> C10_ALWAYS_INLINE Vec<T> backward_from_input(Vec<T> grad, Vec<T> x) const {
    return grad * Vec<T>::blendv(one_minus_sech_squared(math::exp_minus_abs(x + x)), tanh_squared_near_zero<T>(x),
                                 x.abs() <= Vec<T>(T(kSquareUpTo)));
  }
  template <typename Tensor>
  Tensor double_backward_from_input(const Tensor& gg, const Tensor& g, const Tensor& x) const {
    const Tensor t = x.tanh();
    return 2 * gg * g * t * (1 - t * t);
  }
};

// PReLU: LeakyReLU with a learned slope per channel (dim 1).
// d/dx = x > 0 ? 1 : alpha_c;  d/dalpha_c = sum over channel c of (x > 0 ? 0 : x * grad).
struct PReLU : params::prelu {
  template <typename T> static C10_HOST_DEVICE T forward(T x, T alpha) { return x > T(0) ? x : alpha * x; }
  template <typename T> static C10_ALWAYS_INLINE Vec<T> forward(Vec<T> x, Vec<T> alpha) {
    return Vec<T>::blendv(alpha * x, x, x > Vec<T>(T(0)));
  }
  template <typename T> static C10_HOST_DEVICE T grad_input(T grad, T x, T alpha) { return x > T(0) ? grad : alpha * grad; }
  template <typename T> static C10_ALWAYS_INLINE Vec<T> grad_input(Vec<T> grad, Vec<T> x, Vec<T> alpha) {
    return Vec<T>::blendv(alpha * grad, grad, x > Vec<T>(T(0)));
  }
  template <typename T> static C10_HOST_DEVICE T grad_alpha_term(T grad, T x) { return x > T(0) ? T(0) : x * grad; }
  template <typename T> static C10_ALWAYS_INLINE Vec<T> grad_alpha_term(Vec<T> grad, Vec<T> x) {
    return Vec<T>::blendv(x * grad, Vec<T>(T(0)), x > Vec<T>(T(0)));
  }
  // Backward of (grad_input, grad_alpha) = prelu_backward(g, x, alpha), given
  // their gradients gg_input and gg_alpha (broadcast like alpha): the
  // gradients of g, x and alpha (the last elementwise, to be summed per
  // channel). NaN counts as negative, as in forward; x = +-0 counts as
  // positive, as in torch.nn's second derivatives of PReLU.
  template <typename Tensor>
  static std::tuple<Tensor, Tensor, Tensor> double_backward(const Tensor& gg_input, const Tensor& gg_alpha,
                                                            const Tensor& g, const Tensor& x,
                                                            const Tensor& alpha) {
    const Tensor positive = x >= 0;
    return {(gg_input * alpha + gg_alpha * x).where(positive.logical_not(), gg_input),
            (gg_alpha * g).masked_fill(positive, 0), (gg_input * g).masked_fill(positive, 0)};
  }
  // Forward-mode AD. An undefined tangent counts as zero, and an undefined
  // result is a zero tangent. torch.nn's tangent takes x >= 0 as the positive
  // side where its backward takes x > 0: at x = +-0 the tangent is x_t, the
  // gradient alpha * grad; both are followed.
  template <typename Tensor>
  static Tensor jvp(const Tensor& x_t, const Tensor& alpha_t, const Tensor& x, const Tensor& alpha) {
    const Tensor negative = sum_defined(x_t.defined() ? alpha * x_t : Tensor(),
                                        alpha_t.defined() ? x * alpha_t : Tensor());
    if (!x_t.defined()) return negative.masked_fill(x >= 0, 0);
    return negative.defined() ? x_t.where(x >= 0, negative) : x_t;
  }
  // The tangents of prelu_backward's outputs (grad_input, and grad_alpha's
  // terms before the per-channel sum) from those of g, x and alpha; x moves
  // grad_input only through the side it is on (nothing away from the kink).
  // Sides as in double_backward.
  template <typename Tensor>
  static std::tuple<Tensor, Tensor> backward_jvp(const Tensor& g_t, const Tensor& x_t, const Tensor& alpha_t,
                                                 const Tensor& g, const Tensor& x, const Tensor& alpha) {
    const Tensor positive = x >= 0;
    const Tensor input_negative = sum_defined(g_t.defined() ? alpha * g_t : Tensor(),
                                              alpha_t.defined() ? alpha_t * g : Tensor());
    Tensor grad_input_t;
    if (g_t.defined()) {
      grad_input_t = g_t.where(positive, input_negative);
    } else if (input_negative.defined()) {
      grad_input_t = input_negative.masked_fill(positive, 0);
    }
    Tensor alpha_terms_t = sum_defined(g_t.defined() ? x * g_t : Tensor(), x_t.defined() ? x_t * g : Tensor());
    if (alpha_terms_t.defined()) alpha_terms_t = alpha_terms_t.masked_fill(positive, 0);
    return {grad_input_t, alpha_terms_t};
  }

 private:
  template <typename Tensor>
  static Tensor sum_defined(const Tensor& a, const Tensor& b) {
    if (!a.defined()) return b;
    return b.defined() ? a + b : a;
  }
};

// Calls f(form) with the activation itself or, for one whose hyper-parameter
// picks between formulas (act.with_form(f), as GELU's `approximate`), with
// the formula it picks: the choice is made once per call, not per element.
// Every backend's kernels take their math this way.
template <typename Act, typename F>
void with_form(const Act& act, const F& f) {
  if constexpr (requires { act.with_form(f); }) {
    act.with_form(f);
  } else {
    f(act);
  }
}

// --- the saved-tensor families: which tensor backward reads -----------------
// Calls f(std::true_type{}) where act's backward reads its output, else
// f(std::false_type{}): from the family, or for OutputOrInput from the
// hyper-parameters (act.saves_output()). The one place the choice is made:
// every backend's kernels, the autograd nodes and the tangents ask here.
template <typename Act, typename F>
decltype(auto) with_saved(const Act& act, const F& f) {
  if constexpr (Act::family == Family::Output) {
    return f(std::true_type{});
  } else if constexpr (Act::family == Family::Input) {
    return f(std::false_type{});
  } else {
    static_assert(Act::family == Family::OutputOrInput, "with_saved: the family keeps neither output nor input");
    if (act.saves_output()) return f(std::true_type{});
    return f(std::false_type{});
  }
}

template <typename Act>
bool backward_reads_output(const Act& act) {
  return with_saved(act, [](auto from_output) { return decltype(from_output)::value; });
}

// grad * f'(x) from the saved tensor: the output y where FromOutput, else the input x.
template <bool FromOutput, typename Form, typename V>
C10_HOST_DEVICE C10_ALWAYS_INLINE V backward_from_saved(const Form& f, V grad, V saved) {
  if constexpr (FromOutput) {
    return f.backward_from_output(grad, saved);
  } else {
    return f.backward_from_input(grad, saved);
  }
}

// The math's second-derivative rule for the same saved tensor, in ATen ops.
template <bool FromOutput, typename Act, typename Tensor>
Tensor double_backward_from_saved(const Act& act, const Tensor& gg, const Tensor& g, const Tensor& saved) {
  if constexpr (FromOutput) {
    return act.double_backward_from_output(gg, g, saved);
  } else {
    return act.double_backward_from_input(gg, g, saved);
  }
}

// grad * f'(x) from the input x, whatever f's backward reads: its input, its
// output (recomputed from x) or its mask bit (from x). The gated family's
// backward has the gate, never the activation's output or mask.
template <typename Form, typename V>
C10_HOST_DEVICE C10_ALWAYS_INLINE V backward_at_input(const Form& f, V grad, V x) {
  if constexpr (requires { f.backward_from_input(grad, x); }) {
    return f.backward_from_input(grad, x);
  } else if constexpr (requires { f.backward_from_output(grad, x); }) {
    return f.backward_from_output(grad, f.forward(x));
  } else {
    return f.backward(grad, f.mask_bit(x));
  }
}

// (f(x), grad * f'(x)): from one pass over x's math where the form has one
// (SiLU: one exp for both), else forward and backward_at_input apart.
template <typename Form, typename V>
C10_ALWAYS_INLINE std::pair<V, V> forward_and_backward_at_input(const Form& f, V grad, V x) {
  if constexpr (requires { f.forward_and_backward_from_input(grad, x); }) {
    return f.forward_and_backward_from_input(grad, x);
  } else {
    return {f.forward(x), backward_at_input(f, grad, x)};
  }
}

// The gated family: act(gate) * up, act the elementwise activation Inner
// with the gated op's hyper-parameters (GeGLU's approximate is GELU's).
// Backward keeps gate and up and gives both gradients in one pass:
//   grad_gate = grad * up * act'(gate),  grad_up = grad * act(gate).
// The kernels take act's forms from Inner (with_form(act.inner(), ...)), so
// the gated results are as accurate as act's, plus the product's rounding.
template <typename Self, typename Inner>
struct GatedBy {
  using inner_type = Inner;
  Inner inner() const {
    return std::apply([](const auto&... a) { return Inner{typename Inner::params_type{a...}}; },
                      static_cast<const Self&>(*this).tie());
  }
  std::string invalid_params() const {
    if constexpr (requires(const Inner& i) { i.invalid_params(); }) return inner().invalid_params();
    return "";
  }
};

struct SwiGLU : params::swiglu, GatedBy<SwiGLU, SiLU> {};
struct GeGLU : params::geglu, GatedBy<GeGLU, GELU> {};
struct ReGLU : params::reglu, GatedBy<ReGLU, ReLU> {};
struct SigmoidGLU : params::sigmoid_glu, GatedBy<SigmoidGLU, Sigmoid> {};

// The math structs, in the order of activation_list.h.
#define TORCH_ACT_COMMA_STRUCT(op, Struct, ...) , Struct
using Elementwise = detail::DropFirst<void TORCH_ACT_ELEMENTWISE_ACTIVATIONS(TORCH_ACT_COMMA_STRUCT)>::type;
using Weighted = detail::DropFirst<void TORCH_ACT_WEIGHTED_ACTIVATIONS(TORCH_ACT_COMMA_STRUCT)>::type;
using Gated = detail::DropFirst<void TORCH_ACT_GATED_ACTIVATIONS(TORCH_ACT_COMMA_STRUCT)>::type;
#undef TORCH_ACT_COMMA_STRUCT

// --- what each family asks of its math struct -------------------------------
// The kernels of every backend and autograd call these forms by family (the
// list at the top of this file); a struct lacking one fails here, in
// FamilyFormsOf<Struct>, instead of deep inside a kernel. The forms are
// templates over T, checked at float; a struct choosing between formulas
// names them in `forms` (GELU). CPU builds check; nvcc sees the same structs.
#if !defined(__CUDACC__)
namespace family_forms {

struct AnyTensor {};  // the ATen-op rules are templates over the tensor type

// A slope per element (RReLU's) comes as one more argument: forward(x, slope).
template <typename F> concept Forward =
    requires(const F& f, float x, Vec<float> v) { f.forward(x); f.forward(v); } ||
    (kSlopePerElement<F> && requires(const F& f, float x, Vec<float> v) { f.forward(x, x); f.forward(v, v); });
template <typename F> concept MaskBit = requires(const F& f, float x, Vec<float> v) {
  f.mask_bit(x);
  f.mask_bit(v);
  mask_backward_of_element(f, x, true, int64_t{0});
};
template <typename F> concept FromOutput = requires(const F& f, float x, Vec<float> v) {
  f.backward_from_output(x, x);
  f.backward_from_output(v, v);
};
template <typename F> concept FromInput = requires(const F& f, float x, Vec<float> v) {
  f.backward_from_input(x, x);
  f.backward_from_input(v, v);
};
template <typename A> concept SecondFromOutput = requires(const A& a, const AnyTensor& t) {
  a.double_backward_from_output(t, t, t);
};
template <typename A> concept SecondFromInput = requires(const A& a, const AnyTensor& t) {
  a.double_backward_from_input(t, t, t);
};
template <typename A> concept Weighted = requires(float x, Vec<float> v, const AnyTensor& t) {
  A::forward(x, x); A::forward(v, v);
  A::grad_input(x, x, x); A::grad_input(v, v, v);
  A::grad_alpha_term(x, x); A::grad_alpha_term(v, v);
  A::double_backward(t, t, t, t, t); A::jvp(t, t, t, t); A::backward_jvp(t, t, t, t, t, t);
};

template <typename Form, Family family>
constexpr bool form_has_forms() {
  if constexpr (family == Family::Mask) return Forward<Form> && MaskBit<Form>;
  if constexpr (family == Family::Output) return Forward<Form> && FromOutput<Form>;
  if constexpr (family == Family::Input) return Forward<Form> && FromInput<Form>;
  if constexpr (family == Family::OutputOrInput) return Forward<Form> && FromOutput<Form> && FromInput<Form>;
  return true;
}

template <typename Act, typename... Forms>
constexpr bool has_family_forms(List<Forms...>) {
  constexpr Family family = Act::family;
  const bool forms = (form_has_forms<Forms, family>() && ...);
  if constexpr (family == Family::Output) return forms && SecondFromOutput<Act>;
  if constexpr (family == Family::Input) return forms && SecondFromInput<Act>;
  if constexpr (family == Family::OutputOrInput) {
    return forms && SecondFromOutput<Act> && SecondFromInput<Act> && requires(const Act& a) { bool(a.saves_output()); };
  }
  if constexpr (family == Family::InputAndWeight) return Weighted<Act>;
  if constexpr (family == Family::GateAndUp) {
    using Inner = typename Act::inner_type;  // the gated kernels take Inner's forms
    return Inner::family == Family::Mask || Inner::family == Family::Output || Inner::family == Family::Input;
  }
  return forms;
}

template <typename Act>
constexpr auto forms_of() {
  if constexpr (requires { typename Act::forms; }) {
    return typename Act::forms{};
  } else {
    return List<Act>{};
  }
}

template <typename Act>
struct FamilyFormsOf {
  static_assert(has_family_forms<Act>(forms_of<Act>()),
                "this math struct lacks a form its family's kernels or autograd call "
                "(the list at the top of csrc/activations.h)");
};

#define TORCH_ACT_CHECK_FORMS(op, Struct, ...) static_assert(sizeof(FamilyFormsOf<Struct>) > 0);
TORCH_ACT_ELEMENTWISE_ACTIVATIONS(TORCH_ACT_CHECK_FORMS)
TORCH_ACT_WEIGHTED_ACTIVATIONS(TORCH_ACT_CHECK_FORMS)
TORCH_ACT_GATED_ACTIVATIONS(TORCH_ACT_CHECK_FORMS)
#undef TORCH_ACT_CHECK_FORMS

}  // namespace family_forms
#endif

}  // namespace CPU_CAPABILITY
}  // namespace torch_act::act
