// Autograd for every torch_act op: one torch::autograd::Function per kind of
// saved state, registered under the Autograd dispatch key, so gradients work
// the same from Python and from C++. Forward ops redispatch below autograd;
// backward ops are dispatcher ops with Functions of their own, so double
// backward works. What each activation saves (docs/ARCHITECTURE.md):
//   relu, leaky_relu: a private bit mask (1 bit per element)
//   elu (alpha >= 0), sigmoid, tanh: the output;  elu (alpha < 0): the input
//   prelu: the input and the weight
// Saved tensors go through save_for_backward only, so saved-tensor hooks,
// checkpointing and save_on_cpu see them; only scalars go in saved_data.
#include "../activations.h"
#include "../layout.h"
#include <torch_act/ops.h>
#include "../ops/op_list.h"

#include <ATen/TensorOperators.h>
#include <ATen/ops/exp.h>
#include <ATen/ops/sum.h>
#include <ATen/ops/where.h>
#include <torch/csrc/autograd/VariableTypeUtils.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/csrc/autograd/saved_variable.h>
#include <torch/csrc/dynamo/compiled_autograd.h>
#include <torch/library.h>

#include <mutex>
#include <optional>
#include <tuple>
#include <type_traits>

namespace torch_act::autograd {
namespace {

using at::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::Function;
using torch::autograd::variable_list;
using TensorPair = std::tuple<Tensor, Tensor>;

bool needs_grad(const Tensor& a, const Tensor& b = Tensor(), const Tensor& c = Tensor()) {
  auto wants = [](const Tensor& t) { return t.defined() && t.requires_grad(); };
  return torch::autograd::GradMode::is_enabled() && (wants(a) || wants(b) || wants(c));
}

// With no graph to record (grad mode off, or no input requiring grad) an op
// skips its Function and runs its kernel directly. That is the common case
// for the backward ops, which the engine calls with grad mode off unless
// create_graph is set, and it keeps small tensors cheap.
template <typename F>
auto without_graph(const F& kernel) {
  at::AutoDispatchBelowADInplaceOrView guard;
  return kernel();
}

// In-place on a leaf (or a view of one) that requires grad is refused before
// any memory is touched, with autograd's own message.
void check_inplace(const Tensor& input) {
  torch::autograd::check_inplace(input, needs_grad(input));
}

// --- hand-built backward nodes for the out-of-place activations -------------
// The public forward ops record their backward the way PyTorch's generated
// autograd code does: one Node holding SavedVariables. A
// torch::autograd::Function costs several microseconds more per call (a
// context, a saved_data map of IValues, zero-filled gradients for extra
// outputs, output wrapping), which is most of a small tensor's time. Saved
// tensors still go through SavedVariable, so saved-tensor hooks see them.

using torch::autograd::Node;
using torch::autograd::SavedVariable;

// `Backward` is a functor: backward(grad, saved tensors) returns one gradient
// per input, and backward.fields() ties its scalar state, which compiled
// autograd keys its cache on and passes to `functional` below.
template <typename Backward>
struct ActivationBackward final : Node {
  ActivationBackward(const char* name, Backward backward)
      : name_(name), backward_(std::move(backward)) {}
  std::string name() const override { return name_; }
  void save(const Tensor& t, bool is_output) {
    saved_.emplace_back(t, is_output);
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
    if (!grads[0].defined()) return variable_list(num_outputs());
    return backward_(grads[0], tensors);
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
    return backward(grads[0], tensors);
  }

 private:
  const char* name_;
  Backward backward_;
  std::vector<SavedVariable> saved_;
  std::vector<bool> saved_is_output_;
};

// Recent torch holds autograd nodes in c10::intrusive_ptr, older releases
// in std::shared_ptr; getptr() names whichever this torch uses.
template <typename Backward>
auto make_backward_node(const char* name, Backward backward) {
  using N = ActivationBackward<Backward>;
  using Held = decltype(std::declval<Node&>().getptr());
  if constexpr (std::is_same_v<Held, std::shared_ptr<Node>>) {
    return std::make_shared<N>(name, std::move(backward));
  } else {
    return c10::make_intrusive<N>(name, std::move(backward));
  }
}

// Makes `node` the grad_fn of `output`, with edges to `inputs`; then saves
// `output` if asked (a saved output must know its grad_fn first).
template <typename NodePtr, typename... Inputs>
Tensor record(const NodePtr& node, const Tensor& output, bool save_output, const Inputs&... inputs) {
  node->set_next_edges(torch::autograd::collect_next_edges(inputs...));
  torch::autograd::set_history(output, node);
  if (save_output) node->save(output, /*is_output=*/true);
  return output;
}

// --- ReLU and LeakyReLU: a bit mask ----------------------------------------
// `slope` absent means ReLU. The mask is an extra, non-differentiable output
// of the forward ops; the dim order records the memory order of its bits.

Tensor mask_backward_op(const Tensor& grad, const Tensor& mask, at::IntArrayRef order,
                        std::optional<double> slope) {
  return slope ? ops::leaky_relu_backward(grad, mask, order, *slope)
               : ops::relu_backward(grad, mask, order);
}

void save_mask(AutogradContext* ctx, const Tensor& mask, std::vector<int64_t> order,
               std::optional<double> slope) {
  ctx->save_for_backward({mask});
  ctx->saved_data["dim_order"] = std::move(order);
  ctx->saved_data["slope"] = slope;
}

variable_list mask_backward(AutogradContext* ctx, const variable_list& grads) {
  const Tensor mask = ctx->get_saved_variables()[0];
  const auto order = ctx->saved_data["dim_order"].toIntVector();
  const auto slope = ctx->saved_data["slope"].toOptional<double>();
  return {mask_backward_op(grads[0], mask, order, slope), Tensor()};
}

struct MaskActivation : Function<MaskActivation> {
  static variable_list forward(AutogradContext* ctx, const Tensor& input, std::optional<double> slope) {
    at::AutoDispatchBelowADInplaceOrView guard;
    auto [output, mask] = slope ? ops::leaky_relu_forward(input, *slope) : ops::relu_forward(input);
    ctx->mark_non_differentiable({mask});
    save_mask(ctx, mask, dim_order_of(output), slope);
    return {output, mask};
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return mask_backward(ctx, grads);
  }
};

// In place, the Function returns only the input: autograd cannot rebase the
// history of a view when a Function also returns a second tensor, so the mask
// stays in the context and reaches the caller through `mask_out`.
struct MaskActivationInplace : Function<MaskActivationInplace> {
  static Tensor forward(AutogradContext* ctx, const Tensor& input, std::optional<double> slope,
                        Tensor* mask_out) {
    Tensor mask;
    {
      // Keeps ADInplaceOrView, which bumps the version counter.
      at::AutoDispatchBelowAutograd guard;
      mask = slope ? ops::leaky_relu_forward_(input, *slope) : ops::relu_forward_(input);
    }
    ctx->mark_dirty({input});
    // The CPU kernel packs bits in row-major order when the input is not dense.
    save_mask(ctx, mask,
              input.is_non_overlapping_and_dense() ? dim_order_of(input)
                                                    : identity_dim_order(input.dim()),
              slope);
    if (mask_out != nullptr) *mask_out = mask;
    return input;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return {mask_backward(ctx, grads)[0], Tensor(), Tensor()};
  }
};

Tensor mask_activation_inplace(const Tensor& input, std::optional<double> slope) {
  check_inplace(input);
  Tensor mask;
  MaskActivationInplace::apply(input, slope, &mask);
  return mask;
}

// Backward of the mask backward ops: linear in grad, the mask has no gradient.
struct MaskBackward : Function<MaskBackward> {
  static Tensor forward(AutogradContext* ctx, const Tensor& grad, const Tensor& mask,
                        std::vector<int64_t> order, std::optional<double> slope) {
    at::AutoDispatchBelowADInplaceOrView guard;
    Tensor result = mask_backward_op(grad, mask, order, slope);
    save_mask(ctx, mask, std::move(order), slope);
    return result;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return {mask_backward(ctx, grads)[0], Tensor(), Tensor(), Tensor()};
  }
};

// --- ELU, Sigmoid, Tanh: the output (ELU with alpha < 0: the input) -----------

// Each of these describes one activation saving a tensor T: its forward op,
// its backward op f'(grad, T), and d(f'(grad, T))/dT for double backward.
struct SigmoidRule {
  static Tensor forward(const Tensor& x, double) { return ops::sigmoid(x); }
  static Tensor backward(const Tensor& g, const Tensor& y, double, bool) {
    return ops::sigmoid_backward(g, y);
  }
  static Tensor backward_wrt_saved(const Tensor& gg, const Tensor& g, const Tensor& y, double, bool) {
    return gg * g * (1 - 2 * y);
  }
};

struct TanhRule {
  static Tensor forward(const Tensor& x, double) { return ops::tanh(x); }
  static Tensor backward(const Tensor& g, const Tensor& y, double, bool) {
    return ops::tanh_backward(g, y);
  }
  static Tensor backward_wrt_saved(const Tensor& gg, const Tensor& g, const Tensor& y, double, bool) {
    return -2 * gg * g * y;
  }
};

struct EluRule {
  static Tensor forward(const Tensor& x, double alpha) { return ops::elu(x, alpha); }
  static Tensor backward(const Tensor& g, const Tensor& saved, double alpha, bool is_output) {
    return ops::elu_backward(g, saved, alpha, is_output);
  }
  // From the output: g * (y + alpha) where y <= 0; from the input:
  // g * alpha * exp(x) where x <= 0.
  static Tensor backward_wrt_saved(const Tensor& gg, const Tensor& g, const Tensor& saved,
                                   double alpha, bool is_output) {
    Tensor slope = is_output ? gg * g : gg * g * alpha * at::exp(saved);
    return at::where(saved > 0, 0, slope);
  }
};

// ELU in place: the output is saved; with alpha < 0 the derivative needs the
// input, so a copy of it is kept (torch.nn refuses this case instead).
struct EluInplace : Function<EluInplace> {
  static Tensor forward(AutogradContext* ctx, const Tensor& input, double alpha) {
    const bool save_output = math::Elu{alpha}.backward_uses_output();
    Tensor input_copy;
    if (!save_output) {
      at::AutoDispatchBelowADInplaceOrView guard;
      input_copy = input.clone();
    }
    {
      at::AutoDispatchBelowAutograd guard;
      ops::elu_(input, alpha);
    }
    ctx->mark_dirty({input});
    ctx->save_for_backward({save_output ? input : input_copy});
    ctx->saved_data["param"] = alpha;
    ctx->saved_data["save_output"] = save_output;
    return input;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const Tensor saved = ctx->get_saved_variables()[0];
    return {EluRule::backward(grads[0], saved, ctx->saved_data["param"].toDouble(),
                              ctx->saved_data["save_output"].toBool()),
            Tensor()};
  }
};

template <typename Rule>
struct SavedBackward : Function<SavedBackward<Rule>> {
  static Tensor forward(AutogradContext* ctx, const Tensor& grad, const Tensor& saved, double param,
                        bool is_output) {
    at::AutoDispatchBelowADInplaceOrView guard;
    ctx->save_for_backward({grad, saved});
    ctx->saved_data["param"] = param;
    ctx->saved_data["is_output"] = is_output;
    return Rule::backward(grad, saved, param, is_output);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const double param = ctx->saved_data["param"].toDouble();
    const bool is_output = ctx->saved_data["is_output"].toBool();
    const Tensor& gg = grads[0];
    return {Rule::backward(gg, saved[1], param, is_output),
            Rule::backward_wrt_saved(gg, saved[0], saved[1], param, is_output), Tensor(), Tensor()};
  }
};

// --- PReLU: the input and the weight ------------------------------------------

// `t` (weight-shaped) viewed so it broadcasts along dim 1 of `input`.
// Sym sizes throughout: this runs under torch.compile with dynamic shapes.
Tensor along_channels(const Tensor& t, const Tensor& input) {
  if (t.sym_numel() == 1 || input.dim() < 2) return t.reshape({});
  std::vector<c10::SymInt> shape(input.dim(), 1);
  shape[1] = t.sym_numel();
  return t.reshape_symint(shape);
}

// Sums a full-size tensor to the shape of `weight`.
Tensor reduce_to_weight(const Tensor& full, const Tensor& weight) {
  if (weight.sym_numel() == 1 || full.dim() < 2) return full.sum().reshape_symint(weight.sym_sizes());
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < full.dim(); ++d) {
    if (d != 1) dims.push_back(d);
  }
  return full.sum(dims).reshape_symint(weight.sym_sizes());
}

// grad_input = x > 0 ? g : w g;  grad_weight = sum (x > 0 ? 0 : x g).
struct PreluBackward : Function<PreluBackward> {
  static variable_list forward(AutogradContext* ctx, const Tensor& grad, const Tensor& input,
                               const Tensor& weight) {
    at::AutoDispatchBelowADInplaceOrView guard;
    ctx->save_for_backward({grad, input, weight});
    auto [grad_input, grad_weight] = ops::prelu_backward(grad, input, weight);
    return {grad_input, grad_weight};
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const Tensor &g = saved[0], &x = saved[1], &w = saved[2];
    const Tensor& gg_input = grads[0];
    const Tensor gg_weight = along_channels(grads[1], x);
    const Tensor negative = (x > 0).logical_not();  // NaN counts as negative, as in forward
    return {
        at::where(negative, gg_input * along_channels(w, x) + gg_weight * x, gg_input),
        at::where(negative, gg_weight * g, 0),
        reduce_to_weight(at::where(negative, gg_input * g, 0), w),
    };
  }
};

// --- autograd kernels, one per op -----------------------------------------------

struct MaskGrad {
  std::vector<int64_t> order;
  std::optional<double> slope;
  variable_list operator()(const Tensor& grad, const std::vector<Tensor>& saved) const {
    return {mask_backward_op(grad, saved[0], order, slope)};
  }
  auto fields() const { return std::tie(order, slope); }
  auto fields() { return std::tie(order, slope); }
};

Tensor mask_activation(const Tensor& input, std::optional<double> slope) {
  Tensor output, mask;
  {
    at::AutoDispatchBelowADInplaceOrView guard;
    std::tie(output, mask) = slope ? ops::leaky_relu_forward(input, *slope) : ops::relu_forward(input);
  }
  auto node = make_backward_node(slope ? "torch_act::LeakyReluBackward" : "torch_act::ReluBackward",
                                 MaskGrad{dim_order_of(output), slope});
  node->save(mask, /*is_output=*/false);
  return record(node, output, /*save_output=*/false, input);
}

Tensor relu(const Tensor& input) {
  if (!needs_grad(input)) return without_graph([&] { return ops::relu(input); });
  return mask_activation(input, std::nullopt);
}
void relu_(const Tensor& input) {
  if (!needs_grad(input)) {
    at::AutoDispatchBelowAutograd guard;
    return ops::relu_(input);
  }
  mask_activation_inplace(input, std::nullopt);
}
TensorPair relu_forward(const Tensor& input) {
  auto out = MaskActivation::apply(input, std::nullopt);
  return {out[0], out[1]};
}
Tensor relu_forward_(const Tensor& input) { return mask_activation_inplace(input, std::nullopt); }
Tensor relu_backward(const Tensor& grad, const Tensor& mask, at::IntArrayRef order) {
  if (!needs_grad(grad)) return without_graph([&] { return ops::relu_backward(grad, mask, order); });
  return MaskBackward::apply(grad, mask, order.vec(), std::nullopt);
}

Tensor leaky_relu(const Tensor& input, double slope) {
  if (!needs_grad(input)) return without_graph([&] { return ops::leaky_relu(input, slope); });
  return mask_activation(input, slope);
}
void leaky_relu_(const Tensor& input, double slope) {
  if (!needs_grad(input)) {
    at::AutoDispatchBelowAutograd guard;
    return ops::leaky_relu_(input, slope);
  }
  mask_activation_inplace(input, slope);
}
TensorPair leaky_relu_forward(const Tensor& input, double slope) {
  auto out = MaskActivation::apply(input, slope);
  return {out[0], out[1]};
}
Tensor leaky_relu_forward_(const Tensor& input, double slope) {
  return mask_activation_inplace(input, slope);
}
Tensor leaky_relu_backward(const Tensor& grad, const Tensor& mask, at::IntArrayRef order,
                           double slope) {
  if (!needs_grad(grad)) {
    return without_graph([&] { return ops::leaky_relu_backward(grad, mask, order, slope); });
  }
  return MaskBackward::apply(grad, mask, order.vec(), slope);
}

struct PreluGrad {
  variable_list operator()(const Tensor& grad, const std::vector<Tensor>& saved) const {
    auto [grad_input, grad_weight] = ops::prelu_backward(grad, saved[0], saved[1]);
    return {grad_input, grad_weight};
  }
  auto fields() const { return std::tuple<>(); }
  auto fields() { return std::tuple<>(); }
};

Tensor prelu(const Tensor& input, const Tensor& weight) {
  if (!needs_grad(input, weight)) return without_graph([&] { return ops::prelu(input, weight); });
  Tensor output;
  {
    at::AutoDispatchBelowADInplaceOrView guard;
    output = ops::prelu(input, weight);
  }
  auto node = make_backward_node("torch_act::PreluBackward", PreluGrad{});
  node->save(input, /*is_output=*/false);
  node->save(weight, /*is_output=*/false);
  return record(node, output, /*save_output=*/false, input, weight);
}
TensorPair prelu_backward(const Tensor& grad, const Tensor& input, const Tensor& weight) {
  if (!needs_grad(grad, input, weight)) {
    return without_graph([&] { return ops::prelu_backward(grad, input, weight); });
  }
  auto out = PreluBackward::apply(grad, input, weight);
  return {out[0], out[1]};
}

template <typename Rule>
struct SavedGrad {
  double param;
  bool save_output;
  variable_list operator()(const Tensor& grad, const std::vector<Tensor>& saved) const {
    return {Rule::backward(grad, saved[0], param, save_output)};
  }
  auto fields() const { return std::tie(param, save_output); }
  auto fields() { return std::tie(param, save_output); }
};

// ELU (alpha >= 0), Sigmoid, Tanh save the output; ELU with alpha < 0 the input.
template <typename Rule>
Tensor saved_activation(const char* name, const Tensor& input, double param, bool save_output) {
  Tensor output;
  {
    at::AutoDispatchBelowADInplaceOrView guard;
    output = Rule::forward(input, param);
  }
  auto node = make_backward_node(name, SavedGrad<Rule>{param, save_output});
  if (!save_output) node->save(input, /*is_output=*/false);
  return record(node, output, save_output, input);
}

Tensor elu(const Tensor& input, double alpha) {
  if (!needs_grad(input)) return without_graph([&] { return ops::elu(input, alpha); });
  return saved_activation<EluRule>("torch_act::EluBackward", input, alpha,
                                   math::Elu{alpha}.backward_uses_output());
}
void elu_(const Tensor& input, double alpha) {
  if (!needs_grad(input)) {
    at::AutoDispatchBelowAutograd guard;
    return ops::elu_(input, alpha);
  }
  check_inplace(input);
  EluInplace::apply(input, alpha);
}
Tensor elu_backward(const Tensor& grad, const Tensor& saved, double alpha, bool is_output) {
  if (!needs_grad(grad, saved)) {
    return without_graph([&] { return ops::elu_backward(grad, saved, alpha, is_output); });
  }
  return SavedBackward<EluRule>::apply(grad, saved, alpha, is_output);
}

Tensor sigmoid(const Tensor& input) {
  if (!needs_grad(input)) return without_graph([&] { return ops::sigmoid(input); });
  return saved_activation<SigmoidRule>("torch_act::SigmoidBackward", input, 0.0, true);
}
Tensor sigmoid_backward(const Tensor& grad, const Tensor& output) {
  if (!needs_grad(grad, output)) return without_graph([&] { return ops::sigmoid_backward(grad, output); });
  return SavedBackward<SigmoidRule>::apply(grad, output, 0.0, true);
}

Tensor tanh(const Tensor& input) {
  if (!needs_grad(input)) return without_graph([&] { return ops::tanh(input); });
  return saved_activation<TanhRule>("torch_act::TanhBackward", input, 0.0, true);
}
Tensor tanh_backward(const Tensor& grad, const Tensor& output) {
  if (!needs_grad(grad, output)) return without_graph([&] { return ops::tanh_backward(grad, output); });
  return SavedBackward<TanhRule>::apply(grad, output, 0.0, true);
}

// ADInplaceOrView: in-place ops bump the version counter of what they mutate,
// so autograd notices when a tensor it saved has changed.
template <typename Op, typename... Args>
auto bump_after(const Tensor& input, Op op, Args... args) {
  at::AutoDispatchBelowADInplaceOrView guard;
  if constexpr (std::is_void_v<decltype(op(input, args...))>) {
    op(input, args...);
    torch::autograd::increment_version(input);
  } else {
    auto result = op(input, args...);
    torch::autograd::increment_version(input);
    return result;
  }
}

}  // namespace
}  // namespace torch_act::autograd

TORCH_LIBRARY_IMPL(torch_act, Autograd, m) {
  TORCH_ACT_REGISTER_ALL(m, torch_act::autograd);
}

TORCH_LIBRARY_IMPL(torch_act, ADInplaceOrView, m) {
  using namespace torch_act;
  using autograd::bump_after;
  m.impl("relu_", [](const at::Tensor& x) { bump_after(x, ops::relu_); });
  m.impl("leaky_relu_", [](const at::Tensor& x, double s) { bump_after(x, ops::leaky_relu_, s); });
  m.impl("elu_", [](const at::Tensor& x, double a) { bump_after(x, ops::elu_, a); });
  m.impl("relu_forward_", [](const at::Tensor& x) { return bump_after(x, ops::relu_forward_); });
  m.impl("leaky_relu_forward_",
         [](const at::Tensor& x, double s) { return bump_after(x, ops::leaky_relu_forward_, s); });
}
