// The DEFAULT (baseline x86-64) build of the CPU kernels: runs on any CPU.
#include "kernel_prelude.h"

#define CPU_CAPABILITY DEFAULT
#define CPU_CAPABILITY_DEFAULT
#include "kernels.h"

const torch_act::cpu::KernelTable& torch_act::cpu::default_kernels() { return DEFAULT::table; }
