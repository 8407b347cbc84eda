// The CPU backend: the kernel table this CPU runs, and one registration of
// every op's CPU kernel (ops/tensor_kernels.h) for every activation.
#include "../ops/tensor_kernels.h"
#include "kernel_table.h"
#include "settings.h"

#include <ATen/ops/zeros.h>
#include <torch/library.h>

#include <algorithm>
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

struct Backend {
  struct Guard {
    explicit Guard(const at::Tensor&) {}
  };
  static const KernelTable& table() { return kernels(); }
  // Chunks of at least 16 elements per channel bound `partial` to 1/8 of an
  // fp32 input even with thousands of channels; whole 64-element words keep
  // every chunk's start aligned for streaming stores.
  static int64_t weight_chunk(int64_t channels) {
    return std::max<int64_t>(kGrainSize, (16 * channels + 63) / 64 * 64);
  }
  // In chunk order: bitwise the same on every run.
  static at::Tensor column_sums(const at::Tensor& partial) {
    const int64_t chunks = partial.size(0), channels = partial.size(1);
    at::Tensor totals = at::zeros({channels}, partial.options());
    const double* pp = partial.const_data_ptr<double>();
    double* tp = totals.data_ptr<double>();
    for (int64_t k = 0; k < chunks; ++k) {
      for (int64_t c = 0; c < channels; ++c) tp[c] += pp[k * channels + c];
    }
    return totals;
  }
};

}  // namespace torch_act::cpu

static std::string cpu_capability() { return torch_act::cpu::kernels().capability; }

TORCH_LIBRARY_IMPL(torch_act, CPU, m) {
  using namespace torch_act;
  ops::impl_all<ops::ByArgs<ops::TensorKernelsOf<cpu::Backend>::type>::type>(m);
}

// cpu_capability() has no tensor argument to dispatch on: a catch-all kernel.
TORCH_LIBRARY_IMPL(torch_act, CompositeImplicitAutograd, m) { m.impl("cpu_capability", &cpu_capability); }
