// vmap batch rules of every op, per family: under torch.func.vmap each op runs
// once on the physical tensor holding the whole batch, never through
// functorch's per-sample fallback.
//
// Elementwise ops need nothing but the physical tensor. Two families need
// their batch dimension placed:
//  * Mask: a mask's bits follow one sample's dense order (layout.h), so a
//    batched mask is one row of whole 64-bit words per sample. The rules lay
//    the batch out as [B, n] rows, padded to a multiple of 64 elements when n
//    is not one, so that the kernels' own bit order gives exactly those rows.
//  * InputAndWeight: channels are dim 1 of each sample, and a batched weight
//    (model ensembles) or a per-sample weight gradient needs the batch folded
//    into the channels: [N, B*C, ...] with a weight of B*C slopes.
// The gated family's two inputs go batch first, an unbatched one expanded.
#pragma once

#include "../layout.h"
#include "../ops/calls.h"

#include <ATen/functorch/BatchedTensorImpl.h>
#include <ATen/ops/constant_pad_nd.h>
#include <ATen/ops/stack.h>
#include <c10/core/impl/LocalDispatchKeySet.h>

#include <optional>
#include <tuple>
#include <vector>

namespace torch_act::vmap {

using at::Tensor;
using BatchDim = std::optional<int64_t>;

// The vmap level a batch rule works at: the highest level any argument is
// batched at. (functorch's DynamicLayer, which names the level directly,
// needs a header the torch wheels do not ship.) When a rule runs, the
// arguments' outermost wrappers are at the current vmap level or below; an
// op none of whose arguments is batched at the current level passes through
// that level unchanged, so working at the highest one present is the same.
// FuncTorchBatched is excluded meanwhile, so that the ops called reach the
// kernels.
struct Level {
  c10::impl::ExcludeDispatchKeyGuard guard{c10::DispatchKey::FuncTorchBatched};
  int64_t id = -1;
  int64_t batch_size = 0;

  template <typename... Ts>
  explicit Level(const Ts&... args) {
    (consider(args), ...);
    TORCH_INTERNAL_ASSERT(id >= 0, "torch_act: a batch rule ran with no batched argument");
  }
  void consider(const Tensor& t) {
    const auto* batched = at::functorch::maybeGetBatchedImpl(t);
    if (batched && batched->level() > id) {
      id = batched->level();
      batch_size = batched->value().size(batched->bdim());
    }
  }
  bool batched(const Tensor& t) const {
    const auto* batched = at::functorch::maybeGetBatchedImpl(t);
    return batched && batched->level() == id;
  }
  std::tuple<Tensor, BatchDim> unwrap(const Tensor& t) const {
    if (!batched(t)) return {t, std::nullopt};
    const auto* impl = at::functorch::maybeGetBatchedImpl(t);
    return {impl->value(), impl->bdim()};
  }
  Tensor wrap(const Tensor& t, int64_t dim) const { return at::functorch::makeBatched(t, dim, id); }
  // The physical tensor with its batch dim first; an unbatched one expanded.
  Tensor batch_first(const Tensor& t) const {
    auto [value, dim] = unwrap(t);
    if (dim.has_value()) return value.movedim(*dim, 0);
    std::vector<int64_t> sizes{batch_size};
    sizes.insert(sizes.end(), value.sizes().begin(), value.sizes().end());
    return value.unsqueeze(0).expand(sizes);
  }
};

// One sample of a batch-first tensor, as a view (sizes and strides without dim 0).
inline Tensor sample_of(const Tensor& batch_first) {
  return batch_first.as_strided(batch_first.sizes().slice(1), batch_first.strides().slice(1),
                                batch_first.storage_offset());
}

// --- family Mask: rows of bits ---

// A batch-first tensor as contiguous rows [B, n_padded], each sample's
// elements in `order` (a permutation of its dims) and zero-padded to whole
// 64-bit mask words. `unrows` undoes it.
struct Rows {
  std::vector<int64_t> permutation, permuted_sizes;
  int64_t batch, n, padded;

  Rows(const Tensor& batch_first, at::IntArrayRef order) : batch(batch_first.size(0)) {
    permutation.push_back(0);
    permuted_sizes.push_back(batch);
    n = 1;
    for (int64_t d : order) {
      permutation.push_back(d + 1);
      permuted_sizes.push_back(batch_first.size(d + 1));
      n *= batch_first.size(d + 1);
    }
    padded = (n + 63) / 64 * 64;
  }
  Tensor rows(const Tensor& batch_first) const {
    const Tensor flat = batch_first.permute(permutation).reshape({batch, n});
    return padded == n ? flat.contiguous() : at::constant_pad_nd(flat, {0, padded - n}, 0);
  }
  Tensor unrows(const Tensor& rows) const {
    std::vector<int64_t> inverse(permutation.size());
    for (size_t i = 0; i < permutation.size(); ++i) inverse[permutation[i]] = static_cast<int64_t>(i);
    return rows.narrow(1, 0, n).view(permuted_sizes).permute(inverse);
  }
  // The masks of all rows, one row of words per sample: [B, mask bytes of n].
  Tensor mask_rows(const Tensor& mask) const { return mask.view({batch, padded / 8}); }
};

// --- family InputAndWeight: the batch folded into the channels ---

struct Folded {
  bool per_channel;           // the weight holds one slope per channel (else one)
  std::vector<int64_t> sizes;  // batch-first sizes of the input
  std::vector<int64_t> weight_sizes;  // one sample's weight sizes

  Folded(const Tensor& input_batch_first, const Tensor& weight_batch_first)
      : sizes(input_batch_first.sizes().vec()), weight_sizes(weight_batch_first.sizes().slice(1).vec()) {
    per_channel = c10::multiply_integers(weight_sizes) != 1;
  }
  int64_t batch() const { return sizes[0]; }
  // [N, B*C, rest...] for one slope per channel, [1, B, n] for one per sample.
  Tensor fold(const Tensor& input_batch_first) const {
    if (!per_channel) return input_batch_first.reshape({1, batch(), c10::multiply_integers(sizes.begin() + 1, sizes.end())});
    std::vector<int64_t> folded{sizes[1], batch() * sizes[2]};
    folded.insert(folded.end(), sizes.begin() + 3, sizes.end());
    return input_batch_first.movedim(0, 1).reshape(folded);
  }
  Tensor unfold(const Tensor& folded) const {
    if (!per_channel) return folded.reshape(sizes);
    std::vector<int64_t> split{sizes[1], batch(), sizes[2]};
    split.insert(split.end(), sizes.begin() + 3, sizes.end());
    return folded.reshape(split).movedim(1, 0);
  }
  static Tensor fold_weight(const Tensor& weight_batch_first) { return weight_batch_first.reshape({-1}); }
  Tensor unfold_weight(const Tensor& folded) const {
    std::vector<int64_t> split{batch()};
    split.insert(split.end(), weight_sizes.begin(), weight_sizes.end());
    return folded.reshape(split);
  }
};

template <typename Act, typename... A>
struct BatchRules {
  using Calls = ops::Calls<Act>;
  using P = typename Act::params_type;
  using TensorPair = std::tuple<Tensor, Tensor>;

  static Tensor forward(const Tensor& input, A... a) {
    const P p = make_params<P>(a...);
    const Level level(input);
    if constexpr (act::kSlopePerElement<Act>) {
      // In the rows forward_with_mask uses: RReLU's slopes follow each
      // element's index, and a call must draw the same ones with grad or without.
      const Tensor x = level.batch_first(input);
      const Rows rows(x, mask_bit_order(sample_of(x)));
      return level.wrap(rows.unrows(Calls::forward(rows.rows(x), p)), 0);
    }
    auto [value, dim] = level.unwrap(input);
    return level.wrap(Calls::forward(value, p), *dim);
  }

  static void forward_(const Tensor& input, A... a) {
    const P p = make_params<P>(a...);
    const Level level(input);
    if constexpr (act::kSlopePerElement<Act>) {
      const Tensor x = level.batch_first(input);
      const Rows rows(x, mask_bit_order(sample_of(x)));
      x.copy_(rows.unrows(Calls::forward(rows.rows(x), p)));
      return;
    }
    Calls::forward_(std::get<0>(level.unwrap(input)), p);
  }

  static TensorPair forward_with_mask(const Tensor& input, A... a) {
    const P p = make_params<P>(a...);
    const Level level(input);
    const Tensor x = level.batch_first(input);
    const Rows rows(x, mask_bit_order(sample_of(x)));
    auto [output, mask] = Calls::forward_with_mask(rows.rows(x), p);
    return {level.wrap(rows.unrows(output), 0), level.wrap(rows.mask_rows(mask), 0)};
  }

  static Tensor forward_with_mask_(const Tensor& input, A... a) {
    const P p = make_params<P>(a...);
    const Level level(input);
    const Tensor x = level.batch_first(input);
    const Rows rows(x, mask_bit_order(sample_of(x)));
    const Tensor x_rows = x.permute(rows.permutation);
    if (rows.padded == rows.n && x_rows.is_contiguous()) {
      // Already whole rows in place: the in-place kernel writes them directly.
      return level.wrap(rows.mask_rows(Calls::forward_with_mask_(x_rows.view({rows.batch, rows.n}), p)), 0);
    }
    auto [output, mask] = Calls::forward_with_mask(rows.rows(x), p);
    x.copy_(rows.unrows(output));
    return level.wrap(rows.mask_rows(mask), 0);
  }

  static Tensor mask_backward(const Tensor& grad, const Tensor& mask, at::IntArrayRef order, A... a) {
    const P p = make_params<P>(a...);
    const Level level(grad, mask);
    const Tensor g = level.batch_first(grad), m = level.batch_first(mask);
    check_dim_order(order, g.dim() - 1, OpName{Act::name, "_backward"});
    const Rows rows(g, order);
    TORCH_CHECK(m.size(1) * 8 == rows.padded, "torch_act.", Act::name,
                "_backward: expected each sample's 'mask' to hold ", rows.padded / 8,
                " bytes, but got ", m.size(1));
    if constexpr (act::kSlopePerElement<Act>) {
      // RReLU's slopes follow each element's place in the forward's memory
      // order. A mask made outside this vmap level (jacrev's and jacfwd's
      // batches of grads or tangents) came from one sample, so every sample
      // takes the bits' own indices: one call per sample, not rows.
      if (!level.batched(mask)) {
        std::vector<Tensor> samples;
        for (int64_t b = 0; b < rows.batch; ++b) samples.push_back(Calls::mask_backward(g[b], mask, order, p));
        return level.wrap(at::stack(samples), 0);
      }
    }
    const Tensor grad_input = Calls::mask_backward(rows.rows(g), m.contiguous().view({-1}), {0, 1}, p);
    return level.wrap(rows.unrows(grad_input), 0);
  }

  static Tensor saved_backward(const Tensor& grad, const Tensor& saved, A... a) {
    const P p = make_params<P>(a...);
    const Level level(grad, saved);
    return level.wrap(Calls::saved_backward(level.batch_first(grad), level.batch_first(saved), p), 0);
  }

  static Tensor weighted_forward(const Tensor& input, const Tensor& weight) {
    const Level level(input, weight);
    const Tensor x = level.batch_first(input), w = level.batch_first(weight);
    check_weighted_args(sample_of(x), sample_of(w), OpName{Act::name});
    const Folded folded(x, w);
    return level.wrap(folded.unfold(Calls::weighted_forward(folded.fold(x), Folded::fold_weight(w))), 0);
  }

  static TensorPair weighted_backward(const Tensor& grad, const Tensor& input, const Tensor& weight) {
    const Level level(grad, input, weight);
    const Tensor g = level.batch_first(grad), x = level.batch_first(input), w = level.batch_first(weight);
    check_weighted_args(sample_of(x), sample_of(w), OpName{Act::name, "_backward"});
    const Folded folded(x, w);
    auto [grad_input, grad_weight] =
        Calls::weighted_backward(folded.fold(g), folded.fold(x), Folded::fold_weight(w));
    return {level.wrap(folded.unfold(grad_input), 0), level.wrap(folded.unfold_weight(grad_weight), 0)};
  }

  // The gated family is elementwise over tensors of one shape: batch first,
  // an unbatched argument expanded to the batch.
  static Tensor gated_forward(const Tensor& gate, const Tensor& up, A... a) {
    const P p = make_params<P>(a...);
    const Level level(gate, up);
    return level.wrap(Calls::gated_forward(level.batch_first(gate), level.batch_first(up), p), 0);
  }

  static TensorPair gated_backward(const Tensor& grad, const Tensor& gate, const Tensor& up, A... a) {
    const P p = make_params<P>(a...);
    const Level level(grad, gate, up);
    auto [grad_gate, grad_up] =
        Calls::gated_backward(level.batch_first(grad), level.batch_first(gate), level.batch_first(up), p);
    return {level.wrap(grad_gate, 0), level.wrap(grad_up, 0)};
  }
};

}  // namespace torch_act::vmap
