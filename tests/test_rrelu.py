"""RReLU in training: random slopes from torch's generator, drawn again in backward.

Out of training RReLU is LeakyReLU with slope (lower + upper) / 2 and goes
through the registry's suites (parity bit for bit with torch.nn, gradcheck,
OpInfo, opcheck, ...). In training its slopes are torch_act's own draw: a
hash of the call's seed and each element's index in memory order
(csrc/activations.h, RReLU). The reference here is that hash written again
in numpy, so every CPU build and layout is held to the same bits.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch import nn

import torch_act
from helpers import FLOAT_DTYPES, with_specials

ops = torch.ops.torch_act
LOWER, UPPER = 1.0 / 8, 1.0 / 3
BOUNDS = [(LOWER, UPPER), (0.1, 0.3), (0.2, 0.2), (-0.5, 0.25)]


def _mix32(x):
    x = x ^ (x >> np.uint64(16))
    x = (x * np.uint64(0x7FEB352D)) & np.uint64(0xFFFFFFFF)
    x = x ^ (x >> np.uint64(15))
    x = (x * np.uint64(0x846CA68B)) & np.uint64(0xFFFFFFFF)
    return x ^ (x >> np.uint64(16))


def reference_slopes(seed, n, lower, upper, dtype):
    """The slopes of elements 0 .. n-1 of a call with `seed`, in the compute
    type (float64 for float64, float32 otherwise), as a 1-d tensor."""
    mask32 = np.uint64(0xFFFFFFFF)
    s = np.uint64(seed % 2**64)
    i = np.arange(n, dtype=np.uint64)
    bits = _mix32(_mix32(((i & mask32) + (s & mask32)) & mask32)
                  ^ (((i >> np.uint64(32)) + (s >> np.uint64(32))) & mask32))
    u = (bits >> np.uint64(3)).astype(np.float64) * 2.0**-29
    width = (np.array(upper - lower, dtype=np.float64).view(np.uint64) & ~np.uint64(2**29 - 1)).view(np.float64)
    slopes = lower + width * u
    compute = torch.float64 if dtype == torch.float64 else torch.float32
    return torch.from_numpy(slopes).to(compute)


def laid_out_like(x, flat):
    """`flat` (one value per element, in memory order) as a tensor of x's shape:
    element k of the memory order of the layout torch_act computes in (x's own
    where x is dense, empty_like's otherwise) gets flat[k]."""
    return torch.as_strided(flat, x.shape, torch.empty_like(x).stride())


def reference(x, grad, seed, lower, upper):
    """torch's training rule (x <= 0 ? x * slope : x; gradient grad * slope there,
    grad elsewhere, NaN included) with the reference slopes, in the compute type."""
    slopes = laid_out_like(x, reference_slopes(seed, x.numel(), lower, upper, x.dtype))
    xc, gc = x.to(slopes.dtype), grad.to(slopes.dtype)
    negative = xc <= 0
    y = torch.where(negative, xc * slopes, xc).to(x.dtype)
    g = torch.where(negative, gc * slopes, gc).to(x.dtype)
    return y, g


def layouts(dtype):
    """Tensors in the layouts the kernels treat differently, specials included."""
    torch.manual_seed(0)
    base = with_specials(torch.randn(3, 5, 67, dtype=dtype))
    yield "contiguous", base
    yield "offset 1", base.flatten()[1:]
    yield "channels_last", with_specials(torch.randn(2, 3, 9, 11, dtype=dtype)).contiguous(
        memory_format=torch.channels_last)
    yield "transposed", base.transpose(0, 2)
    yield "strided", base[:, ::2]
    yield "one element", base.flatten()[:1]
    yield "zero_dim", -torch.ones((), dtype=dtype)
    yield "empty", torch.randn(0, 3, dtype=dtype)
    yield "tail", with_specials(torch.randn(64 * 40 + 13, dtype=dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("lower,upper", BOUNDS)
def test_training_values_and_gradient_equal_the_reference_bit_for_bit(dtype, lower, upper):
    for layout, x in layouts(dtype):
        seed = 1234567 + x.numel()
        leaf = x.detach().clone().requires_grad_(True)
        y = ops.rrelu(leaf, lower, upper, True, seed)
        grad = torch.randn_like(x)
        (dx,) = torch.autograd.grad(y, leaf, grad)
        y_ref, dx_ref = reference(x, grad, seed, lower, upper)
        torch.testing.assert_close(y, y_ref, rtol=0, atol=0, equal_nan=True, msg=layout)
        torch.testing.assert_close(dx, dx_ref, rtol=0, atol=0, equal_nan=True, msg=layout)
        # Without grad (the plain forward kernel) the same slopes.
        torch.testing.assert_close(ops.rrelu(x, lower, upper, True, seed), y_ref, rtol=0, atol=0,
                                   equal_nan=True, msg=layout)


def test_seeds_beyond_32_bits_and_indices_past_2_to_32_use_all_their_bits():
    x = -torch.ones(4096)
    a = ops.rrelu(x, 0.0, 1.0, True, 5)
    b = ops.rrelu(x, 0.0, 1.0, True, 5 + 2**32)
    c = ops.rrelu(x, 0.0, 1.0, True, -7)
    assert not torch.equal(a, b) and not torch.equal(a, c)
    torch.testing.assert_close(c, -reference_slopes(-7, 4096, 0.0, 1.0, torch.float32), rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_slopes_are_uniform_on_lower_upper(dtype):
    lower, upper, n = 0.1, 0.3, 200_000
    torch.manual_seed(3)
    slopes = -torch_act.rrelu(-torch.ones(n, dtype=dtype), lower, upper, training=True).double()
    assert slopes.min() >= torch.tensor(lower, dtype=dtype) and slopes.max() <= torch.tensor(upper, dtype=dtype)
    # Mean and ten equal bins of U(lower, upper), each within 5 standard deviations.
    sd_mean = (upper - lower) / 12**0.5 / n**0.5
    assert abs(slopes.mean().item() - (lower + upper) / 2) < 5 * sd_mean
    counts = torch.histc(slopes, bins=10, min=lower, max=upper)
    expected = n / 10
    assert (counts - expected).abs().max() < 5 * (expected * 0.9) ** 0.5, counts
    # Neighbours are not correlated (a hash of the index, not a slow sequence).
    centred = slopes - slopes.mean()
    lag1 = (centred[1:] * centred[:-1]).mean() / centred.var()
    assert abs(lag1.item()) < 5 / n**0.5


def test_torch_manual_seed_repeats_a_run_and_each_call_draws_anew():
    x = torch.randn(1000)
    torch.manual_seed(11)
    a, b = torch_act.rrelu(x, training=True), torch_act.rrelu(x, training=True)
    torch.manual_seed(11)
    a2 = torch_act.rrelu(x, training=True)
    assert torch.equal(a, a2) and not torch.equal(a, b)
    # The function's seed is one draw from torch's default generator.
    torch.manual_seed(11)
    seed = int(torch.empty((), dtype=torch.int64).random_().item())
    assert torch.equal(a, ops.rrelu(x, LOWER, UPPER, True, seed))
    # Out of training nothing is drawn: the generator is left as it was.
    torch.manual_seed(11)
    torch_act.rrelu(x)
    assert torch.equal(torch_act.rrelu(x, training=True), a)


def test_backward_keeps_one_bit_per_element_and_no_slopes():
    x = torch.randn(64 * 100, requires_grad=True)
    saved = []

    def pack(t):
        saved.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = torch_act.rrelu(x, training=True)
    assert [(t.dtype, t.numel()) for t in saved] == [(torch.uint8, x.numel() // 8)]
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        z = TF.rrelu(x, training=True)
    assert saved[-1].numel() == x.numel()  # torch.nn keeps a full tensor of slopes (its noise)
    y.sum().backward()
    z.sum().backward()


def test_in_place_training_matches_out_of_place_values_and_gradients():
    x = with_specials(torch.randn(4, 70))
    for offset in (0, 1):
        leaf = x.clone().requires_grad_(True)
        y = ops.rrelu(leaf[:, offset:], 0.1, 0.3, True, 99)
        (g,) = torch.autograd.grad(y.sum(), leaf)
        leaf2 = x.clone().requires_grad_(True)
        h = leaf2 * 1.0  # a non-leaf to write into
        ops.rrelu_(h[:, offset:], 0.1, 0.3, True, 99)
        (g2,) = torch.autograd.grad(h[:, offset:].sum(), leaf2)
        torch.testing.assert_close(h[:, offset:], y, rtol=0, atol=0, equal_nan=True)
        torch.testing.assert_close(g2, g, rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("inplace", [False, True])
def test_the_function_takes_torch_nn_functional_arguments(inplace):
    x = torch.randn(300)
    torch.manual_seed(5)
    a = torch_act.rrelu(x.clone(), 0.2, 0.4, True, inplace)
    torch.manual_seed(5)
    b = torch_act.functional.rrelu(x.clone(), lower=0.2, upper=0.4, training=True, inplace=inplace)
    assert torch.equal(a, b)
    slopes = (a / x)[x < 0]
    assert slopes.min() >= 0.2 - 1e-6 and slopes.max() <= 0.4 + 1e-6


def test_gradcheck_gradgradcheck_forward_ad_batched_in_training():
    x = torch.randn(4, 9, dtype=torch.float64)
    x = torch.where(x.abs() < 0.05, x + 0.2, x).requires_grad_(True)  # away from the kink

    def f(t):
        return ops.rrelu(t, 0.1, 0.3, True, 42)

    assert torch.autograd.gradcheck(f, (x,), check_forward_ad=True, check_batched_grad=True,
                                    check_batched_forward_grad=True)
    assert torch.autograd.gradgradcheck(f, (x,), check_fwd_over_rev=True, check_batched_grad=True)


def test_vmap_without_the_fallback_draws_one_set_of_slopes_per_call():
    """Under vmap sample b's element k is element k of row b of the batch laid
    out as rows of whole mask words: with grad or without, forward and
    backward, jacrev and jacfwd (whose masks come from one sample) agree."""
    from torch._C._functorch import _set_vmap_fallback_enabled

    def f(t):
        return ops.rrelu(t, 0.1, 0.3, True, 8)

    x = torch.randn(5, 3, 7)
    _set_vmap_fallback_enabled(False)
    try:
        y = torch.func.vmap(f)(x)
        y_grad, vjp = torch.func.vjp(torch.func.vmap(f), x)
        rev = torch.func.vmap(torch.func.jacrev(f))(x[:, 0])
        fwd = torch.func.vmap(torch.func.jacfwd(f))(x[:, 0])
        y0 = torch.func.vmap(f)(x[:, 0])
    finally:
        _set_vmap_fallback_enabled(True)
    assert torch.equal(y, y_grad)
    assert torch.equal(y[0], f(x[0]))  # row 0 holds indices 0 .. n-1
    (g,) = vjp(torch.ones_like(y))
    assert torch.equal(g * x, y)  # the gradient is each element's own slope (1 where x > 0)
    for jac in (rev, fwd):
        assert torch.equal(jac, torch.diag_embed(jac.diagonal(dim1=1, dim2=2)))
        assert torch.equal(jac.diagonal(dim1=1, dim2=2) * x[:, 0], y0)


def test_module_follows_train_and_eval_as_torch_nn():
    torch.manual_seed(0)
    m, ref = torch_act.RReLU(0.1, 0.3), nn.RReLU(0.1, 0.3)
    assert repr(m) == repr(ref) and repr(torch_act.RReLU(inplace=True)) == repr(nn.RReLU(inplace=True))
    x = torch.randn(2000)
    y = m(x)
    slopes = (y / x)[x < 0]
    assert slopes.min() >= 0.1 - 1e-6 and slopes.max() <= 0.3 + 1e-6 and slopes.std() > 0.03
    m.eval(), ref.eval()
    assert torch.equal(m(x), ref(x))
    converted = torch_act.convert(nn.Sequential(nn.RReLU(0.05, 0.15, inplace=True)).eval())
    assert isinstance(converted[0], torch_act.RReLU) and not converted[0].training
    assert (converted[0].lower, converted[0].upper, converted[0].inplace) == (0.05, 0.15, True)


def test_everywhere_routes_training_calls():
    x = torch.randn(100)
    torch.manual_seed(1)
    with torch_act.everywhere() as calls:
        a = TF.rrelu(x, 0.1, 0.3, training=True)
        b = torch.rrelu(x, 0.1, 0.3, True)
    torch.manual_seed(1)
    assert torch.equal(a, torch_act.rrelu(x, 0.1, 0.3, training=True))
    assert calls.counts["rrelu"] == 2 and not torch.equal(a, b)


def test_scripted_function_and_module_draw_like_eager():
    scripted = torch.jit.script(torch_act.RReLU(0.1, 0.3))
    x = torch.randn(500)
    torch.manual_seed(2)
    a = scripted(x)
    torch.manual_seed(2)
    assert torch.equal(a, torch_act.rrelu(x, 0.1, 0.3, training=True))
    scripted.eval()
    assert torch.equal(scripted(x), TF.rrelu(x, 0.1, 0.3))


@pytest.mark.parametrize("lower,upper,words", [
    (0.5, 0.1, "Lower bound should be less than or equal to the upper bound"),
    (float("inf"), 1.0, "rrelu: lower bound must be finite, got inf"),
    (0.1, float("nan"), "rrelu: upper bound must be finite, got nan"),
])
@pytest.mark.parametrize("training", [False, True])
def test_bounds_torch_refuses_are_refused_with_its_words_before_any_write(lower, upper, words, training):
    x = torch.randn(10)
    with pytest.raises(RuntimeError, match="Lower bound|must be finite"):
        TF.rrelu(x, lower, upper, training)
    before = x.clone()
    for fn in (lambda: torch_act.rrelu(x, lower, upper, training),
               lambda: torch_act.rrelu(x, lower, upper, training, inplace=True)):
        with pytest.raises(RuntimeError, match=f"torch_act.rrelu.*{words}"):
            fn()
    assert torch.equal(x, before)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_draws_the_cpus_slopes():
    x = torch.randn(2**20 + 37)
    for dtype in (torch.float32, torch.bfloat16):
        xc = x.to(dtype)
        leaf_cpu, leaf_cuda = xc.clone().requires_grad_(), xc.cuda().requires_grad_()
        y_cpu, y_cuda = ops.rrelu(leaf_cpu, 0.1, 0.3, True, 3), ops.rrelu(leaf_cuda, 0.1, 0.3, True, 3)
        assert torch.equal(y_cuda.cpu(), y_cpu)
        y_cpu.sum().backward()
        y_cuda.sum().backward()
        assert torch.equal(leaf_cuda.grad.cpu(), leaf_cpu.grad)


def test_torch_compile_draws_each_call_without_compiling_again():
    from torch._dynamo.utils import counters
    torch._dynamo.reset()
    counters.clear()
    compiled = torch.compile(lambda t: torch_act.rrelu(t * 2, 0.1, 0.3, training=True) + 1)
    x = torch.randn(1000)
    outs = [compiled(x) for _ in range(10)]
    assert len({o.sum().item() for o in outs}) == 10
    assert counters["stats"]["unique_graphs"] <= 2  # before and after the draw, once each
    torch.manual_seed(4)
    a = compiled(x)
    torch.manual_seed(4)
    assert torch.equal(a, torch_act.rrelu(x * 2, 0.1, 0.3, training=True) + 1)
    # Out of training nothing is drawn: one graph, torch.nn's values.
    evaluated = torch.compile(lambda t: torch_act.rrelu(t, 0.1, 0.3), fullgraph=True)
    assert torch.equal(evaluated(x), TF.rrelu(x, 0.1, 0.3))
