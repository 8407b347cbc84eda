"""The registry of activations: ``ACTIVATIONS[name]`` holds torch_act's
function and module, torch.nn's twins and what the tests, benchmarks, plots
and demo need, built from the declarations (declarations.py and the op
schemas, and what the library reports of the C++ list), so adding an
activation adds an entry here by itself.
"""
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple, Type

import torch
from torch import nn

from . import functional as F
from . import modules as M
from ._codegen import REQUIRED, hyper_parameters
from ._library import declared
from .declarations import DECLARATIONS, Declaration


@dataclass(frozen=True)
class Activation:
    """One activation: torch_act's function and module, and torch.nn's twins."""

    name: str
    title: str
    function: Callable[..., torch.Tensor]
    module: Type[nn.Module]
    torch_function: Callable[..., torch.Tensor]
    torch_module: Type[nn.Module]
    # What people write by hand with plain tensor ops: the benchmarks' third contender.
    naive: Callable[..., torch.Tensor]
    # Keyword arguments worth exercising beyond the defaults (slopes, alphas).
    variants: Tuple[Dict[str, Any], ...]
    has_inplace: bool
    # Name of the learnable parameter passed as the function's second argument.
    parameter: str
    # Its family, what backward keeps (the C++ list's): "mask", "output", "input",
    # "output or input", "input and weight".
    family: str
    # Results equal torch.nn's bit for bit (comparisons and products only).
    exact: bool
    # Bounded on both sides (sigmoid-like): such units saturate rather than die.
    saturating: bool
    # The constructor arguments torch.nn's module stores as attributes of the
    # same name (ours take the same ones): what `convert` copies across.
    settings: Tuple[str, ...]
    # The arguments torch.nn requires (Threshold's threshold and value), as in
    # the first variant; {} for the rest. Plots, tests and the demo call with them.
    required_kwargs: Dict[str, Any]
    # Random in training (RReLU's slopes): its op takes a seed, its function
    # draws one; out of training it is deterministic.
    random_in_training: bool = False
    # The exact math of a smooth activation and its derivative from the output
    # (see Declaration; None for the exact ones).
    exact_math: Optional[Callable[..., Tuple[Any, Any]]] = None
    derivative_from_output: Optional[Callable[..., Any]] = None

    def new_module(self, width: int, torch_side: bool = False) -> nn.Module:
        """A fresh module of this kind (torch.nn's twin with ``torch_side``) with the
        default settings, torch.nn's required ones included (Threshold's): ``width``
        channels for the weighted family (PReLU's num_parameters), unused by the rest."""
        cls = self.torch_module if torch_side else self.module
        return cls(width) if self.parameter else cls(**self.required_kwargs)

    def from_torch(self, module: nn.Module) -> nn.Module:
        """torch_act's twin of a torch.nn module of this kind: same settings, same weights."""
        twin = self.module(**{name: getattr(module, name) for name in self.settings})
        if self.parameter:
            weight = getattr(module, self.parameter)
            twin = twin.to(device=weight.device, dtype=weight.dtype)
            twin.alpha.data.copy_(weight.data)
            twin.alpha.requires_grad_(weight.requires_grad)
        return twin.train(module.training)


def _entry(d: Declaration) -> Activation:
    declaration = declared()[d.name]
    weighted = declaration.family == "input and weight"
    settings = d.module_settings if weighted else tuple(
        [n for n, _, _ in hyper_parameters(d.name)] + (["inplace"] if declaration.inplace else []))
    return Activation(
        name=d.name, title=d.title, function=getattr(F, d.name), module=getattr(M, declaration.module),
        torch_function=d.torch_function, torch_module=d.torch_module, naive=d.naive, variants=d.variants,
        has_inplace=declaration.inplace, parameter="weight" if weighted else "", family=declaration.family,
        exact=d.exact, saturating=d.saturating, settings=settings, exact_math=d.exact_math,
        required_kwargs={} if weighted else {n: d.variants[0][n] for n, _, default in hyper_parameters(d.name)
                                             if default is REQUIRED},
        derivative_from_output=d.derivative_from_output,
        random_in_training=declaration.random)


def _check_every_activation_declared_once() -> None:
    in_cpp = {name for name, d in declared().items() if d.family != "gate and up"}  # gated.py has those
    in_python = {d.name for d in DECLARATIONS}
    if in_cpp != in_python:
        raise ImportError("torch_act: the activations of activation_list.h and of declarations.py differ "
                          f"(C++ only: {sorted(in_cpp - in_python)}, Python only: {sorted(in_python - in_cpp)}); "
                          "give each activation an entry in both")


_check_every_activation_declared_once()
ACTIVATIONS: Dict[str, Activation] = {d.name: _entry(d) for d in DECLARATIONS}
