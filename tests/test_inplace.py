"""inplace=True: modifies and returns the input, bumps its version, gives the
gradients of the out-of-place function (any slope or alpha), and refuses a
leaf that requires grad before touching it."""
import pytest
import torch

from torch_act import ACTIVATIONS

from helpers import assert_same, make_leaf

INPLACE = [(name, kw) for name, a in ACTIVATIONS.items() if a.has_inplace for kw in a.variants]
IDS = [f"{n}-{kw}" for n, kw in INPLACE]

VIEWS = {
    "contiguous": lambda t: t,
    "channels_last": lambda t: t.contiguous(memory_format=torch.channels_last),
    "sliced_step": lambda t: t[:, :, ::2],
    "transposed": lambda t: t.transpose(1, 3),
}


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("name,kwargs", INPLACE, ids=IDS)
def test_inplace_values_and_gradients(name, kwargs, view):
    entry = ACTIVATIONS[name]
    leaf = make_leaf((2, 3, 6, 5), torch.float32, specials=False).requires_grad_()
    grad_out = torch.randn(VIEWS[view](leaf).shape)

    x = VIEWS[view](leaf * 1.0)  # a non-leaf, possibly a view of one
    version = x._version
    y = entry.function(x, inplace=True, **kwargs)
    assert y is x
    assert x._version > version
    (grad,) = torch.autograd.grad(y, leaf, grad_out)

    ref_y = entry.torch_function(VIEWS[view](leaf * 1.0), **kwargs)  # out of place: any slope
    (ref_grad,) = torch.autograd.grad(ref_y, leaf, grad_out)
    exact = entry.exact
    assert_same(y.detach(), ref_y.detach(), exact)
    assert_same(grad, ref_grad, exact)


@pytest.mark.parametrize("name,kwargs", INPLACE, ids=IDS)
def test_inplace_on_view_of_non_leaf_updates_base_and_gradient(name, kwargs):
    entry = ACTIVATIONS[name]
    leaf = torch.randn(4, 6, requires_grad=True)
    base = leaf * 2.0
    entry.function(base[1:3], inplace=True, **kwargs)
    (grad,) = torch.autograd.grad(base.sum(), leaf)

    ref = leaf * 2.0
    ref = torch.cat([ref[:1], entry.torch_function(ref[1:3], **kwargs), ref[3:]])
    (ref_grad,) = torch.autograd.grad(ref.sum(), leaf)
    torch.testing.assert_close(base, ref)
    torch.testing.assert_close(grad, ref_grad)


@pytest.mark.parametrize("name,kwargs", INPLACE, ids=IDS)
def test_inplace_without_grad(name, kwargs):
    entry = ACTIVATIONS[name]
    x = torch.randn(100)
    expected = entry.torch_function(x, **kwargs)
    version = x._version
    assert entry.function(x, inplace=True, **kwargs) is x
    assert x._version > version
    torch.testing.assert_close(x, expected)
    with torch.no_grad():
        leaf = torch.randn(10, requires_grad=True)
        expected = entry.torch_function(leaf, **kwargs)
        entry.function(leaf, inplace=True, **kwargs)
        torch.testing.assert_close(leaf, expected)


@pytest.mark.parametrize("name,kwargs", INPLACE, ids=IDS)
def test_inplace_on_leaf_requiring_grad_is_refused_untouched(name, kwargs):
    entry = ACTIVATIONS[name]
    leaf = torch.randn(5, 4, requires_grad=True)
    before = leaf.detach().clone()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        entry.function(leaf, inplace=True, **kwargs)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        entry.function(leaf[1:], inplace=True, **kwargs)
    assert torch.equal(leaf.detach(), before)


@pytest.mark.parametrize("name", [n for n, a in ACTIVATIONS.items() if a.family == "mask"])
def test_masked_activations_allow_changing_their_output(name):
    """ReLU/LeakyReLU keep a private mask, so editing their output in place
    afterwards still gives the right gradient."""
    fn = ACTIVATIONS[name].function
    x = torch.randn(50, requires_grad=True)
    kwargs = ACTIVATIONS[name].required_kwargs
    y = fn(x, **kwargs)
    y.mul_(3)
    (grad,) = torch.autograd.grad(y.sum(), x)
    (ref,) = torch.autograd.grad((ACTIVATIONS[name].torch_function(x, **kwargs) * 3).sum(), x)
    torch.testing.assert_close(grad, ref)


@pytest.mark.parametrize("name", [n for n, a in ACTIVATIONS.items() if "output" in a.family])
def test_output_saving_activations_detect_changed_output(name):
    """Where backward reads the output, editing it in place is caught by autograd."""
    fn = ACTIVATIONS[name].function
    x = torch.randn(50, requires_grad=True)
    y = fn(x)
    y.mul_(3)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
