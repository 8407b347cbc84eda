// torch_act's C++ functions: the same math, gradients and defaults as
// torch::nn::functional / the Python API, through the dispatcher (so autograd
// works from C++ with no Python in the process). Qualify calls as
// torch_act::tanh(x): unqualified, argument-dependent lookup also finds at::tanh.
#pragma once

#include <torch_act/ops.h>

namespace torch_act {

inline at::Tensor relu(const at::Tensor& input) { return ops::relu(input); }
inline at::Tensor& relu_(at::Tensor& input) {
  ops::relu_(input);
  return input;
}

inline at::Tensor leaky_relu(const at::Tensor& input, double negative_slope = 0.01) {
  return ops::leaky_relu(input, negative_slope);
}
inline at::Tensor& leaky_relu_(at::Tensor& input, double negative_slope = 0.01) {
  ops::leaky_relu_(input, negative_slope);
  return input;
}

// alpha: 0-d, or 1-d with 1 element or one per channel (dim 1 of input).
inline at::Tensor prelu(const at::Tensor& input, const at::Tensor& alpha) {
  return ops::prelu(input, alpha);
}

inline at::Tensor elu(const at::Tensor& input, double alpha = 1.0) { return ops::elu(input, alpha); }
inline at::Tensor& elu_(at::Tensor& input, double alpha = 1.0) {
  ops::elu_(input, alpha);
  return input;
}

inline at::Tensor sigmoid(const at::Tensor& input) { return ops::sigmoid(input); }
inline at::Tensor tanh(const at::Tensor& input) { return ops::tanh(input); }

}  // namespace torch_act
