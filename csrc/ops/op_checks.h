// The argument checks of every op, per family, written once: the kernels of
// every backend (tensor_kernels.h) and the Meta kernels (meta.cpp) run them
// first, as ATen's structured kernels share their meta function, so a call
// that one refuses the other refuses with the same words. Each returns the
// op's hyper-parameters; none touches data.
#pragma once

#include "../checks.h"
#include "../layout.h"
#include "op_set.h"

namespace torch_act::ops {

template <typename Act, typename... A>
struct OpChecks {
  using Tensor = at::Tensor;
  using P = typename Act::params_type;
  static constexpr std::string_view name = Act::name;

  static P forward(const Tensor& input, A... a) { return checked_params<Act>({name}, input, "input", a...); }
  // In place: also refused where elements share memory, before any write.
  static P forward_(const Tensor& input, A... a) { return checked_inplace(input, {name, "_"}, a...); }
  static P forward_with_mask(const Tensor& input, A... a) {
    return checked_params<Act>({name, "_forward"}, input, "input", a...);
  }
  static P forward_with_mask_(const Tensor& input, A... a) { return checked_inplace(input, {name, "_forward_"}, a...); }
  static P mask_backward(const Tensor& grad_output, const Tensor& mask, at::IntArrayRef dim_order, A... a) {
    const OpName op{name, "_backward"};
    const P p = checked_params<Act>(op, grad_output, "grad_output", a...);
    check_mask(mask, grad_output, op);
    check_dim_order(dim_order, grad_output.dim(), op);
    return p;
  }
  static P saved_backward(const Tensor& grad_output, const Tensor& saved, A... a) {
    const OpName op{name, "_backward"};
    const P p = checked_params<Act>(op, saved, saved_arg<Act>(), a...);
    check_like(grad_output, saved, op, "grad_output", saved_arg<Act>());
    return p;
  }
  static void weighted_forward(const Tensor& input, const Tensor& weight) {
    check_weighted_args(input, weight, {name});
  }
  static void weighted_backward(const Tensor& grad_output, const Tensor& input, const Tensor& weight) {
    const OpName op{name, "_backward"};
    check_weighted_args(input, weight, op);
    check_like(grad_output, input, op, "grad_output", "input");
  }
  static P gated_forward(const Tensor& gate, const Tensor& up, A... a) {
    const P p = checked_params<Act>({name}, gate, "gate", a...);
    check_like(up, gate, {name}, "up", "gate");
    return p;
  }
  static P gated_backward(const Tensor& grad_output, const Tensor& gate, const Tensor& up, A... a) {
    const OpName op{name, "_backward"};
    const P p = checked_params<Act>(op, gate, "gate", a...);
    check_like(up, gate, op, "up", "gate");
    check_like(grad_output, gate, op, "grad_output", "gate");
    return p;
  }

 private:
  static P checked_inplace(const Tensor& input, OpName op, A... a) {
    const P p = checked_params<Act>(op, input, "input", a...);
    check_no_self_overlap(input, op);
    return p;
  }
};

}  // namespace torch_act::ops
