// The one kind of autograd node torch_act records, for every op: a Node
// holding SavedVariables and a functor, the way PyTorch's generated autograd
// code records its own ops. (A torch::autograd::Function costs several
// microseconds more per call: a context, a saved_data map of IValues,
// zero-filled gradients for extra outputs, output wrapping; and functorch
// refuses C++ Functions.) Saved tensors go through SavedVariable, so
// saved-tensor hooks, checkpointing and save_on_cpu see them.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/csrc/autograd/VariableTypeUtils.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/csrc/autograd/saved_variable.h>
#include <torch/csrc/dynamo/compiled_autograd.h>

#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

namespace torch_act::autograd {

using at::Tensor;
using torch::autograd::Node;
using torch::autograd::SavedVariable;
using torch::autograd::variable_list;

template <typename... Ts>
bool needs_grad(const Ts&... tensors) {
  auto wants = [](const Tensor& t) { return t.defined() && t.requires_grad(); };
  return torch::autograd::GradMode::is_enabled() && (wants(tensors) || ...);
}

// With no graph to record (grad mode off, or no input requiring grad) an op
// runs its kernel directly. That is the common case for the backward ops,
// which the engine calls with grad mode off unless create_graph is set, and it
// keeps small tensors cheap.
template <typename F>
auto below_autograd(const F& kernel) {
  at::AutoDispatchBelowADInplaceOrView guard;
  return kernel();
}

// `Backward` is a functor: backward(grads, saved tensors) returns one
// gradient per input, and backward.fields() ties its non-tensor state, which
// compiled autograd keys its cache on and passes to `functional` below.
template <typename Backward>
struct BackwardNode final : Node {
  BackwardNode(const char* name, Backward backward) : name_(name), backward_(std::move(backward)) {}
  std::string name() const override { return name_; }
  void save(const Tensor& t, bool is_output, bool is_inplace_on_view = false) {
    saved_.emplace_back(t, is_output, is_inplace_on_view);
    saved_is_output_.push_back(is_output);
  }
  void release_variables() override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& s : saved_) s.reset_data();
  }
  variable_list apply(variable_list&& grads) override {
    std::vector<Tensor> tensors;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& s : saved_) tensors.push_back(s.unpack(getptr()));
    }
    bool any = false;
    for (const auto& g : grads) any = any || g.defined();
    if (!any) return variable_list(num_outputs());
    return backward_(grads, tensors);
  }
  void compiled_args(torch::dynamo::autograd::CompiledNodeArgs& args) const override {
    args.collect(std::string(name_));
    for (size_t i = 0; i < saved_.size(); ++i) args.collect(saved_[i], saved_is_output_[i]);
    std::apply([&](const auto&... field) { (args.collect(field), ...); }, backward_.fields());
  }
  // Under compiled autograd the backward is one opaque call in the traced
  // graph, as for CppNode: the saved tensors (swapped for proxies) and the
  // functor's state go in as IValues, `functional` rebuilds the functor.
  variable_list apply_with_saved(const variable_list& grads,
                                 torch::dynamo::autograd::SwapSavedVariables& swap) override {
    namespace ca = torch::dynamo::autograd;
    for (auto& s : saved_) swap.before(s);
    variable_list tensors;
    for (auto& s : saved_) tensors.push_back(s.unpack(getptr()));
    ca::PackedArgs packed;
    packed.pack(tensors);
    std::apply([&](const auto&... field) { (packed.pack(field), ...); }, backward_.fields());
    const auto& args = packed.vec();
    std::vector<at::TypePtr> schema;
    for (const auto& arg : args) schema.push_back(arg.isTensor() ? at::TensorType::get() : arg.type());
    const auto& py = ca::getPyCompilerInterface();
    // Bound afresh on every call under a counted name, as CppNode is: nodes of
    // one kind can differ in their packed state's schema.
    const auto fn = py->bind_function(swap.get_py_compiler(), name_, &functional, schema,
                                      /*is_custom_function=*/true, /*is_traceable=*/true);
    auto output_metadata =
        ca::IValuePacker<std::vector<std::optional<torch::autograd::InputMetadata>>>::pack(
            ca::get_input_metadata(next_edges()));
    auto results = py->call_function(swap.get_py_compiler(), "apply_functional", fn, grads, args,
                                     output_metadata);
    for (auto& s : saved_) swap.after(s);
    return results;
  }
  static variable_list functional(const variable_list& grads, const std::vector<c10::IValue>& args) {
    torch::dynamo::autograd::PackedArgs packed(args);
    const auto tensors = packed.unpack<variable_list>();
    Backward backward;
    std::apply([&](auto&... field) { ((field = packed.unpack<std::decay_t<decltype(field)>>()), ...); },
               backward.fields());
    return backward(grads, tensors);
  }

 private:
  const char* name_;
  Backward backward_;
  std::vector<SavedVariable> saved_;
  std::vector<bool> saved_is_output_;
};

// A node whose backward is `backward`, with edges to `inputs`. Recent torch
// holds autograd nodes in c10::intrusive_ptr, older releases in
// std::shared_ptr; getptr() names whichever this torch uses.
template <typename Backward, typename... Inputs>
auto make_node(const char* name, Backward backward, const Inputs&... inputs) {
  using N = BackwardNode<Backward>;
  using Held = decltype(std::declval<Node&>().getptr());
  auto node = [&] {
    if constexpr (std::is_same_v<Held, std::shared_ptr<Node>>) {
      return std::make_shared<N>(name, std::move(backward));
    } else {
      return c10::make_intrusive<N>(name, std::move(backward));
    }
  }();
  node->set_next_edges(torch::autograd::collect_next_edges(inputs...));
  return node;
}

// What make_node returns, for a node made only when a graph is recorded.
template <typename Backward>
using NodePtr = decltype(make_node("", std::declval<Backward>()));

// Makes `node` the grad_fn of `outputs` (output 0, 1, ...).
template <typename NodePtr>
void set_history(const NodePtr& node, std::initializer_list<Tensor> outputs) {
  for (const auto& output : outputs) torch::autograd::set_history(output, node);
}

// The names nodes of activation Act show: "torch_act::ELUBackward" for its
// forward ops, "torch_act::ELUBackwardBackward" for its backward op.
template <typename Act>
const char* backward_name() {
  static const std::string name = "torch_act::" + std::string(Act::struct_name) + "Backward";
  return name.c_str();
}
template <typename Act>
const char* double_backward_name() {
  static const std::string name = "torch_act::" + std::string(Act::struct_name) + "BackwardBackward";
  return name.c_str();
}

}  // namespace torch_act::autograd
