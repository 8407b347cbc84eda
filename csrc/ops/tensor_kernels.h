// The kernels of every op on tensors, per family, for any backend: argument
// checks, layouts and allocation here, then one call into the backend's
// raw-pointer kernel table (kernel_table.h). Every op checks its arguments
// before it builds the device guard: a CUDA guard built from a CPU tensor
// fails first, with a message that names no argument. A backend supplies
//   Backend::table()              its KernelTable
//   Backend::Guard{tensor}        what must hold while its kernels run (CUDA: the tensor's device)
//   Backend::weight_chunk(c)      elements per partial sum of the weighted backward
//   Backend::column_sums(partial) [chunks, channels] doubles summed over chunks, in a fixed order
// and registers ops::ByArgs<TensorKernelsOf<Backend>::type>.
#pragma once

#include "../checks.h"
#include "../flat_layout.h"
#include "../kernel_table.h"
#include "../layout.h"
#include "op_set.h"

#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>

#include <algorithm>
#include <tuple>

namespace torch_act::ops {

template <typename Backend, typename Act, typename... A>
struct TensorKernels {
  using Tensor = at::Tensor;
  using TensorPair = std::tuple<Tensor, Tensor>;
  using P = typename Act::params_type;
  static constexpr std::string_view name = Act::name;
  using Guard = typename Backend::Guard;
  static const auto& table() { return kernels_of<Act>(Backend::table()); }

  // --- elementwise families ---

  static Tensor forward(const Tensor& input, A... a) {
    const P p = checked_params<Act>({name}, input, "input", a...);
    const Guard guard{input};
    Tensor x = dense(input);
    Tensor y = empty_output_like(x);
    table().forward(p, x.scalar_type(), x.const_data_ptr(), y.data_ptr(), x.numel());
    return y;
  }

  // The checks of an in-place op, before any write; its hyper-parameters.
  static P checked_in_place(const Tensor& input, OpName op, A... a) {
    const P p = checked_params<Act>(op, input, "input", a...);
    check_no_self_overlap(input, op);
    return p;
  }

  static void forward_(const Tensor& input, A... a) {
    const P p = checked_in_place(input, {name, "_"}, a...);
    const Guard guard{input};
    in_place(input, [&](const Tensor& x) {
      table().forward(p, x.scalar_type(), x.const_data_ptr(), x.data_ptr(), x.numel());
    });
  }

  static TensorPair forward_with_mask(const Tensor& input, A... a) {
    const OpName op{name, "_forward"};
    const P p = checked_params<Act>(op, input, "input", a...);
    const Guard guard{input};
    Tensor x = dense(input);
    Tensor y = empty_output_like(x);
    Tensor mask = empty_mask_for(x);
    table().forward_with_mask(p, x.scalar_type(), x.const_data_ptr(), y.data_ptr(), mask_words(mask), x.numel());
    return {y, mask};
  }

  // In place; the bits follow mask_bit_order(input).
  static Tensor forward_with_mask_(const Tensor& input, A... a) {
    const P p = checked_in_place(input, {name, "_forward_"}, a...);
    const Guard guard{input};
    Tensor mask = empty_mask_for(input);
    in_place(input, [&](const Tensor& x) {
      table().forward_with_mask(p, x.scalar_type(), x.const_data_ptr(), x.data_ptr(), mask_words(mask), x.numel());
    });
    return mask;
  }

  static Tensor mask_backward(const Tensor& grad_output, const Tensor& mask, at::IntArrayRef dim_order, A... a) {
    const OpName op{name, "_backward"};
    const P p = checked_params<Act>(op, grad_output, "grad_output", a...);
    check_mask(mask, grad_output, op);
    check_dim_order(dim_order, grad_output.dim(), op);
    const Guard guard{grad_output};
    Tensor grad_input = empty_in_dim_order(grad_output, dim_order);
    // Memory of both now runs in the mask's bit order.
    Tensor g = (is_identity_order(dim_order) ? grad_output : grad_output.permute(dim_order)).contiguous();
    Tensor words = aligned_mask(mask);
    table().mask_backward(p, g.scalar_type(), g.const_data_ptr(), mask_words_const(words), grad_input.data_ptr(),
                          g.numel());
    return grad_input;
  }

  static Tensor saved_backward(const Tensor& grad_output, const Tensor& saved, A... a) {
    const OpName op{name, "_backward"};
    const P p = checked_params<Act>(op, saved, ops::saved_arg<Act>(), a...);
    check_like(grad_output, saved, op, "grad_output", ops::saved_arg<Act>());
    const Guard guard{grad_output};
    Tensor s = dense(saved);
    Tensor g = in_layout_of(grad_output, s);
    Tensor grad_input = empty_output_like(s);
    table().saved_backward(p, s.scalar_type(), g.const_data_ptr(), s.const_data_ptr(), grad_input.data_ptr(),
                           s.numel());
    return grad_input;
  }

  // --- the weighted family: the slope varies along dim 1 ---

  static ChannelView channel_view(const Tensor& dense_input, const Tensor& weight) {
    const int64_t n = dense_input.numel();
    if (weight.numel() == 1) return {1, 1, std::max<int64_t>(n, 1)};
    if (n == 0) return {0, weight.numel(), 1};
    const int64_t channels = dense_input.size(1);
    const int64_t inner = dense_input.stride(1);
    return {n / (channels * inner), channels, inner};
  }

  static Tensor weighted_forward(const Tensor& input, const Tensor& weight) {
    check_weighted_args(input, weight, {name});
    const Guard guard{input};
    Tensor x = dense(input);
    Tensor w = weight.contiguous();
    Tensor y = empty_output_like(x);
    if (x.numel() > 0) {
      table().forward(P{}, x.scalar_type(), channel_view(x, w), x.const_data_ptr(), w.const_data_ptr(),
                      y.data_ptr());
    }
    return y;
  }

  // grad_input and grad_weight in one pass; the kernel leaves per-chunk channel
  // sums, which the backend adds in a fixed order (bitwise the same on every run).
  static TensorPair weighted_backward(const Tensor& grad_output, const Tensor& input, const Tensor& weight) {
    const OpName op{name, "_backward"};
    check_weighted_args(input, weight, op);
    check_like(grad_output, input, op, "grad_output", "input");
    const Guard guard{grad_output};
    Tensor x = dense(input);
    Tensor g = in_layout_of(grad_output, x);
    Tensor w = weight.contiguous();
    Tensor grad_input = empty_output_like(x);
    Tensor grad_weight = at::empty(weight.sizes(), weight.options());
    const ChannelView view = channel_view(x, w);
    const int64_t n = x.numel();
    const int64_t chunk = Backend::weight_chunk(view.channels);
    const int64_t chunks = std::max<int64_t>(1, (n + chunk - 1) / chunk);
    // The kernels write every entry (the CPU's zero each chunk's row first);
    // with no elements none runs, and the sums are the zeros of an empty sum.
    const auto partial_options = x.options().dtype(at::kDouble);
    Tensor partial = n > 0 ? at::empty({chunks, view.channels}, partial_options)
                           : at::zeros({chunks, view.channels}, partial_options);
    if (n > 0) {
      table().backward(P{}, x.scalar_type(), view, g.const_data_ptr(), x.const_data_ptr(), w.const_data_ptr(),
                       grad_input.data_ptr(), partial.data_ptr<double>(), chunk);
    }
    // Summed in double, then rounded once to weight's dtype.
    grad_weight.copy_(Backend::column_sums(partial).reshape(weight.sizes()));
    return {grad_input, grad_weight};
  }

  // --- the gated family: act(gate) * up on two tensors of one shape ---

  static Tensor gated_forward(const Tensor& gate, const Tensor& up, A... a) {
    const P p = checked_params<Act>({name}, gate, "gate", a...);
    check_like(up, gate, {name}, "up", "gate");
    const Guard guard{gate};
    Tensor g = dense(gate);
    Tensor u = in_layout_of(up, g);
    Tensor y = empty_output_like(g);
    table().forward(p, g.scalar_type(), g.const_data_ptr(), u.const_data_ptr(), y.data_ptr(), g.numel());
    return y;
  }

  static TensorPair gated_backward(const Tensor& grad_output, const Tensor& gate, const Tensor& up, A... a) {
    const OpName op{name, "_backward"};
    const P p = checked_params<Act>(op, gate, "gate", a...);
    check_like(up, gate, op, "up", "gate");
    check_like(grad_output, gate, op, "grad_output", "gate");
    const Guard guard{gate};
    Tensor g = dense(gate);
    Tensor u = in_layout_of(up, g);
    Tensor dy = in_layout_of(grad_output, g);
    Tensor grad_gate = empty_output_like(g);
    Tensor grad_up = empty_output_like(g);
    table().backward(p, g.scalar_type(), dy.const_data_ptr(), g.const_data_ptr(), u.const_data_ptr(),
                     grad_gate.data_ptr(), grad_up.data_ptr(), g.numel());
    return {grad_gate, grad_up};
  }
};

// TensorKernelsOf<Backend>::type<Act, A...>: the form ops::ByArgs registers.
template <typename Backend>
struct TensorKernelsOf {
  template <typename Act, typename... A>
  using type = TensorKernels<Backend, Act, A...>;
};

}  // namespace torch_act::ops
