// The raw-pointer kernels one CPU capability (DEFAULT, AVX2, AVX-512) builds:
// one entry per activation of activation_list.h, typed by its params:: struct,
// with the kernels of its family. The tensor-level CPU ops (register.cpp)
// call them through the table picked for this CPU at run time;
// capability_*.cpp build one table each from kernels.h.
#pragma once

#include "../declarations.h"

#include <c10/core/ScalarType.h>

#include <cstdint>
#include <tuple>

namespace torch_act::cpu {

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
  // Families Output/Input: `saved` is the output where backward_reads_output(act), else the input.
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
};

const KernelTable& default_kernels();
const KernelTable& avx2_kernels();
const KernelTable& avx512_kernels();

// The table of the capability settings.h picked.
const KernelTable& kernels();

// The kernels of activation Act (its params:: struct names the entry).
template <typename Act>
const auto& kernels_of() {
  using P = typename Act::params_type;
  if constexpr (Act::keeps == Keeps::InputAndWeight) {
    return std::get<WeightedKernels<P>>(kernels().weighted);
  } else {
    return std::get<ElementwiseKernels<P>>(kernels().elementwise);
  }
}

}  // namespace torch_act::cpu
