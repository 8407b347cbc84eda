"""Functional API: the names, parameters and defaults of torch.nn.functional.

Each function is a thin wrapper over a dispatcher op ``torch.ops.torch_act.*``
(schemas in csrc/ops/library.cpp), so autograd, torch.compile and TorchScript
see the same op whether it is called from here, from a module or from C++.
"""
import torch
from torch import Tensor

from . import _library  # noqa: F401  (registers torch.ops.torch_act)

__all__ = ["relu", "leaky_relu", "prelu", "elu", "sigmoid", "tanh"]



def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """ReLU(x) = max(0, x), elementwise. Same as ``torch.nn.functional.relu``.

    Saves a 1-bit-per-element mask for backward, not the output, so the
    result may be modified in place afterwards.
    """
    if inplace:
        torch.ops.torch_act.relu_(input)
        return input
    return torch.ops.torch_act.relu(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """LeakyReLU(x) = x if x > 0 else negative_slope * x.

    Same as ``torch.nn.functional.leaky_relu`` (default slope 0.01; note that
    TensorFlow's ``tf.nn.leaky_relu`` defaults to 0.2). Saves a 1-bit mask,
    so in-place use gives correct gradients for any slope, negative included.
    """
    if inplace:
        torch.ops.torch_act.leaky_relu_(input, negative_slope)
        return input
    return torch.ops.torch_act.leaky_relu(input, negative_slope)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """PReLU(x) = x if x > 0 else weight[c] * x, c being the channel (dim 1).

    ``weight`` is 0-d, or 1-d with 1 or C elements, as ``torch.nn.functional.prelu``.
    Its gradient is reduced in the same fused pass as the input's gradient.
    """
    return torch.ops.torch_act.prelu(input, weight)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """ELU(x) = x if x > 0 else alpha * (exp(x) - 1). Same as ``torch.nn.functional.elu``.

    For alpha >= 0 backward reads the output (saved anyway by the next layer
    in most models); modifying that output in place then makes backward raise
    autograd's "modified by an inplace operation" error.
    """
    if inplace:
        torch.ops.torch_act.elu_(input, alpha)
        return input
    return torch.ops.torch_act.elu(input, alpha)


def sigmoid(input: Tensor) -> Tensor:
    """Sigmoid(x) = 1 / (1 + exp(-x)). Same as ``torch.sigmoid``; backward reads the output."""
    return torch.ops.torch_act.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """Tanh(x). Same as ``torch.tanh``; backward reads the output."""
    return torch.ops.torch_act.tanh(input)
