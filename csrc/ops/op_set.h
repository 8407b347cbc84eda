// The ops each family has, written once: their schemas and the registration
// of a backend's kernels for them; every backend registers through it. The
// suffixes ("elu" + "_backward") are also composed by calls.h (the typed
// dispatcher calls) and in Python (distributed.py, everywhere.py), by the
// same rule.
//
//   family Mask        name, name_ (INPLACE), name_forward and name_forward_
//                      (the output and the bit mask backward reads), name_backward
//   families Output,   name, name_ (INPLACE), name_backward (reads the output
//   Input,             or the input; OutputOrInput picks one from its
//   OutputOrInput      hyper-parameters, as with_saved(act, ...) says)
//   family             name, name_backward (gradients of input and weight)
//   InputAndWeight
//   family GateAndUp   name(gate, up), name_backward (gradients of gate and up)
#pragma once

#include "../activations.h"

#include <torch/library.h>

#include <string>
#include <tuple>

namespace torch_act::ops {

// The schema name of the tensor a saved-tensor backward reads.
template <typename Act>
const char* saved_arg() {
  if constexpr (Act::family == Family::Output) return "output";
  if constexpr (Act::family == Family::Input) return "input";
  return "saved";
}

template <typename Act>
void define(torch::Library& m) {
  const std::string n(Act::name), p = Act::schema();
  auto def = [&](const std::string& schema) { m.def(torch::schema(schema.c_str(), c10::AliasAnalysisKind::FROM_SCHEMA)); };
  if constexpr (Act::family == Family::InputAndWeight) {
    def(n + "(Tensor input, Tensor weight) -> Tensor");
    def(n + "_backward(Tensor grad_output, Tensor input, Tensor weight) -> (Tensor, Tensor)");
  } else if constexpr (Act::family == Family::GateAndUp) {
    def(n + "(Tensor gate, Tensor up" + p + ") -> Tensor");
    def(n + "_backward(Tensor grad_output, Tensor gate, Tensor up" + p + ") -> (Tensor, Tensor)");
  } else {
    def(n + "(Tensor input" + p + ") -> Tensor");
    if constexpr (Act::has_inplace) def(n + "_(Tensor(a!) input" + p + ") -> ()");
    if constexpr (Act::family == Family::Mask) {
      def(n + "_forward(Tensor input" + p + ") -> (Tensor, Tensor)");
      if constexpr (Act::has_inplace) def(n + "_forward_(Tensor(a!) input" + p + ") -> Tensor");
      def(n + "_backward(Tensor grad_output, Tensor mask, int[] dim_order" + p + ") -> Tensor");
    } else {
      def(n + "_backward(Tensor grad_output, Tensor " + saved_arg<Act>() + p + ") -> Tensor");
    }
  }
}

// Registers, for every op of Act's family, the kernel of Kernels<Act>:
//   forward, forward_ (in place), forward_with_mask, forward_with_mask_,
//   mask_backward, saved_backward; weighted: weighted_forward, weighted_backward;
//   gated: gated_forward, gated_backward.
// Members a family does not use need not exist.
template <template <typename> class Kernels, typename Act>
void impl(torch::Library& m) {
  using K = Kernels<Act>;
  const std::string n(Act::name);
  if constexpr (Act::family == Family::InputAndWeight) {
    m.impl(n.c_str(), K::weighted_forward);
    m.impl((n + "_backward").c_str(), K::weighted_backward);
  } else if constexpr (Act::family == Family::GateAndUp) {
    m.impl(n.c_str(), K::gated_forward);
    m.impl((n + "_backward").c_str(), K::gated_backward);
  } else {
    m.impl(n.c_str(), K::forward);
    if constexpr (Act::has_inplace) m.impl((n + "_").c_str(), K::forward_);
    if constexpr (Act::family == Family::Mask) {
      m.impl((n + "_forward").c_str(), K::forward_with_mask);
      if constexpr (Act::has_inplace) m.impl((n + "_forward_").c_str(), K::forward_with_mask_);
      m.impl((n + "_backward").c_str(), K::mask_backward);
    } else {
      m.impl((n + "_backward").c_str(), K::saved_backward);
    }
  }
}

// The same for every activation: one call per backend and dispatch key.
template <template <typename> class Kernels>
void impl_all(torch::Library& m) {
  for_each_type(act::Elementwise{}, [&]<typename Act>() { impl<Kernels, Act>(m); });
  for_each_type(act::Weighted{}, [&]<typename Act>() { impl<Kernels, Act>(m); });
  for_each_type(act::Gated{}, [&]<typename Act>() { impl<Kernels, Act>(m); });
}

// Registers Kernels<Act>::forward_ and ::forward_with_mask_ for the ops that
// change their input (ADInplaceOrView needs no kernel for the others).
template <template <typename> class Kernels>
void impl_all_inplace(torch::Library& m) {
  for_each_type(act::Elementwise{}, [&]<typename Act>() {
    using K = Kernels<Act>;
    const std::string n(Act::name);
    if constexpr (Act::has_inplace) {
      m.impl((n + "_").c_str(), K::forward_);
      if constexpr (Act::family == Family::Mask) m.impl((n + "_forward_").c_str(), K::forward_with_mask_);
    }
  });
}

inline void define_all(torch::Library& m) {
  for_each_type(act::Elementwise{}, [&]<typename Act>() { define<Act>(m); });
  for_each_type(act::Weighted{}, [&]<typename Act>() { define<Act>(m); });
  for_each_type(act::Gated{}, [&]<typename Act>() { define<Act>(m); });
}

// Kernels<Act> classes take the hyper-parameters as the op's arguments;
// ByArgs<Impl> spreads Act::Args into them: Impl<Act, A...> gets A... as a pack.
template <template <typename, typename...> class Impl>
struct ByArgs {
  template <typename Act, typename Args = typename Act::Args>
  struct Spread;
  template <typename Act, typename... A>
  struct Spread<Act, std::tuple<A...>> {
    using type = Impl<Act, A...>;
  };
  template <typename Act>
  using type = typename Spread<Act>::type;
};

}  // namespace torch_act::ops
