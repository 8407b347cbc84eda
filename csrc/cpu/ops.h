// The CPU kernels of every op, per family: argument checks, layouts and
// allocation here, then one call into the raw-pointer kernel table built for
// this CPU (kernel_table.h). Registered for every activation by register.cpp.
#pragma once

#include "../checks.h"
#include "../layout.h"
#include "../ops/op_set.h"
#include "flat_layout.h"
#include "kernel_table.h"
#include "settings.h"

#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>

#include <algorithm>
#include <tuple>

namespace torch_act::cpu {

template <typename Act, typename... A>
struct Kernels {
  using Tensor = at::Tensor;
  using TensorPair = std::tuple<Tensor, Tensor>;
  using P = typename Act::params_type;
  static constexpr std::string_view name = Act::name;

  // --- elementwise families ---

  static Tensor forward(const Tensor& input, A... a) {
    const P p = checked_params<Act>({name}, a...);
    check_floating(input, {name}, "input");
    Tensor x = dense(input);
    Tensor y = empty_output_like(x);
    kernels_of<Act>().forward(p, x.scalar_type(), x.const_data_ptr(), y.data_ptr(), x.numel());
    return y;
  }

  static void forward_(const Tensor& input, A... a) {
    const OpName op{name, "_"};
    const P p = checked_params<Act>(op, a...);
    check_floating(input, op, "input");
    check_no_self_overlap(input, op);
    in_place(input, [&](const Tensor& x) {
      kernels_of<Act>().forward(p, x.scalar_type(), x.const_data_ptr(), x.data_ptr(), x.numel());
    });
  }

  static TensorPair forward_with_mask(const Tensor& input, A... a) {
    const OpName op{name, "_forward"};
    const P p = checked_params<Act>(op, a...);
    check_floating(input, op, "input");
    Tensor x = dense(input);
    Tensor y = empty_output_like(x);
    Tensor mask = empty_mask_for(x);
    kernels_of<Act>().forward_with_mask(p, x.scalar_type(), x.const_data_ptr(), y.data_ptr(), mask_words(mask),
                                        x.numel());
    return {y, mask};
  }

  // In place; the bits follow mask_bit_order(input).
  static Tensor forward_with_mask_(const Tensor& input, A... a) {
    const OpName op{name, "_forward_"};
    const P p = checked_params<Act>(op, a...);
    check_floating(input, op, "input");
    check_no_self_overlap(input, op);
    Tensor mask = empty_mask_for(input);
    in_place(input, [&](const Tensor& x) {
      kernels_of<Act>().forward_with_mask(p, x.scalar_type(), x.const_data_ptr(), x.data_ptr(),
                                          mask_words(mask), x.numel());
    });
    return mask;
  }

  static Tensor mask_backward(const Tensor& grad_output, const Tensor& mask, at::IntArrayRef dim_order, A... a) {
    const OpName op{name, "_backward"};
    const P p = checked_params<Act>(op, a...);
    check_floating(grad_output, op, "grad_output");
    check_mask(mask, grad_output, op);
    check_dim_order(dim_order, grad_output.dim(), op);
    Tensor grad_input = empty_in_dim_order(grad_output, dim_order);
    // Memory of both now runs in the mask's bit order.
    Tensor g = (is_identity_order(dim_order) ? grad_output : grad_output.permute(dim_order)).contiguous();
    Tensor words = aligned_mask(mask);
    kernels_of<Act>().mask_backward(p, g.scalar_type(), g.const_data_ptr(), mask_words_const(words),
                                    grad_input.data_ptr(), g.numel());
    return grad_input;
  }

  static Tensor saved_backward(const Tensor& grad_output, const Tensor& saved, A... a) {
    const OpName op{name, "_backward"};
    const P p = checked_params<Act>(op, a...);
    check_floating(saved, op, ops::saved_arg<Act>());
    check_like(grad_output, saved, op, "grad_output", ops::saved_arg<Act>());
    Tensor s = dense(saved);
    Tensor g = in_layout_of(grad_output, s);
    Tensor grad_input = empty_output_like(s);
    kernels_of<Act>().saved_backward(p, s.scalar_type(), g.const_data_ptr(), s.const_data_ptr(),
                                     grad_input.data_ptr(), s.numel());
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
    Tensor x = dense(input);
    Tensor w = weight.contiguous();
    Tensor y = empty_output_like(x);
    if (x.numel() > 0) {
      kernels_of<Act>().forward(P{}, x.scalar_type(), channel_view(x, w), x.const_data_ptr(), w.const_data_ptr(),
                                y.data_ptr());
    }
    return y;
  }

  // grad_input and grad_weight in one pass; the kernel leaves per-chunk channel
  // sums, added here in chunk order (bitwise the same on every run).
  static TensorPair weighted_backward(const Tensor& grad_output, const Tensor& input, const Tensor& weight) {
    const OpName op{name, "_backward"};
    check_weighted_args(input, weight, op);
    check_like(grad_output, input, op, "grad_output", "input");
    Tensor x = dense(input);
    Tensor g = in_layout_of(grad_output, x);
    Tensor w = weight.contiguous();
    Tensor grad_input = empty_output_like(x);
    Tensor grad_weight = at::empty(weight.sizes(), weight.options());
    const ChannelView view = channel_view(x, w);
    const int64_t n = x.numel();
    // Chunks of at least 16 elements per channel bound `partial` to 1/8 of an
    // fp32 input even with thousands of channels; whole 64-element words keep
    // every chunk's start aligned for streaming stores.
    const int64_t chunk = std::max<int64_t>(kGrainSize, (16 * view.channels + 63) / 64 * 64);
    const int64_t chunks = std::max<int64_t>(1, (n + chunk - 1) / chunk);
    Tensor partial = at::zeros({chunks, view.channels}, x.options().dtype(at::kDouble));
    double* pp = partial.data_ptr<double>();
    if (n > 0) {
      kernels_of<Act>().backward(P{}, x.scalar_type(), view, g.const_data_ptr(), x.const_data_ptr(),
                                 w.const_data_ptr(), grad_input.data_ptr(), pp, chunk);
    }
    // Column sums in chunk order, in double, then rounded once to weight's dtype.
    Tensor totals = at::zeros({view.channels}, partial.options());
    double* tp = totals.data_ptr<double>();
    for (int64_t k = 0; k < chunks; ++k) {
      for (int64_t c = 0; c < view.channels; ++c) tp[c] += pp[k * view.channels + c];
    }
    grad_weight.copy_(totals.reshape(weight.sizes()));
    return {grad_input, grad_weight};
  }
};

}  // namespace torch_act::cpu
