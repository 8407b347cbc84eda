// The Meta kernels of every op: shapes, strides and dtypes without data,
// which fake tensors, torch.compile and torch.export run. They check their
// arguments and allocate exactly as the CPU kernels do (checks.h, layout.h).
#include "../checks.h"
#include "../layout.h"
#include "op_set.h"

namespace torch_act::meta {
namespace {

using at::Tensor;
using TensorPair = std::tuple<Tensor, Tensor>;

template <typename Act, typename... A>
struct Kernels {
  static constexpr std::string_view name = Act::name;

  static Tensor forward(const Tensor& input, A... a) {
    checked_params<Act>({name}, input, "input", a...);
    return empty_output_like(input);
  }
  static void forward_(const Tensor& input, A... a) {
    checked_params<Act>({name, "_"}, input, "input", a...);
    check_no_self_overlap(input, {name, "_"});
  }
  static TensorPair forward_with_mask(const Tensor& input, A... a) {
    checked_params<Act>({name, "_forward"}, input, "input", a...);
    return {empty_output_like(input), empty_mask_for(input)};
  }
  static Tensor forward_with_mask_(const Tensor& input, A... a) {
    checked_params<Act>({name, "_forward_"}, input, "input", a...);
    check_no_self_overlap(input, {name, "_forward_"});
    return empty_mask_for(input);
  }
  static Tensor mask_backward(const Tensor& grad_output, const Tensor& mask, at::IntArrayRef dim_order, A... a) {
    const OpName op{name, "_backward"};
    checked_params<Act>(op, grad_output, "grad_output", a...);
    check_mask(mask, grad_output, op);
    check_dim_order(dim_order, grad_output.dim(), op);
    return empty_in_dim_order(grad_output, dim_order);
  }
  static Tensor saved_backward(const Tensor& grad_output, const Tensor& saved, A... a) {
    const OpName op{name, "_backward"};
    checked_params<Act>(op, saved, ops::saved_arg<Act>(), a...);
    check_like(grad_output, saved, op, "grad_output", ops::saved_arg<Act>());
    return empty_output_like(saved);
  }
  static Tensor weighted_forward(const Tensor& input, const Tensor& weight) {
    check_weighted_args(input, weight, {name});
    return empty_output_like(input);
  }
  static TensorPair weighted_backward(const Tensor& grad_output, const Tensor& input, const Tensor& weight) {
    const OpName op{name, "_backward"};
    check_weighted_args(input, weight, op);
    check_like(grad_output, input, op, "grad_output", "input");
    return {empty_output_like(input), at::empty_symint(weight.sym_sizes(), weight.options())};
  }
  static Tensor gated_forward(const Tensor& gate, const Tensor& up, A... a) {
    checked_params<Act>({name}, gate, "gate", a...);
    check_like(up, gate, {name}, "up", "gate");
    return empty_output_like(gate);
  }
  static TensorPair gated_backward(const Tensor& grad_output, const Tensor& gate, const Tensor& up, A... a) {
    const OpName op{name, "_backward"};
    checked_params<Act>(op, gate, "gate", a...);
    check_like(up, gate, op, "up", "gate");
    check_like(grad_output, gate, op, "grad_output", "gate");
    return {empty_output_like(gate), empty_output_like(gate)};
  }
};

}  // namespace
}  // namespace torch_act::meta

TORCH_LIBRARY_IMPL(torch_act, Meta, m) {
  using namespace torch_act;
  ops::impl_all<ops::ByArgs<meta::Kernels>::type>(m);
}
