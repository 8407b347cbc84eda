// The vmap batch rules of every op (batch_rules.h), registered under
// functorch's FuncTorchBatched key.
#include "../ops/op_set.h"
#include "batch_rules.h"

TORCH_LIBRARY_IMPL(torch_act, FuncTorchBatched, m) {
  using namespace torch_act;
  ops::impl_all<ops::ByArgs<vmap::BatchRules>::type>(m);
}
