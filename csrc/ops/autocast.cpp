// The AutocastCPU rule. torch.nn's prelu is on CPU autocast's lower-precision
// list: every floating argument but float64 is cast to the autocast dtype (so
// a bfloat16 input and a float32 weight meet as bfloat16); torch_act's
// activations with a learned weight do the same. The elementwise activations
// run in their input's dtype, as torch.nn's do: they need no autocast kernel.
// Living in C++, the rule holds for TorchScript and LibTorch programs too.
#include "op_set.h"
#include "calls.h"

#include <ATen/autocast_mode.h>

namespace torch_act::autocast {
namespace {

at::Tensor cast_for_autocast(const at::Tensor& t, at::ScalarType to) {
  const bool eligible = t.defined() && t.is_floating_point() && t.scalar_type() != at::kDouble;
  return eligible && t.scalar_type() != to ? t.to(to) : t;
}

template <typename Act>
at::Tensor lower_precision(const at::Tensor& input, const at::Tensor& weight) {
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKey::AutocastCPU);
  const auto to = at::autocast::get_autocast_dtype(at::kCPU);
  return ops::Calls<Act>::weighted_forward(cast_for_autocast(input, to), cast_for_autocast(weight, to));
}

}  // namespace
}  // namespace torch_act::autocast

TORCH_LIBRARY_IMPL(torch_act, AutocastCPU, m) {
  using namespace torch_act;
  for_each_type(act::Weighted{}, [&]<typename Act>() {
    m.impl(std::string(Act::name).c_str(), autocast::lower_precision<Act>);
  });
}
