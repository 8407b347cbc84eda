"""Loads the compiled operator library exactly once.

The library registers the ``torch.ops.torch_act`` namespace; loading it twice
would register the namespace twice, which the dispatcher refuses.
"""
import ctypes
import os
import sys

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
