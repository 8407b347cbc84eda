// How kernels.cu starts its kernels on a GPU: on the current stream of the
// current device, each launch checked. emulated/launch.h says the same for the
// host emulator (`make cuda-emulate`), so kernels.cu is one source for both.
#pragma once

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

namespace torch_act::cuda {

inline int multiprocessor_count() { return at::cuda::getCurrentDeviceProperties()->multiProcessorCount; }

}  // namespace torch_act::cuda

// kernel<<<grid, block>>>(args...) on the current stream, checked. A kernel
// name with commas in its template arguments goes in parentheses.
#define TORCH_ACT_START(kernel, grid, block, ...)                                     \
  do {                                                                                \
    kernel<<<(grid), (block), 0, at::cuda::getCurrentCUDAStream()>>>(__VA_ARGS__);   \
    C10_CUDA_KERNEL_LAUNCH_CHECK();                                                   \
  } while (0)
