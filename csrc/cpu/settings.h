// Run-time settings of the CPU kernels, below the loops: which kernel build
// this CPU runs, and the environment variables that tune the loops. Nothing
// here depends on a CPU capability.
#pragma once

#include <cstdint>

namespace torch_act::cpu {

// Below this many elements work stays on one thread (ATen's GRAIN_SIZE); also
// the smallest chunk of PReLU's alpha reduction.
constexpr int64_t kGrainSize = 32768;

enum class Capability { Default, AVX2, AVX512 };

// The kernel build this process uses, picked once at the first call:
// TORCH_ACT_CPU_CAPABILITY (default, avx2, avx512) if set, an error if this
// CPU cannot run it; else PyTorch's own ATEN_CPU_CAPABILITY, capped at what
// this CPU runs; else the widest build this CPU runs.
Capability capability();

// Loops touching at least this many bytes write with streaming stores
// (loops.h): TORCH_ACT_STREAMING_BYTES if set, else 32 MiB, about one
// last-level cache on the machines this was tuned on.
int64_t streaming_threshold_bytes();

// Whether the first and last pages of [p, p + bytes) are in memory. A fresh
// large allocation (glibc mmaps anything over 32 MiB) is not: each page is
// zero-filled on first touch and then sits in cache, where plain stores are
// cheaper than streaming ones.
bool pages_resident(const void* p, int64_t bytes);

}  // namespace torch_act::cpu
