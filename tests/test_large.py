"""Tensors past 2^31 elements: no 32-bit index anywhere.

bfloat16 tensors of 2^31 + 2^20 elements (4.3 GB each): a mask activation
(ReLU), a saved-output activation (Sigmoid) and PReLU with channels, forward
and backward, compared with torch.nn.functional at sampled positions: the
first and last elements, both sides of element 2^31, and random ones. An
index computed in 32 bits would wrap at 2^31 and read or write the start of
the tensor (or crash). PReLU's per-channel gradient is a sum over 715M
elements a channel, checked against a float64 sum taken in chunks.

Each runs on the CPU and, where torch_act has CUDA kernels and a GPU is
present, on the GPU too (tools/gpu_test.sh runs those).

Opt-in: `make test-large` (TORCH_ACT_LARGE=1), about 3 minutes and 12.5 GiB
of memory here; each test prints the process's (or the GPU's) peak memory.
"""
import os
import resource

import pytest
import torch
import torch.nn.functional as F

import torch_act

pytestmark = pytest.mark.skipif(os.environ.get("TORCH_ACT_LARGE") != "1",
                                reason="tensors of 4.3 GB: run by `make test-large` (TORCH_ACT_LARGE=1)")

ops = torch.ops.torch_act
N = 2**31 + 2**20
DTYPE = torch.bfloat16
CUDA = torch.cuda.is_available() and torch._C._dispatch_has_kernel_for_dispatch_key("torch_act::relu", "CUDA")
DEVICES = ["cpu"] + (["cuda"] if CUDA else [])


def positions(n, device, seed=0):
    """Start, end, both sides of 2^31, and random positions."""
    edges = [torch.arange(0, 1024), torch.arange(2**31 - 1024, 2**31 + 1024), torch.arange(n - 1024, n)]
    random = torch.randint(0, n, (4096,), generator=torch.Generator().manual_seed(seed))
    return torch.cat(edges + [random]).to(device)


def large_input(shape, device, seed=0):
    g = torch.Generator(device).manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=DTYPE, device=device)


def report_peak(what, device):
    if device == "cuda":
        print(f"\n{what}: peak GPU memory so far {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
        return
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # ru_maxrss is in KiB on Linux
    print(f"\n{what}: peak resident memory of the process so far {peak_gib:.1f} GiB")


@pytest.mark.parametrize("device", DEVICES)
def test_mask_activation_relu(device):
    x = large_input(N, device)
    idx = positions(N, device)
    y = torch_act.relu(x)
    torch.testing.assert_close(y[idx], F.relu(x[idx]), rtol=0, atol=0)
    del y
    _, mask = ops.relu_forward(x)
    assert mask.numel() == (N + 63) // 64 * 8
    grad_input = ops.relu_backward(x, mask, [0])  # grad_output := x: values differ everywhere
    del mask
    expected = torch.where(x[idx] > 0, x[idx], torch.zeros((), dtype=DTYPE, device=device))
    torch.testing.assert_close(grad_input[idx], expected, rtol=0, atol=0)
    report_peak("relu", device)


@pytest.mark.parametrize("device", DEVICES)
def test_saved_output_activation_sigmoid(device):
    x = large_input(N, device, seed=1)
    idx = positions(N, device, seed=1)
    y = torch_act.sigmoid(x)
    torch.testing.assert_close(y[idx], torch.sigmoid(x[idx]))
    grad_input = ops.sigmoid_backward(x, y)  # grad_output := x
    expected = torch.ops.aten.sigmoid_backward(x[idx], y[idx])
    torch.testing.assert_close(grad_input[idx], expected)
    report_peak("sigmoid", device)


@pytest.mark.parametrize("device", DEVICES)
def test_prelu_with_channels(device):
    channels, per_channel = 3, -(-N // 6)  # shape (2, 3, K): 2 * 3 * K > 2^31
    x = large_input((2, channels, per_channel), device, seed=2)
    n = x.numel()
    assert n > 2**31
    weight = torch.tensor([0.25, -0.5, 0.125], dtype=DTYPE, device=device)
    idx = positions(n, device, seed=2)
    channel_of = (idx // per_channel) % channels
    flat = x.view(-1)

    # PReLU's output, and its input gradient for grad_output := x, are both x or slope * x.
    expected = torch.where(flat[idx] > 0, flat[idx], weight[channel_of] * flat[idx])
    y = torch_act.prelu(x, weight)
    torch.testing.assert_close(y.view(-1)[idx], expected, rtol=0, atol=0)
    del y
    grad_input, grad_weight = ops.prelu_backward(x, x, weight)  # grad_output := x
    torch.testing.assert_close(grad_input.view(-1)[idx], expected, rtol=0, atol=0)
    del grad_input

    # d/dw_c = sum over channel c of grad * x where x <= 0, here sum of x^2 there.
    reference = torch.zeros(channels, dtype=torch.float64, device=device)
    chunk = 2**26
    for c in range(channels):
        for b in range(2):
            row = x[b, c]
            for start in range(0, per_channel, chunk):
                part = row[start:start + chunk].double()
                reference[c] += (part.clamp(max=0) ** 2).sum()
    # grad_weight is rounded once to bfloat16 (8 bits of mantissa): compared at
    # bfloat16's resolution; the sums themselves run in double.
    torch.testing.assert_close(grad_weight.double(), reference, rtol=2**-8, atol=0)
    report_peak("prelu", device)
