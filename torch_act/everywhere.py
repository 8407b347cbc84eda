"""torch_act's kernels for the activations a model calls as functions.

``convert()`` swaps activation *modules*. Many models call functions instead:
torchvision's GoogLeNet and Inception (``F.relu(x, inplace=True)``),
HuggingFace's ``ACT2FN`` (``nn.functional.gelu``/``silu``), ``x.sigmoid()``.
A ``TorchFunctionMode`` sees every such call and runs torch_act's function
with the same arguments::

    with torch_act.everywhere() as calls:
        loss = model(x).sum()
        loss.backward()
    print(calls.counts)          # Counter({'relu': 57})

    torch_act.enable()           # the same for the rest of the program
    torch_act.disable()

Reached: ``torch.nn.functional.relu/relu_/relu6/hardtanh/hardtanh_/threshold/
threshold_/hardshrink/softshrink/hardsigmoid/leaky_relu/leaky_relu_/rrelu/rrelu_/prelu/elu/
elu_/selu/selu_/celu/celu_/gelu/silu/hardswish/mish/softplus/logsigmoid/softsign/tanhshrink/glu``,
``torch.relu/relu_/threshold/
threshold_/hardshrink/rrelu/rrelu_/prelu/selu/selu_/celu/celu_/sigmoid/tanh`` and the Tensor methods ``relu/relu_/hardshrink/prelu/sigmoid/
tanh``, for every activation in the
registry. A call torch_act cannot take (a dtype, device or layout it has no
kernel for, ``out=``, an argument it would refuse) goes to torch unchanged,
so torch's own result or error comes back. ``sigmoid_``/``tanh_`` stay
torch's: torch_act has no in-place form of them (their backward reads the
output). Why a mode and not a torch.fx rewrite: docs/ARCHITECTURE.md,
"Functional calls".
"""
import collections
import inspect
import math
from typing import Callable, Dict, Optional, Tuple

import torch
from torch.overrides import TorchFunctionMode

from . import gated
from .registry import ACTIVATIONS

_FLOATS = (torch.float32, torch.float64, torch.bfloat16, torch.float16)


def _torch_callables() -> Dict[Callable, Tuple[str, bool]]:
    """torch callable -> (torch_act activation name, whether it is an in-place alias)."""
    F, T = torch.nn.functional, torch.Tensor
    table = {
        "relu": ([F.relu, torch.relu, T.relu], [F.relu_, torch.relu_, T.relu_]),
        "relu6": ([F.relu6], []),
        "hardtanh": ([F.hardtanh], [F.hardtanh_]),
        "threshold": ([F.threshold, torch.threshold], [F.threshold_, torch.threshold_]),
        "hardshrink": ([F.hardshrink, torch.hardshrink, T.hardshrink], []),
        "softshrink": ([F.softshrink], []),
        "hardsigmoid": ([F.hardsigmoid], []),
        "leaky_relu": ([F.leaky_relu], [F.leaky_relu_]),
        "rrelu": ([F.rrelu, torch.rrelu], [F.rrelu_, torch.rrelu_]),
        "prelu": ([F.prelu, torch.prelu, T.prelu], []),
        "elu": ([F.elu], [F.elu_]),
        "selu": ([F.selu, torch.selu], [F.selu_, torch.selu_]),
        "celu": ([F.celu, torch.celu], [F.celu_, torch.celu_]),
        "sigmoid": ([torch.sigmoid, T.sigmoid], []),
        "tanh": ([torch.tanh, T.tanh], []),
        "gelu": ([F.gelu], []),
        "silu": ([F.silu], []),
        "hardswish": ([F.hardswish], []),
        "mish": ([F.mish], []),
        "softplus": ([F.softplus], []),
        "logsigmoid": ([F.logsigmoid], []),
        "softsign": ([F.softsign], []),
        "tanhshrink": ([F.tanhshrink], []),
    }
    routes: Dict[Callable, Tuple[str, bool]] = {F.glu: ("glu", False)}  # the gated family's one torch.nn function
    for name, (plain, inplace) in table.items():
        if name in ACTIVATIONS:
            routes.update({fn: (name, False) for fn in plain})
            if ACTIVATIONS[name].has_inplace:
                routes.update({fn: (name, True) for fn in inplace})
    return routes


def _has_cuda_kernels() -> bool:
    return torch._C._dispatch_has_kernel_for_dispatch_key("torch_act::relu", "CUDA")


def _takes(t) -> bool:
    """Whether torch_act has a kernel for this tensor."""
    if not isinstance(t, torch.Tensor) or t.layout != torch.strided or t.dtype not in _FLOATS:
        return False
    return t.device.type in ("cpu", "meta") or (t.device.type == "cuda" and _has_cuda_kernels())


def _function(name: str) -> Callable[..., torch.Tensor]:
    return gated.glu if name == "glu" else ACTIVATIONS[name].function


def _bind(name: str, inplace_alias: bool, args, kwargs) -> Optional[inspect.BoundArguments]:
    """The call's arguments bound to torch_act's function, or None where they do not fit."""
    signature = inspect.signature(_function(name))
    if inplace_alias:
        signature = signature.replace(parameters=[p for p in signature.parameters.values() if p.name != "inplace"])
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:  # out=, or arguments torch_act's function does not have
        return None
    bound.apply_defaults()
    return bound


def _fits(name: str, bound: inspect.BoundArguments) -> bool:
    x = bound.arguments["input"]
    if not _takes(x):
        return False
    if name == "prelu":
        w = bound.arguments["weight"]
        channels = x.shape[1] if x.dim() >= 2 else 1
        return (isinstance(w, torch.Tensor) and _takes(w) and w.dtype == x.dtype and w.device == x.device
                and w.dim() <= 1 and w.numel() in (1, channels))
    if name == "gelu":
        return bound.arguments["approximate"] in ("none", "tanh")
    if name == "glu":  # torch's own error for a scalar, an odd split or a bad dim
        dim = bound.arguments["dim"]
        return x.dim() > 0 and -x.dim() <= dim < x.dim() and x.shape[dim] % 2 == 0
    if name == "celu" and bound.arguments["alpha"] == 0:  # torch's own error then
        return False
    if name == "rrelu":  # torch's own error for bounds it refuses
        lower, upper = bound.arguments["lower"], bound.arguments["upper"]
        return math.isfinite(lower) and math.isfinite(upper) and lower <= upper
    if name == "hardtanh":  # torch.nn.functional raises its own ValueError then
        return bound.arguments["min_val"] <= bound.arguments["max_val"]
    return True


class Everywhere(TorchFunctionMode):
    """Runs torch_act's function wherever a model calls one of torch's
    activation functions (module docstring); ``counts`` says how often, per
    activation, since the mode was created."""

    def __init__(self):
        super().__init__()
        self.counts = collections.Counter()
        self._routes = _torch_callables()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        route = self._routes.get(func)
        if route is not None:
            name, inplace_alias = route
            bound = _bind(name, inplace_alias, args, kwargs)
            if bound is not None and _fits(name, bound):
                self.counts[name] += 1
                extra = {"inplace": True} if inplace_alias else {}
                return _function(name)(*bound.args, **bound.kwargs, **extra)
        return func(*args, **kwargs)

    def __repr__(self):
        return f"torch_act.everywhere(counts={dict(self.counts)})"


def everywhere() -> Everywhere:
    """A context manager under which torch's activation functions run on
    torch_act's kernels (see the module docstring); ``as calls`` gives the
    counts."""
    return Everywhere()


_GLOBAL: Optional[Everywhere] = None


def enable() -> Everywhere:
    """Route torch's activation functions to torch_act from now on, until
    ``disable()``; returns the mode (its ``counts``). Calling it again keeps
    the mode already enabled."""
    global _GLOBAL
    if _GLOBAL is None:
        _GLOBAL = Everywhere()
        _GLOBAL.__enter__()
    return _GLOBAL


def disable() -> None:
    """Undo ``enable()``. torch function modes form a stack: a mode entered
    after ``enable()`` and still active must be exited first."""
    global _GLOBAL
    if _GLOBAL is None:
        return
    stack = torch._C._len_torch_function_stack()
    if stack == 0 or torch._C._get_function_stack_at(stack - 1) is not _GLOBAL:
        raise RuntimeError("torch_act.disable(): another torch function mode was entered after "
                           "torch_act.enable() and is still active; exit it first")
    _GLOBAL.__exit__(None, None, None)
    _GLOBAL = None
