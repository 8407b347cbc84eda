// kernels.cu compiled as host C++ for the emulator (emulator.h): the same
// kernels, launches and table, run on the CPU by `make cuda-emulate`.
#define TORCH_ACT_CUDA_EMULATION
// nvcc's words that g++ does not take: #pragma unroll, and comparisons of
// threadIdx (unsigned) with int bounds, which nvcc accepts silently.
#pragma GCC diagnostic ignored "-Wunknown-pragmas"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "../kernels.cu"
