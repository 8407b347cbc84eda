"""The gated family (torch_act.gated): act(gate) * up and both gradients
against the exact value (mpmath in float64), ReGLU bit for bit with the
composite, GLU exactly as F.glu, the split convention, what backward keeps,
gradcheck/gradgradcheck with forward AD, vmap with the fallback off,
TorchScript, torch.compile, batch invariance and the error messages
(opcheck: tests/test_opcheck.py; DTensor: tests/test_dtensor.py)."""
import math
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as TF

import torch_act
from torch_act import GATED

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import gated_accuracy  # noqa: E402  (the exact values: tools/gated_accuracy.py)

VARIANTS = [(name, kw) for name, g in GATED.items() for kw in g.variants]
IDS = [name + "".join(f"-{v}" for v in kw.values()) for name, kw in VARIANTS]
DTYPES = [torch.float32, torch.float64, torch.bfloat16, torch.float16]

# Units in the last place the fused results may be from the float64 value:
# the activation's own bound (README's accuracy table: at most ~3.5 ulp for
# SiLU, GELU and sigmoid, forward and derivative) plus the roundings of the
# products (grad * up, then times act'). Reduced types compute in float and
# round once: within one unit of their own.
ULPS = {torch.float32: 6, torch.float64: 6, torch.bfloat16: 1, torch.float16: 1}


def make(shape, dtype, seed, specials=True):
    return gated_accuracy.sample(math.prod(shape), dtype, seed, specials).reshape(shape)


def truth(name, kw, gate, up, grad):
    return gated_accuracy.truth(name, kw, gate, up, grad)


def fused(name, kw, gate, up, grad):
    g, u = gate.detach().clone().requires_grad_(), up.detach().clone().requires_grad_()
    y = GATED[name].function(g, u, **kw)
    gg, gu = torch.autograd.grad(y, (g, u), grad)
    return y.detach(), gg, gu


def assert_near(actual, exact, dtype, scale, what):
    """Within ULPS units (tools/gated_accuracy.py's `units`) of the exact value, non-finite values matched."""
    err = gated_accuracy.units(actual, exact, scale, dtype)
    bad = ~(err <= ULPS[dtype])
    assert not bad.any(), (f"{what}: {int(bad.sum())} of {bad.numel()} beyond {ULPS[dtype]} units, e.g. "
                           f"{actual.double()[bad][0].item()} vs {exact[bad][0].item()}")


LAYOUTS = {
    "flat-17": lambda t: t.reshape(-1)[:17],
    "flat-4099": lambda t: t.reshape(-1)[:4099],
    "contiguous": lambda t: t,
    "transposed": lambda t: t.transpose(0, 2),
    "offset-1": lambda t: t.reshape(-1)[1:],
    "strided": lambda t: t[:, ::2],
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name,kw", VARIANTS, ids=IDS)
def test_matches_the_float64_composite(name, kw, dtype, layout):
    shape = (6, 10, 71)
    view = LAYOUTS[layout]
    gate, up, grad = (view(make(shape, dtype, seed)) for seed in (0, 1, 2))
    got = fused(name, kw, gate, up, grad)
    assert all(t.shape == gate.shape and t.dtype == dtype for t in got)
    for what, a, e, scale in zip(("output", "gate gradient", "up gradient"), got, truth(name, kw, gate, up, grad),
                                 gated_accuracy.scales(gate, up, grad)):
        assert_near(a, e, dtype, scale, f"{name} {kw} {dtype} {layout} {what}")


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_reglu_equals_the_composite_bit_for_bit(dtype):
    """relu(gate) * up: one selection and one product, rounded as torch rounds them
    (sign of zero and NaN included)."""
    gate, up, grad = (make((3, 5, 77), dtype, seed) for seed in (3, 4, 5))
    ours = fused("reglu", {}, gate, up, grad)
    g, u = gate.clone().requires_grad_(), up.clone().requires_grad_()
    y = TF.relu(g) * u
    theirs = (y.detach(), *torch.autograd.grad(y, (g, u), grad))
    bits = {torch.float32: torch.int32, torch.float64: torch.int64, torch.bfloat16: torch.int16,
            torch.float16: torch.int16}[dtype]
    for what, a, b in zip(("output", "gate gradient", "up gradient"), ours, theirs):
        same = (a.view(bits) == b.view(bits)) | (a.isnan() & b.isnan())
        assert same.all(), (what, a[~same][:4], b[~same][:4])


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_glu_is_torch_glu(dim, dtype):
    x = make((6, 8, 10), dtype, 6)
    grad = make(TF.glu(x, dim).shape, dtype, 7)
    leaf = x.clone().requires_grad_()
    y = torch_act.glu(leaf, dim)
    (gx,) = torch.autograd.grad(y, leaf, grad)
    first, second = x.chunk(2, dim)
    ty, t_gate, t_up = truth("sigmoid_glu", {}, second, first, grad)
    zero, gate_scale, _ = gated_accuracy.scales(second, first, grad)
    got_first, got_second = gx.chunk(2, dim)
    what = f"glu dim={dim} {dtype}"
    assert_near(y, ty, dtype, zero, what)
    assert_near(got_first, t_up, dtype, zero, what + " grad of the first half (up)")
    assert_near(got_second, t_gate, dtype, gate_scale, what + " grad of the second half (the gate)")
    # And torch's own F.glu agrees to its tolerance (it rounds sigmoid first).
    torch.testing.assert_close(y, TF.glu(x, dim), equal_nan=True, rtol=1.6e-2 if dtype != torch.float64 else 1e-7,
                               atol=1e-5)


@pytest.mark.parametrize("call", [
    lambda x: torch_act.glu(x, 1), lambda x: torch_act.swiglu_halves(x, 1), lambda x: torch_act.GLU(1)(x),
    lambda x: torch_act.GeGLU(dim=1)(x)], ids=["glu", "swiglu_halves", "GLU", "GeGLU"])
def test_odd_and_scalar_splits_are_refused_as_torch_refuses_them(call):
    for bad, torch_call in ((torch.randn(2, 3), lambda: TF.glu(torch.randn(2, 3), 1)),
                            (torch.randn(()), lambda: TF.glu(torch.randn(()), 0))):
        with pytest.raises(RuntimeError) as theirs:
            torch_call()
        with pytest.raises(RuntimeError, match="^" + str(theirs.value).replace("(", r"\(").replace(")", r"\)")):
            call(bad)
    with pytest.raises(IndexError, match="Dimension out of range"):
        torch_act.glu(torch.randn(2, 4), 2)


# sigmoid_glu's split form is glu (gate second, as F.glu): test_glu_is_torch_glu.
SPLIT_VARIANTS = [(name, kw) for name, kw in VARIANTS if name != "sigmoid_glu"]


@pytest.mark.parametrize("name,kw", SPLIT_VARIANTS, ids=[i for (n, _), i in zip(VARIANTS, IDS) if n != "sigmoid_glu"])
def test_split_form_puts_the_activation_on_the_first_half(name, kw):
    x = make((4, 12), torch.float32, 8)
    first, second = x.chunk(2, -1)
    halves = getattr(torch_act, name + "_halves")
    module = {"swiglu": torch_act.SwiGLU, "geglu": torch_act.GeGLU, "reglu": torch_act.ReGLU}[name](**kw)
    expected = GATED[name].function(first, second, **kw)
    torch.testing.assert_close(halves(x, **kw), expected, rtol=0, atol=0, equal_nan=True)
    torch.testing.assert_close(module(x), expected, rtol=0, atol=0, equal_nan=True)


def test_module_reprs_and_state():
    assert repr(torch_act.SwiGLU()) == "SwiGLU(dim=-1)"
    assert repr(torch_act.GeGLU("tanh", dim=1)) == "GeGLU(approximate='tanh', dim=1)"
    assert repr(torch_act.ReGLU(0)) == "ReGLU(dim=0)"
    assert repr(torch_act.GLU()) == repr(torch.nn.GLU())
    assert torch_act.SwiGLU().state_dict() == {}


@pytest.mark.parametrize("name,kw", VARIANTS, ids=IDS)
def test_backward_keeps_gate_and_up_only(name, kw):
    """What autograd saves, by saved-tensor hooks: the two inputs (views of
    them, no copy), where the composite also keeps act(gate)."""
    def saved_bytes(fn):
        seen = []

        def pack(t):
            seen.append(t)
            return t
        gate = torch.randn(64, 100, requires_grad=True)
        up = torch.randn(64, 100, requires_grad=True)
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            fn(gate * 1.0, up * 1.0, **kw).sum().backward()
        return sum(t.numel() * t.element_size() for t in {id(t): t for t in seen}.values()), len(seen)

    ours, n_ours = saved_bytes(GATED[name].function)
    theirs, n_theirs = saved_bytes(GATED[name].composite)
    assert n_ours == 2 and ours == 2 * 64 * 100 * 4, (ours, n_ours)
    # The composites of SwiGLU and GeGLU keep a third tensor, act(gate); those of
    # ReGLU and GLU keep their activation's output for both of its uses.
    assert theirs == (3 if name in ("swiglu", "geglu") else 2) * 64 * 100 * 4, (theirs, n_theirs)


def gradcheck_inputs(name, seed):
    g = torch.Generator().manual_seed(seed)
    gate = torch.randn(3, 7, generator=g, dtype=torch.float64) * 2
    if name == "reglu":  # away from the kink at 0, where finite differences straddle it
        gate = gate + torch.where(gate >= 0, 0.1, -0.1)
    up = torch.randn(3, 7, generator=g, dtype=torch.float64)
    return gate.requires_grad_(), up.requires_grad_()


@pytest.mark.parametrize("name,kw", VARIANTS, ids=IDS)
def test_gradcheck_and_gradgradcheck(name, kw):
    gate, up = gradcheck_inputs(name, 9)
    fn = GATED[name].function
    assert torch.autograd.gradcheck(lambda g, u: fn(g, u, **kw), (gate, up), check_forward_ad=True,
                                    check_batched_grad=True, check_batched_forward_grad=True)
    assert torch.autograd.gradgradcheck(lambda g, u: fn(g, u, **kw), (gate, up), check_fwd_over_rev=True,
                                        check_rev_over_rev=True, check_batched_grad=True)


@pytest.fixture
def no_vmap_fallback():
    torch._C._functorch._set_vmap_fallback_enabled(False)
    yield
    torch._C._functorch._set_vmap_fallback_enabled(True)


@pytest.mark.usefixtures("no_vmap_fallback")
@pytest.mark.parametrize("in_dims", [(0, 0), (1, None), (None, 0), (2, 1)], ids=str)
@pytest.mark.parametrize("name,kw", VARIANTS, ids=IDS)
def test_vmap_forward_and_backward(name, kw, in_dims):
    from torch.func import grad, vmap

    fn = GATED[name].function
    g = torch.Generator().manual_seed(10)
    shapes = {0: (5, 4, 6), 1: (4, 5, 6), 2: (4, 6, 5), None: (4, 6)}
    gate = torch.randn(shapes[in_dims[0]], generator=g, dtype=torch.float64)
    up = torch.randn(shapes[in_dims[1]], generator=g, dtype=torch.float64)

    def sample(i, dim, t):
        return t if dim is None else t.select(dim, i)

    got = vmap(lambda a, b: fn(a, b, **kw), in_dims=in_dims)(gate, up)
    expected = torch.stack([fn(sample(i, in_dims[0], gate), sample(i, in_dims[1], up), **kw) for i in range(5)])
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    grads = vmap(grad(lambda a, b: fn(a, b, **kw).sum(), argnums=(0, 1)), in_dims=in_dims)(gate, up)
    for k in range(5):
        a, b = sample(k, in_dims[0], gate).clone().requires_grad_(), sample(k, in_dims[1], up).clone().requires_grad_()
        ga, gb = torch.autograd.grad(fn(a, b, **kw).sum(), (a, b))
        torch.testing.assert_close(grads[0][k], ga, rtol=0, atol=0)
        torch.testing.assert_close(grads[1][k], gb, rtol=0, atol=0)


@pytest.mark.parametrize("name,kw", VARIANTS, ids=IDS)
def test_jvp_matches_the_composite(name, kw):
    from torch.func import jvp

    gate, up = (t.detach() for t in gradcheck_inputs(name, 11))
    tangents = (torch.randn_like(gate), torch.randn_like(up))
    out, t_out = jvp(lambda a, b: GATED[name].function(a, b, **kw), (gate, up), tangents)
    ref, t_ref = jvp(lambda a, b: GATED[name].composite(a, b, **kw), (gate, up), tangents)
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(t_out, t_ref)


def test_torchscript_and_compile():
    x = torch.randn(4, 8, requires_grad=True)
    for module in (torch_act.SwiGLU(), torch_act.GeGLU("tanh"), torch_act.ReGLU(), torch_act.GLU(0)):
        scripted = torch.jit.script(module)
        torch.testing.assert_close(scripted(x), module(x), rtol=0, atol=0)
    compiled = torch.compile(lambda g, u: torch_act.swiglu(g, u) * 2, fullgraph=True, backend="aot_eager")
    g, u = torch.randn(5, 6, requires_grad=True), torch.randn(5, 6, requires_grad=True)
    out = compiled(g, u)
    torch.testing.assert_close(out, torch_act.swiglu(g, u) * 2, rtol=0, atol=0)
    out.sum().backward()
    assert g.grad is not None and u.grad is not None


def test_every_gated_op_of_the_library_is_in_GATED():
    """GATED (Python) and the library's gated ops (C++ list) name the same ops."""
    names = {n.split("::")[1] for n in torch._C._dispatch_get_all_op_names() if n.startswith("torch_act::")}
    first_args = {n: [a.name for a in getattr(torch.ops.torch_act, n).default._schema.arguments][:1] for n in names}
    gated_ops = {n for n, first in first_args.items() if first == ["gate"] and not n.endswith("_backward")}
    assert gated_ops == set(GATED)


@pytest.mark.parametrize("name", list(GATED))
def test_bad_arguments_are_refused_naming_them(name):
    fn = GATED[name].function
    x = torch.randn(3, 4)
    before = x.clone()
    with pytest.raises(RuntimeError, match=f"torch_act.{name}: expected 'up' to have the shape of 'gate'"):
        fn(x, torch.randn(4))
    with pytest.raises(RuntimeError, match=f"torch_act.{name}: expected 'up' to have the dtype of 'gate'"):
        fn(x, torch.randn(3, 4, dtype=torch.float64))
    with pytest.raises(RuntimeError, match=f"torch_act.{name}: expected 'gate' to be a floating-point tensor"):
        fn(torch.ones(3, 4, dtype=torch.int32), x)
    backward = getattr(torch.ops.torch_act, name + "_backward")
    extra = ("none",) if name == "geglu" else ()
    with pytest.raises(RuntimeError, match=f"torch_act.{name}_backward: expected 'grad_output' to have the shape"):
        backward(torch.randn(2, 4), x, x, *extra)
    assert torch.equal(x, before)


def test_geglu_refuses_an_unknown_approximation():
    with pytest.raises(RuntimeError, match="torch_act.geglu: expected 'approximate' to be 'none' or 'tanh', but got 'erf'"):
        torch_act.geglu(torch.randn(3), torch.randn(3), approximate="erf")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name,kw", VARIANTS, ids=IDS)
def test_cuda_matches_the_composite(name, kw, dtype):
    """On the GPU the activations' float forms are torch's own (DESIGN: the CPU's
    double-based forms would make them compute-bound), so the composite on the
    GPU in the same dtype is the reference, at assert_close's tolerance; sizes
    past one grid-stride sweep and at an odd offset."""
    for n, offset in ((17, 0), ((1 << 25) + 37, 0), ((1 << 20) + 3, 1)):
        gate, up, grad = (make((n + offset,), dtype, seed, specials=False)[offset:].cuda() for seed in (0, 1, 2))
        ours = fused(name, kw, gate, up, grad)
        g, u = gate.clone().requires_grad_(), up.clone().requires_grad_()
        y = GATED[name].composite(g, u, **kw)
        theirs = (y.detach(), *torch.autograd.grad(y, (g, u), grad))
        for what, a, b in zip(("output", "gate gradient", "up gradient"), ours, theirs):
            if GATED[name].exact:
                torch.testing.assert_close(a, b, rtol=0, atol=0, msg=f"{name} {dtype} n={n} {what}")
            else:
                torch.testing.assert_close(a, b, equal_nan=True, msg=f"{name} {dtype} n={n} {what}")


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64], ids=str)
@pytest.mark.parametrize("name,kw", VARIANTS, ids=IDS)
def test_batch_invariance(name, kw, dtype):
    """An element's results depend on its values only, not on where it sits: the
    same bits for a slice computed alone as for it inside the whole."""
    bits = {torch.float32: torch.int32, torch.bfloat16: torch.int16, torch.float64: torch.int64}[dtype]
    gate, up, grad = (make((1000,), dtype, seed) for seed in (13, 14, 15))
    whole = fused(name, kw, gate, up, grad)
    for start, stop in ((1, 1000), (7, 993), (16, 17), (33, 600)):
        part = fused(name, kw, gate[start:stop], up[start:stop], grad[start:stop])
        for a, b in zip(part, whole):
            assert torch.equal(a.view(bits), b[start:stop].view(bits)), (name, start, stop)


def test_convert_swaps_glu_and_everywhere_routes_F_glu():
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.GLU(), torch.nn.Linear(4, 2))
    converted, counts = torch_act.convert(model, return_counts=True)
    assert type(converted[1]) is torch_act.GLU and converted[1].dim == -1 and counts == {"GLU": 1}
    x = torch.randn(3, 4)
    torch.testing.assert_close(converted(x), model(x))
    y = torch.randn(6, 5)
    with torch_act.everywhere() as calls:
        routed = TF.glu(y, 0)
        with pytest.raises(RuntimeError, match="Halving dimension must be even"):  # torch's own error, from torch
            TF.glu(torch.randn(3, 5))
    assert calls.counts == {"glu": 1}
    torch.testing.assert_close(routed, TF.glu(y, 0))
