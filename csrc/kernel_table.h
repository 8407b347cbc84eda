// The raw-pointer kernels a backend provides: one entry per activation of
// activation_list.h, typed by its params:: struct, with the kernels of its
// family. The tensor-level ops (ops/tensor_kernels.h) call them through the
// table of the tensor's backend: the CPU builds one table per capability
// (cpu/kernels.h), CUDA one (cuda/kernels.cu).
#pragma once

#include "declarations.h"

#include <c10/core/ScalarType.h>

#include <cstdint>
#include <tuple>

namespace torch_act {

// A dense tensor's memory seen as [outer, channels, inner]: the channel of
// offset i is (i / inner) % channels in any dense layout (contiguous,
// channels_last, permuted) because inner = stride(1).
struct ChannelView {
  int64_t outer, channels, inner;
};

// Every pointer addresses n dense elements of `dtype`; masks are 64-bit words,
// bit i % 64 of word i / 64 for element i.
template <typename Params>
struct ElementwiseKernels {
  void (*forward)(const Params& p, c10::ScalarType dtype, const void* x, void* y, int64_t n);
  // Family Mask: also packs the mask bits (before y overwrites x when they alias).
  void (*forward_with_mask)(const Params& p, c10::ScalarType dtype, const void* x, void* y,
                            uint64_t* mask, int64_t n);
  void (*mask_backward)(const Params& p, c10::ScalarType dtype, const void* grad, const uint64_t* mask,
                        void* grad_input, int64_t n);
  // Families Output/Input/OutputOrInput: `saved` is the output where
  // backward_reads_output(act) (activations.h), else the input.
  void (*saved_backward)(const Params& p, c10::ScalarType dtype, const void* grad, const void* saved,
                         void* grad_input, int64_t n);
};

template <typename Params>
struct WeightedKernels {
  void (*forward)(const Params& p, c10::ScalarType dtype, ChannelView view, const void* x,
                  const void* weight, void* y);
  // Writes grad_input and, per chunk of `chunk` elements, the weight gradient
  // sums into partial[chunk index * channels + c] (zeroed by the caller).
  void (*backward)(const Params& p, c10::ScalarType dtype, ChannelView view, const void* grad,
                   const void* x, const void* weight, void* grad_input, double* partial, int64_t chunk);
};

// The gated family: y = act(gate) * up; backward writes both gradients in one pass.
template <typename Params>
struct GatedKernels {
  void (*forward)(const Params& p, c10::ScalarType dtype, const void* gate, const void* up, void* y, int64_t n);
  void (*backward)(const Params& p, c10::ScalarType dtype, const void* grad, const void* gate, const void* up,
                   void* grad_gate, void* grad_up, int64_t n);
};

template <template <typename> class Kernels, typename L>
struct TupleOf;
template <template <typename> class Kernels, typename... Params>
struct TupleOf<Kernels, List<Params...>> {
  using type = std::tuple<Kernels<Params>...>;
};

struct KernelTable {
  const char* capability;
  typename TupleOf<ElementwiseKernels, params::Elementwise>::type elementwise;
  typename TupleOf<WeightedKernels, params::Weighted>::type weighted;
  typename TupleOf<GatedKernels, params::Gated>::type gated;
};

// Defines `struct Entries` (for make_kernel_table) in a backend's namespace,
// from its family kernels there: forward<Act>, forward_with_mask<Act>,
// mask_backward<Act>, saved_backward<Act>, weighted_forward<Act>,
// weighted_backward<Act>, gated_forward<Act>, gated_backward<Act>. A macro, because only there do those names resolve;
// each activation gets the kernels of its family only.
#define TORCH_ACT_KERNEL_ENTRIES                                                               \
  struct Entries {                                                                             \
    template <typename Act>                                                                    \
    static constexpr ElementwiseKernels<typename Act::params_type> elementwise() {             \
      if constexpr (Act::family == Family::Mask) {                                               \
        return {forward<Act>, forward_with_mask<Act>, mask_backward<Act>, nullptr};            \
      } else {                                                                                 \
        return {forward<Act>, nullptr, nullptr, saved_backward<Act>};                          \
      }                                                                                        \
    }                                                                                          \
    template <typename Act>                                                                    \
    static constexpr WeightedKernels<typename Act::params_type> weighted() {                   \
      return {weighted_forward<Act>, weighted_backward<Act>};                                  \
    }                                                                                          \
    template <typename Act>                                                                    \
    static constexpr GatedKernels<typename Act::params_type> gated() {                         \
      return {gated_forward<Act>, gated_backward<Act>};                                        \
    }                                                                                          \
  };

// A backend's table: Entries::elementwise<Act>(), ::weighted<Act>() and
// ::gated<Act>() give one activation's kernels (those of its family), for
// every activation of act::Elementwise, act::Weighted and act::Gated.
template <typename Entries, typename... E, typename... W, typename... G>
constexpr KernelTable make_kernel_table(const char* name, List<E...>, List<W...>, List<G...>) {
  return {name, std::tuple{Entries::template elementwise<E>()...}, std::tuple{Entries::template weighted<W>()...},
          std::tuple{Entries::template gated<G>()...}};
}

// The kernels of activation Act (its params:: struct names the entry).
template <typename Act>
const auto& kernels_of(const KernelTable& table) {
  using P = typename Act::params_type;
  if constexpr (Act::family == Family::InputAndWeight) {
    return std::get<WeightedKernels<P>>(table.weighted);
  } else if constexpr (Act::family == Family::GateAndUp) {
    return std::get<GatedKernels<P>>(table.gated);
  } else {
    return std::get<ElementwiseKernels<P>>(table.elementwise);
  }
}

}  // namespace torch_act
