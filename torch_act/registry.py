"""The registry of activations: one entry per activation, iterated by the
tests, benchmarks, plots and demo, so adding an activation is one entry here.
"""
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple, Type

import torch
import torch.nn.functional as TF
from torch import nn

from . import functional as F
from . import modules as M


@dataclass(frozen=True)
class Activation:
    """One activation: torch_act's function and module, and torch.nn's twins."""

    name: str
    title: str  # for people: plots, tables
    function: Callable[..., torch.Tensor]
    module: Type[nn.Module]
    torch_function: Callable[..., torch.Tensor]
    torch_module: Type[nn.Module]
    # What people write by hand with plain tensor ops (autograd does the rest):
    # the third contender in the benchmarks. Same signature as `function`.
    naive: Optional[Callable[..., torch.Tensor]] = None
    # Keyword arguments worth exercising beyond the defaults (slopes, alphas).
    variants: Tuple[Dict[str, Any], ...] = ({},)
    has_inplace: bool = False
    # Name of the learnable parameter passed as the function's second argument.
    parameter: str = ""
    # Bounded on both sides (sigmoid-like): such units saturate rather than die.
    saturating: bool = False
    # The constructor arguments torch.nn's module stores as attributes of the
    # same name (ours take the same ones): what `convert` copies across.
    settings: Tuple[str, ...] = ()

    def from_torch(self, module: nn.Module) -> nn.Module:
        """torch_act's twin of a torch.nn module of this kind: same settings, same weights."""
        twin = self.module(**{name: getattr(module, name) for name in self.settings})
        if self.parameter:
            weight = getattr(module, self.parameter)
            twin = twin.to(device=weight.device, dtype=weight.dtype)
            twin.alpha.data.copy_(weight.data)
            twin.alpha.requires_grad_(weight.requires_grad)
        return twin.train(module.training)


def _naive_prelu(x, weight):
    w = weight.reshape(-1, *([1] * (x.dim() - 2))) if weight.numel() > 1 else weight.reshape(())
    return torch.where(x > 0, x, w * x)


ACTIVATIONS: Dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("relu", "ReLU", F.relu, M.ReLU, TF.relu, nn.ReLU, has_inplace=True, settings=("inplace",),
                   naive=lambda x: torch.where(x > 0, x, 0.0)),
        Activation(
            "leaky_relu", "Leaky ReLU", F.leaky_relu, M.LeakyReLU, TF.leaky_relu, nn.LeakyReLU,
            variants=({}, {"negative_slope": 0.2}, {"negative_slope": 0.0}, {"negative_slope": -0.5}),
            has_inplace=True, settings=("negative_slope", "inplace"),
            naive=lambda x, negative_slope=0.01: torch.where(x > 0, x, negative_slope * x),
        ),
        Activation("prelu", "PReLU", F.prelu, M.PReLU, TF.prelu, nn.PReLU, parameter="weight",
                   settings=("num_parameters", "init"), naive=_naive_prelu),
        Activation(
            "elu", "ELU", F.elu, M.ELU, TF.elu, nn.ELU,
            variants=({}, {"alpha": 0.5}, {"alpha": 0.0}, {"alpha": -0.7}),
            has_inplace=True, settings=("alpha", "inplace"),
            naive=lambda x, alpha=1.0: torch.where(x > 0, x, alpha * (torch.exp(x) - 1)),
        ),
        Activation("sigmoid", "Sigmoid", F.sigmoid, M.Sigmoid, torch.sigmoid, nn.Sigmoid, saturating=True,
                   naive=lambda x: 1 / (1 + torch.exp(-x))),
        Activation("tanh", "Tanh", F.tanh, M.Tanh, torch.tanh, nn.Tanh, saturating=True,
                   naive=lambda x: 1 - 2 / (torch.exp(2 * x) + 1)),
    )
}
