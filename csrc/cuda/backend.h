// What the CUDA backend tells the tensor-level ops (ops/tensor_kernels.h),
// but for the device guard: shared by the GPU's registration (register.cpp)
// and the emulator's (emulated/register.cpp), so the emulated run splits
// PReLU's reduction as a GPU does.
#pragma once

#include "kernel_table.h"

#include <ATen/core/Tensor.h>

#include <algorithm>

namespace torch_act::cuda {

struct BackendWithoutGuard {
  static const KernelTable& table() { return kernels(); }
  // One block per 1024 elements of a channel (4 per thread): enough blocks to
  // fill the GPU whatever the channel count, and a buffer of 8 bytes per
  // 1024 elements.
  static int64_t weight_chunk(int64_t channels) { return 1024 * std::max<int64_t>(channels, 1); }
  // ATen's reduction adds the rows in a fixed order: the same bits on every run.
  static at::Tensor column_sums(const at::Tensor& partial) { return partial.sum(0); }
};

}  // namespace torch_act::cuda
