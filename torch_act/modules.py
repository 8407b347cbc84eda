"""nn.Module layers with torch.nn's constructor arguments, reprs and state_dicts.

Each elementwise activation's module is generated (``_codegen.py``) from its
declaration, with the constructor arguments of its op's hyper-parameters
(and ``inplace`` where it has an in-place op); PReLU, whose weight is a
learned parameter, is written out below.
"""
from typing import Any, Optional

import torch
from torch import Tensor, nn

from . import functional as F
from ._codegen import extra_repr as _extra_repr  # noqa: F401  (used by the generated code)
from ._codegen import make_module
from .declarations import DECLARATIONS


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


__all__ = [d.module if d.module_settings is not None else make_module(d, globals()).__name__
           for d in DECLARATIONS]
