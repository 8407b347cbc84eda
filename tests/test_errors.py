"""Bad input gets a clear error naming the argument, and nothing is modified."""
import pytest
import torch

from torch_act import ACTIVATIONS

NON_FLOAT = [torch.tensor([1, -2, 3]), torch.tensor([True, False]), torch.tensor([1 + 1j, -2j]),
             torch.tensor([1, -2], dtype=torch.uint8), torch.tensor([1.0, -2.0]).to(torch.float8_e4m3fn)]


def call(entry, x, **kwargs):
    if entry.parameter:
        return entry.function(x, torch.tensor([0.25]), **kwargs)
    return entry.function(x, **entry.required_kwargs, **kwargs)


@pytest.mark.parametrize("x", NON_FLOAT, ids=lambda t: str(t.dtype))
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_non_floating_input_is_refused(name, x):
    entry = ACTIVATIONS[name]
    before = x.clone()
    with pytest.raises(RuntimeError, match=rf"torch_act\.{name}_?: expected 'input' to be a floating-point tensor"):
        call(entry, x)
    if entry.has_inplace:
        with pytest.raises(RuntimeError, match="expected 'input' to be a floating-point tensor"):
            call(entry, x, inplace=True)
    assert torch.equal(x.view(torch.uint8), before.view(torch.uint8))


@pytest.mark.parametrize("weight,message", [
    (torch.rand(5), r"expected 'weight' to hold 1 element or one per channel of 'input' \(dim 1, size 3\), but got 5"),
    (torch.rand(0), r"expected 'weight' to hold 1 element or one per channel of 'input' \(dim 1, size 3\), but got 0"),
    (torch.rand(3, 1), r"expected 'weight' to be a 0-d or 1-d tensor, but got a tensor with 2 dimensions"),
    (torch.rand(3, dtype=torch.float64), r"expected 'weight' to have the dtype of 'input' \(Float\), but got Double"),
    (torch.tensor([1, 2, 3]), r"expected 'weight' to be a floating-point tensor"),
], ids=["wrong_count", "empty", "two_dims", "dtype_mismatch", "integer"])
def test_prelu_bad_weight(weight, message):
    x = torch.randn(2, 3, 4, requires_grad=True)
    w = weight.clone()
    with pytest.raises(RuntimeError, match=r"torch_act\.prelu: " + message):
        ACTIVATIONS["prelu"].function(x, w)
    assert torch.equal(w, weight)


def test_prelu_weight_per_channel_needs_a_channel_dim():
    with pytest.raises(RuntimeError, match=r"one per channel of 'input' \(dim 1, size 1\), but got 4"):
        ACTIVATIONS["prelu"].function(torch.randn(4), torch.rand(4))


def test_prelu_module_rejects_bad_num_parameters():
    with pytest.raises(ValueError, match="num_parameters must be a positive int"):
        ACTIVATIONS["prelu"].module(0)


def test_backward_ops_check_their_arguments():
    ops = torch.ops.torch_act
    x = torch.randn(10)
    _, mask = ops.relu_forward(x)
    with pytest.raises(RuntimeError, match=r"'mask' holds 8 bytes, which does not fit 'grad_output' of 100 elements"):
        ops.relu_backward(torch.randn(100), mask, [0])
    with pytest.raises(RuntimeError, match=r"expected 'dim_order' to be a permutation"):
        ops.relu_backward(torch.randn(2, 5), mask, [0, 0])
    with pytest.raises(RuntimeError, match=r"expected 'mask' to be a 1-d uint8 tensor"):
        ops.leaky_relu_backward(x, mask.float(), [0], 0.1)
    with pytest.raises(RuntimeError, match=r"expected 'grad_output' to have the shape of 'output'"):
        ops.sigmoid_backward(torch.randn(3), torch.randn(4))
    with pytest.raises(RuntimeError, match=r"expected 'grad_output' to have the dtype of 'saved'"):
        ops.elu_backward(torch.randn(3).double(), torch.randn(3), 1.0)


def test_meta_kernels_check_like_cpu():
    with pytest.raises(RuntimeError, match="expected 'input' to be a floating-point tensor"):
        torch.ops.torch_act.relu(torch.empty(3, dtype=torch.int64, device="meta"))
    with pytest.raises(RuntimeError, match="expected 'weight' to hold 1 element"):
        torch.ops.torch_act.prelu(torch.empty(2, 3, device="meta"), torch.empty(2, device="meta"))


def overlapping_views():
    """Views in which several elements share one memory location."""
    return {
        "expanded": lambda device: torch.zeros(1, 3, device=device).expand(2, 3),
        "as_strided_repeats": lambda device: torch.zeros(10, device=device).as_strided((3, 3), (1, 1)),
        "as_strided_rows_overlap": lambda device: torch.zeros(12, device=device).as_strided((2, 3), (2, 1)),
    }


INPLACE_NAMES = [name for name, a in ACTIVATIONS.items() if a.has_inplace]


@pytest.mark.parametrize("device", ["cpu", "meta"])
@pytest.mark.parametrize("view", list(overlapping_views()))
@pytest.mark.parametrize("name", INPLACE_NAMES)
def test_inplace_on_memory_overlapping_itself_is_refused_before_any_write(name, view, device):
    """torch.nn refuses an expand()ed input in place too (and silently computes
    on some as_strided views); torch_act refuses all before touching memory."""
    entry = ACTIVATIONS[name]
    x = overlapping_views()[view](device)
    if device == "cpu":
        x._base.copy_(torch.linspace(-3, 3, x._base.numel()))
    before = x._base.clone()
    message = rf"torch_act\.{name}_: expected 'input' to have one memory location per element"
    with pytest.raises(RuntimeError, match=message):
        entry.function(x, inplace=True, **entry.required_kwargs)
    ops = torch.ops.torch_act
    if entry.family == "mask":
        with pytest.raises(RuntimeError, match=rf"torch_act\.{name}_forward_: expected 'input' to have one"):
            getattr(ops, name + "_forward_")(x, **entry.required_kwargs)
    if device == "cpu":
        assert torch.equal(x._base, before)


def test_inplace_on_strided_view_without_overlap_is_computed():
    """Strides ATen cannot classify, but whose elements are all distinct."""
    base = torch.linspace(-3, 3, 20)
    x = base.as_strided((2, 3), (3, 5))  # offsets 0, 5, 10, 3, 8, 13: distinct
    expected = torch.nn.functional.elu(x.clone())
    ACTIVATIONS["elu"].function(x, inplace=True)
    torch.testing.assert_close(x, expected)


def test_read_only_inputs_stay_copy_on_write():
    """Kernels read their inputs through const pointers: a copy-on-write
    tensor (torch._lazy_clone) is not materialised by reading it."""
    ops = torch.ops.torch_act
    source = torch.randn(4, 6)
    for name, entry in ACTIVATIONS.items():
        cow = torch._lazy_clone(source)
        args = [cow, torch._lazy_clone(torch.rand(6))] if entry.parameter else [cow]
        entry.function(*args, **entry.required_kwargs)
        grad = torch._lazy_clone(torch.randn(4, 6))
        if entry.parameter:
            ops.prelu_backward(grad, *args)
        elif entry.family == "mask":
            _, mask = getattr(ops, name + "_forward")(cow, **entry.required_kwargs)
            mask = torch._lazy_clone(mask)
            getattr(ops, name + "_backward")(grad, mask, [0, 1], **entry.required_kwargs)
            assert torch._C._is_cow_tensor(mask), name
        else:
            getattr(ops, name + "_backward")(grad, cow, **entry.required_kwargs)
        for t in args + [grad]:
            assert torch._C._is_cow_tensor(t), name


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_gelu_refuses_an_unknown_approximation(device):
    """torch.nn refuses it too ("approximate argument must be either none or tanh")."""
    x = torch.randn(4, device=device)
    message = r"torch_act\.gelu: expected 'approximate' to be 'none' or 'tanh', but got 'erf'"
    with pytest.raises(RuntimeError, match=message):
        ACTIVATIONS["gelu"].function(x, approximate="erf")
    with pytest.raises(RuntimeError, match=message.replace("gelu:", "gelu_backward:")):
        torch.ops.torch_act.gelu_backward(x, x, "erf")
