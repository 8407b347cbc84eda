// The Autograd kernels of every op, per family: run the op below autograd and
// record its backward node (backward_node.h) with what the family keeps
// (grads.h). With no graph to record they run the kernel directly.
//
// In place (name_, name_forward_), the node is recorded as generated
// VariableType code does: autograd's leaf/view checks before any write, edges
// taken before the input changes, rebase_history after; a family that reads
// the input keeps a copy of it (torch.nn refuses ELU in place with alpha < 0;
// torch_act gives its gradient). The ADInplaceOrView kernels bump the version
// counter of what in-place ops change.
#pragma once

#include "../layout.h"
#include "../ops/calls.h"
#include "backward_node.h"
#include "grads.h"

#include <ATen/ops/clone.h>

#include <tuple>

namespace torch_act::autograd {

template <typename Act, typename... A>
struct Kernels {
  using TensorPair = std::tuple<Tensor, Tensor>;
  using P = typename Act::params_type;
  using Calls = ops::Calls<Act>;

  // --- elementwise families ---

  static Tensor forward(const Tensor& input, A... a) {
    const P p = make_params<P>(a...);
    if (!needs_grad(input)) return below_autograd([&] { return Calls::forward(input, p); });
    if constexpr (Act::keeps == Keeps::Mask) {
      return std::get<0>(mask_forward(input, p));
    } else {
      const Tensor output = below_autograd([&] { return Calls::forward(input, p); });
      const bool reads_output = backward_reads_output(Act{p});
      auto node = make_node(backward_name<Act>(), SavedGrad<Act>{p}, input);
      set_history(node, {output});
      node->save(reads_output ? output : input, /*is_output=*/reads_output);
      return output;
    }
  }

  static void forward_(const Tensor& input, A... a) {
    const P p = make_params<P>(a...);
    if (!needs_grad(input)) {
      at::AutoDispatchBelowAutograd guard;  // keeps ADInplaceOrView: the version bump
      return Calls::forward_(input, p);
    }
    inplace(input, p);
  }

  // Family Mask: the output and the bit mask its backward reads.
  static TensorPair forward_with_mask(const Tensor& input, A... a) {
    const P p = make_params<P>(a...);
    if (!needs_grad(input)) return below_autograd([&] { return Calls::forward_with_mask(input, p); });
    return mask_forward(input, p);
  }

  static Tensor forward_with_mask_(const Tensor& input, A... a) {
    const P p = make_params<P>(a...);
    if (!needs_grad(input)) {
      at::AutoDispatchBelowAutograd guard;
      return Calls::forward_with_mask_(input, p);
    }
    return inplace(input, p);
  }

  static Tensor mask_backward(const Tensor& grad, const Tensor& mask, at::IntArrayRef order, A... a) {
    const P p = make_params<P>(a...);
    const Tensor grad_input = below_autograd([&] { return Calls::mask_backward(grad, mask, order, p); });
    if (!needs_grad(grad)) return grad_input;
    auto node = make_node(double_backward_name<Act>(), MaskGrad<Act>{order.vec(), p}, grad);
    node->save(mask, /*is_output=*/false);
    set_history(node, {grad_input});
    return grad_input;
  }

  static Tensor saved_backward(const Tensor& grad, const Tensor& saved, A... a) {
    const P p = make_params<P>(a...);
    const Tensor grad_input = below_autograd([&] { return Calls::saved_backward(grad, saved, p); });
    if (!needs_grad(grad, saved)) return grad_input;
    auto node = make_node(double_backward_name<Act>(), SavedGradGrad<Act>{p}, grad, saved);
    node->save(grad, /*is_output=*/false);
    node->save(saved, /*is_output=*/false);
    set_history(node, {grad_input});
    return grad_input;
  }

  // --- the weighted family ---

  static Tensor weighted_forward(const Tensor& input, const Tensor& weight) {
    const Tensor output = below_autograd([&] { return Calls::weighted_forward(input, weight); });
    if (!needs_grad(input, weight)) return output;
    auto node = make_node(backward_name<Act>(), WeightedGrad<Act>{}, input, weight);
    node->save(input, /*is_output=*/false);
    node->save(weight, /*is_output=*/false);
    set_history(node, {output});
    return output;
  }

  static TensorPair weighted_backward(const Tensor& grad, const Tensor& input, const Tensor& weight) {
    auto [grad_input, grad_weight] = below_autograd([&] { return Calls::weighted_backward(grad, input, weight); });
    if (!needs_grad(grad, input, weight)) return {grad_input, grad_weight};
    auto node = make_node(double_backward_name<Act>(), WeightedGradGrad<Act>{}, grad, input, weight);
    node->save(grad, /*is_output=*/false);
    node->save(input, /*is_output=*/false);
    node->save(weight, /*is_output=*/false);
    set_history(node, {grad_input, grad_weight});
    return {grad_input, grad_weight};
  }

 private:
  // Family Mask, out of place: the bits follow the output's memory order.
  static TensorPair mask_forward(const Tensor& input, const P& p) {
    auto [output, mask] = below_autograd([&] { return Calls::forward_with_mask(input, p); });
    auto node = make_node(backward_name<Act>(), MaskGrad<Act>{dim_order_of(output), p}, input);
    node->save(mask, /*is_output=*/false);
    set_history(node, {output});
    return {output, mask};
  }

  // In place with a graph to record; returns the mask (family Mask) or nothing.
  static Tensor inplace(const Tensor& input, const P& p) {
    // Autograd's own errors (a leaf, or a view of one, that requires grad)
    // before any memory is touched.
    torch::autograd::check_inplace(input, /*requires_grad=*/true);
    if constexpr (Act::keeps == Keeps::Mask) {
      auto node = make_node(backward_name<Act>(), MaskGrad<Act>{mask_bit_order(input), p}, input);
      Tensor mask;
      {
        at::AutoDispatchBelowAutograd guard;
        mask = Calls::forward_with_mask_(input, p);
      }
      node->save(mask, /*is_output=*/false);
      torch::autograd::rebase_history(input, node);
      return mask;
    } else {
      const bool reads_output = backward_reads_output(Act{p});
      auto node = make_node(backward_name<Act>(), SavedGrad<Act>{p}, input);
      // Recorded (a clone in the graph), so double backward reaches the input.
      if (!reads_output) node->save(input.clone(), /*is_output=*/false);
      {
        at::AutoDispatchBelowAutograd guard;
        Calls::forward_(input, p);
      }
      torch::autograd::rebase_history(input, node);
      if (reads_output) node->save(input, /*is_output=*/true, /*is_inplace_on_view=*/input.is_view());
      return Tensor();
    }
  }
};

// ADInplaceOrView: in-place ops bump the version counter of what they change,
// so autograd notices when a tensor it saved has changed.
template <typename Act, typename... A>
struct InplaceOrViewKernels {
  using P = typename Act::params_type;
  static void forward_(const Tensor& input, A... a) {
    {
      at::AutoDispatchBelowADInplaceOrView guard;
      ops::Calls<Act>::forward_(input, make_params<P>(a...));
    }
    torch::autograd::increment_version(input);
  }
  static Tensor forward_with_mask_(const Tensor& input, A... a) {
    Tensor mask;
    {
      at::AutoDispatchBelowADInplaceOrView guard;
      mask = ops::Calls<Act>::forward_with_mask_(input, make_params<P>(a...));
    }
    torch::autograd::increment_version(input);
    return mask;
  }
};

}  // namespace torch_act::autograd
