// What each family's backward node computes: functors over (gradients of
// the node's outputs, its saved tensors), returning one gradient per input.
// Each calls the family's backward op through the dispatcher (so backward has
// autograd itself: double backward) or, for the backward ops' own nodes, the
// second-derivative rule of the math struct in ATen ops.
#pragma once

#include "../activations.h"
#include "../layout.h"
#include "../ops/calls.h"

#include <ATen/TensorOperators.h>
#include <ATen/ops/sum.h>
#include <ATen/ops/zeros_like.h>
#include <torch/csrc/autograd/function.h>

#include <tuple>
#include <vector>

namespace torch_act::autograd {

using at::Tensor;
using torch::autograd::variable_list;

// Family Mask, forward and backward op alike (the backward is linear in
// grad): saved = {mask}.
template <typename Act>
struct MaskGrad {
  std::vector<int64_t> order;
  typename Act::params_type p;
  variable_list operator()(const variable_list& grads, const std::vector<Tensor>& saved) const {
    return {ops::Calls<Act>::mask_backward(grads[0], saved[0], order, p)};
  }
  auto fields() const { return std::tuple_cat(std::tie(order), p.tie()); }
  auto fields() { return std::tuple_cat(std::tie(order), p.tie()); }
};

// Families Output/Input, forward: saved = {output or input}.
template <typename Act>
struct SavedGrad {
  typename Act::params_type p;
  variable_list operator()(const variable_list& grads, const std::vector<Tensor>& saved) const {
    return {ops::Calls<Act>::saved_backward(grads[0], saved[0], p)};
  }
  auto fields() const { return p.tie(); }
  auto fields() { return p.tie(); }
};

// Families Output/Input, the backward op f'(grad, saved): saved = {grad, saved};
// gradients of grad (the backward op again) and of saved (the math's rule).
template <typename Act>
struct SavedGradGrad {
  typename Act::params_type p;
  variable_list operator()(const variable_list& grads, const std::vector<Tensor>& saved) const {
    const Tensor &gg = grads[0], &g = saved[0], &s = saved[1];
    const Act act{p};
    const Tensor grad_saved = with_saved(act, [&](auto from_output) {
      return double_backward_from_saved<decltype(from_output)::value>(act, gg, g, s);
    });
    return {ops::Calls<Act>::saved_backward(gg, s, p), grad_saved};
  }
  auto fields() const { return p.tie(); }
  auto fields() { return p.tie(); }
};

// Family InputAndWeight, forward: saved = {input, weight}.
template <typename Act>
struct WeightedGrad {
  variable_list operator()(const variable_list& grads, const std::vector<Tensor>& saved) const {
    auto [grad_input, grad_weight] = ops::Calls<Act>::weighted_backward(grads[0], saved[0], saved[1]);
    return {grad_input, grad_weight};
  }
  auto fields() const { return std::tuple<>(); }
  auto fields() { return std::tuple<>(); }
};

// `t` (weight-shaped) viewed so it broadcasts along dim 1 of `input`.
// Sym sizes throughout: this runs under torch.compile with dynamic shapes.
inline Tensor along_channels(const Tensor& t, const Tensor& input) {
  if (t.sym_numel() == 1 || input.dim() < 2) return t.reshape({});
  std::vector<c10::SymInt> shape(input.dim(), 1);
  shape[1] = t.sym_numel();
  return t.reshape_symint(shape);
}

// Sums a full-size tensor to the shape of `weight`.
inline Tensor reduce_to_weight(const Tensor& full, const Tensor& weight) {
  if (weight.sym_numel() == 1 || full.dim() < 2) return full.sum().reshape_symint(weight.sym_sizes());
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < full.dim(); ++d) {
    if (d != 1) dims.push_back(d);
  }
  return full.sum(dims).reshape_symint(weight.sym_sizes());
}

// Family InputAndWeight, the backward op: saved = {grad, input, weight};
// gradients of all three from the math's rule (either output's gradient may
// be absent: it counts as zero).
template <typename Act>
struct WeightedGradGrad {
  variable_list operator()(const variable_list& grads, const std::vector<Tensor>& saved) const {
    const Tensor &g = saved[0], &x = saved[1], &w = saved[2];
    const Tensor gg_input = grads[0].defined() ? grads[0] : at::zeros_like(g);
    const Tensor gg_weight = grads[1].defined() ? along_channels(grads[1], x) : at::zeros_like(along_channels(w, x));
    auto [grad_g, grad_x, grad_w_terms] = Act::double_backward(gg_input, gg_weight, g, x, along_channels(w, x));
    return {grad_g, grad_x, reduce_to_weight(grad_w_terms, w)};
  }
  auto fields() const { return std::tuple<>(); }
  auto fields() { return std::tuple<>(); }
};

// The gated family's activation a = Inner in ATen ops, at the gate x:
// a(x), t a'(x) and t a''(x) through Inner's own ops (so they have autograd
// too), whatever Inner's backward reads.
template <typename Act>
struct GatedMath {
  using Inner = typename Act::inner_type;
  using InnerCalls = ops::Calls<Inner>;
  typename Inner::params_type p;
  Tensor x;
  GatedMath(const Act& act, const Tensor& gate) : p(act.inner()), x(gate) {}

  Tensor value() const { return InnerCalls::forward(x, p); }
  Tensor times_derivative(const Tensor& t) const {
    if constexpr (Inner::family == Family::Input) {
      return InnerCalls::saved_backward(t, x, p);
    } else if constexpr (Inner::family == Family::Output) {
      return InnerCalls::saved_backward(t, value(), p);
    } else {
      static_assert(Inner::family == Family::Mask);
      auto [y, mask] = InnerCalls::forward_with_mask(x, p);
      return InnerCalls::mask_backward(t, mask, dim_order_of(y), p);
    }
  }
  // t g a''(x); undefined (zero) where a is piecewise linear.
  Tensor times_second_derivative(const Tensor& t, const Tensor& g) const {
    const Inner inner{p};
    if constexpr (Inner::family == Family::Input) {
      return inner.double_backward_from_input(t, g, x);
    } else if constexpr (Inner::family == Family::Output) {
      // d/dy of the backward, times dy/dx.
      const Tensor y = value();
      return InnerCalls::saved_backward(inner.double_backward_from_output(t, g, y), y, p);
    } else {
      return Tensor();
    }
  }
};

// a + b where an undefined tensor counts as zero.
inline Tensor plus(const Tensor& a, const Tensor& b) {
  if (!a.defined()) return b;
  return b.defined() ? a + b : a;
}

// Family GateAndUp, forward: saved = {gate, up}.
template <typename Act>
struct GatedGrad {
  typename Act::params_type p;
  variable_list operator()(const variable_list& grads, const std::vector<Tensor>& saved) const {
    auto [grad_gate, grad_up] = ops::Calls<Act>::gated_backward(grads[0], saved[0], saved[1], p);
    return {grad_gate, grad_up};
  }
  auto fields() const { return p.tie(); }
  auto fields() { return p.tie(); }
};

// Family GateAndUp, the backward op (grad * up * a'(x), grad * a(x)):
// saved = {grad, gate x, up}; either output's gradient may be absent.
template <typename Act>
struct GatedGradGrad {
  typename Act::params_type p;
  variable_list operator()(const variable_list& grads, const std::vector<Tensor>& saved) const {
    const Tensor &gg_gate = grads[0], &gg_up = grads[1];
    const Tensor &g = saved[0], &u = saved[2];
    const GatedMath<Act> a(Act{p}, saved[1]);
    Tensor grad_g, grad_x, grad_u;
    if (gg_gate.defined()) {
      grad_g = a.times_derivative(gg_gate * u);
      grad_x = a.times_second_derivative(gg_gate, g * u);
      grad_u = a.times_derivative(gg_gate * g);
    }
    if (gg_up.defined()) {
      grad_g = plus(grad_g, gg_up * a.value());
      grad_x = plus(grad_x, a.times_derivative(gg_up * g));
    }
    if (!grad_x.defined()) grad_x = at::zeros_like(saved[1]);
    return {grad_g, grad_x, grad_u};
  }
  auto fields() const { return p.tie(); }
  auto fields() { return p.tie(); }
};

}  // namespace torch_act::autograd
