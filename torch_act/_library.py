"""Loads the compiled operator library exactly once.

The library registers the ``torch.ops.torch_act`` namespace; loading it twice
would register the namespace twice, which the dispatcher refuses.
"""
import ctypes
import functools
import json
import os
import sys
from dataclasses import dataclass
from typing import Dict

import torch

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _check_torch_version() -> None:
    try:
        from ._build_info import TORCH_VERSION
    except ImportError as e:  # pragma: no cover - only a broken install gets here
        raise ImportError(
            "torch_act is not built: run `pip install --no-build-isolation -e .` "
            "(or `make build`) in the repository first"
        ) from e
    if TORCH_VERSION != torch.__version__:
        raise ImportError(
            f"torch_act was built against torch {TORCH_VERSION} but torch {torch.__version__} "
            "is installed; rebuild torch_act (`pip install --no-build-isolation .`) or install "
            f"torch=={TORCH_VERSION.split('+')[0]}"
        )


LIBRARY_PATH = os.path.join(PACKAGE_DIR, "lib", "libtorch_act.so")
# For CMake: find_package(TorchAct) looks for TorchAct/TorchActConfig.cmake here.
CMAKE_PREFIX_PATH = os.path.join(PACKAGE_DIR, "share", "cmake")
INCLUDE_DIR = os.path.join(PACKAGE_DIR, "include")


def library_path() -> str:
    """Path of the compiled op library, shared by Python and C++ users."""
    if not os.path.exists(LIBRARY_PATH):
        raise ImportError(
            f"torch_act's compiled library {LIBRARY_PATH} is missing: "
            "run `pip install --no-build-isolation -e .` (or `make build`)"
        )
    return LIBRARY_PATH


def _make_libstdcxx_global() -> None:
    """Put libstdc++ in the process's global symbol scope before the library loads.

    Python does not link libstdc++, and it and torch load extensions with
    RTLD_LOCAL, so a reference of the library to a libstdc++ symbol is looked
    up in the library itself before its dependencies: copies of libstdc++
    template code that the compiler emitted into the library (and weak copies
    torch's libc10.so exports) serve it instead of libstdc++'s own. Code built
    by a newer compiler than torch's (Ubuntu 24.04's GCC 13 against torch
    2.11) then mixed the two in one std::ostringstream, and a TORCH_CHECK that
    streamed a number crashed the process. A C++ program that links libstdc++
    has it in the global scope from the start; this gives Python the same
    order (tests/test_linking.py checks the result).
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libstdc++.so.6", mode=ctypes.RTLD_GLOBAL)  # the copy torch already loaded
        except OSError:  # a libstdc++ under another name (e.g. static): nothing to order
            pass


def load() -> None:
    _check_torch_version()
    if not hasattr(torch.ops.torch_act, "relu"):
        _make_libstdcxx_global()
        torch.ops.load_library(library_path())


load()


@dataclass(frozen=True)
class Declared:
    """What the C++ list (``torch_act/include/torch_act/activation_list.h``)
    declares of one activation, as the library reports it."""

    name: str  # the op and function name
    module: str  # the math struct's name, which is the nn.Module's too
    # What backward keeps: "mask", "output", "input", "output or input",
    # "input and weight" (PReLU's family) or "gate and up" (the gated family).
    family: str
    inplace: bool  # has an in-place op name_
    random: bool  # random in training: the op takes a seed (RReLU)


@functools.cache
def declared() -> Dict[str, Declared]:
    """Every activation the library declares, by name, in the list's order
    (``torch.ops.torch_act.declarations()``: the declarations as JSON)."""
    return {d["name"]: Declared(**d) for d in json.loads(torch.ops.torch_act.declarations())}
