// CPU kernels of every torch_act op: each applies an activation's math
// (activations.h) with one of a few generic fused loops (loops.h).
#include "../activations.h"
#include "../checks.h"
#include "../layout.h"
#include "../ops/op_list.h"
#include "loops.h"

#include <ATen/Dispatch.h>
#include <ATen/ops/zeros.h>
#include <torch/library.h>

#include <vector>

#define TORCH_ACT_DISPATCH_FLOATING(type, ...) \
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, type, "torch_act_cpu", __VA_ARGS__)

namespace torch_act::cpu {
namespace {

using at::Tensor;
using TensorPair = std::tuple<Tensor, Tensor>;

// --- layout: every tensor a loop reads or writes shares one dense layout ----

Tensor dense(const Tensor& t) {
  return t.is_non_overlapping_and_dense() ? t : empty_output_like(t).copy_(t);
}

bool same_strides(const Tensor& a, const Tensor& b) {
  for (int64_t d = 0; d < a.dim(); ++d) {
    if (a.size(d) != 1 && a.stride(d) != b.stride(d)) return false;
  }
  return true;
}

// t's values laid out as `ref` (dense), copying only when they differ.
Tensor in_layout_of(const Tensor& t, const Tensor& ref) {
  if (t.is_non_overlapping_and_dense() && same_strides(t, ref)) return t;
  return at::empty_like(ref).copy_(t);
}

// Runs fill(dense_view) on the input itself when it is dense, else on a
// contiguous copy written back afterwards.
template <typename Fill>
void in_place(const Tensor& input, const Fill& fill) {
  if (input.is_non_overlapping_and_dense()) {
    fill(input);
  } else {
    Tensor work = input.contiguous();
    fill(work);
    input.copy_(work);
  }
}

uint64_t* mask_words(const Tensor& mask) {
  return reinterpret_cast<uint64_t*>(mask.data_ptr<uint8_t>());
}

Tensor aligned_mask(const Tensor& mask) {
  // Words are read as uint64_t: a mask view at an odd offset is copied.
  Tensor m = mask.contiguous();
  if (reinterpret_cast<uintptr_t>(m.const_data_ptr()) % alignof(uint64_t) != 0) m = m.clone();
  return m;
}

// --- generic fused loops, one per kind of op ---------------------------------

// y = act(x), elementwise, into `out` (may be `x` itself).
template <typename Act>
void apply_forward(const Act& act, const Tensor& x, const Tensor& out) {
  TORCH_ACT_DISPATCH_FLOATING(x.scalar_type(), [&] {
    for_each_block<scalar_t, 1, 1>(
        {x.const_data_ptr<scalar_t>()}, {out.data_ptr<scalar_t>()}, x.numel(),
        [&](int64_t, int64_t len, auto in, auto o) {
          map(in[0], o[0], len, [act](auto v) { return act.forward(v); });
        });
  });
}

// As apply_forward, also packing act.mask_bit(x) into `mask` (before `out`
// overwrites x when they alias).
template <typename Act>
void apply_forward_with_mask(const Act& act, const Tensor& x, const Tensor& out, const Tensor& mask) {
  uint64_t* words = mask_words(mask);
  TORCH_ACT_DISPATCH_FLOATING(x.scalar_type(), [&] {
    for_each_block<scalar_t, 1, 1>(
        {x.const_data_ptr<scalar_t>()}, {out.data_ptr<scalar_t>()}, x.numel(),
        [&](int64_t begin, int64_t len, auto in, auto o) {
          pack_bits(in[0], len, words + begin / 64, [act](auto v) { return act.mask_bit(v); });
          map(in[0], o[0], len, [act](auto v) { return act.forward(v); });
        });
  });
}

// grad_input = f(grad_output, saved), elementwise.
template <typename F>
Tensor apply_saved_backward(const Tensor& grad_output, const Tensor& saved, const F& f) {
  Tensor s = dense(saved);
  Tensor g = in_layout_of(grad_output, s);
  Tensor grad_input = empty_output_like(s);
  TORCH_ACT_DISPATCH_FLOATING(s.scalar_type(), [&] {
    for_each_block<scalar_t, 2, 1>(
        {g.const_data_ptr<scalar_t>(), s.const_data_ptr<scalar_t>()},
        {grad_input.data_ptr<scalar_t>()}, s.numel(),
        [&](int64_t, int64_t len, auto in, auto o) { map2(in[0], in[1], o[0], len, f); });
  });
  return grad_input;
}

template <typename Act>
Tensor mask_backward(const Act& act, const Tensor& grad_output, const Tensor& mask,
                     at::IntArrayRef dim_order, std::string_view op) {
  check_floating(grad_output, op, "grad_output");
  check_mask(mask, grad_output, op);
  check_dim_order(dim_order, grad_output.dim(), op);
  Tensor grad_input = empty_in_dim_order(grad_output, dim_order);
  // Memory of both now runs in the mask's bit order.
  Tensor g = grad_output.permute(dim_order).contiguous();
  const uint64_t* words = mask_words(aligned_mask(mask));
  TORCH_ACT_DISPATCH_FLOATING(g.scalar_type(), [&] {
    for_each_block<scalar_t, 1, 1>(
        {g.const_data_ptr<scalar_t>()}, {grad_input.data_ptr<scalar_t>()}, g.numel(),
        [&](int64_t begin, int64_t len, auto in, auto o) {
          map_with_bits(in[0], words + begin / 64, o[0], len,
                        [act](auto v, bool bit) { return act.backward(v, bit); });
        });
  });
  return grad_input;
}

template <typename Act>
Tensor forward(const Act& act, const Tensor& input, std::string_view op) {
  check_floating(input, op, "input");
  Tensor x = dense(input);
  Tensor y = empty_output_like(x);
  apply_forward(act, x, y);
  return y;
}

template <typename Act>
void forward_(const Act& act, const Tensor& input, std::string_view op) {
  check_floating(input, op, "input");
  in_place(input, [&](const Tensor& x) { apply_forward(act, x, x); });
}

template <typename Act>
TensorPair forward_with_mask(const Act& act, const Tensor& input, std::string_view op) {
  check_floating(input, op, "input");
  Tensor x = dense(input);
  Tensor y = empty_output_like(x);
  Tensor mask = empty_mask_for(x);
  apply_forward_with_mask(act, x, y, mask);
  return {y, mask};
}

// In place; bits follow the input's memory order when it is dense, else
// row-major order (autograd/functions.cpp picks the matching dim order).
template <typename Act>
Tensor forward_with_mask_(const Act& act, const Tensor& input, std::string_view op) {
  check_floating(input, op, "input");
  Tensor mask = empty_mask_for(input);
  in_place(input, [&](const Tensor& x) { apply_forward_with_mask(act, x, x, mask); });
  return mask;
}

// --- the ops -----------------------------------------------------------------

Tensor relu(const Tensor& input) { return forward(math::Relu{}, input, "relu"); }
void relu_(const Tensor& input) { forward_(math::Relu{}, input, "relu_"); }
TensorPair relu_forward(const Tensor& input) {
  return forward_with_mask(math::Relu{}, input, "relu_forward");
}
Tensor relu_forward_(const Tensor& input) {
  return forward_with_mask_(math::Relu{}, input, "relu_forward_");
}
Tensor relu_backward(const Tensor& grad_output, const Tensor& mask, at::IntArrayRef dim_order) {
  return mask_backward(math::Relu{}, grad_output, mask, dim_order, "relu_backward");
}

Tensor leaky_relu(const Tensor& input, double slope) {
  return forward(math::LeakyRelu{slope}, input, "leaky_relu");
}
void leaky_relu_(const Tensor& input, double slope) {
  forward_(math::LeakyRelu{slope}, input, "leaky_relu_");
}
TensorPair leaky_relu_forward(const Tensor& input, double slope) {
  return forward_with_mask(math::LeakyRelu{slope}, input, "leaky_relu_forward");
}
Tensor leaky_relu_forward_(const Tensor& input, double slope) {
  return forward_with_mask_(math::LeakyRelu{slope}, input, "leaky_relu_forward_");
}
Tensor leaky_relu_backward(const Tensor& grad_output, const Tensor& mask,
                           at::IntArrayRef dim_order, double slope) {
  return mask_backward(math::LeakyRelu{slope}, grad_output, mask, dim_order, "leaky_relu_backward");
}

Tensor elu(const Tensor& input, double alpha) { return forward(math::Elu{alpha}, input, "elu"); }
void elu_(const Tensor& input, double alpha) { forward_(math::Elu{alpha}, input, "elu_"); }
Tensor elu_backward(const Tensor& grad_output, const Tensor& saved, double alpha,
                    bool saved_is_output) {
  check_floating(saved, "elu_backward", "saved");
  check_like(grad_output, saved, "elu_backward", "grad_output", "saved");
  const math::Elu act{alpha};
  if (saved_is_output) {
    return apply_saved_backward(grad_output, saved,
                                [act](auto g, auto y) { return act.backward_from_output(g, y); });
  }
  return apply_saved_backward(grad_output, saved,
                              [act](auto g, auto x) { return act.backward_from_input(g, x); });
}

Tensor sigmoid(const Tensor& input) { return forward(math::Sigmoid{}, input, "sigmoid"); }
Tensor sigmoid_backward(const Tensor& grad_output, const Tensor& output) {
  check_floating(output, "sigmoid_backward", "output");
  check_like(grad_output, output, "sigmoid_backward", "grad_output", "output");
  return apply_saved_backward(grad_output, output, [](auto g, auto y) {
    return math::Sigmoid{}.backward_from_output(g, y);
  });
}

Tensor tanh(const Tensor& input) { return forward(math::Tanh{}, input, "tanh"); }
Tensor tanh_backward(const Tensor& grad_output, const Tensor& output) {
  check_floating(output, "tanh_backward", "output");
  check_like(grad_output, output, "tanh_backward", "grad_output", "output");
  return apply_saved_backward(grad_output, output, [](auto g, auto y) {
    return math::Tanh{}.backward_from_output(g, y);
  });
}

// --- PReLU: the slope varies along dim 1 ---------------------------------------

// A dense tensor's memory seen as [outer, channels, inner]: the channel of
// offset i is (i / inner) % channels, whatever the layout (contiguous,
// channels_last, permuted), because inner = stride(1) in a dense tensor.
struct ChannelView {
  int64_t outer, channels, inner;
  int64_t channel_of_row(int64_t row) const { return row % channels; }
};

ChannelView channel_view(const Tensor& dense_input, const Tensor& weight) {
  const int64_t n = dense_input.numel();
  if (weight.numel() == 1) return {1, 1, std::max<int64_t>(n, 1)};
  if (n == 0) return {0, weight.numel(), 1};
  const int64_t channels = dense_input.size(1);
  const int64_t inner = dense_input.stride(1);
  return {n / (channels * inner), channels, inner};
}

// Calls run(begin, end, channel) for each maximal stretch of [begin, end)
// that lies in one channel.
template <typename Run>
void for_each_channel_run(const ChannelView& v, int64_t begin, int64_t end, const Run& run) {
  while (begin < end) {
    const int64_t row = begin / v.inner;
    const int64_t stop = std::min(end, (row + 1) * v.inner);
    run(begin, stop, v.channel_of_row(row));
    begin = stop;
  }
}

Tensor prelu(const Tensor& input, const Tensor& weight) {
  check_prelu_args(input, weight, "prelu");
  Tensor x = dense(input);
  Tensor w = weight.contiguous();
  Tensor y = empty_output_like(x);
  const ChannelView view = channel_view(x, w);
  TORCH_ACT_DISPATCH_FLOATING(x.scalar_type(), [&] {
    using T = opmath_t<scalar_t>;
    const scalar_t* xp = x.const_data_ptr<scalar_t>();
    const scalar_t* wp = w.const_data_ptr<scalar_t>();
    scalar_t* yp = y.data_ptr<scalar_t>();
    at::parallel_for(0, x.numel(), kGrainSize, [&](int64_t begin, int64_t end) {
      for_each_channel_run(view, begin, end, [&](int64_t b, int64_t e, int64_t c) {
        const T a = static_cast<T>(wp[c]);
        for (int64_t i = b; i < e; ++i) {
          yp[i] = static_cast<scalar_t>(math::Prelu::forward(static_cast<T>(xp[i]), a));
        }
      });
    });
  });
  return y;
}

// One pass writes grad_input and reduces grad_weight. The reduction is split
// into chunks fixed by the shape alone (never by the thread count); each chunk
// sums its channels in double into its own row of `partial`, and the rows are
// added in chunk order: bitwise the same result on every run. Each product is
// rounded to the input dtype first, as torch.nn's elementwise weight gradient.
TensorPair prelu_backward(const Tensor& grad_output, const Tensor& input, const Tensor& weight) {
  check_prelu_args(input, weight, "prelu_backward");
  check_like(grad_output, input, "prelu_backward", "grad_output", "input");
  Tensor x = dense(input);
  Tensor g = in_layout_of(grad_output, x);
  Tensor w = weight.contiguous();
  Tensor grad_input = empty_output_like(x);
  Tensor grad_weight = at::empty(weight.sizes(), weight.options());
  const ChannelView view = channel_view(x, w);
  const int64_t n = x.numel();
  // Chunks of at least 16 elements per channel bound `partial` to 1/8 of an
  // fp32 input even with thousands of channels.
  const int64_t chunk = std::max(kGrainSize, 16 * view.channels);
  const int64_t chunks = std::max<int64_t>(1, (n + chunk - 1) / chunk);
  Tensor partial = at::zeros({chunks, view.channels}, x.options().dtype(at::kDouble));
  double* pp = partial.data_ptr<double>();
  TORCH_ACT_DISPATCH_FLOATING(x.scalar_type(), [&] {
    using T = opmath_t<scalar_t>;
    const scalar_t* xp = x.const_data_ptr<scalar_t>();
    const scalar_t* gp = g.const_data_ptr<scalar_t>();
    const scalar_t* wp = w.const_data_ptr<scalar_t>();
    scalar_t* gip = grad_input.data_ptr<scalar_t>();
    at::parallel_for(0, chunks, 1, [&](int64_t first, int64_t last) {
      for (int64_t k = first; k < last; ++k) {
        double* sums = pp + k * view.channels;
        for_each_channel_run(view, k * chunk, std::min(n, (k + 1) * chunk),
                             [&](int64_t b, int64_t e, int64_t c) {
          const T a = static_cast<T>(wp[c]);
          double sum = 0;
          for (int64_t i = b; i < e; ++i) {
            const T xi = static_cast<T>(xp[i]);
            const T gi = static_cast<T>(gp[i]);
            gip[i] = static_cast<scalar_t>(math::Prelu::grad_input(gi, xi, a));
            sum += static_cast<double>(static_cast<scalar_t>(math::Prelu::grad_alpha_term(gi, xi)));
          }
          sums[c] += sum;
        });
      }
    });
    scalar_t* gwp = grad_weight.data_ptr<scalar_t>();
    for (int64_t c = 0; c < view.channels; ++c) {
      double total = 0;
      for (int64_t k = 0; k < chunks; ++k) total += pp[k * view.channels + c];
      gwp[c] = static_cast<scalar_t>(total);
    }
  });
  return {grad_input, grad_weight};
}

}  // namespace
}  // namespace torch_act::cpu

TORCH_LIBRARY_IMPL(torch_act, CPU, m) {
  TORCH_ACT_REGISTER_ALL(m, torch_act::cpu);
}
