"""Forward-mode AD, torch.func transforms and vmap batch rules give
torch.nn.functional's answers, for every activation and argument set, in
float64, at the kinks and special values too. vmap runs with functorch's
per-sample fallback switched off: an op without a batch rule fails here."""
import math

import pytest
import torch
import torch.autograd.forward_ad as fwAD
from torch import nn
from torch.autograd import gradcheck, gradgradcheck
from torch.func import functional_call, grad, hessian, jacfwd, jacrev, jvp, stack_module_state, vjp, vmap

from torch.utils._pytree import tree_map

import torch_act

from torch_act import ACTIVATIONS

from helpers import (EXACT, FLOAT64_DERIVATIVE_OFF, INCOMING_AT_NAN, TORCH_WITHOUT_SECOND_DERIVATIVE, all_variants,
                     variant_id)

VARIANTS = all_variants()
IDS = [variant_id(n, kw) for n, kw in VARIANTS]
INPLACE_VARIANTS = [(n, kw) for n, kw in VARIANTS if ACTIVATIONS[n].has_inplace]
INPLACE_IDS = [variant_id(n, kw) for n, kw in INPLACE_VARIANTS]

# The kinks (+-0), values either side of them, and +-inf and NaN.
KINKS = [0.0, -0.0, 1e-300, -1e-300, 1.0, -1.0, 0.5, -2.5, 30.0, -30.0]
SPECIALS = [math.inf, -math.inf, math.nan]


@pytest.fixture(autouse=True)
def no_vmap_fallback():
    """Every vmap in this file must find a batch rule."""
    torch._C._functorch._set_vmap_fallback_enabled(False)
    yield
    torch._C._functorch._set_vmap_fallback_enabled(True)


def values(specials=True, n=4, seed=0):
    """A (n, 3, 7) float64 tensor: kinks and specials first (whole vector
    lengths and the scalar tail), random values after."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, 7, generator=g, dtype=torch.float64) * 3
    special = torch.tensor(KINKS + (SPECIALS if specials else []), dtype=torch.float64)
    flat = x.view(-1)
    flat[:special.numel()] = special
    flat[-special.numel():] = special
    return x


def tangent_like(x, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(x.shape, generator=g, dtype=x.dtype)


def weight_for(name, x, per_channel, seed=2):
    if not ACTIVATIONS[name].parameter:
        return None
    g = torch.Generator().manual_seed(seed)
    n = x.shape[1] if per_channel else 1
    return torch.rand(n, generator=g, dtype=torch.float64) - 0.3


def cases():
    """(name, kwargs, per_channel) for every activation and argument set."""
    for name, kw in VARIANTS:
        for per_channel in (False, True) if ACTIVATIONS[name].parameter else (False,):
            yield pytest.param(name, kw, per_channel,
                               id=variant_id(name, kw) + ("-per_channel" if per_channel else ""))


CASES = list(cases())


# torch has no vmap rule for rrelu, in training or not ("vmap: we do not yet
# support aten::rrelu"): out of training it is leaky_relu with slope
# (lower + upper) / 2 by definition (torch's own rrelu calls leaky_relu then),
# which torch can vmap.
TORCH_UNDER_FUNCTORCH = {
    "rrelu": lambda x, lower=1.0 / 8, upper=1.0 / 3: torch.nn.functional.leaky_relu(x, (lower + upper) / 2),
}


def functions(name, kwargs):
    """(torch_act's, torch.nn's) as functions of (x) or (x, weight)."""
    entry = ACTIVATIONS[name]
    reference = TORCH_UNDER_FUNCTORCH.get(name, entry.torch_function)
    return (lambda *a: entry.function(*a, **kwargs)), (lambda *a: reference(*a, **kwargs))


def assert_matches(name, actual, expected, x=None):
    if name in INCOMING_AT_NAN and x is not None:
        # torch's backward (which its tangent is) disagrees with itself at NaN
        # (helpers.INCOMING_AT_NAN); torch_act gives the incoming gradient or
        # tangent there (test_parity.py::test_gradient_at_nan_is_grad_output
        # checks it, for jvp too): here those positions are not compared.
        expected = torch.where(torch.isnan(x), actual, expected)
    if name in FLOAT64_DERIVATIVE_OFF and actual.dtype == torch.float64:
        # torch.nn's float64 derivative is 3e-8 off (helpers.FLOAT64_DERIVATIVE_OFF); test_parity
        # holds torch_act's to the analytic value bit for bit, here the default float64 tolerance.
        torch.testing.assert_close(actual, expected, equal_nan=True)
    elif name in EXACT:
        torch.testing.assert_close(actual, expected, rtol=0, atol=0, equal_nan=True)
    else:
        torch.testing.assert_close(actual, expected, equal_nan=True)


def primals_and_tangents(name, per_channel, specials=True):
    x = values(specials)
    w = weight_for(name, x, per_channel)
    primals = (x,) if w is None else (x, w)
    return primals, tuple(tangent_like(p, seed=i + 1) for i, p in enumerate(primals))


# --- forward-mode AD -----------------------------------------------------------


@pytest.mark.parametrize("name,kwargs,per_channel", CASES)
def test_jvp_equals_torch(name, kwargs, per_channel):
    ours, theirs = functions(name, kwargs)
    primals, tangents = primals_and_tangents(name, per_channel)
    y, y_t = jvp(ours, primals, tangents)
    ref_y, ref_t = jvp(theirs, primals, tangents)
    assert_matches(name, y, ref_y)
    assert_matches(name, y_t, ref_t, primals[0])


@pytest.mark.parametrize("name,kwargs,per_channel", CASES)
def test_dual_tensors_equal_torch(name, kwargs, per_channel):
    """The forward_ad API, one input with a tangent at a time (the other
    counts as zero), and both."""
    ours, theirs = functions(name, kwargs)
    primals, tangents = primals_and_tangents(name, per_channel)
    for which in ([0], [1], [0, 1]) if len(primals) == 2 else ([0],):
        results = []
        for fn in (ours, theirs):
            with fwAD.dual_level():
                args = [fwAD.make_dual(p, tangents[i]) if i in which else p for i, p in enumerate(primals)]
                results.append(fwAD.unpack_dual(fn(*args)).tangent)
        assert results[0] is not None, "the output lost its tangent"
        assert_matches(name, results[0], results[1], primals[0])


@pytest.mark.parametrize("name,kwargs", INPLACE_VARIANTS, ids=INPLACE_IDS)
def test_inplace_updates_the_tangent_in_place(name, kwargs):
    """The tangent is torch.nn's out-of-place one (torch.nn refuses some
    in-place cases: a negative slope or alpha), written into the tangent
    the input already had, as torch's in-place ops do."""
    ours, _ = functions(name, {**kwargs, "inplace": True})
    _, theirs = functions(name, kwargs)
    x = values()
    t = tangent_like(x)
    with fwAD.dual_level():
        ref_t = fwAD.unpack_dual(theirs(fwAD.make_dual(x, t))).tangent
        tangent = t.clone()
        dual = fwAD.make_dual(x.clone(), tangent)
        assert ours(dual) is dual
        new_t = fwAD.unpack_dual(dual).tangent
        assert_matches(name, new_t, ref_t, x)
        assert new_t.data_ptr() == tangent.data_ptr()
        assert_matches(name, tangent, ref_t, x)


@pytest.mark.parametrize("name,kwargs", INPLACE_VARIANTS, ids=INPLACE_IDS)
def test_inplace_on_a_view_updates_the_base_tangent(name, kwargs):
    ours, _ = functions(name, {**kwargs, "inplace": True})
    reference, _ = functions(name, kwargs)
    x = values()
    t = tangent_like(x)
    with fwAD.dual_level():
        base = fwAD.make_dual(x.clone(), t.clone())
        ours(base[1:3, :, ::2])
        base_t = fwAD.unpack_dual(base).tangent
    with fwAD.dual_level():
        part = fwAD.make_dual(x[1:3, :, ::2].clone(), t[1:3, :, ::2].clone())
        expected = fwAD.unpack_dual(reference(part)).tangent
    assert_matches(name, base_t[1:3, :, ::2], expected)
    outside = torch.ones_like(t, dtype=torch.bool)
    outside[1:3, :, ::2] = False
    assert torch.equal(base_t[outside], t[outside])


# --- torch.func ----------------------------------------------------------------


def summed(fn):
    return lambda *a: fn(*a).sum()


@pytest.mark.parametrize("name,kwargs,per_channel", CASES)
def test_grad_and_vjp_equal_torch(name, kwargs, per_channel):
    ours, theirs = functions(name, kwargs)
    primals, tangents = primals_and_tangents(name, per_channel)
    argnums = tuple(range(len(primals)))
    for a, b in zip(grad(summed(ours), argnums)(*primals), grad(summed(theirs), argnums)(*primals)):
        assert_matches(name, a, b, primals[0]) if a.shape == primals[0].shape else \
            torch.testing.assert_close(a, b, equal_nan=True)
    out, pullback = vjp(ours, *primals)
    ref_out, ref_pullback = vjp(theirs, *primals)
    for a, b in zip(pullback(tangents[0]), ref_pullback(tangents[0])):
        if a.shape == primals[0].shape:
            assert_matches(name, a, b, primals[0])
        else:
            torch.testing.assert_close(a, b, equal_nan=True)


def small_primals(name, per_channel):
    """Finite values with the kinks: Jacobians and Hessians are compared
    whole, and an inf or NaN would spread through their sums."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, 4, generator=g, dtype=torch.float64) * 2
    x.view(-1)[:6] = torch.tensor([0.0, -0.0, 1.0, -1.0, 1e-300, -1e-300], dtype=torch.float64)
    w = weight_for(name, x, per_channel)
    return (x,) if w is None else (x, w)


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("name,kwargs,per_channel", CASES)
def test_jacobians_equal_torch(name, kwargs, per_channel, transform):
    ours, theirs = functions(name, kwargs)
    primals = small_primals(name, per_channel)
    make = {"jacrev": jacrev, "jacfwd": jacfwd}[transform]
    argnums = tuple(range(len(primals)))
    exact = name in EXACT and name not in FLOAT64_DERIVATIVE_OFF  # (float64 primals: see assert_matches)
    for a, b in zip(make(ours, argnums)(*primals), make(theirs, argnums)(*primals)):
        torch.testing.assert_close(a, b, rtol=0 if exact else None, atol=0 if exact else None)


@pytest.mark.parametrize("name,kwargs,per_channel", CASES)
def test_hessian_and_grad_of_grad_equal_torch(name, kwargs, per_channel):
    ours, theirs = functions(name, kwargs)
    primals = small_primals(name, per_channel)
    argnums = tuple(range(len(primals)))
    hess = hessian(summed(ours), argnums)(*primals)

    def grad_of_grad(fn):
        inner = grad(summed(fn), argnums)
        return grad(lambda *a: sum((g * g).sum() for g in inner(*a)), argnums)(*primals)

    if name in TORCH_WITHOUT_SECOND_DERIVATIVE:
        # Piecewise linear: the second derivative is 0 wherever it exists (torch has none).
        torch.testing.assert_close(hess, tree_map(torch.zeros_like, hess))
        torch.testing.assert_close(grad_of_grad(ours), tuple(torch.zeros_like(p) for p in primals))
        return
    torch.testing.assert_close(hess, hessian(summed(theirs), argnums)(*primals))
    torch.testing.assert_close(grad_of_grad(ours), grad_of_grad(theirs))


# --- vmap ----------------------------------------------------------------------


@pytest.mark.parametrize("name,kwargs,per_channel", CASES)
def test_vmap_any_dims_equals_torch(name, kwargs, per_channel):
    ours, theirs = functions(name, kwargs)
    x = values()  # (4, 3, 7): vmapped over dim 0 (samples (3, 7)), 1 or 2
    for in_dim, out_dim in [(0, 0), (1, 0), (2, 1), (-1, -1)]:
        if ACTIVATIONS[name].parameter:
            sample = x.movedim(in_dim, 0)[0]
            w = weight_for(name, sample, per_channel)
            a = vmap(ours, in_dims=(in_dim, None), out_dims=out_dim)(x, w)
            b = vmap(theirs, in_dims=(in_dim, None), out_dims=out_dim)(x, w)
        else:
            a = vmap(ours, in_dims=in_dim, out_dims=out_dim)(x)
            b = vmap(theirs, in_dims=in_dim, out_dims=out_dim)(x)
        assert_matches(name, a, b)


@pytest.mark.parametrize("name,kwargs,per_channel", CASES)
def test_nested_vmap_equals_torch(name, kwargs, per_channel):
    ours, theirs = functions(name, kwargs)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(3, 5, 2, 4, 6, generator=g, dtype=torch.float64)
    x.view(-1)[:13] = torch.tensor(KINKS + SPECIALS, dtype=torch.float64)
    if ACTIVATIONS[name].parameter:
        # Samples (2, 4, 6) with channels of 4 on the inner level; one weight
        # per outer index (an ensemble), shared by the inner one.
        ws = torch.stack([weight_for(name, x[0, 0], per_channel, seed=s) for s in range(3)])
        nest = lambda f: vmap(vmap(f, in_dims=(1, None)), in_dims=(0, 0))  # noqa: E731
        assert_matches(name, nest(ours)(x, ws), nest(theirs)(x, ws))
    else:
        nest = lambda f: vmap(vmap(f, in_dims=1), in_dims=3)  # noqa: E731
        assert_matches(name, nest(ours)(x), nest(theirs)(x))


@pytest.mark.parametrize("name,kwargs", INPLACE_VARIANTS, ids=INPLACE_IDS)
def test_vmap_inplace_equals_out_of_place(name, kwargs):
    ours, _ = functions(name, {**kwargs, "inplace": True})
    reference, _ = functions(name, kwargs)
    x = values()
    for in_dim in (0, 1, 2):
        batch = x.clone()
        vmap(ours, in_dims=in_dim)(batch)
        assert_matches(name, batch, reference(x))


# Samples of 7, 64 and 65 elements: rows of mask words with and without padding.
@pytest.mark.parametrize("sample", [(7,), (8, 8), (5, 13)], ids=["7", "64", "65"])
@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=IDS)
def test_vmap_of_grad_equals_torch(name, kwargs, sample):
    """Per-sample gradients, through the batch rules of the backward ops
    (forward and backward batched) and jacrev's (only the cotangent batched)."""
    ours, theirs = functions(name, kwargs)
    g = torch.Generator().manual_seed(4)
    x = torch.randn(6, *sample, generator=g, dtype=torch.float64) * 2
    x.view(-1)[:4] = torch.tensor([0.0, -0.0, math.nan, -math.inf])
    for in_dim in (0, x.dim() - 1):
        xb = x.movedim(0, in_dim)
        if ACTIVATIONS[name].parameter:
            w = weight_for(name, x[:, None], False)
            a = vmap(grad(summed(ours), argnums=(0, 1)), in_dims=(in_dim, None))(xb, w)
            b = vmap(grad(summed(theirs), argnums=(0, 1)), in_dims=(in_dim, None))(xb, w)
            assert_matches(name, a[0], b[0], x)
            torch.testing.assert_close(a[1], b[1], equal_nan=True)
        else:
            assert_matches(name, vmap(grad(summed(ours)), in_dims=in_dim)(xb),
                           vmap(grad(summed(theirs)), in_dims=in_dim)(xb), x)
    args = (x[0],) if not ACTIVATIONS[name].parameter else (x[0], weight_for(name, x[:1], False))
    assert_matches(name, jacrev(ours)(*args), jacrev(theirs)(*args), x[0])


@pytest.mark.parametrize("n", [7, 64, 65])
@pytest.mark.parametrize("name,kwargs", INPLACE_VARIANTS, ids=INPLACE_IDS)
def test_vmap_of_grad_and_jvp_through_inplace_equals_torch(name, kwargs, n):
    """In place under vmap with a graph or a tangent: the in-place mask rule
    writes whole rows directly (64) or through a padded copy (7, 65)."""
    ours, _ = functions(name, {**kwargs, "inplace": True})
    _, theirs = functions(name, kwargs)
    x = torch.randn(5, n, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    x[:, 0] = 0.0
    assert_matches(name, vmap(grad(lambda s: ours(s * 2).sum()))(x), vmap(grad(lambda s: theirs(s * 2).sum()))(x))

    def tangent(fn):
        return vmap(lambda s: jvp(lambda u: fn(u * 1), (s,), (torch.ones_like(s),))[1])(x)

    assert_matches(name, tangent(ours), tangent(theirs))


# --- PReLU: per-sample gradients and ensembles ------------------------------------


@pytest.mark.parametrize("per_channel", [True, False])
def test_per_sample_gradients_with_prelu_equal_torch(per_channel):
    def build(cls):
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), cls(4 if per_channel else 1), nn.Flatten(),
                             nn.Linear(4 * 5 * 5, 3)).double()

    ours_model, torch_model = build(torch_act.PReLU), build(nn.PReLU)
    ours_model[1].alpha.data.copy_(torch.linspace(-0.2, 0.4, ours_model[1].alpha.numel()))
    torch_model[1].weight.data.copy_(ours_model[1].alpha.data)
    x = torch.randn(8, 2, 5, 5, dtype=torch.float64)
    target = torch.randn(8, 3, dtype=torch.float64)

    def per_sample(model):
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(p, xi, ti):
            return nn.functional.mse_loss(functional_call(model, p, (xi[None],)), ti[None])

        return vmap(grad(loss), in_dims=(None, 0, 0))(params, x, target)

    ours, theirs = per_sample(ours_model), per_sample(torch_model)
    renamed = {k.replace("1.alpha", "1.weight"): v for k, v in ours.items()}
    assert renamed.keys() == theirs.keys()
    for k in theirs:
        torch.testing.assert_close(renamed[k], theirs[k], msg=k)
    # And each row is the gradient of that sample alone.
    for i in (0, 5):
        ours_model.zero_grad()
        nn.functional.mse_loss(ours_model(x[i:i + 1]), target[i:i + 1]).backward()
        torch.testing.assert_close(ours["1.alpha"][i], ours_model[1].alpha.grad)


@pytest.mark.parametrize("batched_input", [False, True])
def test_vmapped_ensemble_with_prelu_equals_torch(batched_input):
    def build(cls, seed):
        torch.manual_seed(seed)
        m = nn.Sequential(nn.Linear(5, 6), cls(6), nn.Linear(6, 2), cls()).double()
        with torch.no_grad():
            (m[1].weight if cls is nn.PReLU else m[1].alpha).copy_(torch.rand(6) - 0.3)
        return m

    torch_models = [build(nn.PReLU, s) for s in range(4)]
    ours_models = [build(torch_act.PReLU, s) for s in range(4)]
    for o, t in zip(ours_models, torch_models):
        o.load_state_dict({k.replace("weight", "alpha") if k in ("1.weight", "3.weight") else k: v
                           for k, v in t.state_dict().items()})
    x = torch.randn(4, 7, 5, dtype=torch.float64) if batched_input else torch.randn(7, 5, dtype=torch.float64)
    in_dims = (0, 0, 0 if batched_input else None)

    def ensemble(models):
        params, buffers = stack_module_state(models)
        base = models[0]

        def run(p, b, xi):
            return functional_call(base, (p, b), (xi,))

        out = vmap(run, in_dims=in_dims)(params, buffers, x)
        loss_grads = vmap(grad(lambda p, b, xi: run(p, b, xi).square().sum()), in_dims=in_dims)(params, buffers, x)
        return out, loss_grads

    out, grads = ensemble(ours_models)
    ref_out, ref_grads = ensemble(torch_models)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(grads["1.alpha"], ref_grads["1.weight"])
    torch.testing.assert_close(grads["3.alpha"], ref_grads["3.weight"])
    torch.testing.assert_close(grads["0.weight"], ref_grads["0.weight"])


# --- torch.autograd's own checks -------------------------------------------------


def check_inputs(name, per_channel):
    # Away from the kinks, where a finite difference straddles two slopes.
    x = torch.randn(2, 3, 5, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    x = (x + 0.1 * x.sign()).requires_grad_()
    w = weight_for(name, x, per_channel)
    return (x,) if w is None else (x, w.requires_grad_())


@pytest.mark.parametrize("name,kwargs,per_channel", CASES)
def test_gradcheck_forward_ad_and_batched(name, kwargs, per_channel):
    fn, _ = functions(name, kwargs)
    assert gradcheck(fn, check_inputs(name, per_channel), check_forward_ad=True, check_backward_ad=True,
                     check_batched_grad=True, check_batched_forward_grad=True, check_undefined_grad=True)


@pytest.mark.parametrize("name,kwargs,per_channel", CASES)
def test_gradgradcheck_forward_over_reverse_and_batched(name, kwargs, per_channel):
    fn, _ = functions(name, kwargs)
    assert gradgradcheck(fn, check_inputs(name, per_channel), check_fwd_over_rev=True, check_rev_over_rev=True,
                         check_batched_grad=True)


# --- torch.compile over transforms ----------------------------------------------------


@pytest.mark.parametrize("name", ["relu", "tanh", "gelu", "prelu"])  # one per family, and GELU's str argument
def test_compiled_vmap_of_grad_equals_eager(name):
    entry = ACTIVATIONS[name]
    w = torch.rand(3, dtype=torch.float64) - 0.3 if entry.parameter else None

    def f(s):
        return (entry.function(s, w) if w is not None else entry.function(s, **entry.required_kwargs)).sum()

    per_sample = vmap(grad(f))
    compiled = torch.compile(per_sample, fullgraph=True, backend="aot_eager")
    for shape in [(4, 2, 3, 5), (6, 2, 3, 7)]:
        x = torch.randn(shape, dtype=torch.float64)
        torch.testing.assert_close(compiled(x), per_sample(x))
