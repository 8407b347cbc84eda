// torch_act's whole C++ API: functions (torch_act::relu, ...) and LibTorch
// modules (torch_act::nn::ReLU, ...). Link TorchAct::torch_act (CMake:
// find_package(TorchAct)), which loads the op library these call into.
#pragma once

#include <torch_act/functional.h>
#include <torch_act/nn.h>
