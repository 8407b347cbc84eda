// The CPU kernels of every family, over any activation of it: the math
// struct's forward/derivative (activations.h) applied by the generic loops
// (loops.h). Nothing here names an activation; `table` at the end lists them
// all from activation_list.h. Included once per CPU capability by
// capability_*.cpp, after kernel_prelude.h and the target switch; everything
// here lives in torch_act::cpu::<CPU_CAPABILITY>.
#pragma once

#include "../activations.h"
#include "kernel_table.h"
#include "loops.h"

#include <algorithm>
#include <utility>

// The per-element lambdas are forced into the loops: GCC kept SiLU's and
// GELU's backward lambda out of line, a call per vector.
#define TORCH_ACT_INLINE __attribute__((always_inline))

#define TORCH_ACT_DISPATCH_FLOATING(type, ...) \
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, type, "torch_act_cpu", __VA_ARGS__)

namespace torch_act::cpu {
inline namespace CPU_CAPABILITY {
namespace {

template <typename Act>
using P = typename Act::params_type;

// --- elementwise families ----------------------------------------------------

// y[i] = f(x[i]) over any dense memory, in parallel blocks.
template <typename F>
void unary(c10::ScalarType dtype, const void* x, void* y, int64_t n, const F& f) {
  TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
    for_each_block<scalar_t, 1, 1>(
        {static_cast<const scalar_t*>(x)}, {static_cast<scalar_t*>(y)}, n,
        [&](int64_t, int64_t len, auto in, auto out, bool stream) { map(in[0], out[0], len, stream, f); });
  });
}

// out[i] = f(a[i], b[i]).
template <typename F>
void binary(c10::ScalarType dtype, const void* a, const void* b, void* out, int64_t n, const F& f) {
  TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
    for_each_block<scalar_t, 2, 1>(
        {static_cast<const scalar_t*>(a), static_cast<const scalar_t*>(b)}, {static_cast<scalar_t*>(out)}, n,
        [&](int64_t, int64_t len, auto in, auto o, bool stream) { map2(in[0], in[1], o[0], len, stream, f); });
  });
}

// for_each_block over one input and one output, calling
// run(begin, len, in, out, stream, slopes) with the slopes of the block's
// elements (an L1 buffer of the compute type) where Act's slope varies per
// element (RReLU's), nullptr where it does not.
template <typename Act, typename scalar_t, typename Run>
void for_each_block_with_slopes(const Act& act, const void* in, void* out, int64_t n, const Run& run) {
  for_each_block<scalar_t, 1, 1>(
      {static_cast<const scalar_t*>(in)}, {static_cast<scalar_t*>(out)}, n,
      [&](int64_t begin, int64_t len, auto i, auto o, bool stream) {
        if constexpr (act::kSlopePerElement<Act>) {
          alignas(64) opmath_t<scalar_t> slopes[kStageBlock];
          act.fill_slopes(begin, len, slopes);
          run(begin, len, i[0], o[0], stream, static_cast<const opmath_t<scalar_t>*>(slopes));
        } else {
          run(begin, len, i[0], o[0], stream, nullptr);
        }
      });
}

template <typename Act>
void forward(const P<Act>& p, c10::ScalarType dtype, const void* x, void* y, int64_t n) {
  if constexpr (act::kSlopePerElement<Act>) {
    const Act act{p};
    TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
      for_each_block_with_slopes<Act, scalar_t>(act, x, y, n, [&](int64_t, int64_t len, auto in, auto out, bool stream, auto slopes) {
        map2(in, slopes, out, len, stream, [act](auto v, auto s) TORCH_ACT_INLINE { return act.forward(v, s); });
      });
    });
  } else {
    with_form(Act{p}, [&](const auto& form) { unary(dtype, x, y, n, [form](auto v) TORCH_ACT_INLINE { return form.forward(v); }); });
  }
}

template <typename Act>
void forward_with_mask(const P<Act>& p, c10::ScalarType dtype, const void* x, void* y, uint64_t* mask,
                       int64_t n) {
  const Act act{p};
  TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
    for_each_block_with_slopes<Act, scalar_t>(act, x, y, n, [&](int64_t begin, int64_t len, auto in, auto out, bool stream, auto slopes) {
      map_pack_bits(in, out, len, mask + begin / 64, stream, [act](auto v) TORCH_ACT_INLINE { return act.mask_bit(v); },
                    [act](auto... v) TORCH_ACT_INLINE { return act.forward(v...); }, slopes);
    });
  });
}

template <typename Act>
void mask_backward(const P<Act>& p, c10::ScalarType dtype, const void* grad, const uint64_t* mask,
                   void* grad_input, int64_t n) {
  const Act act{p};
  TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
    for_each_block_with_slopes<Act, scalar_t>(act, grad, grad_input, n, [&](int64_t begin, int64_t len, auto in, auto out, bool stream, auto slopes) {
      map_with_bits(in, mask + begin / 64, out, len, stream,
                    [act](auto... v) TORCH_ACT_INLINE { return act.backward(v...); }, slopes);
    });
  });
}

template <typename Act>
void saved_backward(const P<Act>& p, c10::ScalarType dtype, const void* grad, const void* saved,
                    void* grad_input, int64_t n) {
  const Act act{p};
  with_saved(act, [&](auto from_output) {
    with_form(act, [&](const auto& form) {
      binary(dtype, grad, saved, grad_input, n, [form](auto g, auto s) TORCH_ACT_INLINE {
        return backward_from_saved<decltype(from_output)::value>(form, g, s);
      });
    });
  });
}


// --- the weighted family: the slope varies along dim 1 ------------------------

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

// out[i] = weight of element begin + i, so the loops below are flat vector
// loops whatever the layout.
template <typename T>
void fill_weight(const ChannelView& v, const T* weight, int64_t begin, int64_t len, T* out) {
  if (v.channels == 1) {
    std::fill_n(out, len, weight[0]);
    return;
  }
  if (v.inner == 1) {
    return for_each_channel_row(v, begin, begin + len, [&](int64_t i, int64_t m, int64_t c) {
      std::copy_n(weight + c, m, out + i - begin);
    });
  }
  for_each_channel_run(v, begin, begin + len, [&](int64_t b, int64_t e, int64_t c) {
    std::fill(out + b - begin, out + e - begin, weight[c]);
  });
}

template <typename scalar_t>
std::vector<opmath_t<scalar_t>> weight_in_opmath(const void* weight, int64_t channels) {
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

// Channel runs at least this long take the broadcast-slope path.
constexpr int64_t kRunLength = 64;

template <typename Act>
void weighted_forward(const P<Act>&, c10::ScalarType dtype, ChannelView view, const void* x,
                      const void* weight, void* y) {
  const int64_t n = view.outer * view.channels * view.inner;
  TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
    using T = opmath_t<scalar_t>;
    const auto w = weight_in_opmath<scalar_t>(weight, view.channels);
    for_each_block<scalar_t, 1, 1>(
        {static_cast<const scalar_t*>(x)}, {static_cast<scalar_t*>(y)}, n,
        [&](int64_t begin, int64_t len, auto in, auto out, bool stream) {
          if (view.inner >= kRunLength || view.channels == 1) {
            // Runs of one channel (NCHW, one slope): the slope broadcast, one pass.
            // Streaming stores need aligned vectors: runs start where a row does.
            const bool stream_runs = stream && (view.channels == 1 || view.inner % 16 == 0);
            for_each_channel_run(view, begin, begin + len, [&](int64_t b, int64_t e, int64_t c) {
              const T slope = w[c];
              map(in[0] + (b - begin), out[0] + (b - begin), e - b, stream_runs,
                  [slope](auto v) TORCH_ACT_INLINE { return Act::forward(v, decltype(v)(slope)); });
            });
            return;
          }
          // The slope changes every few elements (channels last): laid out per element first.
          T a[kStageBlock];
          fill_weight(view, w.data(), begin, len, a);
          map2(in[0], a, out[0], len, stream, [](auto v, auto s) TORCH_ACT_INLINE { return Act::forward(v, s); });
        });
  });
}

// grad_input[i] and terms[i] (element i's share of its channel's weight
// gradient) in one vector pass.
template <typename Act, typename T>
void weighted_grads(const T* grad, const T* x, const T* weight, T* grad_input, T* terms, int64_t len,
                    bool stream) {
  using V = at::vec::Vectorized<T>;
  int64_t i = 0;
  if constexpr (kExplicitVectors) {
    for (; i + V::size() <= len; i += V::size()) {
      const V g = V::loadu(grad + i), xi = V::loadu(x + i);
      store(Act::grad_input(g, xi, V::loadu(weight + i)), grad_input + i, stream);
      Act::grad_alpha_term(g, xi).store(terms + i);
    }
  }
  for (; i < len; ++i) {
    grad_input[i] = Act::grad_input(grad[i], x[i], weight[i]);
    terms[i] = Act::grad_alpha_term(grad[i], x[i]);
  }
}

// Each chunk of `chunk` elements (a multiple of 64, fixed by the shape alone,
// never by the thread count) sums its channels in double into its own row of
// `partial`, one thread per chunk; the caller's in-order combine is then
// bitwise the same on every run. Each term is rounded to the input dtype
// first, as torch.nn's elementwise weight gradient is.
template <typename Act>
void weighted_backward(const P<Act>&, c10::ScalarType dtype, ChannelView view, const void* grad,
                       const void* x, const void* weight, void* grad_input, double* partial, int64_t chunk) {
  const int64_t n = view.outer * view.channels * view.inner;
  const int64_t chunks = (n + chunk - 1) / chunk;
  TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
    using T = opmath_t<scalar_t>;
    const auto w = weight_in_opmath<scalar_t>(weight, view.channels);
    const std::array<const scalar_t*, 2> in{static_cast<const scalar_t*>(grad), static_cast<const scalar_t*>(x)};
    const std::array<scalar_t*, 1> out{static_cast<scalar_t*>(grad_input)};
    const bool stream = use_streaming_stores<scalar_t, 2, 1>(out, n);
    at::parallel_for(0, chunks, 1, [&](int64_t first, int64_t last) {
      for (int64_t k = first; k < last; ++k) {
        double* sums = partial + k * view.channels;
        std::fill(sums, sums + view.channels, 0.0);  // `partial` comes uninitialised
        stage_blocks_in_opmath<scalar_t, 2, 1>(in, out, k * chunk, std::min(n, (k + 1) * chunk),
                                               [&](int64_t begin, int64_t len, auto i, auto o) {
          T a[kStageBlock], terms[kStageBlock];
          fill_weight(view, w.data(), begin, len, a);
          weighted_grads<Act>(i[0], i[1], a, o[0], terms, len, stream);
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

// --- the gated family: act(gate) * up --------------------------------------

template <typename Act>
void gated_forward(const P<Act>& p, c10::ScalarType dtype, const void* gate, const void* up, void* y, int64_t n) {
  with_form(Act{p}.inner(), [&](const auto& form) {
    binary(dtype, gate, up, y, n, [form](auto g, auto u) TORCH_ACT_INLINE { return form.forward(g) * u; });
  });
}

// Reads grad, gate and up once and writes both gradients: three streams in,
// two out, where the composite act(gate) * up makes three passes.
template <typename Act>
void gated_backward(const P<Act>& p, c10::ScalarType dtype, const void* grad, const void* gate, const void* up,
                    void* grad_gate, void* grad_up, int64_t n) {
  with_form(Act{p}.inner(), [&](const auto& form) {
    TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
      for_each_block<scalar_t, 3, 2>(
          {static_cast<const scalar_t*>(grad), static_cast<const scalar_t*>(gate), static_cast<const scalar_t*>(up)},
          {static_cast<scalar_t*>(grad_gate), static_cast<scalar_t*>(grad_up)}, n,
          [&](int64_t, int64_t len, auto in, auto out, bool stream) {
            map3_to2(in, out, len, stream, [form](auto dy, auto g, auto u) TORCH_ACT_INLINE {
              const auto [value, grad_gate] = act::forward_and_backward_at_input(form, dy * u, g);
              return std::pair{grad_gate, dy * value};
            });
          });
    });
  });
}

TORCH_ACT_KERNEL_ENTRIES

}  // namespace

#define TORCH_ACT_STRINGIFY_(x) #x
#define TORCH_ACT_STRINGIFY(x) TORCH_ACT_STRINGIFY_(x)

// Constant-initialized (constinit): a table built by code at load time would
// run this build's instructions on every CPU, the oldest included.
constinit inline const KernelTable table =
    make_kernel_table<Entries>(TORCH_ACT_STRINGIFY(CPU_CAPABILITY), act::Elementwise{}, act::Weighted{},
                               act::Gated{});

}  // namespace CPU_CAPABILITY
}  // namespace torch_act::cpu
