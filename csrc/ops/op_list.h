// Every torch_act op by name, so each backend registers the whole set the
// same way: TORCH_ACT_FOR_EACH_OP(X, args...) expands X(name, args...) once
// per op, and each kernel namespace (cpu, meta, autograd) defines one
// function per name.
#pragma once

#define TORCH_ACT_FOR_EACH_OP(X, ...)                                                    \
  X(relu, __VA_ARGS__) X(relu_, __VA_ARGS__) X(relu_forward, __VA_ARGS__)                \
  X(relu_forward_, __VA_ARGS__) X(relu_backward, __VA_ARGS__)                            \
  X(leaky_relu, __VA_ARGS__) X(leaky_relu_, __VA_ARGS__)                                 \
  X(leaky_relu_forward, __VA_ARGS__) X(leaky_relu_forward_, __VA_ARGS__)                 \
  X(leaky_relu_backward, __VA_ARGS__)                                                    \
  X(prelu, __VA_ARGS__) X(prelu_backward, __VA_ARGS__)                                   \
  X(elu, __VA_ARGS__) X(elu_, __VA_ARGS__) X(elu_backward, __VA_ARGS__)                  \
  X(sigmoid, __VA_ARGS__) X(sigmoid_backward, __VA_ARGS__)                               \
  X(tanh, __VA_ARGS__) X(tanh_backward, __VA_ARGS__)

#define TORCH_ACT_REGISTER_ONE(name, m, ns) m.impl(#name, ns::name);

// Inside TORCH_LIBRARY_IMPL(torch_act, Key, m): registers ns::<op> for every op.
#define TORCH_ACT_REGISTER_ALL(m, ns) TORCH_ACT_FOR_EACH_OP(TORCH_ACT_REGISTER_ONE, m, ns)
