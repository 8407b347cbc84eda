// The kernels of every op on tensors, per family, for any backend: argument
// checks (op_checks.h, shared with Meta), layouts and allocation here, then
// one call into the backend's raw-pointer kernel table (kernel_table.h).
// Every op checks its arguments before it builds the device guard: a CUDA
// guard built from a CPU tensor fails first, with a message that names no
// argument. A backend supplies
//   Backend::table()              its KernelTable
//   Backend::Guard{tensor}        what must hold while its kernels run (CUDA: the tensor's device)
//   Backend::weight_chunk(c)      elements per partial sum of the weighted backward
//   Backend::column_sums(partial) [chunks, channels] doubles summed over chunks, in a fixed order
// and registers ops::ByArgs<TensorKernelsOf<Backend>::type>.
#pragma once

#include "../flat_layout.h"
#include "../kernel_table.h"
#include "../layout.h"
#include "op_checks.h"

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
  using Guard = typename Backend::Guard;
  using Checks = OpChecks<Act, A...>;
  static const auto& table() { return kernels_of<Act>(Backend::table()); }

  // --- elementwise families ---

  static Tensor forward(const Tensor& input, A... a) {
    const P p = Checks::forward(input, a...);
    const Guard guard{input};
    Tensor x = dense(input);
    Tensor y = empty_output_like(x);
    table().forward(p, x.scalar_type(), x.const_data_ptr(), y.data_ptr(), x.numel());
    return y;
  }

  static void forward_(const Tensor& input, A... a) {
    const P p = Checks::forward_(input, a...);
    const Guard guard{input};
    write_inplace(input, [&](const Tensor& x) {
      table().forward(p, x.scalar_type(), x.const_data_ptr(), x.data_ptr(), x.numel());
    });
  }

  static TensorPair forward_with_mask(const Tensor& input, A... a) {
    const P p = Checks::forward_with_mask(input, a...);
    const Guard guard{input};
    Tensor x = dense(input);
    Tensor y = empty_output_like(x);
    Tensor mask = empty_mask_for(x);
    table().forward_with_mask(p, x.scalar_type(), x.const_data_ptr(), y.data_ptr(), mask_words(mask), x.numel());
    return {y, mask};
  }

  // In place; the bits follow mask_bit_order(input).
  static Tensor forward_with_mask_(const Tensor& input, A... a) {
    const P p = Checks::forward_with_mask_(input, a...);
    const Guard guard{input};
    Tensor mask = empty_mask_for(input);
    write_inplace(input, [&](const Tensor& x) {
      table().forward_with_mask(p, x.scalar_type(), x.const_data_ptr(), x.data_ptr(), mask_words(mask), x.numel());
    });
    return mask;
  }

  static Tensor mask_backward(const Tensor& grad_output, const Tensor& mask, at::IntArrayRef dim_order, A... a) {
    const P p = Checks::mask_backward(grad_output, mask, dim_order, a...);
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
    const P p = Checks::saved_backward(grad_output, saved, a...);
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
    Checks::weighted_forward(input, weight);
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
    Checks::weighted_backward(grad_output, input, weight);
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
    const P p = Checks::gated_forward(gate, up, a...);
    const Guard guard{gate};
    Tensor g = dense(gate);
    Tensor u = in_layout_of(up, g);
    Tensor y = empty_output_like(g);
    table().forward(p, g.scalar_type(), g.const_data_ptr(), u.const_data_ptr(), y.data_ptr(), g.numel());
    return y;
  }

  static TensorPair gated_backward(const Tensor& grad_output, const Tensor& gate, const Tensor& up, A... a) {
    const P p = Checks::gated_backward(grad_output, gate, up, a...);
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
