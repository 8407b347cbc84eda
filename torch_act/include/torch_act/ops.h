// Typed calls of torch_act's public ops through the dispatcher, generated
// from activation_list.h: torch_act::ops::elu(input, alpha), elu_(...), ...
// The C++ API (functional.h) goes through these, never straight to a
// kernel, so autograd, Meta/fake tensors and every backend see the call.
// Most users want <torch_act/torch_act.h>.
#pragma once

#include <torch_act/activation_list.h>

#include <ATen/core/Tensor.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <string_view>

namespace torch_act {
namespace detail {

// Defined in libtorch_act.so. Every program that includes this header refers
// to it, so a linker run with --as-needed keeps the library, whose op
// registrations nothing else references (torchvision's vision.h does the same).
__attribute__((visibility("default"))) int link_anchor();
[[gnu::used]] static int (*const keep_library_linked)() = &link_anchor;

}  // namespace detail

namespace ops {

// The handle of operator `name` ("torch_act::elu"), typed as Signature.
template <typename Signature>
c10::TypedOperatorHandle<Signature> find_op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Signature>();
}

#define TORCH_ACT_OP_CALLS(name, Struct, family, inplace, params)                                \
  inline at::Tensor name(const at::Tensor& input TORCH_ACT_PARAMS(DECL, params)) {          \
    /* qualified: a parameter may share the op's name (threshold's) */                    \
    static const auto op = find_op<decltype(::torch_act::ops::name)>("torch_act::" #name); \
    return op.call(input TORCH_ACT_PARAMS(ARGS, params));                                  \
  }                                                                                         \
  TORCH_ACT_IF(inplace, inline void name##_(const at::Tensor& input TORCH_ACT_PARAMS(DECL, params)) { \
    static const auto op = find_op<decltype(name##_)>("torch_act::" #name "_");            \
    op.call(input TORCH_ACT_PARAMS(ARGS, params));                                         \
  })
TORCH_ACT_ELEMENTWISE_ACTIVATIONS(TORCH_ACT_OP_CALLS)
#undef TORCH_ACT_OP_CALLS

#define TORCH_ACT_OP_CALLS(name, Struct)                                      \
  inline at::Tensor name(const at::Tensor& input, const at::Tensor& weight) { \
    static const auto op = find_op<decltype(name)>("torch_act::" #name);      \
    return op.call(input, weight);                                            \
  }
TORCH_ACT_WEIGHTED_ACTIVATIONS(TORCH_ACT_OP_CALLS)
#undef TORCH_ACT_OP_CALLS

#define TORCH_ACT_OP_CALLS(name, Struct, params)                                                               \
  inline at::Tensor name(const at::Tensor& gate, const at::Tensor& up TORCH_ACT_PARAMS(DECL, params)) {          \
    static const auto op = find_op<decltype(name)>("torch_act::" #name);                                        \
    return op.call(gate, up TORCH_ACT_PARAMS(ARGS, params));                                                    \
  }
TORCH_ACT_GATED_ACTIVATIONS(TORCH_ACT_OP_CALLS)
#undef TORCH_ACT_OP_CALLS

}  // namespace ops
}  // namespace torch_act
