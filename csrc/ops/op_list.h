// Every torch_act op by name, so each backend registers the whole set the
// same way: TORCH_ACT_FOR_EACH_OP(X) expands X(name) once per op, and each
// kernel namespace (cpu, meta, autograd) defines one function per name.
#pragma once

#define TORCH_ACT_FOR_EACH_OP(X)                                               \
  X(relu) X(relu_) X(relu_forward) X(relu_forward_) X(relu_backward)           \
  X(leaky_relu) X(leaky_relu_) X(leaky_relu_forward) X(leaky_relu_forward_)    \
  X(leaky_relu_backward)                                                       \
  X(prelu) X(prelu_backward)                                                   \
  X(elu) X(elu_) X(elu_backward)                                               \
  X(sigmoid) X(sigmoid_backward)                                               \
  X(tanh) X(tanh_backward)
