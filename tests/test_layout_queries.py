"""The library's layout queries (torch.ops.torch_act.dim_order and
mask_bit_order, which distributed.py asks instead of keeping a Python copy of
csrc/layout.h), against what the orders must mean: permuting a dense tensor
by its dim order makes it contiguous, and a mask made by a forward op is
read back correctly in that order; its bytes are one layout on every backend."""
import itertools

import pytest
import torch

import torch_act  # noqa: F401  (registers torch.ops.torch_act)

from helpers import make_leaf

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


# The mask family's packing is one loop per backend over any activation's
# bit; two activations whose bits differ at NaN pin the predicate too.
MASK_BITS = {"relu": lambda x: ~(x <= 0), "leaky_relu": lambda x: x > 0}
MASK_LAYOUTS = {
    "contiguous": lambda t: t,
    "transposed": lambda t: t.transpose(2, 3),
    "channels_last": lambda t: t.contiguous(memory_format=torch.channels_last),
}


def packed(bits):
    """Bit i % 8 of byte i // 8, in whole 64-bit words, bits past the end 0."""
    padded = torch.zeros((bits.numel() + 63) // 64 * 64, dtype=torch.uint8)
    padded[:bits.numel()] = bits.to(torch.uint8)
    return (padded.view(-1, 8) << torch.arange(8, dtype=torch.uint8)).sum(1, dtype=torch.uint8)


@pytest.mark.parametrize("layout", list(MASK_LAYOUTS))
@pytest.mark.parametrize("name", list(MASK_BITS))
def test_mask_bytes_are_the_bits_in_memory_order(name, layout):
    """Every backend and CPU table packs one byte layout (CUDA's warps by
    shuffles: make cuda-emulate runs this over them), so a mask made on one
    device is read right on another (DTensor moves them; tests/test_cuda_paths.py
    crosses devices where a GPU is present)."""
    forward = getattr(ops, name + "_forward")
    for n in range(1, 301):
        x = MASK_LAYOUTS[layout](make_leaf((1, 1, n, 3), torch.float32, seed=n))
        _, mask = forward(x)
        in_memory = x.permute(ops.mask_bit_order(x)).flatten()
        assert torch.equal(mask, packed(MASK_BITS[name](in_memory))), f"n={n}"
