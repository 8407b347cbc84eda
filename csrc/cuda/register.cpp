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
  // One row of partial sums per 64K elements: enough blocks to fill a GPU
  // at 16M elements, and a buffer of 8 bytes per channel per 64K elements.
  static int64_t weight_chunk(int64_t) { return 65536; }
  // ATen's reduction adds the rows in a fixed order: the same bits on every run.
  static at::Tensor column_sums(const at::Tensor& partial) { return partial.sum(0); }
};

}  // namespace torch_act::cuda

TORCH_LIBRARY_IMPL(torch_act, CUDA, m) {
  using namespace torch_act;
  ops::impl_all<ops::ByArgs<ops::TensorKernelsOf<cuda::Backend>::type>::type>(m);
}
