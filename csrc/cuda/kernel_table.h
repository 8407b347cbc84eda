// The CUDA backend's kernel table (kernels.cu).
#pragma once

#include "../kernel_table.h"

namespace torch_act::cuda {

const KernelTable& kernels();

}  // namespace torch_act::cuda
