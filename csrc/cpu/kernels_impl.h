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
          [&](int64_t, int64_t len, auto in, auto out, bool stream) {
            map(in[0], out[0], len, stream, [act](auto v) { return act.forward(v); });
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
          [&](int64_t begin, int64_t len, auto in, auto out, bool stream) {
            map_pack_bits(in[0], out[0], len, mask + begin / 64, stream,
                          [act](auto v) { return act.mask_bit(v); },
                          [act](auto v) { return act.forward(v); });
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
          [&](int64_t begin, int64_t len, auto in, auto out, bool stream) {
            map_with_bits(in[0], mask + begin / 64, out[0], len, stream,
                          [act](auto v, auto bit) { return act.backward(v, bit); });
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
        [&](int64_t, int64_t len, auto in, auto out, bool stream) {
          map2(in[0], in[1], out[0], len, stream, f);
        });
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

// Calls run(offset, length, first_channel) for each stretch of [begin, end)
// whose channels are consecutive; only for inner == 1 (channels last, or a
// (N, C) input), where the channel changes with every element.
template <typename Run>
void for_each_channel_row(const ChannelView& v, int64_t begin, int64_t end, const Run& run) {
  int64_t c = begin % v.channels;
  for (int64_t i = begin; i < end; c = 0) {
    const int64_t m = std::min(end - i, v.channels - c);
    run(i, m, c);
    i += m;
  }
}

// out[i] = alpha of element begin + i, so the PReLU loops below are flat
// vector loops whatever the layout.
template <typename T>
void fill_alpha(const ChannelView& v, const T* alpha, int64_t begin, int64_t len, T* out) {
  if (v.channels == 1) {
    std::fill_n(out, len, alpha[0]);
    return;
  }
  if (v.inner == 1) {
    return for_each_channel_row(v, begin, begin + len, [&](int64_t i, int64_t m, int64_t c) {
      std::copy_n(alpha + c, m, out + i - begin);
    });
  }
  for_each_channel_run(v, begin, begin + len, [&](int64_t b, int64_t e, int64_t c) {
    std::fill(out + b - begin, out + e - begin, alpha[c]);
  });
}

template <typename scalar_t>
std::vector<opmath_t<scalar_t>> alpha_in_opmath(const void* weight, int64_t channels) {
  const auto* w = static_cast<const scalar_t*>(weight);
  return std::vector<opmath_t<scalar_t>>(w, w + channels);
}

// Sum in double; `omp simd` lets the compiler keep one partial sum per lane,
// a fixed order for a given build, so the result is the same on every run.
template <typename T>
double sum_in_double(const T* t, int64_t len) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < len; ++i) s += static_cast<double>(t[i]);
  return s;
}

// sums[channel of element begin + i] += terms[i], in double.
template <typename T>
void add_channel_sums(const ChannelView& v, int64_t begin, int64_t len, const T* terms, double* sums) {
  if (v.inner == 1 && v.channels > 1) {
    return for_each_channel_row(v, begin, begin + len, [&](int64_t i, int64_t m, int64_t c) {
      const T* t = terms + (i - begin);
#pragma omp simd
      for (int64_t j = 0; j < m; ++j) sums[c + j] += static_cast<double>(t[j]);
    });
  }
  for_each_channel_run(v, begin, begin + len, [&](int64_t b, int64_t e, int64_t c) {
    sums[c] += sum_in_double(terms + (b - begin), e - b);
  });
}

void prelu_forward(c10::ScalarType dtype, ChannelView view, const void* x, const void* weight,
                   void* y) {
  const int64_t n = view.outer * view.channels * view.inner;
  TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
    using T = opmath_t<scalar_t>;
    const auto alpha = alpha_in_opmath<scalar_t>(weight, view.channels);
    for_each_block<scalar_t, 1, 1>(
        {static_cast<const scalar_t*>(x)}, {static_cast<scalar_t*>(y)}, n,
        [&](int64_t begin, int64_t len, auto in, auto out, bool stream) {
          T a[kStageBlock];
          fill_alpha(view, alpha.data(), begin, len, a);
          map2(in[0], a, out[0], len, stream, [](auto v, auto s) { return math::Prelu::forward(v, s); });
        });
  });
}

// grad_input[i] and terms[i] (element i's share of its channel's alpha
// gradient) in one vector pass.
template <typename T>
void prelu_grads(const T* grad, const T* x, const T* alpha, T* grad_input, T* terms, int64_t len,
                 bool stream) {
  using V = at::vec::Vectorized<T>;
  using math::Prelu;
  int64_t i = 0;
  if constexpr (kExplicitVectors) {
    for (; i + V::size() <= len; i += V::size()) {
      const V g = V::loadu(grad + i), xi = V::loadu(x + i);
      store(Prelu::grad_input(g, xi, V::loadu(alpha + i)), grad_input + i, stream);
      Prelu::grad_alpha_term(g, xi).store(terms + i);
    }
  }
  for (; i < len; ++i) {
    grad_input[i] = Prelu::grad_input(grad[i], x[i], alpha[i]);
    terms[i] = Prelu::grad_alpha_term(grad[i], x[i]);
  }
}

// Each chunk of `chunk` elements (a multiple of 64, fixed by the shape alone,
// never by the thread count) sums its channels in double into its own row of
// `partial`, one thread per chunk; the caller's in-order combine is then
// bitwise the same on every run. Each term is rounded to the input dtype
// first, as torch.nn's elementwise weight gradient is.
void prelu_backward(c10::ScalarType dtype, ChannelView view, const void* grad, const void* x,
                    const void* weight, void* grad_input, double* partial, int64_t chunk) {
  const int64_t n = view.outer * view.channels * view.inner;
  const int64_t chunks = (n + chunk - 1) / chunk;
  TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
    using T = opmath_t<scalar_t>;
    const auto alpha = alpha_in_opmath<scalar_t>(weight, view.channels);
    const std::array<const scalar_t*, 2> in{static_cast<const scalar_t*>(grad),
                                            static_cast<const scalar_t*>(x)};
    const std::array<scalar_t*, 1> out{static_cast<scalar_t*>(grad_input)};
    const bool stream = use_streaming_stores<scalar_t, 2, 1>(out, n);
    at::parallel_for(0, chunks, 1, [&](int64_t first, int64_t last) {
      for (int64_t k = first; k < last; ++k) {
        double* sums = partial + k * view.channels;
        stage_blocks_in_opmath<scalar_t, 2, 1>(in, out, k * chunk, std::min(n, (k + 1) * chunk),
                                     [&](int64_t begin, int64_t len, auto i, auto o) {
          T a[kStageBlock], terms[kStageBlock];
          fill_alpha(view, alpha.data(), begin, len, a);
          prelu_grads(i[0], i[1], a, o[0], terms, len, stream);
          if constexpr (!std::is_same_v<scalar_t, T>) {
            scalar_t rounded[kStageBlock];
            at::vec::convert(terms, rounded, len);
            at::vec::convert(rounded, terms, len);
          }
          add_channel_sums(view, begin, len, terms, sums);
        });
      }
      if (stream) store_fence();
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
