"""The library's layout queries (torch.ops.torch_act.dim_order and
mask_bit_order, which distributed.py asks instead of keeping a Python copy of
csrc/layout.h), against what the orders must mean: permuting a dense tensor
by its dim order makes it contiguous, and a mask made by a forward op is
read back correctly in that order."""
import itertools

import pytest
import torch

import torch_act  # noqa: F401  (registers torch.ops.torch_act)

ops = torch.ops.torch_act


def layouts():
    base = torch.randn(2, 3, 4, 5)
    yield "contiguous", base
    yield "channels_last", base.contiguous(memory_format=torch.channels_last)
    for perm in itertools.permutations(range(4)):
        yield f"permuted{perm}", base.permute(perm).contiguous().permute(*[perm.index(d) for d in range(4)])
    yield "size-1 dims", torch.randn(3, 1, 4, 1).permute(2, 1, 0, 3)


@pytest.mark.parametrize("name,t", list(layouts()), ids=[n for n, _ in layouts()])
def test_dim_order_makes_a_dense_tensor_contiguous(name, t):
    order = ops.dim_order(t)
    assert sorted(order) == list(range(t.dim()))
    assert t.permute(order).is_contiguous()
    ones = [d for d in range(t.dim()) if t.shape[d] == 1]
    assert order[:len(ones)] == ones  # size-1 dims first, in their own order
    assert ops.mask_bit_order(t) == order  # dense: the bits follow memory
    meta = torch.empty_strided(t.shape, t.stride(), device="meta")
    assert ops.dim_order(meta) == order and ops.mask_bit_order(meta) == order


def test_a_non_dense_tensors_bits_follow_its_logical_order():
    t = torch.randn(4, 6).t()[:, ::2]  # transposed and strided: not dense
    assert ops.mask_bit_order(t) == [0, 1]
    assert ops.dim_order(t) == [1, 0]  # by decreasing stride, all the same


@pytest.mark.parametrize("name,t", list(layouts())[:3], ids=[n for n, _ in list(layouts())[:3]])
def test_a_mask_read_in_its_dim_order_gives_relus_gradient(name, t):
    y, mask = ops.relu_forward(t)
    grad = torch.randn_like(t)
    expected = torch.where(t > 0, grad, 0.0)
    torch.testing.assert_close(ops.relu_backward(grad, mask, ops.dim_order(y)), expected, rtol=0, atol=0)
