// Forward-mode AD: the tangent each op's output carries when an input carries
// one, as PyTorch's generated autograd code attaches it (level 0; functorch's
// jvp goes through the same slot). For these elementwise functions the
// tangent of the output is f'(x) * x_t, which is what the family's backward op
// computes from the same saved state; the backward ops' own tangents add the
// math struct's second-derivative term. Everything is called through the
// dispatcher, so tangents have autograd, tangents and batch rules themselves.
#pragma once

#include "../activations.h"
#include "../ops/calls.h"
#include "grads.h"

#include <torch/csrc/autograd/functions/utils.h>

namespace torch_act::autograd {

inline bool has_tangent(const Tensor& t) { return torch::autograd::isFwGradDefined(t); }

// The tangent of `t` at level 0, undefined (zero) when it has none.
inline Tensor tangent_of(const Tensor& t) { return t.defined() ? t._fw_grad(/*level=*/0) : Tensor(); }

// `t` without its tangent: tangent formulas read primal values only, so that
// they do not themselves get a tangent at the same level.
inline Tensor primal_of(const Tensor& t) { return has_tangent(t) ? t._fw_primal(/*level=*/0) : t; }

// Gives `output` the tangent `tangent` (undefined: none, which reads as zero).
inline void set_tangent(const Tensor& output, const Tensor& tangent) {
  if (tangent.defined()) output._set_fw_grad(tangent, /*level=*/0, /*is_inplace_op=*/false);
}

// The same for an input changed in place, as generated in-place code does: a
// tangent it has is overwritten in place (autograd allows no other), else it
// gets one (for a view, its base's tangent follows).
inline void set_tangent_inplace(const Tensor& self, const Tensor& tangent) {
  Tensor current = tangent_of(self);
  if (current.defined()) {
    current.copy_(tangent);
  } else {
    current = tangent;
  }
  self._set_fw_grad(current, /*level=*/0, /*is_inplace_op=*/true);
}

// The input's tangent, copied when a graph is being recorded (the formulas
// may save it, and an in-place update would then change what they saved).
inline Tensor input_tangent(const Tensor& input) {
  const Tensor t = tangent_of(input);
  return torch::autograd::GradMode::is_enabled() ? t.clone() : t;
}

template <typename Act>
struct Tangents {
  using Calls = ops::Calls<Act>;
  using P = typename Act::params_type;

  // Families Output/Input, backward op grad * f'(saved): d/dgrad is the
  // backward op itself, d/dsaved the math's second-derivative rule.
  static Tensor of_saved_backward(const Tensor& grad, const Tensor& saved, const P& p) {
    const Tensor grad_t = tangent_of(grad), saved_t = tangent_of(saved);
    const Tensor g = primal_of(grad), s = primal_of(saved);
    Tensor by_grad, by_saved;
    if (grad_t.defined()) by_grad = Calls::saved_backward(grad_t, s, p);
    if (saved_t.defined()) {
      const Act act{p};
      by_saved = with_saved(act, [&](auto from_output) {
        return double_backward_from_saved<decltype(from_output)::value>(act, saved_t, g, s);
      });
    }
    if (!by_grad.defined()) return by_saved;
    return by_saved.defined() ? by_grad + by_saved : by_grad;
  }

  // Family InputAndWeight, forward.
  static Tensor of_weighted_forward(const Tensor& input, const Tensor& weight) {
    const Tensor x = primal_of(input), w = primal_of(weight), w_t = tangent_of(weight);
    return Act::jvp(tangent_of(input), w_t.defined() ? along_channels(w_t, x) : w_t, x, along_channels(w, x));
  }

  // Family InputAndWeight, backward op: (grad_input, grad_weight).
  static std::tuple<Tensor, Tensor> of_weighted_backward(const Tensor& grad, const Tensor& input,
                                                         const Tensor& weight) {
    const Tensor g = primal_of(grad), x = primal_of(input), w = primal_of(weight), w_t = tangent_of(weight);
    auto [grad_input_t, weight_terms_t] = Act::backward_jvp(
        tangent_of(grad), tangent_of(input), w_t.defined() ? along_channels(w_t, x) : w_t, g, x,
        along_channels(w, x));
    return {grad_input_t, weight_terms_t.defined() ? reduce_to_weight(weight_terms_t, w) : weight_terms_t};
  }

  // Family GateAndUp, forward a(x) u: x_t u a'(x) + u_t a(x), the backward
  // op's first output along x_t and its second along u_t.
  static Tensor of_gated_forward(const Tensor& gate, const Tensor& up, const P& p) {
    const Tensor x = primal_of(gate), u = primal_of(up), x_t = tangent_of(gate), u_t = tangent_of(up);
    Tensor by_gate, by_up;
    if (x_t.defined()) by_gate = std::get<0>(Calls::gated_backward(x_t, x, u, p));
    if (u_t.defined()) by_up = std::get<1>(Calls::gated_backward(u_t, x, u, p));
    return plus(by_gate, by_up);
  }

  // Family GateAndUp, backward op (g u a'(x), g a(x)).
  static std::tuple<Tensor, Tensor> of_gated_backward(const Tensor& grad, const Tensor& gate, const Tensor& up,
                                                      const P& p) {
    const Tensor g = primal_of(grad), x = primal_of(gate), u = primal_of(up);
    const Tensor g_t = tangent_of(grad), x_t = tangent_of(gate), u_t = tangent_of(up);
    const GatedMath<Act> a(Act{p}, x);
    Tensor gate_t, up_t;
    if (g_t.defined()) std::tie(gate_t, up_t) = Calls::gated_backward(g_t, x, u, p);
    if (u_t.defined()) gate_t = plus(gate_t, a.times_derivative(g * u_t));
    if (x_t.defined()) {
      gate_t = plus(gate_t, a.times_second_derivative(x_t, g * u));
      up_t = plus(up_t, a.times_derivative(g * x_t));
    }
    return {gate_t, up_t};
  }
};

}  // namespace torch_act::autograd
