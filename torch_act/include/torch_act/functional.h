// torch_act's C++ functions, one per line of activation_list.h, with
// torch.nn.functional's names, parameters and defaults:
//   at::Tensor torch_act::leaky_relu(const at::Tensor& input, double negative_slope = 0.01);
//   at::Tensor& torch_act::leaky_relu_(at::Tensor& input, double negative_slope = 0.01);
//   at::Tensor torch_act::prelu(const at::Tensor& input, const at::Tensor& weight);
// They call through the dispatcher, so autograd works from C++ with no Python
// in the process. Qualify calls as torch_act::tanh(x): unqualified,
// argument-dependent lookup also finds at::tanh.
#pragma once

#include <torch_act/ops.h>

namespace torch_act {

#define TORCH_ACT_FUNCTIONS(name, Struct, inplace, params)                                 \
  inline at::Tensor name(const at::Tensor& input TORCH_ACT_PARAMS(DECL, params)) {          \
    return ops::name(input TORCH_ACT_PARAMS(ARGS, params));                                \
  }                                                                                         \
  TORCH_ACT_IF(inplace, inline at::Tensor& name##_(at::Tensor& input TORCH_ACT_PARAMS(DECL, params)) { \
    ops::name##_(input TORCH_ACT_PARAMS(ARGS, params));                                    \
    return input;                                                                           \
  })
TORCH_ACT_ELEMENTWISE_ACTIVATIONS(TORCH_ACT_FUNCTIONS)
#undef TORCH_ACT_FUNCTIONS

// weight: 0-d, or 1-d with 1 element or one per channel (dim 1 of input).
#define TORCH_ACT_FUNCTIONS(name, Struct)                                     \
  inline at::Tensor name(const at::Tensor& input, const at::Tensor& weight) { \
    return ops::name(input, weight);                                          \
  }
TORCH_ACT_WEIGHTED_ACTIVATIONS(TORCH_ACT_FUNCTIONS)
#undef TORCH_ACT_FUNCTIONS

}  // namespace torch_act
