// torch_act's C++ functions, one per line of activation_list.h, with
// torch.nn.functional's names, parameters and defaults:
//   at::Tensor torch_act::leaky_relu(const at::Tensor& input, double negative_slope = 0.01);
//   at::Tensor& torch_act::leaky_relu_(at::Tensor& input, double negative_slope = 0.01);
//   at::Tensor torch_act::rrelu(const at::Tensor& input, double lower = 0.125, double upper = 1/3.,
//                               bool training = false);  // slopes from torch's generator
//   at::Tensor torch_act::prelu(const at::Tensor& input, const at::Tensor& weight);
//   at::Tensor torch_act::swiglu(const at::Tensor& gate, const at::Tensor& up);  // and geglu, reglu
//   at::Tensor torch_act::glu(const at::Tensor& input, int64_t dim = -1);
// They call through the dispatcher, so autograd works from C++ with no Python
// in the process. Qualify calls as torch_act::tanh(x): unqualified,
// argument-dependent lookup also finds at::tanh.
#pragma once

#include <torch_act/ops.h>

#include <ATen/ops/empty.h>
#include <c10/core/WrapDimMinimal.h>

#include <vector>

namespace torch_act {

namespace detail {
// The seed of a random activation's call (RReLU in training), drawn from
// torch's default CPU generator, so torch::manual_seed (torch.manual_seed)
// repeats a run, and the same draw Python's functions make. Out of training
// the op ignores it: nothing is drawn.
inline int64_t draw_seed(bool training) {
  return training ? at::empty({}, at::kLong).random_().item<int64_t>() : 0;
}
}  // namespace detail

#define TORCH_ACT_FUNCTIONS(name, Struct, family, inplace, params)                               \
  inline at::Tensor name(const at::Tensor& input TORCH_ACT_PARAMS(PUBLIC_DECL, params)) {   \
    return ops::name(input TORCH_ACT_PARAMS(PUBLIC_ARGS, params));                         \
  }                                                                                         \
  TORCH_ACT_IF(inplace, inline at::Tensor& name##_(at::Tensor& input TORCH_ACT_PARAMS(PUBLIC_DECL, params)) { \
    ops::name##_(input TORCH_ACT_PARAMS(PUBLIC_ARGS, params));                             \
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

// act(gate) * up, gate and up of one shape (swiglu: silu(gate) * up).
#define TORCH_ACT_FUNCTIONS(name, Struct, params)                                                        \
  inline at::Tensor name(const at::Tensor& gate, const at::Tensor& up TORCH_ACT_PARAMS(DECL, params)) {    \
    return ops::name(gate, up TORCH_ACT_PARAMS(ARGS, params));                                            \
  }
TORCH_ACT_GATED_ACTIVATIONS(TORCH_ACT_FUNCTIONS)
#undef TORCH_ACT_FUNCTIONS

namespace detail {
// The halves of `input` along `dim`, refused with torch.nn.functional.glu's words.
inline std::vector<at::Tensor> halves(const at::Tensor& input, int64_t dim) {
  TORCH_CHECK(input.dim() > 0, "glu does not support scalars because halving size must be even");
  const int64_t d = c10::maybe_wrap_dim(dim, input.dim());
  TORCH_CHECK(input.size(d) % 2 == 0, "Halving dimension must be even, but dimension ", d, " is size ",
              input.size(d));
  return input.chunk(2, d);
}
}  // namespace detail

// torch.nn.functional.glu: the first half of `input` along `dim` times the
// sigmoid of the second (the gate is the second half).
inline at::Tensor glu(const at::Tensor& input, int64_t dim = -1) {
  const auto h = detail::halves(input, dim);
  return sigmoid_glu(h[1], h[0]);
}

// The split forms: the activation on the first half, Transformer Engine's
// convention (swiglu_halves(x) = silu(x1) * x2).
inline at::Tensor swiglu_halves(const at::Tensor& input, int64_t dim = -1) {
  const auto h = detail::halves(input, dim);
  return swiglu(h[0], h[1]);
}
inline at::Tensor geglu_halves(const at::Tensor& input, int64_t dim = -1, c10::string_view approximate = "none") {
  const auto h = detail::halves(input, dim);
  return geglu(h[0], h[1], approximate);
}
inline at::Tensor reglu_halves(const at::Tensor& input, int64_t dim = -1) {
  const auto h = detail::halves(input, dim);
  return reglu(h[0], h[1]);
}

}  // namespace torch_act
