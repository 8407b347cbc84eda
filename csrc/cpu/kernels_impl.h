// The raw-pointer CPU kernels: an activation's math (activations.h) applied
// by the generic loops (loops.h). Included once per CPU capability by
// capability_*.cpp, after kernel_prelude.h and the target switch; everything
// here lives in torch_act::cpu::<CPU_CAPABILITY>.
#pragma once

#include "../activations.h"
#include "kernel_table.h"
#include "loops.h"

#define TORCH_ACT_DISPATCH_FLOATING(type, ...) \
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, type, "torch_act_cpu", __VA_ARGS__)

namespace torch_act::cpu {
inline namespace CPU_CAPABILITY {
namespace {

// Calls f(act) with the math struct of `kind`.
template <typename F>
void with_activation(Kind kind, double param, const F& f) {
  switch (kind) {
    case Kind::Relu: return f(math::Relu{});
    case Kind::LeakyRelu: return f(math::LeakyRelu{param});
    case Kind::Elu: return f(math::Elu{param});
    case Kind::Sigmoid: return f(math::Sigmoid{});
    case Kind::Tanh: return f(math::Tanh{});
  }
}

void forward(Kind kind, double param, c10::ScalarType dtype, const void* x, void* y, int64_t n) {
  with_activation(kind, param, [&](auto act) {
    TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
      for_each_block<scalar_t, 1, 1>(
          {static_cast<const scalar_t*>(x)}, {static_cast<scalar_t*>(y)}, n,
          [&](int64_t, int64_t len, auto in, auto out) {
            map(in[0], out[0], len, [act](auto v) { return act.forward(v); });
          });
    });
  });
}

// Only the masked activations (ReLU, LeakyReLU) have mask_bit/backward(grad, bit).
template <typename F>
void with_masked_activation(Kind kind, double param, const F& f) {
  if (kind == Kind::Relu) return f(math::Relu{});
  TORCH_CHECK(kind == Kind::LeakyRelu, "torch_act: internal error: no bit mask for this activation");
  f(math::LeakyRelu{param});
}

void forward_with_mask(Kind kind, double param, c10::ScalarType dtype, const void* x, void* y,
                       uint64_t* mask, int64_t n) {
  with_masked_activation(kind, param, [&](auto act) {
    TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
      for_each_block<scalar_t, 1, 1>(
          {static_cast<const scalar_t*>(x)}, {static_cast<scalar_t*>(y)}, n,
          [&](int64_t begin, int64_t len, auto in, auto out) {
            pack_bits(in[0], len, mask + begin / 64, [act](auto v) { return act.mask_bit(v); });
            map(in[0], out[0], len, [act](auto v) { return act.forward(v); });
          });
    });
  });
}

void mask_backward(Kind kind, double param, c10::ScalarType dtype, const void* grad,
                   const uint64_t* mask, void* grad_input, int64_t n) {
  with_masked_activation(kind, param, [&](auto act) {
    TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
      for_each_block<scalar_t, 1, 1>(
          {static_cast<const scalar_t*>(grad)}, {static_cast<scalar_t*>(grad_input)}, n,
          [&](int64_t begin, int64_t len, auto in, auto out) {
            map_with_bits(in[0], mask + begin / 64, out[0], len,
                          [act](auto v, bool bit) { return act.backward(v, bit); });
          });
    });
  });
}

template <typename F>
void apply_saved_backward(c10::ScalarType dtype, const void* grad, const void* saved,
                          void* grad_input, int64_t n, const F& f) {
  TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
    for_each_block<scalar_t, 2, 1>(
        {static_cast<const scalar_t*>(grad), static_cast<const scalar_t*>(saved)},
        {static_cast<scalar_t*>(grad_input)}, n,
        [&](int64_t, int64_t len, auto in, auto out) { map2(in[0], in[1], out[0], len, f); });
  });
}

void saved_backward(Kind kind, double param, Saved saved_kind, c10::ScalarType dtype,
                    const void* grad, const void* saved, void* grad_input, int64_t n) {
  switch (kind) {
    case Kind::Elu: {
      const math::Elu act{param};
      if (saved_kind == Saved::Output) {
        return apply_saved_backward(dtype, grad, saved, grad_input, n,
                                    [act](auto g, auto y) { return act.backward_from_output(g, y); });
      }
      return apply_saved_backward(dtype, grad, saved, grad_input, n,
                                  [act](auto g, auto x) { return act.backward_from_input(g, x); });
    }
    case Kind::Sigmoid:
      return apply_saved_backward(dtype, grad, saved, grad_input, n, [](auto g, auto y) {
        return math::Sigmoid{}.backward_from_output(g, y);
      });
    case Kind::Tanh:
      return apply_saved_backward(dtype, grad, saved, grad_input, n, [](auto g, auto y) {
        return math::Tanh{}.backward_from_output(g, y);
      });
    default:
      TORCH_CHECK(false, "torch_act: internal error: no saved-tensor backward for this activation");
  }
}

// Calls run(begin, end, channel) for each maximal stretch of [begin, end)
// that lies in one channel.
template <typename Run>
void for_each_channel_run(const ChannelView& v, int64_t begin, int64_t end, const Run& run) {
  while (begin < end) {
    const int64_t row = begin / v.inner;
    const int64_t stop = std::min(end, (row + 1) * v.inner);
    run(begin, stop, row % v.channels);
    begin = stop;
  }
}

void prelu_forward(c10::ScalarType dtype, ChannelView view, const void* x, const void* weight,
                   void* y) {
  const int64_t n = view.outer * view.channels * view.inner;
  TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
    using T = opmath_t<scalar_t>;
    const auto* xp = static_cast<const scalar_t*>(x);
    const auto* wp = static_cast<const scalar_t*>(weight);
    auto* yp = static_cast<scalar_t*>(y);
    at::parallel_for(0, n, kGrainSize, [&](int64_t begin, int64_t end) {
      for_each_channel_run(view, begin, end, [&](int64_t b, int64_t e, int64_t c) {
        const T a = static_cast<T>(wp[c]);
        for (int64_t i = b; i < e; ++i) {
          yp[i] = static_cast<scalar_t>(math::Prelu::forward(static_cast<T>(xp[i]), a));
        }
      });
    });
  });
}

// Each chunk sums its channels in double into its own row of `partial`; the
// chunks are fixed by the shape alone, never by the thread count, so the
// caller's in-order combine is bitwise the same on every run. Each product
// is rounded to the input dtype first, as torch.nn's elementwise weight
// gradient is.
void prelu_backward(c10::ScalarType dtype, ChannelView view, const void* grad, const void* x,
                    const void* weight, void* grad_input, double* partial, int64_t chunk) {
  const int64_t n = view.outer * view.channels * view.inner;
  const int64_t chunks = (n + chunk - 1) / chunk;
  TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
    using T = opmath_t<scalar_t>;
    const auto* xp = static_cast<const scalar_t*>(x);
    const auto* gp = static_cast<const scalar_t*>(grad);
    const auto* wp = static_cast<const scalar_t*>(weight);
    auto* gip = static_cast<scalar_t*>(grad_input);
    at::parallel_for(0, chunks, 1, [&](int64_t first, int64_t last) {
      for (int64_t k = first; k < last; ++k) {
        double* sums = partial + k * view.channels;
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
  });
}

}  // namespace

#define TORCH_ACT_STRINGIFY_(x) #x
#define TORCH_ACT_STRINGIFY(x) TORCH_ACT_STRINGIFY_(x)

inline const KernelTable table = {
    TORCH_ACT_STRINGIFY(CPU_CAPABILITY), forward, forward_with_mask, mask_backward,
    saved_backward, prelu_forward, prelu_backward,
};

}  // namespace CPU_CAPABILITY
}  // namespace torch_act::cpu
