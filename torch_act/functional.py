"""Functional API: the names, parameters and defaults of torch.nn.functional.

One function per activation, generated (``_codegen.py``) from its declaration:
a thin wrapper over the dispatcher op ``torch.ops.torch_act.<name>``, so
autograd, torch.compile and TorchScript see the same op whether it is called
from here, from a module or from C++. ``inspect.getsource(torch_act.elu)``
shows the code.
"""
import torch  # noqa: F401  (used by the generated code)
from torch import Tensor  # noqa: F401

from . import _library  # noqa: F401  (registers torch.ops.torch_act)
from ._codegen import call_with_drawn_seed, draw_seed, make_function  # noqa: F401  (the generated code calls them)
from .declarations import DECLARATIONS

__all__ = [make_function(d, globals()).__name__ for d in DECLARATIONS]
