"""Hypothesis: random shapes, strides, offsets and values, every activation
and dtype, in place and out of place, with and without autograd, values and
gradients against torch.nn.functional.

Example counts come from a hypothesis profile: "default" (every `make test`,
about 300 examples in all, 40 per activation) or "fuzz" (`make fuzz`:
HYPOTHESIS_PROFILE=fuzz, 10,000 per activation, run under the sanitizer
build). TORCH_ACT_FUZZ_EXAMPLES overrides the fuzz count.
"""
import math
import os

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from torch_act import ACTIVATIONS

from helpers import (EXACT, FLOAT_DTYPES, all_variants, assert_same, output_grad_atol, float64_values,
                     judged_reference, corrected_reference)

settings.register_profile("default", deadline=None, max_examples=40)
settings.register_profile("fuzz", deadline=None, print_blob=True,
                          max_examples=int(os.environ.get("TORCH_ACT_FUZZ_EXAMPLES", "10000")))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

VARIANTS = all_variants()
SPECIAL = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-40, -1e-40, 1e30, -1e30]


@st.composite
def strided_inputs(draw):
    """A float64 tensor with a random shape, then permuted, sliced with steps, or expanded."""
    ndim = draw(st.integers(0, 4))
    shape = draw(st.lists(st.integers(0, 6), min_size=ndim, max_size=ndim))
    n = math.prod(shape)
    values = draw(st.lists(st.one_of(st.floats(-50, 50), st.sampled_from(SPECIAL)),
                           min_size=n, max_size=n))
    x = torch.tensor(values, dtype=torch.float64).reshape(shape)
    if ndim >= 2 and draw(st.booleans()):
        x = x.permute(*draw(st.permutations(range(ndim))))
    if draw(st.booleans()):  # a broadcast (stride-0) dimension
        d = draw(st.integers(0, x.dim()))
        x = x.unsqueeze(d)
        sizes = list(x.shape)
        sizes[d] = draw(st.integers(1, 3))
        x = x.expand(sizes)
    if x.dim() >= 1 and draw(st.booleans()):
        step = draw(st.integers(1, 3))
        x = x[tuple([slice(None)] * (x.dim() - 1) + [slice(None, None, step)])]
    if x.dim() >= 1 and x.shape[0] >= 2 and draw(st.booleans()):  # a storage offset (unaligned vectors)
        x = x[draw(st.integers(1, x.shape[0] - 1)):]
    if x.dim() >= 1 and draw(st.booleans()):
        # torch has no negative strides: flip copies, reversing the order the kernels see
        x = x.flip(draw(st.integers(0, x.dim() - 1)))
    return x


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@given(x64=strided_inputs(), dtype=st.sampled_from(FLOAT_DTYPES), per_channel=st.booleans(), data=st.data())
def test_random_inputs_match_torch(name, x64, dtype, per_channel, data):
    entry = ACTIVATIONS[name]
    kwargs = data.draw(st.sampled_from([kw for n, kw in VARIANTS if n == name]), label="kwargs")
    modes = ["autograd", "no_grad"] + (["inplace"] if entry.has_inplace else [])
    mode = data.draw(st.sampled_from(modes), label="mode")
    x = x64.to(dtype)
    weight = None
    if entry.parameter:
        channels = x.shape[1] if per_channel and x.dim() >= 2 else 1
        w = data.draw(st.lists(st.floats(-2, 2), min_size=channels, max_size=channels))
        weight = torch.tensor(w, dtype=dtype)
    grad_out = torch.randn(x.shape, generator=torch.Generator().manual_seed(0),
                           dtype=torch.float64).to(dtype)

    def run(fn):
        xi = x.detach().clone() if x.is_contiguous() else x.detach()
        xi = xi.requires_grad_(mode != "no_grad")
        wi = weight.detach().clone().requires_grad_(mode != "no_grad") if weight is not None else None
        if mode == "inplace":
            # On a non-leaf, as a model's in-place activation runs: a fresh tensor with x's
            # strides where x is dense (a broadcast x becomes dense: in place needs one
            # memory location per element).
            # torch.nn's reference runs out of place: its in-place LeakyReLU/ELU refuse
            # backward with a negative slope/alpha, which torch_act's compute.
            target = xi * 1.0
            if fn is entry.function:
                y = fn(target, **kwargs, inplace=True)
                assert y is target, "torch_act's in-place form returns its input"
            else:
                y = fn(target, **kwargs)
        elif mode == "no_grad":
            with torch.no_grad():
                y = fn(xi, wi, **kwargs) if wi is not None else fn(xi, **kwargs)
            return y, None
        else:
            y = fn(xi, wi, **kwargs) if wi is not None else fn(xi, **kwargs)
        leaves = [t for t in (xi, wi) if t is not None]
        grads = torch.autograd.grad(y, leaves, grad_out)
        return y.detach(), grads

    y, grads = run(entry.function)
    ref_y, ref_grads = run(entry.torch_function)
    exact = name in EXACT
    if not exact:  # where torch.nn disagrees with torch_act, the float64 value decides
        ref_y = judged_reference(y, ref_y, lambda i: float64_values(entry.torch_function, x, grad_out, kwargs, i)[0])
    assert_same(y, ref_y, exact)
    if mode == "no_grad":
        assert not y.requires_grad and y.grad_fn is None
        return
    ref_gx = corrected_reference(name, ref_grads[0], x, grad_out)  # torch disagrees with itself at NaN there
    atol = output_grad_atol(name, kwargs, dtype, grad_out)
    if not exact:
        ref_gx = judged_reference(grads[0], ref_gx,
                                  lambda i: float64_values(entry.torch_function, x, grad_out, kwargs, i)[1], atol)
    assert_same(grads[0], ref_gx, exact, atol)
    if weight is not None:
        assert_same(grads[1], ref_grads[1], exact=False)
