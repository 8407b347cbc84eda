// The emulated CUDA backend (`make cuda-emulate`): the CUDA kernel table, run
// on the host by emulator.h, registered for CPU tensors in place of the CPU's
// own kernels (setup.py leaves csrc/cpu/ out of this build). The test suite's
// CPU cases then run every CUDA kernel against torch.nn without a GPU.
#include "../../ops/tensor_kernels.h"
#include "../backend.h"

#include <torch/library.h>

#include <string>

namespace torch_act::cuda {

struct EmulatedBackend : BackendWithoutGuard {
  struct Guard {  // one host, one device
    explicit Guard(const at::Tensor&) {}
  };
};

}  // namespace torch_act::cuda

// What tests ask to learn which kernels run.
static std::string cpu_capability() { return "CUDA-EMULATED"; }

TORCH_LIBRARY_IMPL(torch_act, CPU, m) {
  using namespace torch_act;
  ops::impl_all<ops::ByArgs<ops::TensorKernelsOf<cuda::EmulatedBackend>::type>::type>(m);
}

TORCH_LIBRARY_IMPL(torch_act, CompositeImplicitAutograd, m) { m.impl("cpu_capability", &cpu_capability); }
