"""Analytic gradients (first and second order) checked numerically in float64,
and second-order gradients equal to torch.nn's."""
import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

from torch_act import ACTIVATIONS

from helpers import TORCH_WITHOUT_SECOND_DERIVATIVE, all_variants, variant_id

VARIANTS = all_variants()
IDS = [variant_id(n, kw) for n, kw in VARIANTS]


def inputs(name, per_channel, seed=0):
    g = torch.Generator().manual_seed(seed)
    # Away from the kink at 0, where a finite difference straddles two slopes.
    x = torch.randn(3, 4, 5, generator=g, dtype=torch.float64)
    x = (x + 0.1 * x.sign()).requires_grad_()
    if not ACTIVATIONS[name].parameter:
        return (x,)
    w = torch.rand(4 if per_channel else 1, generator=g, dtype=torch.float64) - 0.3
    return (x, w.requires_grad_())


def cases():
    for name, kw in VARIANTS:
        for per_channel in (False, True) if ACTIVATIONS[name].parameter else (False,):
            yield pytest.param(name, kw, per_channel,
                               id=variant_id(name, kw) + ("-per_channel" if per_channel else ""))


@pytest.mark.parametrize("name,kwargs,per_channel", list(cases()))
def test_gradcheck(name, kwargs, per_channel):
    fn = ACTIVATIONS[name].function
    assert gradcheck(lambda *a: fn(*a, **kwargs), inputs(name, per_channel))


@pytest.mark.parametrize("name,kwargs,per_channel", list(cases()))
def test_gradgradcheck(name, kwargs, per_channel):
    fn = ACTIVATIONS[name].function
    assert gradgradcheck(lambda *a: fn(*a, **kwargs), inputs(name, per_channel))


@pytest.mark.parametrize("name,kwargs,per_channel", list(cases()))
def test_second_order_equals_torch(name, kwargs, per_channel):
    """Hessian-vector products through both libraries agree."""
    entry = ACTIVATIONS[name]

    def second_order(fn):
        args = [a.detach().clone().requires_grad_() for a in inputs(name, per_channel)]
        y = fn(*args, **kwargs)
        v = torch.linspace(-1, 1, y.numel(), dtype=y.dtype).reshape(y.shape)
        grads = torch.autograd.grad(y, args, v, create_graph=True)
        total = sum((g * g).sum() for g in grads)  # a scalar depending on every first-order grad
        if not total.requires_grad:  # first-order grads independent of the inputs
            return [torch.zeros_like(a) for a in args]
        grads2 = torch.autograd.grad(total, args, allow_unused=True)
        return [torch.zeros_like(a) if g is None else g for a, g in zip(args, grads2)]

    if name in TORCH_WITHOUT_SECOND_DERIVATIVE:
        # torch raises "derivative for aten::hardsigmoid_backward is not implemented"; the
        # function is piecewise linear, so its second derivative is 0 wherever it exists.
        reference = [torch.zeros_like(a) for a in inputs(name, per_channel)]
    else:
        reference = second_order(entry.torch_function)
    for ours, ref in zip(second_order(entry.function), reference):
        torch.testing.assert_close(ours, ref)


def test_prelu_backward_bitwise_deterministic():
    """The fused alpha reduction gives the same bits on every run, small inputs included."""
    for shape in [(2, 3), (5, 3, 7), (4, 64, 30, 30), (3, 3, 70000)]:
        x = torch.randn(shape)
        w = torch.rand(3 if shape[1] == 3 else shape[1])
        g = torch.randn(shape)
        first = torch.ops.torch_act.prelu_backward(g, x, w)
        for _ in range(3):
            again = torch.ops.torch_act.prelu_backward(g, x, w)
            assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
