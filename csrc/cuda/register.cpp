// The CUDA backend: one registration of every op's kernel
// (ops/tensor_kernels.h) for every activation, over the CUDA kernel table.
// Kernels registered this way get no device guard from the dispatcher: the
// Guard makes the tensor's device current, and the kernels launch on its
// current stream.
#include "../ops/tensor_kernels.h"
#include "kernel_table.h"

#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <algorithm>

namespace torch_act::cuda {

struct Backend {
  struct Guard {
    explicit Guard(const at::Tensor& t) : guard(t.device()) {}
    c10::cuda::CUDAGuard guard;
  };
  static const KernelTable& table() { return kernels(); }
  // One block per 1024 elements of a channel (4 per thread): enough blocks to
  // fill the GPU whatever the channel count, and a buffer of 8 bytes per
  // 1024 elements.
  static int64_t weight_chunk(int64_t channels) { return 1024 * std::max<int64_t>(channels, 1); }
  // ATen's reduction adds the rows in a fixed order: the same bits on every run.
  static at::Tensor column_sums(const at::Tensor& partial) { return partial.sum(0); }
};

}  // namespace torch_act::cuda

TORCH_LIBRARY_IMPL(torch_act, CUDA, m) {
  using namespace torch_act;
  ops::impl_all<ops::ByArgs<ops::TensorKernelsOf<cuda::Backend>::type>::type>(m);
}
