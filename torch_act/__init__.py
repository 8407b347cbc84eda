"""torch_act: PyTorch's activations as fused C++ kernels with C++ autograd.

Drop-in replacements for torch.nn's activations (``torch_act.ACTIVATIONS``
lists them): the same results, with less memory kept for backward. Use the
functions (``torch_act.leaky_relu(x)``), the modules
(``torch_act.LeakyReLU()``), or the dispatcher ops
(``torch.ops.torch_act.leaky_relu``); ``torch_act.convert(model)`` swaps a
model's activation modules, ``with torch_act.everywhere():`` reaches the
activations it calls as functions. The gated activations of transformer
MLPs (``torch_act.swiglu(gate, up)``, ``geglu``, ``reglu``, ``glu`` and their
modules) are in ``torch_act.gated``.
"""
from . import _library  # loads the op library first
from . import functional, modules
from .convert import convert
from .everywhere import Everywhere, disable, enable, everywhere
from .functional import *  # noqa: F401,F403  (one function per activation)
from .modules import *  # noqa: F401,F403  (one module per activation)
from . import gated
from .gated import (GATED, GLU, GatedActivation, GeGLU, ReGLU, SwiGLU, geglu, geglu_halves, glu, reglu,
                    reglu_halves, sigmoid_glu, swiglu, swiglu_halves)
from .registry import ACTIVATIONS, Activation
from .distributed import register_when_dtensor_is_imported

register_when_dtensor_is_imported()

__version__ = "0.1.0"

#: Folder to put on CMAKE_PREFIX_PATH (beside torch.utils.cmake_prefix_path)
#: for find_package(TorchAct) in C++ projects.
cmake_prefix_path = _library.CMAKE_PREFIX_PATH
#: The compiled op library that Python and C++ programs load.
library_path = _library.LIBRARY_PATH

__all__ = ["ACTIVATIONS", "Activation", "functional", "convert", "everywhere", "enable", "disable", "Everywhere",
           "cmake_prefix_path", "library_path",
           *functional.__all__, *modules.__all__, *gated.__all__]
