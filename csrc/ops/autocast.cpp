// The autocast rule, on CPU and CUDA alike. torch.nn's prelu is on autocast's
// lower-precision list: every floating argument but float64 is cast to the autocast dtype (so
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

template <typename Act, c10::DeviceType Device, c10::DispatchKey Key>
at::Tensor lower_precision(const at::Tensor& input, const at::Tensor& weight) {
  c10::impl::ExcludeDispatchKeyGuard no_autocast(Key);
  const auto to = at::autocast::get_autocast_dtype(Device);
  return ops::Calls<Act>::weighted_forward(cast_for_autocast(input, to), cast_for_autocast(weight, to));
}

template <c10::DeviceType Device, c10::DispatchKey Key>
void register_for(torch::Library& m) {
  for_each_type(act::Weighted{}, [&]<typename Act>() {
    m.impl(std::string(Act::name).c_str(), lower_precision<Act, Device, Key>);
  });
}

}  // namespace
}  // namespace torch_act::autocast

TORCH_LIBRARY_IMPL(torch_act, AutocastCPU, m) {
  torch_act::autocast::register_for<c10::DeviceType::CPU, c10::DispatchKey::AutocastCPU>(m);
}

TORCH_LIBRARY_IMPL(torch_act, AutocastCUDA, m) {
  torch_act::autocast::register_for<c10::DeviceType::CUDA, c10::DispatchKey::AutocastCUDA>(m);
}
