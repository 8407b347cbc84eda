"""Paths of the CUDA backend the first GPU run did not reach: a second
grid-stride sweep, masks made on one device and read on the other, PReLU's
layouts against a float64 reference, in-place ops with grad at offsets 0 and 1,
and errors for tensors on two kinds of device. Runs where
torch.cuda.is_available(), and on the CPU in the build `make cuda-emulate`
makes, whose CPU kernels are the CUDA kernels run by the emulator of CUDA
grids (but for the tests that need two devices)."""
import pytest
import torch
import torch.nn.functional as F

import torch_act
from torch_act import ACTIVATIONS
from torch_act.distributed import _mask_bit_order

from helpers import EXACT, all_variants, check_against_torch, make_leaf, variant_id

ops = torch.ops.torch_act
EMULATED = ops.cpu_capability() == "CUDA-EMULATED"
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
pytestmark = pytest.mark.skipif(DEVICE == "cpu" and not EMULATED, reason="no CUDA device, and not the emulated build")
two_devices = pytest.mark.skipif(DEVICE == "cpu", reason="crosses devices: needs a GPU")
VARIANTS = all_variants()
VARIANT_IDS = [variant_id(n, kw) for n, kw in VARIANTS]

# More than one sweep of the grid, and not a multiple of any pack: an
# H100/H200 grid (132 SMs x 32 blocks x 256 threads x a pack of 4 floats)
# sweeps 2^22 elements, the emulated GPU's (one SM) 2^15.
BEYOND_ONE_SWEEP = 2**25 + 37 if DEVICE == "cuda" else 2**18 + 37


@pytest.mark.parametrize("offset", [0, 1])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=VARIANT_IDS)
def test_beyond_one_grid_sweep(name, kwargs, dtype, offset):
    leaf = make_leaf((1, BEYOND_ONE_SWEEP + offset), dtype, specials=False).to(DEVICE)
    check_against_torch(name, kwargs, leaf, lambda t: t[:, offset:], per_channel=False)


MASK_FAMILY = [n for n, e in ACTIVATIONS.items() if e.family == "mask"]
MASK_LAYOUTS = {
    "contiguous": lambda t: t,
    "transposed": lambda t: t.transpose(2, 3),
    "channels_last": lambda t: t.contiguous(memory_format=torch.channels_last),
}


@two_devices
@pytest.mark.parametrize("layout", list(MASK_LAYOUTS))
@pytest.mark.parametrize("name", MASK_FAMILY)
def test_masks_share_one_bit_layout_across_devices(name, layout):
    """A mask made on CUDA, moved to the CPU, is the CPU's mask bit for bit,
    and backward with a mask made on the other device gives the same gradient."""
    entry = ACTIVATIONS[name]
    forward, backward = getattr(ops, name + "_forward"), getattr(ops, name + "_backward")
    for n in range(1, 301):
        x = MASK_LAYOUTS[layout](make_leaf((1, 1, n, 3), torch.float32, seed=n))
        grad = torch.randn_like(x)
        order = _mask_bit_order(x)
        _, cpu_mask = forward(x, **entry.required_kwargs)
        _, cuda_mask = forward(x.cuda(), **entry.required_kwargs)
        assert torch.equal(cuda_mask.cpu(), cpu_mask), f"n={n}"
        from_cuda_mask = backward(grad, cuda_mask.cpu(), order, **entry.required_kwargs)
        from_cpu_mask = backward(grad.cuda(), cpu_mask.cuda(), order, **entry.required_kwargs)
        assert torch.equal(from_cpu_mask.cpu(), from_cuda_mask), f"n={n}"


PRELU_SHAPES = [(4, 64, 30, 30), (3, 2000, 5, 5), (1, 7, 300, 301), (2, 70000, 3), (4096, 512)]
# channels_last is a layout of 4-d tensors only.
PRELU_CASES = [(shape, cl) for shape in PRELU_SHAPES for cl in ((False, True) if len(shape) == 4 else (False,))]


@pytest.mark.parametrize("shape,channels_last", PRELU_CASES,
                         ids=[f"{s}-{'channels_last' if c else 'contiguous'}" for s, c in PRELU_CASES])
def test_prelu_against_float64(shape, channels_last):
    g = torch.Generator().manual_seed(len(shape))
    x32 = torch.randn(shape, generator=g)
    w32 = torch.rand(shape[1], generator=g) - 0.3
    grad32 = torch.randn(shape, generator=g)
    if channels_last:
        x32 = x32.contiguous(memory_format=torch.channels_last)
    # Copies even on the CPU (the emulated build), so the reference below starts from leaves of its own.
    x, w = x32.to(DEVICE, copy=True).requires_grad_(), w32.to(DEVICE, copy=True).requires_grad_()
    y = torch_act.prelu(x, w)
    y.backward(grad32.to(DEVICE))
    # The reference: the same float values, in float64.
    x64, w64 = x32.double().requires_grad_(), w32.double().requires_grad_()
    y64 = F.prelu(x64, w64)
    y64.backward(grad32.double())
    # Products by the slope are exact in float64 of float inputs: y rounds once.
    torch.testing.assert_close(y.double().cpu(), y64.float().double(), rtol=0, atol=0)
    torch.testing.assert_close(x.grad.double().cpu(), x64.grad.float().double(), rtol=0, atol=0)
    # Each term of the weight's sum is rounded to float (as torch.nn's), the
    # sum taken in double: up to 90300 terms per channel, each within 2^-24 of
    # its float64 value, so a few 1e-7 relative of the sum's magnitude.
    torch.testing.assert_close(w.grad.double().cpu(), w64.grad, rtol=1e-5, atol=1e-4)
    assert y.is_contiguous(memory_format=torch.channels_last) == channels_last


@pytest.mark.parametrize("offset", [0, 1])
@pytest.mark.parametrize("name", [n for n, e in ACTIVATIONS.items() if e.has_inplace])
def test_inplace_with_grad_on_a_non_leaf(name, offset):
    entry = ACTIVATIONS[name]
    leaf = make_leaf((4000 + offset,), torch.float32, specials=False).to(DEVICE)
    results = []
    for fn in (entry.function, entry.torch_function):
        x = leaf.clone().requires_grad_()
        y = x * 1.5  # a non-leaf, modified in place
        out = fn(y[offset:], inplace=True, **entry.required_kwargs)
        out.backward(torch.linspace(-1, 1, out.numel(), device=DEVICE))
        results.append((y.detach(), x.grad))
    exact = {"rtol": 0, "atol": 0} if name in EXACT else {}
    for ours, theirs in zip(*results):
        torch.testing.assert_close(ours, theirs, **exact)


@two_devices
def test_inputs_on_two_kinds_of_device_name_the_argument():
    """The checks run before the CUDA device guard is built from the first
    tensor (which fails, naming no argument, for a CPU tensor)."""
    with pytest.raises(RuntimeError, match="'weight' on the device of 'input'"):
        torch_act.prelu(torch.randn(2, 3), torch.rand(3, device="cuda"))
    _, mask = ops.relu_forward(torch.randn(10, device="cuda"))
    with pytest.raises(RuntimeError, match="'mask' on the device of 'grad_output'"):
        ops.relu_backward(torch.randn(10), mask, [0])
    with pytest.raises(RuntimeError, match="'grad_output' on the device of"):
        ops.sigmoid_backward(torch.randn(10), torch.randn(10, device="cuda"))
    with pytest.raises(RuntimeError, match="'up' on the device of 'gate'"):
        torch_act.swiglu(torch.randn(10), torch.randn(10, device="cuda"))
