// Typed dispatcher calls of every op of an activation, with its
// hyper-parameters as its params:: struct: what autograd calls (the public
// ops also have named calls in torch_act/include/torch_act/ops.h).
#pragma once

#include "../declarations.h"

#include <torch_act/ops.h>

#include <string>
#include <tuple>

namespace torch_act::ops {

template <typename Act, typename Args = typename Act::Args>
struct Calls;

template <typename Act, typename... A>
struct Calls<Act, std::tuple<A...>> {
  using Tensor = at::Tensor;
  using TensorPair = std::tuple<Tensor, Tensor>;
  using P = typename Act::params_type;

  // The handle of torch_act::<name><suffix>, found once per op.
  template <typename Signature>
  static c10::TypedOperatorHandle<Signature> handle(const char* suffix) {
    return find_op<Signature>(("torch_act::" + std::string(Act::name) + suffix).c_str());
  }
  // op.call(leading..., hyper-parameters...).
  template <typename Op, typename... Leading>
  static auto call(const Op& op, const P& p, const Leading&... leading) {
    return std::apply([&](const auto&... a) { return op.call(leading..., a...); }, p.tie());
  }

  static Tensor forward(const Tensor& input, const P& p) {
    static const auto op = handle<Tensor(const Tensor&, A...)>("");
    return call(op, p, input);
  }
  static void forward_(const Tensor& input, const P& p) {
    static const auto op = handle<void(const Tensor&, A...)>("_");
    call(op, p, input);
  }
  static TensorPair forward_with_mask(const Tensor& input, const P& p) {
    static const auto op = handle<TensorPair(const Tensor&, A...)>("_forward");
    return call(op, p, input);
  }
  static Tensor forward_with_mask_(const Tensor& input, const P& p) {
    static const auto op = handle<Tensor(const Tensor&, A...)>("_forward_");
    return call(op, p, input);
  }
  static Tensor mask_backward(const Tensor& grad, const Tensor& mask, at::IntArrayRef order, const P& p) {
    static const auto op = handle<Tensor(const Tensor&, const Tensor&, at::IntArrayRef, A...)>("_backward");
    return call(op, p, grad, mask, order);
  }
  static Tensor saved_backward(const Tensor& grad, const Tensor& saved, const P& p) {
    static const auto op = handle<Tensor(const Tensor&, const Tensor&, A...)>("_backward");
    return call(op, p, grad, saved);
  }
  static Tensor weighted_forward(const Tensor& input, const Tensor& weight) {
    static const auto op = handle<Tensor(const Tensor&, const Tensor&)>("");
    return op.call(input, weight);
  }
  static TensorPair weighted_backward(const Tensor& grad, const Tensor& input, const Tensor& weight) {
    static const auto op = handle<TensorPair(const Tensor&, const Tensor&, const Tensor&)>("_backward");
    return op.call(grad, input, weight);
  }
  static Tensor gated_forward(const Tensor& gate, const Tensor& up, const P& p) {
    static const auto op = handle<Tensor(const Tensor&, const Tensor&, A...)>("");
    return call(op, p, gate, up);
  }
  static TensorPair gated_backward(const Tensor& grad, const Tensor& gate, const Tensor& up, const P& p) {
    static const auto op = handle<TensorPair(const Tensor&, const Tensor&, const Tensor&, A...)>("_backward");
    return call(op, p, grad, gate, up);
  }
};

}  // namespace torch_act::ops
