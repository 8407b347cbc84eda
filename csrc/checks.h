// Argument checks shared by the CPU and Meta kernels. Every message names the
// op and the argument and says what was expected; all run before any memory
// is written, so a rejected call leaves the caller's tensors unchanged.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/SymNodeImpl.h>
#include <c10/util/Exception.h>

#include <string>
#include <string_view>

namespace torch_act {

// Numbers go into messages as strings made here, never streamed into c10::str:
// on one torch 2.11 machine (GCC 13 build) streaming an integer or a SymInt
// from this library crashed inside the stream; std::to_string does not use it.
inline std::string int_list_str(c10::IntArrayRef values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + std::to_string(values[i]);
  return out + "]";
}

inline std::string sym_str(const c10::SymInt& s) {
  if (auto v = s.maybe_as_int()) return std::to_string(*v);
  return s.toSymNodeImplUnowned()->str();
}

inline std::string sym_str(c10::SymIntArrayRef sizes) {
  std::string out = "[";
  for (size_t i = 0; i < sizes.size(); ++i) out += (i ? ", " : "") + sym_str(sizes[i]);
  return out + "]";
}

inline bool is_supported_float(at::ScalarType t) {
  return t == at::kFloat || t == at::kDouble || t == at::kBFloat16 || t == at::kHalf;
}

inline void check_floating(const at::Tensor& t, std::string_view op, std::string_view arg) {
  TORCH_CHECK(t.defined(), "torch_act.", op, ": expected '", arg, "' to be a tensor, but got None");
  TORCH_CHECK(is_supported_float(t.scalar_type()), "torch_act.", op, ": expected '", arg,
              "' to be a floating-point tensor (float32, float64, bfloat16 or float16), but got ",
              t.scalar_type());
}

inline void check_like(const at::Tensor& t, const at::Tensor& ref, std::string_view op,
                       std::string_view arg, std::string_view ref_arg) {
  check_floating(t, op, arg);
  TORCH_CHECK(t.scalar_type() == ref.scalar_type(), "torch_act.", op, ": expected '", arg,
              "' to have the dtype of '", ref_arg, "' (", ref.scalar_type(), "), but got ",
              t.scalar_type());
  TORCH_CHECK(t.device() == ref.device(), "torch_act.", op, ": expected '", arg,
              "' on the device of '", ref_arg, "' (", ref.device(), "), but got ", t.device());
  TORCH_CHECK(t.sym_sizes() == ref.sym_sizes(), "torch_act.", op, ": expected '", arg,
              "' to have the shape of '", ref_arg, "' ", sym_str(ref.sym_sizes()), ", but got ",
              sym_str(t.sym_sizes()));
}

inline void check_mask(const at::Tensor& mask, const at::Tensor& grad_output, std::string_view op) {
  TORCH_CHECK(mask.scalar_type() == at::kByte && mask.dim() == 1,
              "torch_act.", op, ": expected 'mask' to be a 1-d uint8 tensor made by the forward op, but got ",
              mask.scalar_type(), " of shape ", sym_str(mask.sym_sizes()));
  TORCH_CHECK(mask.sym_numel() == (grad_output.sym_numel() + 63) / 64 * 8, "torch_act.", op,
              ": 'mask' holds ", sym_str(mask.sym_numel()), " bytes, which does not fit 'grad_output' of ",
              sym_str(grad_output.sym_numel()), " elements");
  TORCH_CHECK(mask.device() == grad_output.device(), "torch_act.", op,
              ": expected 'mask' on the device of 'grad_output' (", grad_output.device(),
              "), but got ", mask.device());
}

// PReLU's weight: as torch.nn.functional.prelu, a 0-d or 1-d tensor holding
// either one slope or one per channel, channels being dim 1 of the input.
inline void check_prelu_args(const at::Tensor& input, const at::Tensor& weight, std::string_view op) {
  check_floating(input, op, "input");
  check_floating(weight, op, "weight");
  TORCH_CHECK(weight.scalar_type() == input.scalar_type(), "torch_act.", op,
              ": expected 'weight' to have the dtype of 'input' (", input.scalar_type(), "), but got ",
              weight.scalar_type());
  TORCH_CHECK(weight.device() == input.device(), "torch_act.", op,
              ": expected 'weight' on the device of 'input' (", input.device(), "), but got ",
              weight.device());
  TORCH_CHECK(weight.dim() <= 1, "torch_act.", op,
              ": expected 'weight' to be a 0-d or 1-d tensor, but got a tensor with ", std::to_string(weight.dim()),
              " dimensions");
  const c10::SymInt channels = input.dim() >= 2 ? input.sym_size(1) : c10::SymInt(1);
  TORCH_CHECK(weight.sym_numel() == 1 || weight.sym_numel() == channels, "torch_act.", op,
              ": expected 'weight' to hold 1 element or one per channel of 'input' (dim 1, size ",
              sym_str(channels), "), but got ", sym_str(weight.sym_numel()), " elements");
}

}  // namespace torch_act
