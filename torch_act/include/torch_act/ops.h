// Typed calls of every torch_act op through the dispatcher (schemas in
// csrc/ops/library.cpp). Autograd and the public C++ API go through these,
// never straight to a kernel, so autograd, Meta/fake tensors and future
// backends all see the call. Most users want <torch_act/torch_act.h>.
#pragma once

#include <ATen/core/Tensor.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <tuple>

namespace torch_act::ops {

using at::Tensor;
using TensorPair = std::tuple<Tensor, Tensor>;

template <typename Signature>
c10::TypedOperatorHandle<Signature> find_op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Signature>();
}

#define TORCH_ACT_CALL(name, Signature, ...)                                   \
  static const auto op = find_op<Signature>("torch_act::" name);               \
  return op.call(__VA_ARGS__)

// Public ops.
inline Tensor relu(const Tensor& input) {
  TORCH_ACT_CALL("relu", Tensor(const Tensor&), input);
}
inline void relu_(const Tensor& input) { TORCH_ACT_CALL("relu_", void(const Tensor&), input); }
inline Tensor leaky_relu(const Tensor& input, double negative_slope) {
  TORCH_ACT_CALL("leaky_relu", Tensor(const Tensor&, double), input, negative_slope);
}
inline void leaky_relu_(const Tensor& input, double negative_slope) {
  TORCH_ACT_CALL("leaky_relu_", void(const Tensor&, double), input, negative_slope);
}
inline Tensor prelu(const Tensor& input, const Tensor& weight) {
  TORCH_ACT_CALL("prelu", Tensor(const Tensor&, const Tensor&), input, weight);
}
inline Tensor elu(const Tensor& input, double alpha) {
  TORCH_ACT_CALL("elu", Tensor(const Tensor&, double), input, alpha);
}
inline void elu_(const Tensor& input, double alpha) {
  TORCH_ACT_CALL("elu_", void(const Tensor&, double), input, alpha);
}
inline Tensor sigmoid(const Tensor& input) {
  TORCH_ACT_CALL("sigmoid", Tensor(const Tensor&), input);
}
inline Tensor tanh(const Tensor& input) { TORCH_ACT_CALL("tanh", Tensor(const Tensor&), input); }

// Forward ops that also return the bit mask backward needs.
inline TensorPair relu_forward(const Tensor& input) {
  TORCH_ACT_CALL("relu_forward", TensorPair(const Tensor&), input);
}
inline Tensor relu_forward_(const Tensor& input) {
  TORCH_ACT_CALL("relu_forward_", Tensor(const Tensor&), input);
}
inline TensorPair leaky_relu_forward(const Tensor& input, double negative_slope) {
  TORCH_ACT_CALL("leaky_relu_forward", TensorPair(const Tensor&, double), input, negative_slope);
}
inline Tensor leaky_relu_forward_(const Tensor& input, double negative_slope) {
  TORCH_ACT_CALL("leaky_relu_forward_", Tensor(const Tensor&, double), input, negative_slope);
}

// Backward ops.
inline Tensor relu_backward(const Tensor& grad_output, const Tensor& mask, at::IntArrayRef dim_order) {
  TORCH_ACT_CALL("relu_backward", Tensor(const Tensor&, const Tensor&, at::IntArrayRef),
                 grad_output, mask, dim_order);
}
inline Tensor leaky_relu_backward(const Tensor& grad_output, const Tensor& mask,
                                  at::IntArrayRef dim_order, double negative_slope) {
  TORCH_ACT_CALL("leaky_relu_backward",
                 Tensor(const Tensor&, const Tensor&, at::IntArrayRef, double), grad_output, mask,
                 dim_order, negative_slope);
}
inline TensorPair prelu_backward(const Tensor& grad_output, const Tensor& input, const Tensor& weight) {
  TORCH_ACT_CALL("prelu_backward", TensorPair(const Tensor&, const Tensor&, const Tensor&),
                 grad_output, input, weight);
}
inline Tensor elu_backward(const Tensor& grad_output, const Tensor& saved, double alpha,
                           bool saved_is_output) {
  TORCH_ACT_CALL("elu_backward", Tensor(const Tensor&, const Tensor&, double, bool), grad_output,
                 saved, alpha, saved_is_output);
}
inline Tensor sigmoid_backward(const Tensor& grad_output, const Tensor& output) {
  TORCH_ACT_CALL("sigmoid_backward", Tensor(const Tensor&, const Tensor&), grad_output, output);
}
inline Tensor tanh_backward(const Tensor& grad_output, const Tensor& output) {
  TORCH_ACT_CALL("tanh_backward", Tensor(const Tensor&, const Tensor&), grad_output, output);
}

#undef TORCH_ACT_CALL

}  // namespace torch_act::ops
