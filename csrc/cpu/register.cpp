// The CPU backend: the kernel table this CPU runs, and one registration of
// every op's CPU kernel (ops.h) for every activation.
#include "ops.h"

#include <torch/library.h>

#include <string>

namespace torch_act::cpu {

const KernelTable& kernels() {
  static const KernelTable& table = [] () -> const KernelTable& {
    switch (capability()) {
      case Capability::AVX512: return avx512_kernels();
      case Capability::AVX2: return avx2_kernels();
      case Capability::Default: break;
    }
    return default_kernels();
  }();
  return table;
}

}  // namespace torch_act::cpu

static std::string cpu_capability() { return torch_act::cpu::kernels().capability; }

TORCH_LIBRARY_IMPL(torch_act, CPU, m) {
  using namespace torch_act;
  ops::impl_all<ops::ByArgs<cpu::Kernels>::type>(m);
}

// cpu_capability() has no tensor argument to dispatch on: a catch-all kernel.
TORCH_LIBRARY_IMPL(torch_act, CompositeImplicitAutograd, m) { m.impl("cpu_capability", &cpu_capability); }
