// Autograd for every op of every activation, registered under the Autograd
// and ADInplaceOrView dispatch keys, so gradients work the same from Python
// and from C++. What each family saves: docs/ARCHITECTURE.md.
#include "../ops/op_set.h"
#include "autograd_kernels.h"

TORCH_LIBRARY_IMPL(torch_act, Autograd, m) {
  using namespace torch_act;
  ops::impl_all<ops::ByArgs<autograd::AutogradKernels>::type>(m);
}

TORCH_LIBRARY_IMPL(torch_act, ADInplaceOrView, m) {
  using namespace torch_act;
  ops::impl_all_inplace<ops::ByArgs<autograd::InplaceOrViewKernels>::type>(m);
}
