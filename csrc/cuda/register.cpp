// The CUDA backend: one registration of every op's kernel
// (ops/tensor_kernels.h) for every activation, over the CUDA kernel table.
// Kernels registered this way get no device guard from the dispatcher: the
// Guard makes the tensor's device current, and the kernels launch on its
// current stream.
#include "../ops/tensor_kernels.h"
#include "backend.h"

#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

namespace torch_act::cuda {

struct Backend : BackendWithoutGuard {
  struct Guard {
    explicit Guard(const at::Tensor& t) : guard(t.device()) {}
    c10::cuda::CUDAGuard guard;
  };
};

}  // namespace torch_act::cuda

TORCH_LIBRARY_IMPL(torch_act, CUDA, m) {
  using namespace torch_act;
  ops::impl_all<ops::ByArgs<ops::TensorKernelsOf<cuda::Backend>::type>::type>(m);
}
