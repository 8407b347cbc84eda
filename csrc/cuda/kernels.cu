// The CUDA kernels of every family, over any activation of it: the math
// struct's scalar forward/derivative (activations.h, C10_HOST_DEVICE) applied
// by grid-stride loops over dense memory, computed in the "opmath" type
// (float for float/half/bfloat16) and stored once. Nothing here names an
// activation; the table lists them all from activation_list.h. Kernels run on
// the current stream and allocate nothing, so they can be captured in CUDA
// graphs.
#define CPU_CAPABILITY CUDA  // the math structs' namespace for this build: act::CUDA
#include "../activations.h"
#include "../kernel_table.h"
#include "kernel_table.h"

#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>
#include <cstdint>

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

int blocks_for(int64_t n) {
  const int64_t max_blocks = int64_t(at::cuda::getCurrentDeviceProperties()->multiProcessorCount) * 32;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>((n + kThreads - 1) / kThreads, max_blocks)));
}

// Grid-stride: every index in [0, n) once.
#define TORCH_ACT_GRID_STRIDE(i, n)                                                     \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += int64_t(blockDim.x) * gridDim.x)

template <typename Launch>
void launch(int64_t n, const Launch& kernel) {
  if (n == 0) return;
  kernel(blocks_for(n), kThreads, at::cuda::getCurrentCUDAStream());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// --- elementwise families ----------------------------------------------------

template <typename T, typename Form>
__global__ void forward_kernel(Form form, const T* x, T* y, int64_t n) {
  TORCH_ACT_GRID_STRIDE(i, n) { y[i] = static_cast<T>(form.forward(static_cast<opmath<T>>(x[i]))); }
}

// bits_end is n rounded up to 64, so that every 32-bit word of the mask is
// written (bits past n are 0). A warp covers 32 consecutive elements: one
// ballot is one word, and two words one 64-bit CPU word (little-endian).
template <typename T, typename Form>
__global__ void forward_with_mask_kernel(Form form, const T* x, T* y, uint32_t* mask, int64_t n, int64_t bits_end) {
  TORCH_ACT_GRID_STRIDE(i, bits_end) {
    bool bit = false;
    if (i < n) {
      const opmath<T> v = x[i];
      bit = form.mask_bit(v);
      y[i] = static_cast<T>(form.forward(v));
    }
    const unsigned word = __ballot_sync(0xffffffffu, bit);
    if ((threadIdx.x & 31) == 0) mask[i >> 5] = word;
  }
}

template <typename T, typename Form>
__global__ void mask_backward_kernel(Form form, const T* grad, const uint32_t* mask, T* grad_input, int64_t n) {
  TORCH_ACT_GRID_STRIDE(i, n) {
    const bool bit = (mask[i >> 5] >> (i & 31)) & 1u;
    grad_input[i] = static_cast<T>(form.backward(static_cast<opmath<T>>(grad[i]), bit));
  }
}

template <bool FromOutput, typename T, typename Form>
__global__ void saved_backward_kernel(Form form, const T* grad, const T* saved, T* grad_input, int64_t n) {
  TORCH_ACT_GRID_STRIDE(i, n) {
    const opmath<T> g = grad[i], s = saved[i];
    if constexpr (FromOutput) {
      grad_input[i] = static_cast<T>(form.backward_from_output(g, s));
    } else {
      grad_input[i] = static_cast<T>(form.backward_from_input(g, s));
    }
  }
}

template <typename Act>
void forward(const P<Act>& p, c10::ScalarType dtype, const void* x, void* y, int64_t n) {
  with_form(Act{p}, [&](const auto& form) {
    TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
      launch(n, [&](int blocks, int threads, cudaStream_t stream) {
        forward_kernel<<<blocks, threads, 0, stream>>>(form, static_cast<const scalar_t*>(x),
                                                       static_cast<scalar_t*>(y), n);
      });
    });
  });
}

template <typename Act>
void forward_with_mask(const P<Act>& p, c10::ScalarType dtype, const void* x, void* y, uint64_t* mask, int64_t n) {
  const Act act{p};
  const int64_t bits_end = (n + 63) / 64 * 64;
  TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
    launch(bits_end, [&](int blocks, int threads, cudaStream_t stream) {
      forward_with_mask_kernel<<<blocks, threads, 0, stream>>>(act, static_cast<const scalar_t*>(x),
                                                               static_cast<scalar_t*>(y),
                                                               reinterpret_cast<uint32_t*>(mask), n, bits_end);
    });
  });
}

template <typename Act>
void mask_backward(const P<Act>& p, c10::ScalarType dtype, const void* grad, const uint64_t* mask,
                   void* grad_input, int64_t n) {
  const Act act{p};
  TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
    launch(n, [&](int blocks, int threads, cudaStream_t stream) {
      mask_backward_kernel<<<blocks, threads, 0, stream>>>(act, static_cast<const scalar_t*>(grad),
                                                           reinterpret_cast<const uint32_t*>(mask),
                                                           static_cast<scalar_t*>(grad_input), n);
    });
  });
}

template <bool FromOutput, typename Form>
void launch_saved_backward(const Form& form, c10::ScalarType dtype, const void* grad, const void* saved,
                           void* grad_input, int64_t n) {
  TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
    launch(n, [&](int blocks, int threads, cudaStream_t stream) {
      saved_backward_kernel<FromOutput><<<blocks, threads, 0, stream>>>(
          form, static_cast<const scalar_t*>(grad), static_cast<const scalar_t*>(saved),
          static_cast<scalar_t*>(grad_input), n);
    });
  });
}

template <typename Act>
void saved_backward(const P<Act>& p, c10::ScalarType dtype, const void* grad, const void* saved, void* grad_input,
                    int64_t n) {
  const Act act{p};
  const bool from_output = backward_reads_output(act);
  with_form(act, [&](const auto& form) {
    if (from_output) {
      if constexpr (Act::keeps != Keeps::Input) launch_saved_backward<true>(form, dtype, grad, saved, grad_input, n);
    } else {
      if constexpr (Act::keeps != Keeps::Output) launch_saved_backward<false>(form, dtype, grad, saved, grad_input, n);
    }
  });
}


// --- the weighted family: the slope varies along dim 1 ------------------------

template <typename Act, typename T>
__global__ void weighted_forward_kernel(ChannelView view, const T* x, const T* weight, T* y, int64_t n) {
  TORCH_ACT_GRID_STRIDE(i, n) {
    const int64_t c = (i / view.inner) % view.channels;
    y[i] = static_cast<T>(Act::forward(static_cast<opmath<T>>(x[i]), static_cast<opmath<T>>(weight[c])));
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
  for (int64_t c = blockIdx.y; c < view.channels; c += gridDim.y) {
    const opmath<T> alpha = weight[c];
    double sum = 0;
    for (int64_t k = begin + threadIdx.x; k < end; k += blockDim.x) {
      const int64_t i = ((k / view.inner) * view.channels + c) * view.inner + k % view.inner;
      const opmath<T> g = grad[i], v = x[i];
      grad_input[i] = static_cast<T>(Act::grad_input(g, v, alpha));
      // Each term rounded to T first, as the CPU kernels and torch.nn do.
      sum += static_cast<double>(static_cast<T>(Act::grad_alpha_term(g, v)));
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
  TORCH_ACT_DISPATCH_FLOATING(dtype, [&] {
    launch(n, [&](int blocks, int threads, cudaStream_t stream) {
      weighted_forward_kernel<Act><<<blocks, threads, 0, stream>>>(view, static_cast<const scalar_t*>(x),
                                                                   static_cast<const scalar_t*>(weight),
                                                                   static_cast<scalar_t*>(y), n);
    });
  });
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
    weighted_backward_kernel<Act><<<grid, kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
        view, static_cast<const scalar_t*>(grad), static_cast<const scalar_t*>(x),
        static_cast<const scalar_t*>(weight), static_cast<scalar_t*>(grad_input), partial, per_split);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
}

TORCH_ACT_KERNEL_ENTRIES

}  // namespace

const KernelTable& kernels() {
  static constexpr KernelTable table = make_kernel_table<Entries>("cuda", act::Elementwise{}, act::Weighted{});
  return table;
}

}  // namespace torch_act::cuda
