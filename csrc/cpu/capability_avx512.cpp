// The AVX-512 build of the CPU kernels (chosen at run time, settings.h).
// Generic headers come first, with the default target (kernel_prelude.h);
// then the ISA is switched on for ATen's vector headers and our kernels only.
#include "kernel_prelude.h"

#pragma GCC target("avx,avx2,fma,f16c,bmi,bmi2,lzcnt,popcnt,avx512f,avx512bw,avx512vl,avx512dq")
// The pragma switches code generation, not the feature macros that <sleef.h>
// and ATen's vector headers test: define them as -mavx512f ... would.
#define __AVX__ 1
#define __AVX2__ 1
#define __FMA__ 1
#define __F16C__ 1
#define __BMI__ 1
#define __BMI2__ 1
#define __AVX512F__ 1
#define __AVX512BW__ 1
#define __AVX512VL__ 1
#define __AVX512DQ__ 1
#define CPU_CAPABILITY AVX512
#define CPU_CAPABILITY_AVX512
#include "kernels.h"

const torch_act::cpu::KernelTable& torch_act::cpu::avx512_kernels() { return AVX512::table; }
