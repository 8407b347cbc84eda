// Argument checks shared by the CPU, CUDA and Meta kernels. Every message names the
// op and the argument and says what was expected; all run before any memory
// is written, so a rejected call leaves the caller's tensors unchanged.
#pragma once

#include "declarations.h"

#include <ATen/MemoryOverlap.h>
#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <numeric>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace torch_act {

// An op's name in messages, "elu" + "_backward", without building a string per call.
struct OpName {
  std::string_view name;
  std::string_view suffix = "";
};

inline std::ostream& operator<<(std::ostream& os, const OpName& op) { return os << op.name << op.suffix; }

inline bool is_supported_float(at::ScalarType t) {
  return t == at::kFloat || t == at::kDouble || t == at::kBFloat16 || t == at::kHalf;
}

inline void check_floating(const at::Tensor& t, OpName op, std::string_view arg) {
  TORCH_CHECK(t.defined(), "torch_act.", op, ": expected '", arg, "' to be a tensor, but got None");
  TORCH_CHECK(is_supported_float(t.scalar_type()), "torch_act.", op, ": expected '", arg,
              "' to be a floating-point tensor (float32, float64, bfloat16 or float16), but got ",
              t.scalar_type());
}

inline void check_like(const at::Tensor& t, const at::Tensor& ref, OpName op,
                       std::string_view arg, std::string_view ref_arg) {
  check_floating(t, op, arg);
  TORCH_CHECK(t.scalar_type() == ref.scalar_type(), "torch_act.", op, ": expected '", arg,
              "' to have the dtype of '", ref_arg, "' (", ref.scalar_type(), "), but got ",
              t.scalar_type());
  TORCH_CHECK(t.device() == ref.device(), "torch_act.", op, ": expected '", arg,
              "' on the device of '", ref_arg, "' (", ref.device(), "), but got ", t.device());
  TORCH_CHECK(t.sym_sizes() == ref.sym_sizes(), "torch_act.", op, ": expected '", arg,
              "' to have the shape of '", ref_arg, "' ", ref.sym_sizes(), ", but got ",
              t.sym_sizes());
}

inline void check_mask(const at::Tensor& mask, const at::Tensor& grad_output, OpName op) {
  TORCH_CHECK(mask.scalar_type() == at::kByte && mask.dim() == 1,
              "torch_act.", op, ": expected 'mask' to be a 1-d uint8 tensor made by the forward op, but got ",
              mask.scalar_type(), " of shape ", mask.sym_sizes());
  TORCH_CHECK(mask.sym_numel() == (grad_output.sym_numel() + 63) / 64 * 8, "torch_act.", op,
              ": 'mask' holds ", mask.sym_numel(), " bytes, which does not fit 'grad_output' of ",
              grad_output.sym_numel(), " elements");
  TORCH_CHECK(mask.device() == grad_output.device(), "torch_act.", op,
              ": expected 'mask' on the device of 'grad_output' (", grad_output.device(),
              "), but got ", mask.device());
}

// The weighted family (PReLU): as torch.nn.functional.prelu, a 0-d or 1-d tensor holding
// either one slope or one per channel, channels being dim 1 of the input.
inline void check_weighted_args(const at::Tensor& input, const at::Tensor& weight, OpName op) {
  check_floating(input, op, "input");
  check_floating(weight, op, "weight");
  TORCH_CHECK(weight.scalar_type() == input.scalar_type(), "torch_act.", op,
              ": expected 'weight' to have the dtype of 'input' (", input.scalar_type(), "), but got ",
              weight.scalar_type());
  TORCH_CHECK(weight.device() == input.device(), "torch_act.", op,
              ": expected 'weight' on the device of 'input' (", input.device(), "), but got ",
              weight.device());
  TORCH_CHECK(weight.dim() <= 1, "torch_act.", op,
              ": expected 'weight' to be a 0-d or 1-d tensor, but got a tensor with ", weight.dim(),
              " dimensions");
  const c10::SymInt channels = input.dim() >= 2 ? input.sym_size(1) : c10::SymInt(1);
  TORCH_CHECK(weight.sym_numel() == 1 || weight.sym_numel() == channels, "torch_act.", op,
              ": expected 'weight' to hold 1 element or one per channel of 'input' (dim 1, size ",
              channels, "), but got ", weight.sym_numel(), " elements");
}

}  // namespace torch_act

namespace torch_act {

// Act's hyper-parameters from an op's arguments, once `t`, the op's tensor
// argument named `arg`, is a tensor of a supported dtype; values the
// activation refuses (its math struct's invalid_params() or
// invalid_params(dtype) says why: GELU's approximate, Softshrink's lambd for
// t's dtype) are an error. Every backend and Meta check them first, in this order.
template <typename Act, typename... A>
typename Act::params_type checked_params(OpName op, const at::Tensor& t, std::string_view arg, const A&... args) {
  check_floating(t, op, arg);
  const auto p = make_params<typename Act::params_type>(args...);
  std::string why;
  if constexpr (requires(const Act& act) { act.invalid_params(); }) why = Act{p}.invalid_params();
  if constexpr (requires(const Act& act) { act.invalid_params(at::kFloat); }) {
    why = Act{p}.invalid_params(t.scalar_type());
  }
  TORCH_CHECK(why.empty(), "torch_act.", op, ": ", why);
  return p;
}

// Whether two elements of t share a memory location (an expand()ed or
// as_strided view). Strides that each step past all the memory the smaller
// strides reach (every slice or permutation of a dense tensor) cannot
// overlap; anything else is settled by enumerating the offsets, which needs
// concrete sizes: with symbolic ones (torch.compile) the real kernel decides.
inline bool overlaps_itself(const at::Tensor& t) {
  if (t.unsafeGetTensorImpl()->has_symbolic_sizes_strides()) return false;
  if (at::has_internal_overlap(t) != at::MemOverlap::TooHard) {
    return at::has_internal_overlap(t) == at::MemOverlap::Yes;
  }
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (t.size(d) > 1) dims.push_back(d);
  }
  std::sort(dims.begin(), dims.end(), [&](int64_t a, int64_t b) { return t.stride(a) < t.stride(b); });
  int64_t reach = 0;  // the largest offset the dims so far reach
  bool separated = true;
  for (int64_t d : dims) {
    separated = separated && t.stride(d) > reach;
    reach += (t.size(d) - 1) * t.stride(d);
  }
  if (separated) return false;
  std::vector<int64_t> offsets{0};
  for (int64_t d : dims) {
    std::vector<int64_t> next;
    next.reserve(offsets.size() * t.size(d));
    for (int64_t i = 0; i < t.size(d); ++i) {
      for (int64_t o : offsets) next.push_back(o + i * t.stride(d));
    }
    offsets = std::move(next);
  }
  std::sort(offsets.begin(), offsets.end());
  return std::adjacent_find(offsets.begin(), offsets.end()) != offsets.end();
}

// In-place ops write every element once: memory shared by two elements would
// be written twice with different values (torch.nn refuses it too).
inline void check_no_self_overlap(const at::Tensor& input, OpName op) {
  TORCH_CHECK(!overlaps_itself(input), "torch_act.", op,
              ": expected 'input' to have one memory location per element, but several of its elements "
              "share one (an expand()ed or as_strided view); clone() it before an in-place op");
}

}  // namespace torch_act
