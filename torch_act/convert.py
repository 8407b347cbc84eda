"""Swap torch.nn activations in a model for their torch_act twins, and say
what was swapped and what a swap cannot reach."""
import collections
import copy
import inspect
import logging
import re
import warnings
from typing import Counter, Set, Tuple, Union

import torch
from torch import nn

from . import gated
from .registry import ACTIVATIONS

log = logging.getLogger("torch_act")

# A call of one of torch's activation functions in source code: F.relu(...),
# torch.sigmoid(...), nn.functional.gelu(...), x.relu_(), x.tanh(): the
# registry's names, and those of them that are also Tensor methods.
def _alternatives(names) -> str:
    return "|".join(sorted(names, key=len, reverse=True))


_FUNCTIONAL_CALL = re.compile(
    rf"(?:\b(?:F|functional|torch)\.(?P<fn>{_alternatives([*ACTIVATIONS, 'glu'])})_?\s*\()"
    rf"|(?:\.(?P<method>{_alternatives(n for n in ACTIVATIONS if hasattr(torch.Tensor, n))})_?\(\s*\))")


def _twin(module: nn.Module):
    """torch_act's twin of a torch.nn activation with the same settings, or None."""
    for entry in ACTIVATIONS.values():
        if type(module) is entry.torch_module:
            return entry.from_torch(module)
    if type(module) is nn.GLU:
        return gated.GLU(module.dim).train(module.training)
    return None


def _swap(model: nn.Module, swapped: Counter) -> nn.Module:
    twin = _twin(model)
    if twin is not None:
        swapped[type(model).__name__] += 1
        return twin
    for name, child in model.named_children():
        converted = _swap(child, swapped)
        if converted is not child:
            setattr(model, name, converted)
    return model


def functional_activation_calls(model: nn.Module) -> dict:
    """{class name: activations its forward calls as functions}, read from the
    source of the model's own module classes (torch's and torch_act's are
    not read: theirs are the modules a swap replaces)."""
    found = {}
    seen: Set[type] = set()
    for module in model.modules():
        cls = type(module)
        if cls in seen or cls.__module__.split(".")[0] in ("torch", "torch_act"):
            continue
        seen.add(cls)
        try:
            source = inspect.getsource(cls.forward)
        except (OSError, TypeError):  # defined in a REPL, or compiled: nothing to read
            continue
        names = {m.group("fn") or m.group("method") for m in _FUNCTIONAL_CALL.finditer(source)}
        if names:
            found[cls.__name__] = sorted(names)
    return found


def convert(model: nn.Module, inplace: bool = False,
            return_counts: bool = False) -> Union[nn.Module, Tuple[nn.Module, Counter]]:
    """Return ``model`` with every torch.nn activation module torch_act has
    (the ``torch_module`` of each entry of ``torch_act.ACTIVATIONS``, and
    ``nn.GLU``) replaced by its torch_act twin, with the same settings and
    weights (PReLU's ``weight`` becomes ``alpha``). Nested modules are converted too.

    With ``inplace=False`` (the default) the model is deep-copied first and the
    original is left as it was; with ``inplace=True`` it is changed and returned.
    Subclasses of the torch.nn activations are left alone: their forward may differ.

    What was swapped is logged (logger ``"torch_act"``, INFO) and, with
    ``return_counts=True``, returned as ``(model, Counter({"ReLU": 9, ...}))``.
    A model whose forward calls activations as functions (``F.relu(x)``,
    ``x.sigmoid()``) gets a warning: a module swap cannot reach those; run it
    under ``with torch_act.everywhere():`` for them. So does a model with
    nothing to swap.

    >>> model = torch_act.convert(torchvision_model)   # doctest: +SKIP
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"convert: expected 'model' to be an nn.Module, got {type(model).__name__}")
    if not inplace:
        model = copy.deepcopy(model)
    swapped: Counter = collections.Counter()
    model = _swap(model, swapped)
    summary = ", ".join(f"{name} x{count}" for name, count in sorted(swapped.items())) or "nothing"
    log.info("torch_act.convert: swapped %s", summary)
    functional = functional_activation_calls(model)
    if functional:
        where = "; ".join(f"{cls}: {', '.join(names)}" for cls, names in sorted(functional.items()))
        warnings.warn(f"torch_act.convert: the model calls activations as functions ({where}), which a module "
                      f"swap cannot reach (swapped: {summary}); run it under `with torch_act.everywhere():` "
                      "(or after torch_act.enable()) to use torch_act's kernels for them too", stacklevel=2)
    elif not swapped:
        warnings.warn("torch_act.convert: found no torch.nn activation module to swap "
                      f"({', '.join(e.torch_module.__name__ for e in ACTIVATIONS.values())}, GLU)", stacklevel=2)
    return (model, swapped) if return_counts else model
