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

Reached: for every activation in the registry, the function of that name
in ``torch.nn.functional`` and ``torch`` and the Tensor method (``F.relu``,
``torch.relu``, ``x.relu()``, ``F.gelu``, ``x.sigmoid()``, ...), their
in-place forms where torch_act has one (``F.relu_``, ``x.relu_()``,
``F.elu_``, ...), and ``F.glu``. A call torch_act cannot take (a dtype,
device or layout it has no kernel for, ``out=``, an argument it would
refuse) goes to torch unchanged, so torch's own result or error comes back. ``sigmoid_``/``tanh_`` stay
torch's: torch_act has no in-place form of them (their backward reads the
output). Why a mode and not a torch.fx rewrite: docs/ARCHITECTURE.md,
"Functional calls".
"""
import collections
import functools
import inspect
from typing import Callable, Dict, Optional, Tuple

import torch
from torch.overrides import TorchFunctionMode

from . import gated
from .registry import ACTIVATIONS

_FLOATS = (torch.float32, torch.float64, torch.bfloat16, torch.float16)


def _torch_callables() -> Dict[Callable, Tuple[str, bool]]:
    """torch callable -> (torch_act activation name, whether it is an in-place alias).

    Found by name, not listed: for every activation, ``name`` in
    torch.nn.functional, torch and torch.Tensor, and ``name_`` there where
    torch_act has an in-place form (sigmoid_ and tanh_ have none)."""
    routes: Dict[Callable, Tuple[str, bool]] = {torch.nn.functional.glu: ("glu", False)}  # the gated family's one
    for name, entry in ACTIVATIONS.items():
        for namespace in (torch.nn.functional, torch, torch.Tensor):
            if hasattr(namespace, name):
                routes[getattr(namespace, name)] = (name, False)
            if entry.has_inplace and hasattr(namespace, name + "_"):
                routes[getattr(namespace, name + "_")] = (name, True)
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


def _metadata(value):
    """What the op's checks can see of an argument: a tensor's shape, strides
    and dtype (not its data); any other value as it is."""
    if isinstance(value, torch.Tensor):
        return ("tensor", tuple(value.shape), value.stride(), value.dtype)
    return value


@functools.lru_cache(maxsize=1024)
def _op_accepts(op_name: str, arguments: Tuple[Tuple[str, object], ...]) -> bool:
    """Whether op `op_name` accepts these arguments (_metadata's forms), as its
    Meta kernel says. Cached: a model calls the same shapes again and again,
    and one Meta call costs ~30 us, more than the routed call itself."""
    values = {k: torch.empty_strided(v[1], v[2], dtype=v[3], device="meta")
              if isinstance(v, tuple) and v[:1] == ("tensor",) else v for k, v in arguments}
    # The op itself, not the function: a random activation's function would draw a seed.
    check = gated.glu if op_name == "glu" else getattr(torch.ops.torch_act, op_name)
    first = next(iter(values))
    try:
        check(values.pop(first), **values)
    except (RuntimeError, ValueError, TypeError, IndexError, NotImplementedError):
        return False
    return True


def _fits(name: str, inplace: bool, bound: inspect.BoundArguments) -> bool:
    """Whether torch_act takes the call: it has kernels for its tensors (one
    device), and its op accepts the arguments, as its Meta kernel says: the
    same checks as the real kernels' (PReLU's weight, GELU's approximate,
    RReLU's bounds...), run without data. A call it refuses goes to torch,
    whose own result or error comes back."""
    tensors = [v for v in bound.arguments.values() if isinstance(v, torch.Tensor)]
    if not all(_takes(t) for t in tensors) or len({t.device for t in tensors}) > 1:
        return False
    arguments = {k: _metadata(v) for k, v in bound.arguments.items()}
    inplace = inplace or bool(arguments.pop("inplace", False))
    op_name = name if name == "glu" else name + ("_" if inplace else "")
    try:
        return _op_accepts(op_name, tuple(arguments.items()))
    except TypeError:  # an unhashable argument (a list where torch takes one): ask without the cache
        return _op_accepts.__wrapped__(op_name, tuple(arguments.items()))


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
            if bound is not None and _fits(name, inplace_alias, bound):
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
