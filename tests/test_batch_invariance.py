"""Batch invariance: an element's result depends only on its value and the
op's arguments, never on where it sits. Every element, whatever its offset,
the tensor's size or the vector lane it lands in, goes through the same code
(the kernels run a loop's tail through the vector code of its body), so a
slice of a result equals the result of the slice, bit for bit: values, input
gradients, sign of zero and NaN included. (Thread counts: test_threads.py;
DTensor shards: test_dtensor.py.)"""
import math

import pytest
import torch

from torch_act import ACTIVATIONS

from helpers import FLOAT_DTYPES, all_variants, variant_id

VARIANTS = all_variants()
N = 4099
STARTS = range(17)  # every lane of a 16-lane vector, and one more
ENDS = (N, N - 1, N - 5, N - 13)
BITS = {torch.float32: torch.int32, torch.float64: torch.int64, torch.bfloat16: torch.int16,
        torch.float16: torch.int16}


def inputs(dtype):
    """Normal values, magnitudes over many binades, values around the switch
    points of the fast formulas (GELU's |x| = 3 and its intervals, overflow of
    exp, the results near underflow that take exp 2^S times larger: x below
    -80 in float and -700 in double, GELU's below -12 and -36) and special
    values, scattered so that every lane sees some."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, generator=g, dtype=torch.float64) * 3
    wide = torch.randn(N, generator=g, dtype=torch.float64).sign() * torch.exp(
        torch.empty(N, dtype=torch.float64).uniform_(-20, 5, generator=g))
    x = torch.where(torch.rand(N, generator=g) < 0.3, wide, x)
    edges = torch.tensor([3.0, -3.0, 2.999, -3.001, 1.35, 2.7, 13.5, -13.5, 17.4, -17.4, 87.3, -87.3, 88.8,
                          -104.0, -10.5, -37.5, -90.0, -705.0, -740.0, 1e-7, -1e-7, 0.0, -0.0, math.inf, -math.inf, math.nan, -math.nan],
                         dtype=torch.float64)
    at = torch.randperm(N, generator=g)[: 8 * edges.numel()]
    x[at] = edges.repeat(8)
    return x.to(dtype)


def bits(t):
    return t.contiguous().view(BITS[t.dtype])


def forward_backward(name, kwargs, x, grad, inplace=False):
    entry = ACTIVATIONS[name]
    leaf = x.detach().clone().requires_grad_()
    args = [leaf.clone() if inplace else leaf]  # clone: its backward passes the gradient on untouched
    weight = None
    if entry.parameter:
        weight = torch.tensor([0.25], dtype=x.dtype, requires_grad=True)
        args.append(weight)
    y = entry.function(*args, **kwargs, **({"inplace": True} if inplace else {}))
    (gx,) = torch.autograd.grad(y, leaf, grad)
    return y.detach(), gx


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=[variant_id(n, kw) for n, kw in VARIANTS])
def test_slice_of_result_is_result_of_slice(name, kwargs, dtype):
    x = inputs(dtype)
    grad = torch.randn(N, generator=torch.Generator().manual_seed(1), dtype=torch.float64).to(dtype)
    modes = [False] + ([True] if ACTIVATIONS[name].has_inplace and kwargs.get("alpha", 0) >= 0 else [])
    for inplace in modes:
        whole = forward_backward(name, kwargs, x, grad, inplace)
        for start in STARTS:
            for end in ENDS:
                # A view at an offset (unaligned, tail in other lanes) and an aligned copy.
                for part in (x[start:end], x[start:end].clone()):
                    got = forward_backward(name, kwargs, part, grad[start:end], inplace)
                    for what, a, b in zip(("output", "input gradient"), got, whole):
                        differ = (bits(a) != bits(b[start:end])).nonzero()
                        assert differ.numel() == 0, (
                            f"{what} of x[{start}:{end}] (in place: {inplace}) differs from the whole tensor's "
                            f"at {differ.numel()} elements, first x = {part[differ[0]].item()!r}: "
                            f"{a[differ[0]].item()!r} vs {b[start:end][differ[0]].item()!r}")
