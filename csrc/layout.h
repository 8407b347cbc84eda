// Memory-layout rules shared by the CPU, CUDA and Meta kernels, so that all
// allocate outputs with the same sizes and strides.
//
// The CPU kernels walk memory linearly: an op's tensors must share one dense
// layout. Outputs follow torch.nn's rule (empty_like with preserve_format:
// the input's strides when it is dense, an ordered dense layout otherwise).
// A bit mask records one bit per element in that memory order; the order of
// dimensions from outermost to innermost ("dim order") tells backward how to
// lay out grad_input to match the bits.
#pragma once

#include "checks.h"

#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>

#include <algorithm>
#include <numeric>
#include <string_view>
#include <vector>

namespace torch_act {

// Bits are stored in 64-bit words; a mask is a uint8 tensor of whole words.
inline c10::SymInt mask_bytes(const c10::SymInt& numel) { return (numel + 63) / 64 * 8; }

inline at::Tensor empty_mask_for(const at::Tensor& input) {
  return at::empty_symint({mask_bytes(input.sym_numel())}, input.options().dtype(at::kByte));
}

inline at::Tensor empty_output_like(const at::Tensor& input) {
  return at::empty_like(input, at::MemoryFormat::Preserve);
}

// Dimensions from largest to smallest stride; permuting a dense tensor by it
// gives a contiguous tensor. Size-1 dims never move in memory, so they go
// first (outermost) and the rest keep their relative order on equal strides.
inline std::vector<int64_t> dim_order_of(const at::Tensor& dense) {
  auto strides = dense.sym_strides();
  auto sizes = dense.sym_sizes();
  std::vector<int64_t> order, moving;
  for (int64_t d = 0; d < dense.dim(); ++d) (sizes[d] == 1 ? order : moving).push_back(d);
  std::stable_sort(moving.begin(), moving.end(),
                   [&](int64_t a, int64_t b) { return strides[a] > strides[b]; });
  order.insert(order.end(), moving.begin(), moving.end());
  return order;
}

inline std::vector<int64_t> identity_dim_order(int64_t ndim) {
  std::vector<int64_t> order(ndim);
  std::iota(order.begin(), order.end(), 0);
  return order;
}

inline void check_dim_order(at::IntArrayRef order, int64_t ndim, OpName op) {
  TORCH_CHECK(static_cast<int64_t>(order.size()) == ndim, "torch_act.", op,
              ": expected 'dim_order' to have one entry per dimension of 'grad_output' (",
              ndim, "), but got ", order.size());
  std::vector<bool> seen(ndim, false);
  for (int64_t d : order) {
    TORCH_CHECK(d >= 0 && d < ndim && !seen[d], "torch_act.", op,
                ": expected 'dim_order' to be a permutation of 0..", ndim - 1, ", but got ", order);
    seen[d] = true;
  }
}

// The memory order of the bits a mask op writes for `input`: its own when it
// is dense; a non-dense input is worked on as a contiguous copy, so row-major.
// Every backend's kernels follow it, and autograd records it for backward.
inline std::vector<int64_t> mask_bit_order(const at::Tensor& input) {
  return input.is_non_overlapping_and_dense() ? dim_order_of(input) : identity_dim_order(input.dim());
}

inline bool is_identity_order(at::IntArrayRef order) {
  for (size_t i = 0; i < order.size(); ++i) {
    if (order[i] != static_cast<int64_t>(i)) return false;
  }
  return true;
}

// A dense tensor of `like`'s sizes whose memory runs in `order`.
inline at::Tensor empty_in_dim_order(const at::Tensor& like, at::IntArrayRef order) {
  auto sizes = like.sym_sizes();
  // The common case, and a permute less per call.
  if (is_identity_order(order)) return at::empty_symint(sizes, like.options());
  std::vector<c10::SymInt> permuted;
  std::vector<int64_t> inverse(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    permuted.push_back(sizes[order[i]]);
    inverse[order[i]] = static_cast<int64_t>(i);
  }
  return at::empty_symint(permuted, like.options()).permute(inverse);
}

}  // namespace torch_act
