// The torch_act operator library: one schema per op, the Meta kernels
// (shapes, strides and dtypes without data) that fake tensors, torch.compile
// and torch.export run, and the autocast rule. CPU kernels live in
// cpu/kernels.cpp, autograd in autograd/functions.cpp.
//
// Each activation has a public op (what users call), an in-place twin where
// torch.nn has one, and backward ops. ReLU and LeakyReLU also have
// *_forward ops returning the private bit mask their backward reads.
#include "../checks.h"
#include "../layout.h"
#include "op_list.h"

#include <torch/library.h>
#include <torch_act/ops.h>

TORCH_LIBRARY(torch_act, m) {
  m.def("relu(Tensor input) -> Tensor");
  m.def("relu_(Tensor(a!) input) -> ()");
  m.def("relu_forward(Tensor input) -> (Tensor, Tensor)");
  m.def("relu_forward_(Tensor(a!) input) -> Tensor");
  m.def("relu_backward(Tensor grad_output, Tensor mask, int[] dim_order) -> Tensor");

  m.def("leaky_relu(Tensor input, float negative_slope=0.01) -> Tensor");
  m.def("leaky_relu_(Tensor(a!) input, float negative_slope=0.01) -> ()");
  m.def("leaky_relu_forward(Tensor input, float negative_slope) -> (Tensor, Tensor)");
  m.def("leaky_relu_forward_(Tensor(a!) input, float negative_slope) -> Tensor");
  m.def("leaky_relu_backward(Tensor grad_output, Tensor mask, int[] dim_order, float negative_slope) -> Tensor");

  m.def("prelu(Tensor input, Tensor weight) -> Tensor");
  m.def("prelu_backward(Tensor grad_output, Tensor input, Tensor weight) -> (Tensor, Tensor)");

  m.def("elu(Tensor input, float alpha=1.0) -> Tensor");
  m.def("elu_(Tensor(a!) input, float alpha=1.0) -> ()");
  m.def("elu_backward(Tensor grad_output, Tensor saved, float alpha, bool saved_is_output) -> Tensor");

  m.def("sigmoid(Tensor input) -> Tensor");
  m.def("sigmoid_backward(Tensor grad_output, Tensor output) -> Tensor");

  m.def("tanh(Tensor input) -> Tensor");
  m.def("tanh_backward(Tensor grad_output, Tensor output) -> Tensor");
}

namespace torch_act::meta {
namespace {

using at::Tensor;
using TensorPair = std::tuple<Tensor, Tensor>;

Tensor unary(const Tensor& input, std::string_view op) {
  check_floating(input, op, "input");
  return empty_output_like(input);
}

Tensor relu(const Tensor& input) { return unary(input, "relu"); }
Tensor leaky_relu(const Tensor& input, double) { return unary(input, "leaky_relu"); }
Tensor elu(const Tensor& input, double) { return unary(input, "elu"); }
Tensor sigmoid(const Tensor& input) { return unary(input, "sigmoid"); }
Tensor tanh(const Tensor& input) { return unary(input, "tanh"); }

void relu_(const Tensor& input) { check_floating(input, "relu_", "input"); }
void leaky_relu_(const Tensor& input, double) { check_floating(input, "leaky_relu_", "input"); }
void elu_(const Tensor& input, double) { check_floating(input, "elu_", "input"); }

TensorPair relu_forward(const Tensor& input) {
  return {unary(input, "relu_forward"), empty_mask_for(input)};
}
TensorPair leaky_relu_forward(const Tensor& input, double) {
  return {unary(input, "leaky_relu_forward"), empty_mask_for(input)};
}
Tensor relu_forward_(const Tensor& input) {
  check_floating(input, "relu_forward_", "input");
  return empty_mask_for(input);
}
Tensor leaky_relu_forward_(const Tensor& input, double) {
  check_floating(input, "leaky_relu_forward_", "input");
  return empty_mask_for(input);
}

Tensor mask_backward(const Tensor& grad_output, const Tensor& mask, at::IntArrayRef dim_order,
                     std::string_view op) {
  check_floating(grad_output, op, "grad_output");
  check_mask(mask, grad_output, op);
  check_dim_order(dim_order, grad_output.dim(), op);
  return empty_in_dim_order(grad_output, dim_order);
}
Tensor relu_backward(const Tensor& grad_output, const Tensor& mask, at::IntArrayRef dim_order) {
  return mask_backward(grad_output, mask, dim_order, "relu_backward");
}
Tensor leaky_relu_backward(const Tensor& grad_output, const Tensor& mask,
                           at::IntArrayRef dim_order, double) {
  return mask_backward(grad_output, mask, dim_order, "leaky_relu_backward");
}

Tensor saved_backward(const Tensor& grad_output, const Tensor& saved, std::string_view op,
                      std::string_view saved_arg) {
  check_floating(saved, op, saved_arg);
  check_like(grad_output, saved, op, "grad_output", saved_arg);
  return empty_output_like(saved);
}
Tensor elu_backward(const Tensor& grad_output, const Tensor& saved, double, bool) {
  return saved_backward(grad_output, saved, "elu_backward", "saved");
}
Tensor sigmoid_backward(const Tensor& grad_output, const Tensor& output) {
  return saved_backward(grad_output, output, "sigmoid_backward", "output");
}
Tensor tanh_backward(const Tensor& grad_output, const Tensor& output) {
  return saved_backward(grad_output, output, "tanh_backward", "output");
}

Tensor prelu(const Tensor& input, const Tensor& weight) {
  check_prelu_args(input, weight, "prelu");
  return empty_output_like(input);
}
TensorPair prelu_backward(const Tensor& grad_output, const Tensor& input, const Tensor& weight) {
  check_prelu_args(input, weight, "prelu_backward");
  check_like(grad_output, input, "prelu_backward", "grad_output", "input");
  return {empty_output_like(input), at::empty_symint(weight.sym_sizes(), weight.options())};
}

}  // namespace
}  // namespace torch_act::meta

TORCH_LIBRARY_IMPL(torch_act, Meta, m) {
  TORCH_ACT_REGISTER_ALL(m, torch_act::meta);
}

// --- Autocast ----------------------------------------------------------------
// torch.nn's prelu is on CPU autocast's lower-precision list: every floating
// argument but float64 is cast to the autocast dtype (so a bfloat16 input and
// a float32 alpha meet as bfloat16). The other activations run in their
// input's dtype, as torch.nn's do: they need no autocast kernel. Living in
// C++, the rule holds for TorchScript and LibTorch programs too.
namespace at::autocast {
// Declared by ATen/autocast_mode.h, whose includes would double this file's build time.
TORCH_API at::ScalarType get_autocast_dtype(at::DeviceType device_type);
}  // namespace at::autocast

namespace torch_act::autocast {
namespace {

at::Tensor cast_for_autocast(const at::Tensor& t, at::ScalarType to) {
  const bool eligible = t.defined() && t.is_floating_point() && t.scalar_type() != at::kDouble;
  return eligible && t.scalar_type() != to ? t.to(to) : t;
}

at::Tensor prelu(const at::Tensor& input, const at::Tensor& weight) {
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKey::AutocastCPU);
  const auto to = at::autocast::get_autocast_dtype(at::kCPU);
  return ops::prelu(cast_for_autocast(input, to), cast_for_autocast(weight, to));
}

}  // namespace
}  // namespace torch_act::autocast

TORCH_LIBRARY_IMPL(torch_act, AutocastCPU, m) { m.impl("prelu", torch_act::autocast::prelu); }
