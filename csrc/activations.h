// The math of every activation, written once.
//
// Each struct gives the function f and its derivative in the form backward
// needs, as a scalar lambda and as an at::vec::Vectorized lambda over the
// "opmath" type T (float for float/half/bfloat16, double for double), exactly
// as ATen's native/cpu/Activation.cpp does, so results match torch.nn bit for
// bit where the formulas are exact.
//
// What backward reads is fixed per activation (docs/ARCHITECTURE.md):
//   Mask   - one bit per element, set where the derivative is the identity
//   Output - the forward result y
//   Input  - the forward input x
#pragma once

#include "vec_math.h"

#include <ATen/cpu/vec/vec.h>
#include <cmath>

// Compiled once per CPU capability (cpu/capability_*.cpp): each build lives in
// a namespace of its own, like ATen's vector code, so the linker never mixes them.
#ifndef CPU_CAPABILITY
#define CPU_CAPABILITY DEFAULT
#endif

namespace torch_act::math {
inline namespace CPU_CAPABILITY {

template <typename T>
using Vec = at::vec::Vectorized<T>;

// Each struct holds its hyper-parameters as double and converts them to T
// where used: reduced types then apply them as float and float64 as double,
// as ATen does. Overloads on T and Vec<T> let one generic lambda serve both.

// ReLU: y = max(x, 0), NaN propagates. The mask bit is !(x <= 0) so that the
// gradient at NaN is grad, as torch's threshold_backward(grad, result, 0).
struct Relu {
  template <typename T> T forward(T x) const { return x <= T(0) ? T(0) : x; }
  template <typename T> Vec<T> forward(Vec<T> x) const {
    return Vec<T>::blendv(x, Vec<T>(T(0)), x <= Vec<T>(T(0)));
  }
  template <typename T> bool mask_bit(T x) const { return !(x <= T(0)); }
  // Lanes all ones where the bit is set: x > 0, or NaN.
  template <typename T> Vec<T> mask_bit(Vec<T> x) const { return (x > Vec<T>(T(0))) | (x != x); }
  // Selects rather than multiplies: an inf/NaN grad on the dead side gives 0.
  template <typename T> T backward(T grad, bool bit) const { return bit ? grad : T(0); }
  // `set`: lanes all ones where the bit is set.
  template <typename T> Vec<T> backward(Vec<T> grad, Vec<T> set) const { return grad & set; }
};

// LeakyReLU: y = x > 0 ? x : slope * x. Gradient grad * slope on the negative
// side (a product, so -inf * 0 is NaN exactly as in torch).
struct LeakyRelu {
  double negative_slope;
  template <typename T> T forward(T x) const { return x > T(0) ? x : x * T(negative_slope); }
  template <typename T> Vec<T> forward(Vec<T> x) const {
    return Vec<T>::blendv(x * Vec<T>(T(negative_slope)), x, x > Vec<T>(T(0)));
  }
  template <typename T> bool mask_bit(T x) const { return x > T(0); }
  template <typename T> Vec<T> mask_bit(Vec<T> x) const { return x > Vec<T>(T(0)); }
  // grad * 1 is grad exactly; selecting the factor first vectorizes better.
  template <typename T> T backward(T grad, bool bit) const {
    return grad * (bit ? T(1) : T(negative_slope));
  }
  template <typename T> Vec<T> backward(Vec<T> grad, Vec<T> set) const {
    return grad * Vec<T>::blendv(Vec<T>(T(negative_slope)), Vec<T>(T(1)), set);
  }
};

// ELU (scale = input_scale = 1): y = x <= 0 ? alpha * expm1(x) : x.
// For alpha >= 0, y <= 0 exactly where x <= 0, so the derivative follows
// from the output: grad * (y + alpha). For alpha < 0 it needs the input.
struct Elu {
  double alpha;
  bool backward_uses_output() const { return alpha >= 0; }
  template <typename T> T forward(T x) const {
    return x <= T(0) ? std::expm1(x) * T(alpha) : x;
  }
  template <typename T> Vec<T> forward(Vec<T> x) const {
    return Vec<T>::blendv(x, expm1_nonpositive(x) * Vec<T>(T(alpha)), x <= Vec<T>(T(0)));
  }
  // Both select on "> 0" so that a NaN input gives a NaN gradient, as the
  // vectorized body of torch's elu_backward does (its scalar tail gives grad).
  template <typename T> T backward_from_output(T grad, T y) const {
    return y > T(0) ? grad : grad * (y + T(alpha));
  }
  template <typename T> Vec<T> backward_from_output(Vec<T> grad, Vec<T> y) const {
    return Vec<T>::blendv(grad * (y + Vec<T>(T(alpha))), grad, y > Vec<T>(T(0)));
  }
  template <typename T> T backward_from_input(T grad, T x) const {
    return x > T(0) ? grad : grad * T(alpha) * std::exp(x);
  }
  template <typename T> Vec<T> backward_from_input(Vec<T> grad, Vec<T> x) const {
    return Vec<T>::blendv(grad * Vec<T>(T(alpha)) * x.exp(), grad, x > Vec<T>(T(0)));
  }
};

// Sigmoid: y = 1 / (1 + exp(-x)); dy/dx = (1 - y) * y.
struct Sigmoid {
  template <typename T> T forward(T x) const { return T(1) / (T(1) + std::exp(-x)); }
  template <typename T> Vec<T> forward(Vec<T> x) const {
    return math::sigmoid(x);
  }
  template <typename T> T backward_from_output(T grad, T y) const { return grad * (T(1) - y) * y; }
  template <typename T> Vec<T> backward_from_output(Vec<T> grad, Vec<T> y) const {
    return grad * (Vec<T>(T(1)) - y) * y;
  }
};

// Tanh: dy/dx = 1 - y^2.
struct Tanh {
  template <typename T> T forward(T x) const { return std::tanh(x); }
  template <typename T> Vec<T> forward(Vec<T> x) const { return math::tanh(x); }
  template <typename T> T backward_from_output(T grad, T y) const { return grad * (T(1) - y * y); }
  template <typename T> Vec<T> backward_from_output(Vec<T> grad, Vec<T> y) const {
    return grad * (Vec<T>(T(1)) - y * y);
  }
};

// PReLU: LeakyReLU with a learned slope per channel (dim 1).
// d/dx = x > 0 ? 1 : alpha_c;  d/dalpha_c = sum over channel c of (x > 0 ? 0 : x * grad).
struct Prelu {
  template <typename T> static T forward(T x, T alpha) { return x > T(0) ? x : alpha * x; }
  template <typename T> static Vec<T> forward(Vec<T> x, Vec<T> alpha) {
    return Vec<T>::blendv(alpha * x, x, x > Vec<T>(T(0)));
  }
  template <typename T> static T grad_input(T grad, T x, T alpha) { return x > T(0) ? grad : alpha * grad; }
  template <typename T> static Vec<T> grad_input(Vec<T> grad, Vec<T> x, Vec<T> alpha) {
    return Vec<T>::blendv(alpha * grad, grad, x > Vec<T>(T(0)));
  }
  template <typename T> static T grad_alpha_term(T grad, T x) { return x > T(0) ? T(0) : x * grad; }
  template <typename T> static Vec<T> grad_alpha_term(Vec<T> grad, Vec<T> x) {
    return Vec<T>::blendv(x * grad, Vec<T>(T(0)), x > Vec<T>(T(0)));
  }
};

}  // namespace CPU_CAPABILITY
}  // namespace torch_act::math
