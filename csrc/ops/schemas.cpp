// The torch_act operator library: the schema of every op (op_set.h, from
// activation_list.h) and of cpu_capability(). Kernels are registered by each
// backend: cpu/register.cpp, ops/meta.cpp, autograd/register.cpp,
// ops/autocast.cpp.
#include "op_set.h"

#include <torch_act/ops.h>

TORCH_LIBRARY(torch_act, m) {
  torch_act::ops::define_all(m);
  // Which CPU kernel build this process uses: "DEFAULT", "AVX2" or "AVX512".
  m.def("cpu_capability() -> str");
}

// Referenced by every program including <torch_act/ops.h>: keeps this
// library linked (see there).
int torch_act::detail::link_anchor() { return 0; }
