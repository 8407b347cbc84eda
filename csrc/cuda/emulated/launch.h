// kernels.cu's launches on the host emulator (emulator.h): the counterpart of
// ../launch.cuh, for the build `make cuda-emulate` makes.
#pragma once

#include "emulator.h"

namespace torch_act::cuda {

using emulated::dim3;
inline int multiprocessor_count() { return emulated::multiprocessor_count(); }

}  // namespace torch_act::cuda

// Every thread of the grid runs kernel(args...), the arguments copied as a launch copies them.
#define TORCH_ACT_START(kernel, grid, block, ...) \
  ::torch_act::cuda::emulated::run_grid((grid), (block), [=] { kernel(__VA_ARGS__); })
