"""Gated activations, fused: ``act(gate) * up`` as transformer MLPs use them.

LLaMA's SwiGLU, T5/Gemma's GeGLU (both GELU forms), ReGLU, and torch.nn's own
GLU. Written out by hand wherever one would write ``F.silu(gate) * up``, the
fused op computes the product in one pass and its backward keeps ``gate``
and ``up`` only (the composite also keeps ``silu(gate)``: three tensors and
three passes over memory in backward; here two tensors and one pass, which
writes both gradients).

Two forms of each:

* on two tensors of one shape, ``swiglu(gate, up)`` (no broadcasting: a
  shape mismatch is refused, as the saved state would otherwise grow);
* on one tensor holding both, split in halves along ``dim``: the
  **activation goes on the first half** (``swiglu_halves(x) = silu(x1) * x2``),
  Transformer Engine's convention for its fused gated activations.
  ``glu(input, dim)`` is exactly ``torch.nn.functional.glu``, whose convention
  is the other way round: the *second* half is the gate,
  ``glu(x) = x1 * sigmoid(x2)``. The modules take the split form, as
  ``torch.nn.GLU`` does.

In C++: ``torch_act::swiglu(gate, up)``, ``torch_act::glu(input, dim)``.
"""
from dataclasses import dataclass
from typing import Any, Callable, Dict, Tuple

import torch
import torch.nn.functional as TF
from torch import Tensor, nn

from . import _library  # noqa: F401  (registers torch.ops.torch_act)

__all__ = ["swiglu", "geglu", "reglu", "sigmoid_glu", "glu", "swiglu_halves", "geglu_halves", "reglu_halves",
           "SwiGLU", "GeGLU", "ReGLU", "GLU", "GATED", "GatedActivation"]


def swiglu(gate: Tensor, up: Tensor) -> Tensor:
    """SwiGLU: ``silu(gate) * up`` (LLaMA's MLP), fused; backward keeps gate and up."""
    return torch.ops.torch_act.swiglu(gate, up)


def geglu(gate: Tensor, up: Tensor, approximate: str = "none") -> Tensor:
    """GeGLU: ``gelu(gate, approximate) * up`` (T5 v1.1, Gemma: ``approximate='tanh'``), fused."""
    return torch.ops.torch_act.geglu(gate, up, approximate)


def reglu(gate: Tensor, up: Tensor) -> Tensor:
    """ReGLU: ``relu(gate) * up``, fused; equal to the composite bit for bit."""
    return torch.ops.torch_act.reglu(gate, up)


def sigmoid_glu(gate: Tensor, up: Tensor) -> Tensor:
    """``sigmoid(gate) * up``, the gated form of GLU (``glu`` splits one tensor into it)."""
    return torch.ops.torch_act.sigmoid_glu(gate, up)


def _halves(input: Tensor, dim: int) -> Tuple[Tensor, Tensor]:
    """The two halves of ``input`` along ``dim``, refused with torch.nn.functional.glu's words."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.size(dim)  # IndexError for a dim out of range, as torch's
    if size % 2 != 0:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input.dim()} is size {size}")
    first, second = input.chunk(2, dim)
    return first, second


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """GLU, exactly as ``torch.nn.functional.glu``: ``a * sigmoid(b)``, a and b the first and
    second halves of ``input`` along ``dim`` (the gate is the second half)."""
    first, second = _halves(input, dim)
    return torch.ops.torch_act.sigmoid_glu(second, first)


def swiglu_halves(input: Tensor, dim: int = -1) -> Tensor:
    """``silu(a) * b``, a and b the first and second halves of ``input`` along ``dim``."""
    first, second = _halves(input, dim)
    return torch.ops.torch_act.swiglu(first, second)


def geglu_halves(input: Tensor, dim: int = -1, approximate: str = "none") -> Tensor:
    """``gelu(a, approximate) * b``, a and b the first and second halves of ``input`` along ``dim``."""
    first, second = _halves(input, dim)
    return torch.ops.torch_act.geglu(first, second, approximate)


def reglu_halves(input: Tensor, dim: int = -1) -> Tensor:
    """``relu(a) * b``, a and b the first and second halves of ``input`` along ``dim``."""
    first, second = _halves(input, dim)
    return torch.ops.torch_act.reglu(first, second)


class _OnHalves(nn.Module):
    """A gated activation on the halves of its input along ``dim``."""

    __constants__ = ["dim"]
    dim: int

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class SwiGLU(_OnHalves):
    """``silu(a) * b`` of the halves of the input along ``dim`` (activation on the first half).

    A LLaMA MLP with one fused gate-and-up projection ``nn.Linear(d, 2 * hidden)``
    feeds it directly; with two projections call ``torch_act.swiglu(gate, up)``.
    """

    def forward(self, input: Tensor) -> Tensor:
        return swiglu_halves(input, self.dim)


class ReGLU(_OnHalves):
    """``relu(a) * b`` of the halves of the input along ``dim`` (activation on the first half)."""

    def forward(self, input: Tensor) -> Tensor:
        return reglu_halves(input, self.dim)


class GLU(_OnHalves):
    """Drop-in for ``torch.nn.GLU``: ``a * sigmoid(b)`` of the halves along ``dim`` (gate on the second half)."""

    def forward(self, input: Tensor) -> Tensor:
        return glu(input, self.dim)


class GeGLU(_OnHalves):
    """``gelu(a, approximate) * b`` of the halves of the input along ``dim`` (activation on the first half)."""

    __constants__ = ["approximate", "dim"]
    approximate: str

    def __init__(self, approximate: str = "none", dim: int = -1) -> None:
        super().__init__(dim)
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return geglu_halves(input, self.dim, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}, dim={self.dim}"


@dataclass(frozen=True)
class GatedActivation:
    """One gated activation for tests, benchmarks and docs: the fused function on
    (gate, up) and the composite people write with torch.nn.functional."""

    name: str  # the op, torch.ops.torch_act.<name>
    title: str
    inner: str  # its activation, an ACTIVATIONS name
    function: Callable[..., Tensor]
    composite: Callable[..., Tensor]
    variants: Tuple[Dict[str, Any], ...] = ({},)
    # Equal to the composite bit for bit (ReGLU: a selection and one product).
    exact: bool = False


GATED: Dict[str, GatedActivation] = {g.name: g for g in (
    GatedActivation("swiglu", "SwiGLU", "silu", swiglu, lambda gate, up: TF.silu(gate) * up),
    GatedActivation("geglu", "GeGLU", "gelu", geglu, lambda gate, up, approximate="none": TF.gelu(gate, approximate=approximate) * up,
                    variants=({}, {"approximate": "tanh"})),
    GatedActivation("reglu", "ReGLU", "relu", reglu, lambda gate, up: TF.relu(gate) * up, exact=True),
    GatedActivation("sigmoid_glu", "GLU (sigmoid)", "sigmoid", sigmoid_glu, lambda gate, up: torch.sigmoid(gate) * up),
)}
"""Every gated activation, by op name."""
