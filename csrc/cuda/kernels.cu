// The CUDA kernels of every family, over any activation of it: the math
// struct's scalar forward/derivative (activations.h, C10_HOST_DEVICE) applied
// by grid-stride loops over dense memory in 16-byte packs, computed in the "opmath" type
// (float for float/half/bfloat16) and stored once. Nothing here names an
// activation; the table lists them all from activation_list.h. Kernels run on
// the current stream and allocate nothing, so they can be captured in CUDA
// graphs.
// This file is one more build of the math structs, beside the CPU builds.
// ATen's macro CPU_CAPABILITY names a build's namespace (ATen's Vectorized
// code and activations.h both live in `inline namespace CPU_CAPABILITY`), so
// the name is ATen's, not ours: set to CUDA, this build's inline code is
// act::CUDA and at::vec::CUDA, never merged by the linker with a CPU build's.
// Kernels start through TORCH_ACT_START, not <<<>>>: emulated/kernels.cpp
// compiles this file as host C++ for the emulator of CUDA grids, where
// `make cuda-emulate` runs the test suite over these kernels without a GPU.
#define CPU_CAPABILITY CUDA
#include "../activations.h"
#include "../kernel_table.h"
#include "kernel_table.h"

#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#if defined(TORCH_ACT_CUDA_EMULATION)
#include "emulated/launch.h"
#else
#include "launch.cuh"
#endif

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace torch_act::cuda {
namespace {

#define TORCH_ACT_DISPATCH_FLOATING(type, ...) \
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, type, "torch_act_cuda", __VA_ARGS__)

template <typename Act>
using P = typename Act::params_type;
template <typename T>
using opmath = at::opmath_type<T>;

// Whole warps per block (the mask kernels pack one 32-bit word per warp).
constexpr int kThreads = 256;

int blocks_for(int64_t work_items) {
  const int64_t max_blocks = int64_t(multiprocessor_count()) * 32;
  return static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>((work_items + kThreads - 1) / kThreads, max_blocks)));
}

// --- packs: V consecutive elements per thread, one 16-byte access ------------
//
// A memory-bound kernel reaches the copy bandwidth only with enough bytes in
// flight per SM; one 4-byte (or 2-byte) access per thread leaves it well
// short. So each thread moves a pack of 16 bytes where every pointer is
// 16-byte aligned (fresh allocations are), and one element otherwise
// (views at odd offsets); the last pack of a range is loaded and stored
// element by element.

template <typename T>
constexpr int kPack = 16 / sizeof(T);

template <typename T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

template <int V, typename T>
__device__ __forceinline__ Pack<T, V> load_pack(const T* p, int64_t first, int64_t n) {
  if (first + V <= n) return *reinterpret_cast<const Pack<T, V>*>(p + first);
  Pack<T, V> out;
#pragma unroll
  for (int j = 0; j < V; ++j) out.v[j] = first + j < n ? p[first + j] : static_cast<T>(0.f);
  return out;
}

template <int V, typename T>
__device__ __forceinline__ void store_pack(T* p, int64_t first, int64_t n, const Pack<T, V>& pack) {
  if (first + V <= n) {
    *reinterpret_cast<Pack<T, V>*>(p + first) = pack;
    return;
  }
#pragma unroll
  for (int j = 0; j < V; ++j) {
    if (first + j < n) p[first + j] = pack.v[j];
  }
}

// Calls f(std::integral_constant<int, V>) with the widest pack every pointer allows.
template <typename T, typename F, typename... Ptrs>
void with_pack_width(const F& f, const Ptrs*... ptrs) {
  if (((reinterpret_cast<uintptr_t>(ptrs) % 16 == 0) && ...)) {
    f(std::integral_constant<int, kPack<T>>{});
  } else {
    f(std::integral_constant<int, 1>{});
  }
}

// Grid-stride over packs: `first` is the first element of this thread's pack.
#define TORCH_ACT_PACK_STRIDE(first, n, V)                                                 \
  for (int64_t first = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) * (V); first < (n); \
       first += int64_t(blockDim.x) * gridDim.x * (V))

// --- elementwise families ----------------------------------------------------

template <int V, typename T, typename Form>
__global__ void forward_kernel(Form form, const T* x, T* y, int64_t n) {
  TORCH_ACT_PACK_STRIDE(first, n, V) {
    const auto xs = load_pack<V>(x, first, n);
    Pack<T, V> ys;
#pragma unroll
    for (int j = 0; j < V; ++j) ys.v[j] = static_cast<T>(act::forward_of_element(form, static_cast<opmath<T>>(xs.v[j]), first + j));
    store_pack<V>(y, first, n, ys);
  }
}

// bits_end is n rounded up to 64, so that every 32-bit word of the mask is
// written (bits past n are 0); two words make one 64-bit CPU word
// (little-endian). A warp covers 32 * V consecutive elements, whole words: each
// lane shifts its V bits to their place in the word and the 32 / V lanes of a
// word OR them together by shuffles. The loop's bound is checked per warp, so
// every lane takes part in every shuffle.
template <int V, typename T, typename Form>
__global__ void forward_with_mask_kernel(Form form, const T* x, T* y, uint32_t* mask, int64_t n, int64_t bits_end) {
  constexpr int kLanesPerWord = 32 / V;
  const int lane = threadIdx.x & 31;
  const int64_t stride = int64_t(blockDim.x) * gridDim.x * V;
  for (int64_t warp_first = ((int64_t(blockIdx.x) * blockDim.x + threadIdx.x) & ~int64_t(31)) * V;
       warp_first < bits_end; warp_first += stride) {
    const int64_t first = warp_first + int64_t(lane) * V;
    const auto xs = load_pack<V>(x, first, n);
    Pack<T, V> ys;
    uint32_t bits = 0;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      const opmath<T> v = xs.v[j];
      ys.v[j] = static_cast<T>(act::forward_of_element(form, v, first + j));
      if (first + j < n) bits |= uint32_t(form.mask_bit(v)) << j;
    }
    store_pack<V>(y, first, n, ys);
    uint32_t word = bits << (first & 31);
#pragma unroll
    for (int offset = kLanesPerWord / 2; offset > 0; offset /= 2) word |= __shfl_xor_sync(0xffffffffu, word, offset);
    if (lane % kLanesPerWord == 0 && first < bits_end) mask[first >> 5] = word;
  }
}

// A pack's V bits lie in one 32-bit word (V divides 32, packs start at multiples of V).
template <int V, typename T, typename Form>
__global__ void mask_backward_kernel(Form form, const T* grad, const uint32_t* mask, T* grad_input, int64_t n) {
  TORCH_ACT_PACK_STRIDE(first, n, V) {
    const auto gs = load_pack<V>(grad, first, n);
    const uint32_t bits = mask[first >> 5] >> (first & 31);
    Pack<T, V> out;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      out.v[j] = static_cast<T>(act::mask_backward_of_element(form, static_cast<opmath<T>>(gs.v[j]), ((bits >> j) & 1u) != 0, first + j));
    }
    store_pack<V>(grad_input, first, n, out);
  }
}

template <bool FromOutput, int V, typename T, typename Form>
__global__ void saved_backward_kernel(Form form, const T* grad, const T* saved, T* grad_input, int64_t n) {
  TORCH_ACT_PACK_STRIDE(first, n, V) {
    const auto gs = load_pack<V>(grad, first, n);
    const auto ss = load_pack<V>(saved, first, n);
    Pack<T, V> out;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      out.v[j] = static_cast<T>(act::backward_from_saved<FromOutput>(form, static_cast<opmath<T>>(gs.v[j]),
                                                                   static_cast<opmath<T>>(ss.v[j])));
    }
    store_pack<V>(grad_input, first, n, out);
  }
}

// Every elementwise launch's nest, written once: dispatch on dtype, the
// pointers typed as scalar_t (const kept), the widest pack they all allow,
// and a grid over `work_items` elements in packs of V. run(width, blocks,
// typed pointers...) starts kernel<decltype(width)::value> on that many
// blocks of kThreads.
template <typename T> const T* typed(const void* p) { return static_cast<const T*>(p); }
template <typename T> T* typed(void* p) { return static_cast<T*>(p); }

template <typename Run, typename... Ptrs>
void launch_packs(c10::ScalarType dtype, int64_t work_items, const Run& run, Ptrs... ptrs) {
  TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
    with_pack_width<scalar_t>([&](auto width) {
      if (work_items > 0) run(width, blocks_for((work_items + width - 1) / width), typed<scalar_t>(ptrs)...);
    }, typed<scalar_t>(ptrs)...);
  });
}

template <typename Act>
void forward(const P<Act>& p, c10::ScalarType dtype, const void* x, void* y, int64_t n) {
  with_form(Act{p}, [&](const auto& form) {
    launch_packs(dtype, n, [&](auto width, int blocks, const auto* in, auto* out) {
      TORCH_ACT_START(forward_kernel<decltype(width)::value>, blocks, kThreads, form, in, out, n);
    }, x, y);
  });
}

template <typename Act>
void forward_with_mask(const P<Act>& p, c10::ScalarType dtype, const void* x, void* y, uint64_t* mask, int64_t n) {
  const Act act{p};
  const int64_t bits_end = (n + 63) / 64 * 64;
  launch_packs(dtype, bits_end, [&](auto width, int blocks, const auto* in, auto* out) {
    TORCH_ACT_START(forward_with_mask_kernel<decltype(width)::value>, blocks, kThreads, act, in, out,
                    reinterpret_cast<uint32_t*>(mask), n, bits_end);
  }, x, y);
}

template <typename Act>
void mask_backward(const P<Act>& p, c10::ScalarType dtype, const void* grad, const uint64_t* mask,
                   void* grad_input, int64_t n) {
  const Act act{p};
  launch_packs(dtype, n, [&](auto width, int blocks, const auto* g, auto* out) {
    TORCH_ACT_START(mask_backward_kernel<decltype(width)::value>, blocks, kThreads, act, g,
                    reinterpret_cast<const uint32_t*>(mask), out, n);
  }, grad, grad_input);
}

template <typename Act>
void saved_backward(const P<Act>& p, c10::ScalarType dtype, const void* grad, const void* saved, void* grad_input,
                    int64_t n) {
  const Act act{p};
  with_saved(act, [&](auto from_output) {
    with_form(act, [&](const auto& form) {
      launch_packs(dtype, n, [&](auto width, int blocks, const auto* g, const auto* s, auto* out) {
        TORCH_ACT_START((saved_backward_kernel<decltype(from_output)::value, decltype(width)::value>), blocks,
                        kThreads, form, g, s, out, n);
      }, grad, saved, grad_input);
    });
  });
}


// --- the weighted family: the slope varies along dim 1 ------------------------

// Element `first` of the dense order lies in channel (first / inner) % channels;
// the pack's next elements step through the channels without dividing again.
template <int V, typename Act, typename T>
__global__ void weighted_forward_kernel(ChannelView view, const T* x, const T* weight, T* y, int64_t n) {
  TORCH_ACT_PACK_STRIDE(first, n, V) {
    const auto xs = load_pack<V>(x, first, n);
    const int64_t q = first / view.inner;
    int64_t r = first - q * view.inner, c = q % view.channels;
    Pack<T, V> ys;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      ys.v[j] = static_cast<T>(Act::forward(static_cast<opmath<T>>(xs.v[j]), static_cast<opmath<T>>(weight[c])));
      if (++r == view.inner) {
        r = 0;
        if (++c == view.channels) c = 0;
      }
    }
    store_pack<V>(y, first, n, ys);
  }
}

// Block (split, channel) writes grad_input over its share of the channel's
// elements and their weight-gradient terms' sum to partial[split][channel]:
// each thread adds its elements in order, the block adds the threads' sums in
// a fixed tree. No atomics: the same bits on every run.
template <typename Act, typename T>
__global__ void weighted_backward_kernel(ChannelView view, const T* grad, const T* x, const T* weight, T* grad_input,
                                         double* partial, int64_t per_split) {
  __shared__ double sums[kThreads];
  const int64_t per_channel = view.outer * view.inner;
  const int64_t begin = int64_t(blockIdx.x) * per_split;
  const int64_t end = begin + per_split < per_channel ? begin + per_split : per_channel;
  // Element k of the channel is (q, r) = (k / inner, k % inner): divided once
  // per thread, then stepped by the block's stride (q_step, r_step) with a
  // carry, for every inner (a 64-bit division per element is a long
  // instruction sequence on a GPU). r_step < inner, so one carry is enough.
  const int64_t q_step = blockDim.x / view.inner, r_step = blockDim.x - q_step * view.inner;
  for (int64_t c = blockIdx.y; c < view.channels; c += gridDim.y) {
    const opmath<T> alpha = weight[c];
    double sum = 0;
    int64_t q = (begin + threadIdx.x) / view.inner, r = begin + threadIdx.x - q * view.inner;
    for (int64_t k = begin + threadIdx.x; k < end; k += blockDim.x) {
      const int64_t i = (q * view.channels + c) * view.inner + r;
      const opmath<T> g = grad[i], v = x[i];
      grad_input[i] = static_cast<T>(Act::grad_input(g, v, alpha));
      // Each term rounded to T first, as the CPU kernels and torch.nn do.
      sum += static_cast<double>(static_cast<T>(Act::grad_alpha_term(g, v)));
      q += q_step;
      if ((r += r_step) >= view.inner) {
        r -= view.inner;
        ++q;
      }
    }
    sums[threadIdx.x] = sum;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
      if (threadIdx.x < half) sums[threadIdx.x] += sums[threadIdx.x + half];
      __syncthreads();
    }
    if (threadIdx.x == 0) partial[int64_t(blockIdx.x) * view.channels + c] = sums[0];
    __syncthreads();
  }
}

template <typename Act>
void weighted_forward(const P<Act>&, c10::ScalarType dtype, ChannelView view, const void* x, const void* weight,
                      void* y) {
  const int64_t n = view.outer * view.channels * view.inner;
  // The weight is read per channel, not in packs: its alignment does not matter.
  launch_packs(dtype, n, [&](auto width, int blocks, const auto* in, auto* out) {
    const auto* w = static_cast<decltype(in)>(weight);
    TORCH_ACT_START((weighted_forward_kernel<decltype(width)::value, Act>), blocks, kThreads, view, in, w, out, n);
  }, x, y);
}

// partial has ceil(n / chunk) rows (at least one), as the caller allocated:
// each row sums one share of every channel.
template <typename Act>
void weighted_backward(const P<Act>&, c10::ScalarType dtype, ChannelView view, const void* grad, const void* x,
                       const void* weight, void* grad_input, double* partial, int64_t chunk) {
  const int64_t n = view.outer * view.channels * view.inner;
  if (n == 0) return;
  const int64_t splits = std::max<int64_t>(1, (n + chunk - 1) / chunk);
  const int64_t per_channel = view.outer * view.inner;
  const int64_t per_split = (per_channel + splits - 1) / splits;
  const dim3 grid(static_cast<unsigned>(splits), static_cast<unsigned>(std::min<int64_t>(view.channels, 65535)));
  TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
    TORCH_ACT_START(weighted_backward_kernel<Act>, grid, kThreads, view, static_cast<const scalar_t*>(grad),
                    static_cast<const scalar_t*>(x), static_cast<const scalar_t*>(weight),
                    static_cast<scalar_t*>(grad_input), partial, per_split);
  });
}

// --- the gated family: act(gate) * up ---------------------------------------

template <int V, typename T, typename Form>
__global__ void gated_forward_kernel(Form form, const T* gate, const T* up, T* y, int64_t n) {
  TORCH_ACT_PACK_STRIDE(first, n, V) {
    const auto gs = load_pack<V>(gate, first, n);
    const auto us = load_pack<V>(up, first, n);
    Pack<T, V> ys;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      ys.v[j] = static_cast<T>(form.forward(static_cast<opmath<T>>(gs.v[j])) * static_cast<opmath<T>>(us.v[j]));
    }
    store_pack<V>(y, first, n, ys);
  }
}

template <int V, typename T, typename Form>
__global__ void gated_backward_kernel(Form form, const T* grad, const T* gate, const T* up, T* grad_gate, T* grad_up,
                                      int64_t n) {
  TORCH_ACT_PACK_STRIDE(first, n, V) {
    const auto dys = load_pack<V>(grad, first, n);
    const auto gs = load_pack<V>(gate, first, n);
    const auto us = load_pack<V>(up, first, n);
    Pack<T, V> out_gate, out_up;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      const opmath<T> dy = dys.v[j], g = gs.v[j], u = us.v[j];
      out_gate.v[j] = static_cast<T>(act::backward_at_input(form, dy * u, g));
      out_up.v[j] = static_cast<T>(dy * form.forward(g));
    }
    store_pack<V>(grad_gate, first, n, out_gate);
    store_pack<V>(grad_up, first, n, out_up);
  }
}

template <typename Act>
void gated_forward(const P<Act>& p, c10::ScalarType dtype, const void* gate, const void* up, void* y, int64_t n) {
  with_form(Act{p}.inner(), [&](const auto& form) {
    launch_packs(dtype, n, [&](auto width, int blocks, const auto* g, const auto* u, auto* out) {
      TORCH_ACT_START(gated_forward_kernel<decltype(width)::value>, blocks, kThreads, form, g, u, out, n);
    }, gate, up, y);
  });
}

template <typename Act>
void gated_backward(const P<Act>& p, c10::ScalarType dtype, const void* grad, const void* gate, const void* up,
                    void* grad_gate, void* grad_up, int64_t n) {
  with_form(Act{p}.inner(), [&](const auto& form) {
    launch_packs(dtype, n, [&](auto width, int blocks, const auto* dy, const auto* g, const auto* u, auto* out_gate,
                               auto* out_up) {
      TORCH_ACT_START(gated_backward_kernel<decltype(width)::value>, blocks, kThreads, form, dy, g, u, out_gate,
                      out_up, n);
    }, grad, gate, up, grad_gate, grad_up);
  });
}

TORCH_ACT_KERNEL_ENTRIES

}  // namespace

const KernelTable& kernels() {
  static constexpr KernelTable table = make_kernel_table<Entries>("cuda", act::Elementwise{}, act::Weighted{}, act::Gated{});
  return table;
}

}  // namespace torch_act::cuda
