// Getting tensors into the one dense layout the flat kernels of every
// backend need: every tensor a kernel reads or writes shares it
// (docs/ARCHITECTURE.md, "Memory layout").
#pragma once

#include "layout.h"

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace torch_act {

// t itself when dense, else a copy in the layout empty_like gives it.
inline at::Tensor dense(const at::Tensor& t) {
  return t.is_non_overlapping_and_dense() ? t : empty_output_like(t).copy_(t);
}

inline bool same_strides(const at::Tensor& a, const at::Tensor& b) {
  for (int64_t d = 0; d < a.dim(); ++d) {
    if (a.size(d) != 1 && a.stride(d) != b.stride(d)) return false;
  }
  return true;
}

// t's values laid out as `ref` (dense), copying only when they differ.
inline at::Tensor in_layout_of(const at::Tensor& t, const at::Tensor& ref) {
  if (t.is_non_overlapping_and_dense() && same_strides(t, ref)) return t;
  return at::empty_like(ref).copy_(t);
}

// Runs fill(dense_view) on the input itself when it is dense, else on a
// contiguous copy written back afterwards (so a mask's bits follow
// mask_bit_order(input)). The caller has checked that input does not overlap
// itself.
template <typename Fill>
void write_inplace(const at::Tensor& input, const Fill& fill) {
  if (input.is_non_overlapping_and_dense()) {
    fill(input);
  } else {
    at::Tensor work = input.contiguous();
    fill(work);
    input.copy_(work);
  }
}

inline uint64_t* mask_words(const at::Tensor& mask) { return static_cast<uint64_t*>(mask.data_ptr()); }
inline const uint64_t* mask_words_const(const at::Tensor& mask) {
  return static_cast<const uint64_t*>(mask.const_data_ptr());
}

// Words are read as uint64_t: a mask view at an odd offset is copied.
inline at::Tensor aligned_mask(const at::Tensor& mask) {
  at::Tensor m = mask.contiguous();
  if (reinterpret_cast<uintptr_t>(m.const_data_ptr()) % alignof(uint64_t) != 0) m = m.clone();
  return m;
}

}  // namespace torch_act
