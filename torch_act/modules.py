"""nn.Module layers with torch.nn's constructor arguments, reprs and state_dicts."""
from typing import Any, Optional

import torch
from torch import Tensor, nn

from . import functional as F

__all__ = ["ReLU", "LeakyReLU", "PReLU", "ELU", "Sigmoid", "Tanh"]


class ReLU(nn.Module):
    """Drop-in for ``torch.nn.ReLU``: max(0, x), optionally in place."""

    __constants__ = ["inplace"]
    inplace: bool

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(nn.Module):
    """Drop-in for ``torch.nn.LeakyReLU``: x if x > 0 else negative_slope * x."""

    __constants__ = ["inplace", "negative_slope"]
    inplace: bool
    negative_slope: float

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"negative_slope={self.negative_slope}{inplace_str}"


class PReLU(nn.Module):
    """Drop-in for ``torch.nn.PReLU``: LeakyReLU whose slope ``alpha`` is learned.

    ``alpha`` is an ``nn.Parameter`` of shape ``[num_parameters]``: 1 (one slope
    shared by all channels) or the number of channels (dim 1 of the input).
    A state_dict saved from ``torch.nn.PReLU`` (key ``weight``) loads into it,
    and ``weight`` reads as an alias of ``alpha`` for code written for torch.nn.
    """

    __constants__ = ["num_parameters"]
    num_parameters: int

    def __init__(self, num_parameters: int = 1, init: float = 0.25,
                 device: Optional[Any] = None, dtype: Optional[torch.dtype] = None) -> None:
        if not isinstance(num_parameters, int) or isinstance(num_parameters, bool) or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got {num_parameters!r}")
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.alpha = nn.Parameter(torch.empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.constant_(self.alpha, self.init)

    @property
    def weight(self) -> Tensor:
        return self.alpha

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        legacy = prefix + "weight"
        if legacy in state_dict and prefix + "alpha" not in state_dict:
            state_dict[prefix + "alpha"] = state_dict.pop(legacy)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


class ELU(nn.Module):
    """Drop-in for ``torch.nn.ELU``: x if x > 0 else alpha * (exp(x) - 1)."""

    __constants__ = ["alpha", "inplace"]
    alpha: float
    inplace: bool

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"alpha={self.alpha}{inplace_str}"


class Sigmoid(nn.Module):
    """Drop-in for ``torch.nn.Sigmoid``: 1 / (1 + exp(-x))."""

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(nn.Module):
    """Drop-in for ``torch.nn.Tanh``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)
