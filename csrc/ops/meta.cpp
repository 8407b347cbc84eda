// The Meta kernels of every op: shapes, strides and dtypes without data,
// which fake tensors, torch.compile and torch.export run. They run the same
// checks as every backend's kernels (op_checks.h) and allocate with the same
// helpers (layout.h), so their outputs' strides are the real kernels'.
#include "../layout.h"
#include "op_checks.h"

namespace torch_act::meta {
namespace {

using at::Tensor;
using TensorPair = std::tuple<Tensor, Tensor>;

template <typename Act, typename... A>
struct MetaKernels {
  using Checks = ops::OpChecks<Act, A...>;

  static Tensor forward(const Tensor& input, A... a) {
    Checks::forward(input, a...);
    return empty_output_like(input);
  }
  static void forward_(const Tensor& input, A... a) { Checks::forward_(input, a...); }
  static TensorPair forward_with_mask(const Tensor& input, A... a) {
    Checks::forward_with_mask(input, a...);
    return {empty_output_like(input), empty_mask_for(input)};
  }
  static Tensor forward_with_mask_(const Tensor& input, A... a) {
    Checks::forward_with_mask_(input, a...);
    return empty_mask_for(input);
  }
  static Tensor mask_backward(const Tensor& grad_output, const Tensor& mask, at::IntArrayRef dim_order, A... a) {
    Checks::mask_backward(grad_output, mask, dim_order, a...);
    return empty_in_dim_order(grad_output, dim_order);
  }
  static Tensor saved_backward(const Tensor& grad_output, const Tensor& saved, A... a) {
    Checks::saved_backward(grad_output, saved, a...);
    return empty_output_like(saved);
  }
  static Tensor weighted_forward(const Tensor& input, const Tensor& weight) {
    Checks::weighted_forward(input, weight);
    return empty_output_like(input);
  }
  static TensorPair weighted_backward(const Tensor& grad_output, const Tensor& input, const Tensor& weight) {
    Checks::weighted_backward(grad_output, input, weight);
    return {empty_output_like(input), at::empty_symint(weight.sym_sizes(), weight.options())};
  }
  static Tensor gated_forward(const Tensor& gate, const Tensor& up, A... a) {
    Checks::gated_forward(gate, up, a...);
    return empty_output_like(gate);
  }
  static TensorPair gated_backward(const Tensor& grad_output, const Tensor& gate, const Tensor& up, A... a) {
    Checks::gated_backward(grad_output, gate, up, a...);
    return {empty_output_like(gate), empty_output_like(gate)};
  }
};

}  // namespace
}  // namespace torch_act::meta

TORCH_LIBRARY_IMPL(torch_act, Meta, m) {
  using namespace torch_act;
  ops::impl_all<ops::ByArgs<meta::MetaKernels>::type>(m);
}
