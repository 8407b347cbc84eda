"""Values and gradients equal torch.nn.functional's for every activation,
argument set, dtype and memory layout, special values included."""
import pytest
import torch

from torch_act import ACTIVATIONS

from helpers import (EXACT, FLOAT_DTYPES, INCOMING_AT_NAN, LAYOUTS, ZERO_IS_POSITIVE, all_variants, assert_same,
                     check_against_torch, corrected_reference, incoming_at_nan, make_leaf, run, variant_id)

VARIANTS = all_variants()


VARIANT_IDS = [variant_id(n, kw) for n, kw in VARIANTS]


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=VARIANT_IDS)
def test_layouts_dtypes_special_values(name, kwargs, dtype, layout):
    shape, make_input = LAYOUTS[layout]
    leaf = make_leaf(shape, dtype)
    for per_channel in (False, True) if ACTIVATIONS[name].parameter else (False,):
        check_against_torch(name, kwargs, leaf, make_input, per_channel)


# Sizes crossing every vector width (8/16/32 lanes), the 64-element mask word,
# the 1024-element staging block and the 32768-element parallel grain.
SIZES = [1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1023, 1024, 1025,
         32767, 32768, 32769, 65599, 100003, 262147]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=VARIANT_IDS)
def test_sizes(name, kwargs, dtype):
    for n in SIZES:
        leaf = make_leaf((n,), dtype, seed=n)
        check_against_torch(name, kwargs, leaf, lambda t: t)


@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16], ids=str)
def test_prelu_many_channels_multithreaded(dtype, layout):
    """Per-channel alpha on a tensor split across threads and reduction chunks."""
    make_input = LAYOUTS[layout][1]
    for shape in [(4, 64, 30, 30), (3, 2000, 5, 5), (1, 7, 300, 301)]:
        leaf = make_leaf(shape, dtype, specials=False)
        check_against_torch("prelu", {}, leaf, make_input, per_channel=True)


# The sign of zero: assert_close calls -0.0 equal to +0.0, so the exact
# (piecewise-linear) activations compare torch.signbit too, on +-0.0 filling
# whole vectors of every width and the scalar tail (2 * 64 + 7 elements).
ZERO_PATTERNS = {
    "negative_zeros": lambda n: torch.full((n,), -0.0, dtype=torch.float64),
    "positive_zeros": lambda n: torch.zeros(n, dtype=torch.float64),
    "alternating": lambda n: torch.tensor([(-1.0) ** i * 0.0 for i in range(n)], dtype=torch.float64),
    "mixed": lambda n: torch.where(torch.arange(n) % 3 == 0, -0.0,
                                   torch.randn(n, generator=torch.Generator().manual_seed(n), dtype=torch.float64)),
}
EXACT_VARIANTS = [(n, kw) for n, kw in VARIANTS if n in EXACT]


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device"))])
@pytest.mark.parametrize("pattern", list(ZERO_PATTERNS))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("name,kwargs", EXACT_VARIANTS, ids=[variant_id(n, kw) for n, kw in EXACT_VARIANTS])
def test_sign_of_zero_matches_torch(name, kwargs, dtype, pattern, device):
    entry = ACTIVATIONS[name]
    x = ZERO_PATTERNS[pattern](2 * 64 + 7).to(dtype).view(1, -1).to(device)
    weights = [torch.tensor([s], dtype=dtype, device=device) for s in (0.25, -0.25, 0.0)] if entry.parameter else [None]
    for weight in weights:
        ours = run(entry.function, x, lambda t: t, weight, kwargs)
        theirs = run(entry.torch_function, x, lambda t: t, weight, kwargs)
        expected = (theirs[0], corrected_reference(name, theirs[1], x, theirs[3]))
        for what, a, b in zip(("output", "grad_input"), ours[:2], expected):
            assert_same(a, b, exact=True)
            sign = b.signbit() & (b != 0) if what == "output" and name in ZERO_IS_POSITIVE else b.signbit()
            number = ~b.isnan()  # a NaN's sign bit is unspecified (bfloat16 conversions make 0xFFFF)
            assert torch.equal(a.signbit()[number], sign[number]), f"{what}: sign of zero differs from torch.nn's"
        if weight is not None:  # a sum (order differs): its sign only where it is zero
            assert_same(ours[2], theirs[2], exact=False)
            zero = theirs[2] == 0
            assert torch.equal(ours[2].signbit()[zero], theirs[2].signbit()[zero]), "grad_weight: sign of zero"
        if entry.has_inplace:
            a, b = x.clone(), x.clone()
            entry.function(a, **kwargs, inplace=True)
            entry.torch_function(b, **kwargs, inplace=True)
            sign = b.signbit() & (b != 0) if name in ZERO_IS_POSITIVE else b.signbit()
            number = ~b.isnan()
            assert torch.equal(a.signbit()[number], sign[number]), "in place: sign of zero differs from torch.nn's"


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
def test_gradient_at_nan_is_grad_output(dtype, inplace):
    """ELU's and CELU's gradient at a NaN input is grad_output (NaN <= 0 is
    false; SELU's grad_output * scale, its positive side's), and so
    are Hardtanh's and ReLU6's (NaN is neither <= min_val nor >= max_val) and
    the shrinks' (NaN is not inside [-lambd, lambd]), as torch.nn's scalar and
    CUDA kernels give, in the vector body and in the tail alike (torch's CPU
    vector body gives NaN for ELU, 0 for the others: torch differs from itself)."""
    for name, kwargs in [(n, kw) for n, kw in VARIANTS if n in INCOMING_AT_NAN]:
        if inplace and (kwargs.get("alpha", 1.0) < 0 or not ACTIVATIONS[name].has_inplace):
            continue  # torch.nn refuses it; torch_act's in-place ELU keeps the input then
        for n in (1, 7, 16, 33, 100):
            leaf = torch.full((n,), float("nan"), dtype=dtype, requires_grad=True)
            grad = torch.arange(1, n + 1, dtype=dtype)
            y = ACTIVATIONS[name].function(leaf * 1, **kwargs, **({"inplace": True} if inplace else {}))
            (g,) = torch.autograd.grad(y, leaf, grad)
            assert torch.equal(g, incoming_at_nan(name, grad)), (name, kwargs, n, g)
            if not inplace:  # forward-mode AD: the tangent passes unchanged too
                _, tangent = torch.func.jvp(lambda t: ACTIVATIONS[name].function(t, **kwargs), (leaf.detach(),),
                                            (grad,))
                assert torch.equal(tangent, incoming_at_nan(name, grad)), (name, kwargs, n, tangent)
