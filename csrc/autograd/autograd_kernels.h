// The Autograd kernels of every op, per family: run the op below autograd and
// record its backward node (backward_node.h) with what the family keeps
// (grads.h), and give the outputs their tangents when an input has one
// (tangents.h). With neither to do they run the kernel directly.
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
#include "tangents.h"

#include <ATen/ops/clone.h>

#include <tuple>

namespace torch_act::autograd {

template <typename Act, typename... A>
struct AutogradKernels {
  using TensorPair = std::tuple<Tensor, Tensor>;
  using P = typename Act::params_type;
  using Calls = ops::Calls<Act>;

  // --- elementwise families ---

  static Tensor forward(const Tensor& input, A... a) {
    const P p = make_params<P>(a...);
    const bool grad = needs_grad(input), dual = has_tangent(input);
    if (!grad && !dual) return below_autograd([&] { return Calls::forward(input, p); });
    if constexpr (Act::family == Family::Mask) {
      return std::get<0>(mask_forward(input, p, grad, dual));
    } else {
      const Tensor output = below_autograd([&] { return Calls::forward(input, p); });
      const bool reads_output = backward_reads_output(Act{p});
      NodePtr<SavedGrad<Act>> node;
      if (grad) {
        node = make_node(backward_name<Act>(), SavedGrad<Act>{p}, input);
        set_history(node, {output});
      }
      // Tangent first, then save: a saved tensor keeps the tangent it has
      // when saved, which forward-over-reverse reads.
      if (dual) {
        set_tangent(output, Calls::saved_backward(tangent_of(input), reads_output ? output : primal_of(input), p));
      }
      if (grad) node->save(reads_output ? output : input, /*is_output=*/reads_output);
      return output;
    }
  }

  static void forward_(const Tensor& input, A... a) {
    const P p = make_params<P>(a...);
    const bool grad = needs_grad(input), dual = has_tangent(input);
    if (!grad && !dual) {
      at::AutoDispatchBelowAutograd guard;  // keeps ADInplaceOrView: the version bump
      return Calls::forward_(input, p);
    }
    inplace(input, p, grad, dual);
  }

  // Family Mask: the output and the bit mask its backward reads.
  static TensorPair forward_with_mask(const Tensor& input, A... a) {
    const P p = make_params<P>(a...);
    const bool grad = needs_grad(input), dual = has_tangent(input);
    if (!grad && !dual) return below_autograd([&] { return Calls::forward_with_mask(input, p); });
    return mask_forward(input, p, grad, dual);
  }

  static Tensor forward_with_mask_(const Tensor& input, A... a) {
    const P p = make_params<P>(a...);
    const bool grad = needs_grad(input), dual = has_tangent(input);
    if (!grad && !dual) {
      at::AutoDispatchBelowAutograd guard;
      return Calls::forward_with_mask_(input, p);
    }
    return inplace(input, p, grad, dual);
  }

  // The backward ops are linear in grad: their tangent along grad is the op
  // itself.
  static Tensor mask_backward(const Tensor& grad, const Tensor& mask, at::IntArrayRef order, A... a) {
    const P p = make_params<P>(a...);
    const Tensor grad_input = below_autograd([&] { return Calls::mask_backward(grad, mask, order, p); });
    if (needs_grad(grad)) {
      auto node = make_node(double_backward_name<Act>(), MaskGrad<Act>{order.vec(), p}, grad);
      node->save(mask, /*is_output=*/false);
      set_history(node, {grad_input});
    }
    if (has_tangent(grad)) set_tangent(grad_input, Calls::mask_backward(tangent_of(grad), mask, order, p));
    return grad_input;
  }

  static Tensor saved_backward(const Tensor& grad, const Tensor& saved, A... a) {
    const P p = make_params<P>(a...);
    const Tensor grad_input = below_autograd([&] { return Calls::saved_backward(grad, saved, p); });
    if (needs_grad(grad, saved)) {
      auto node = make_node(double_backward_name<Act>(), SavedGradGrad<Act>{p}, grad, saved);
      node->save(grad, /*is_output=*/false);
      node->save(saved, /*is_output=*/false);
      set_history(node, {grad_input});
    }
    if (has_tangent(grad) || has_tangent(saved)) {
      set_tangent(grad_input, Tangents<Act>::of_saved_backward(grad, saved, p));
    }
    return grad_input;
  }

  // --- the weighted family ---

  static Tensor weighted_forward(const Tensor& input, const Tensor& weight) {
    const Tensor output = below_autograd([&] { return Calls::weighted_forward(input, weight); });
    if (needs_grad(input, weight)) {
      auto node = make_node(backward_name<Act>(), WeightedGrad<Act>{}, input, weight);
      node->save(input, /*is_output=*/false);
      node->save(weight, /*is_output=*/false);
      set_history(node, {output});
    }
    if (has_tangent(input) || has_tangent(weight)) {
      set_tangent(output, Tangents<Act>::of_weighted_forward(input, weight));
    }
    return output;
  }

  static TensorPair weighted_backward(const Tensor& grad, const Tensor& input, const Tensor& weight) {
    auto [grad_input, grad_weight] = below_autograd([&] { return Calls::weighted_backward(grad, input, weight); });
    if (needs_grad(grad, input, weight)) {
      auto node = make_node(double_backward_name<Act>(), WeightedGradGrad<Act>{}, grad, input, weight);
      node->save(grad, /*is_output=*/false);
      node->save(input, /*is_output=*/false);
      node->save(weight, /*is_output=*/false);
      set_history(node, {grad_input, grad_weight});
    }
    if (has_tangent(grad) || has_tangent(input) || has_tangent(weight)) {
      auto [grad_input_t, grad_weight_t] = Tangents<Act>::of_weighted_backward(grad, input, weight);
      set_tangent(grad_input, grad_input_t);
      set_tangent(grad_weight, grad_weight_t);
    }
    return {grad_input, grad_weight};
  }

  // --- the gated family ---

  static Tensor gated_forward(const Tensor& gate, const Tensor& up, A... a) {
    const P p = make_params<P>(a...);
    const Tensor output = below_autograd([&] { return Calls::gated_forward(gate, up, p); });
    if (needs_grad(gate, up)) {
      auto node = make_node(backward_name<Act>(), GatedGrad<Act>{p}, gate, up);
      node->save(gate, /*is_output=*/false);
      node->save(up, /*is_output=*/false);
      set_history(node, {output});
    }
    if (has_tangent(gate) || has_tangent(up)) set_tangent(output, Tangents<Act>::of_gated_forward(gate, up, p));
    return output;
  }

  static TensorPair gated_backward(const Tensor& grad, const Tensor& gate, const Tensor& up, A... a) {
    const P p = make_params<P>(a...);
    auto [grad_gate, grad_up] = below_autograd([&] { return Calls::gated_backward(grad, gate, up, p); });
    if (needs_grad(grad, gate, up)) {
      auto node = make_node(double_backward_name<Act>(), GatedGradGrad<Act>{p}, grad, gate, up);
      node->save(grad, /*is_output=*/false);
      node->save(gate, /*is_output=*/false);
      node->save(up, /*is_output=*/false);
      set_history(node, {grad_gate, grad_up});
    }
    if (has_tangent(grad) || has_tangent(gate) || has_tangent(up)) {
      auto [grad_gate_t, grad_up_t] = Tangents<Act>::of_gated_backward(grad, gate, up, p);
      set_tangent(grad_gate, grad_gate_t);
      set_tangent(grad_up, grad_up_t);
    }
    return {grad_gate, grad_up};
  }

 private:
  // Family Mask, out of place: the bits follow the output's memory order.
  static TensorPair mask_forward(const Tensor& input, const P& p, bool grad, bool dual) {
    auto [output, mask] = below_autograd([&] { return Calls::forward_with_mask(input, p); });
    const auto order = dim_order_of(output);
    if (grad) {
      auto node = make_node(backward_name<Act>(), MaskGrad<Act>{order, p}, input);
      node->save(mask, /*is_output=*/false);
      set_history(node, {output});
    }
    if (dual) set_tangent(output, Calls::mask_backward(tangent_of(input), mask, order, p));
    return {output, mask};
  }

  // In place, with a graph to record or a tangent to update; returns the
  // mask (family Mask) or nothing.
  static Tensor inplace(const Tensor& input, const P& p, bool grad, bool dual) {
    // Autograd's own errors (a leaf, or a view of one, that requires grad)
    // before any memory is touched.
    torch::autograd::check_inplace(input, /*requires_grad=*/grad);
    const Tensor input_t = dual ? input_tangent(input) : Tensor();
    if constexpr (Act::family == Family::Mask) {
      const auto order = mask_bit_order(input);
      // Edges are taken before the write: it bumps the version, after which
      // a view's grad_fn would be regenerated.
      NodePtr<MaskGrad<Act>> node;
      if (grad) node = make_node(backward_name<Act>(), MaskGrad<Act>{order, p}, input);
      Tensor mask;
      {
        at::AutoDispatchBelowAutograd guard;
        mask = Calls::forward_with_mask_(input, p);
      }
      if (grad) {
        node->save(mask, /*is_output=*/false);
        torch::autograd::rebase_history(input, node);
      }
      if (dual) set_tangent_inplace(input, Calls::mask_backward(input_t, mask, order, p));
      return mask;
    } else {
      const bool reads_output = backward_reads_output(Act{p});
      // The input as it was, recorded (a clone in the graph) so that double
      // backward and the tangent's own derivatives reach it.
      const Tensor original = reads_output ? Tensor() : input.clone();
      Tensor tangent;
      if (dual && !reads_output) tangent = Calls::saved_backward(input_t, primal_of(original), p);
      NodePtr<SavedGrad<Act>> node;
      if (grad) {
        node = make_node(backward_name<Act>(), SavedGrad<Act>{p}, input);
        if (!reads_output) node->save(original, /*is_output=*/false);
      }
      {
        at::AutoDispatchBelowAutograd guard;
        Calls::forward_(input, p);
      }
      if (grad) torch::autograd::rebase_history(input, node);
      if (dual) {
        if (reads_output) tangent = Calls::saved_backward(input_t, primal_of(input), p);
        set_tangent_inplace(input, tangent);
      }
      if (grad && reads_output) node->save(input, /*is_output=*/true, /*is_inplace_on_view=*/input.is_view());
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
