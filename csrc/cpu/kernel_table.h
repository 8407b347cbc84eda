// The kernel tables the CPU builds, one per capability (DEFAULT, AVX2,
// AVX-512, from kernels.h by capability_*.cpp), and the one this CPU runs.
#pragma once

#include "../kernel_table.h"

namespace torch_act::cpu {

using torch_act::ChannelView;
using torch_act::ElementwiseKernels;
using torch_act::KernelTable;
using torch_act::WeightedKernels;

const KernelTable& default_kernels();
const KernelTable& avx2_kernels();
const KernelTable& avx512_kernels();

// The table of the capability settings.h picked.
const KernelTable& kernels();

}  // namespace torch_act::cpu
