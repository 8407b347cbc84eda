"""The registry of activations: one entry per activation, iterated by the
tests, benchmarks, plots and demo, so adding an activation is one entry here.
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Tuple, Type

import torch
import torch.nn.functional as TF
from torch import nn

from . import functional as F
from . import modules as M


@dataclass(frozen=True)
class Activation:
    """One activation: torch_act's function and module, and torch.nn's twins."""

    name: str
    function: Callable[..., torch.Tensor]
    module: Type[nn.Module]
    torch_function: Callable[..., torch.Tensor]
    torch_module: Type[nn.Module]
    # Keyword arguments worth exercising beyond the defaults (slopes, alphas).
    variants: Tuple[Dict[str, Any], ...] = ({},)
    has_inplace: bool = False
    # Name of the learnable parameter passed as the function's second argument.
    parameter: str = ""
    doc: str = field(default="", compare=False)


ACTIVATIONS: Dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("relu", F.relu, M.ReLU, TF.relu, nn.ReLU, has_inplace=True),
        Activation(
            "leaky_relu", F.leaky_relu, M.LeakyReLU, TF.leaky_relu, nn.LeakyReLU,
            variants=({}, {"negative_slope": 0.2}, {"negative_slope": 0.0}, {"negative_slope": -0.5}),
            has_inplace=True,
        ),
        Activation("prelu", F.prelu, M.PReLU, TF.prelu, nn.PReLU, parameter="weight"),
        Activation(
            "elu", F.elu, M.ELU, TF.elu, nn.ELU,
            variants=({}, {"alpha": 0.5}, {"alpha": 0.0}, {"alpha": -0.7}),
            has_inplace=True,
        ),
        Activation("sigmoid", F.sigmoid, M.Sigmoid, torch.sigmoid, nn.Sigmoid),
        Activation("tanh", F.tanh, M.Tanh, torch.tanh, nn.Tanh),
    )
}
