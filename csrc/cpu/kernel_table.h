// The raw-pointer kernels one CPU capability (DEFAULT, AVX2, AVX-512)
// provides. kernels.cpp (tensors, layouts, checks) calls them through the
// table picked for this CPU at run time; capability_*.cpp build one table each
// from kernels_impl.h.
#pragma once

#include <c10/core/ScalarType.h>

#include <cstdint>

namespace torch_act::cpu {

// Below this many elements work stays on one thread (ATen's GRAIN_SIZE); also
// the smallest chunk of PReLU's alpha reduction.
constexpr int64_t kGrainSize = 32768;

// Loops touching at least this many bytes write with streaming stores
// (loops.h): TORCH_ACT_STREAMING_BYTES if set, else 32 MiB, about one
// last-level cache on the machines this was tuned on.
int64_t streaming_threshold_bytes();

// Whether the first and last pages of [p, p + bytes) are in memory. A fresh
// large allocation (glibc mmaps anything over 32 MiB) is not: each page is
// zero-filled on first touch and then sits in cache, where plain stores are
// cheaper than streaming ones.
bool pages_resident(const void* p, int64_t bytes);

// Which activation a kernel applies; `param` is its hyper-parameter
// (LeakyReLU's slope, ELU's alpha; ignored by the others).
enum class Kind : uint8_t { Relu, LeakyRelu, Elu, Sigmoid, Tanh };

// Which tensor a saved-tensor backward reads.
enum class Saved : uint8_t { Output, Input };

// A dense tensor's memory seen as [outer, channels, inner]: the channel of
// offset i is (i / inner) % channels in any dense layout (contiguous,
// channels_last, permuted) because inner = stride(1).
struct ChannelView {
  int64_t outer, channels, inner;
};

// Every pointer addresses n dense elements of `dtype`; masks are 64-bit words,
// bit i % 64 of word i / 64 for element i.
struct KernelTable {
  const char* capability;
  void (*forward)(Kind kind, double param, c10::ScalarType dtype, const void* x, void* y, int64_t n);
  // Also packs the mask bits (before y overwrites x when they alias).
  void (*forward_with_mask)(Kind kind, double param, c10::ScalarType dtype, const void* x, void* y,
                            uint64_t* mask, int64_t n);
  void (*mask_backward)(Kind kind, double param, c10::ScalarType dtype, const void* grad,
                        const uint64_t* mask, void* grad_input, int64_t n);
  void (*saved_backward)(Kind kind, double param, Saved saved_kind, c10::ScalarType dtype,
                         const void* grad, const void* saved, void* grad_input, int64_t n);
  void (*prelu_forward)(c10::ScalarType dtype, ChannelView view, const void* x, const void* weight,
                        void* y);
  // Writes grad_input and, per chunk of `chunk` elements, the alpha gradient
  // sums into partial[chunk index * channels + c] (zeroed by the caller).
  void (*prelu_backward)(c10::ScalarType dtype, ChannelView view, const void* grad, const void* x,
                         const void* weight, void* grad_input, double* partial, int64_t chunk);
};

const KernelTable& default_kernels();
const KernelTable& avx2_kernels();
const KernelTable& avx512_kernels();

// The widest table this CPU runs, or the one the environment variable
// TORCH_ACT_CPU_CAPABILITY (default, avx2, avx512) asks for.
const KernelTable& kernels();

}  // namespace torch_act::cpu
