"""Hypothesis: random shapes, strides and values, every activation and dtype,
values and gradients against torch.nn.functional."""
import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from torch_act import ACTIVATIONS

from helpers import EXACT, FLOAT_DTYPES, all_variants, assert_same, elu_output_grad_atol

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
    return x


@settings(deadline=None, max_examples=300)
@given(x64=strided_inputs(), variant=st.sampled_from(VARIANTS), dtype=st.sampled_from(FLOAT_DTYPES),
       per_channel=st.booleans(), data=st.data())
def test_random_inputs_match_torch(x64, variant, dtype, per_channel, data):
    name, kwargs = variant
    entry = ACTIVATIONS[name]
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
        xi = xi.requires_grad_()
        wi = weight.detach().clone().requires_grad_() if weight is not None else None
        y = fn(xi, wi, **kwargs) if wi is not None else fn(xi, **kwargs)
        grads = torch.autograd.grad(y, [t for t in (xi, wi) if t is not None], grad_out)
        return y.detach(), grads

    y, grads = run(entry.function)
    ref_y, ref_grads = run(entry.torch_function)
    exact = name in EXACT
    assert_same(y, ref_y, exact)
    ref_gx = ref_grads[0]
    if name == "elu":  # see test_parity: torch's scalar tail and vector body disagree at NaN
        ref_gx = ref_gx.masked_fill(torch.isnan(x), float("nan"))
    atol = elu_output_grad_atol(kwargs, dtype, grad_out) if name == "elu" else 0.0
    assert_same(grads[0], ref_gx, exact, atol)
    if weight is not None:
        assert_same(grads[1], ref_grads[1], exact=False)
