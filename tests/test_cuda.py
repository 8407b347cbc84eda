"""The CUDA backend against torch.nn.functional on the GPU: the CPU parity
checks run on CUDA tensors (every activation, argument set, dtype, layout and
special value), gradcheck in float64, opcheck, bitwise-deterministic PReLU
weight gradients, CUDA-graph capture of a training step, a second device, and
the bytes saved for backward equal to the CPU's. Runs only where
torch.cuda.is_available()."""
import pytest
import torch
from torch import nn
from torch.autograd import gradcheck, gradgradcheck

import torch_act
from torch_act import ACTIVATIONS

from helpers import (EXACT, FLOAT_DTYPES, LAYOUTS, all_variants, assert_all_close, check_against_torch,
                     every_activation_model, gated_opcheck_samples, make_leaf, opcheck_samples, outputs_and_grads,
                     variant_id)

SAMPLES = list(opcheck_samples()) + list(gated_opcheck_samples())
VARIANTS = all_variants()
VARIANT_IDS = [variant_id(n, kw) for n, kw in VARIANTS]

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=VARIANT_IDS)
def test_parity_on_cuda(name, kwargs, dtype, layout):
    shape, make_input = LAYOUTS[layout]
    leaf = make_leaf(shape, dtype).cuda()
    for per_channel in (False, True) if ACTIVATIONS[name].parameter else (False,):
        check_against_torch(name, kwargs, leaf, make_input, per_channel)


# Sizes around a pack (2/4/8 elements), a warp's 32 packs, a 64-bit mask word
# and a block; offset 1 makes every pointer unaligned (one element per thread).
SIZES = [1, 3, 4, 5, 7, 8, 9, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1000, 65537, 1 << 20]


@pytest.mark.parametrize("offset", [0, 1])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64], ids=str)
@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=VARIANT_IDS)
def test_sizes_across_packs_warps_and_words(name, kwargs, dtype, offset):
    for n in SIZES:
        leaf = make_leaf((1, n + offset), dtype, seed=n).cuda()
        check_against_torch(name, kwargs, leaf, lambda t: t[:, offset:], per_channel=False)


@pytest.mark.parametrize("offset", [0, 1])
@pytest.mark.parametrize("name", [n for n, e in ACTIVATIONS.items() if e.has_inplace])
def test_inplace_on_unaligned_views(name, offset):
    entry = ACTIVATIONS[name]
    base = torch.randn(3000 + offset, device="cuda") * 3
    ours, theirs = base.clone(), base.clone()
    entry.function(ours[offset:], inplace=True, **entry.required_kwargs)  # dense, but 4 bytes off a 16-byte boundary
    entry.torch_function(theirs[offset:], inplace=True, **entry.required_kwargs)
    exact = {"rtol": 0, "atol": 0} if name in EXACT else {}
    torch.testing.assert_close(ours, theirs, **exact)


@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=VARIANT_IDS)
def test_gradcheck_on_cuda(name, kwargs):
    fn = ACTIVATIONS[name].function
    x = torch.randn(2, 3, 5, dtype=torch.float64, device="cuda")
    x = (x + 0.1 * x.sign()).requires_grad_()
    args = (x,) if not ACTIVATIONS[name].parameter else (
        x, (torch.rand(3, dtype=torch.float64, device="cuda") - 0.3).requires_grad_())
    assert gradcheck(lambda *a: fn(*a, **kwargs), args, check_forward_ad=True, check_batched_grad=True)
    assert gradgradcheck(lambda *a: fn(*a, **kwargs), args)


@pytest.mark.parametrize("name,args", SAMPLES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SAMPLES)])
def test_opcheck_on_cuda(name, args):
    moved = [a.detach().cuda().requires_grad_(a.requires_grad) if isinstance(a, torch.Tensor) else a for a in args]
    torch.library.opcheck(getattr(torch.ops.torch_act, name).default, moved)


@pytest.mark.parametrize("channels_last", [False, True])
def test_prelu_weight_gradient_is_bitwise_deterministic(channels_last):
    x = torch.randn(8, 64, 33, 17, device="cuda")
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    w = torch.rand(64, device="cuda")
    g = torch.randn_like(x)
    grads = [torch.ops.torch_act.prelu_backward(g, x, w)[1] for _ in range(5)]
    assert all(torch.equal(grads[0], other) for other in grads[1:])


def test_mixed_devices_name_the_argument():
    with pytest.raises(RuntimeError, match="'weight' on the device of 'input'"):
        torch_act.prelu(torch.randn(2, 3, device="cuda"), torch.rand(3))


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="fewer than two CUDA devices")
def test_second_device_while_first_is_current():
    x = torch.randn(4, 5, device="cuda:1")
    with torch.cuda.device(0):
        for name, entry in ACTIVATIONS.items():
            args = (x, torch.rand(5, device="cuda:1")) if entry.parameter else (x,)
            torch.testing.assert_close(entry.function(*args, **entry.required_kwargs).cpu(), entry.torch_function(*[a.cpu() for a in args], **entry.required_kwargs))


def test_cuda_graph_captures_a_training_step():
    torch.manual_seed(0)
    layers = []
    for name, entry in ACTIVATIONS.items():
        layers += [nn.Linear(16, 16), entry.new_module(16)]
    model = nn.Sequential(*layers).cuda()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(8, 16, device="cuda"), torch.randn(8, 16, device="cuda")
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):  # warm-up on a side stream, as CUDA graphs require
        for _ in range(3):
            opt.zero_grad(set_to_none=True)
            nn.functional.mse_loss(model(x), y).backward()
            opt.step()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=True)
    with torch.cuda.graph(graph):
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
    graph.replay()  # capture records the work; the first replay computes the loss
    first = loss.item()
    for _ in range(5):
        graph.replay()
    assert 0 < loss.item() < first


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_saved_bytes_equal_the_cpu_table(name):
    entry = ACTIVATIONS[name]

    def saved_bytes(device):
        sizes = []

        def pack(t):
            sizes.append(t.numel() * t.element_size())
            return t

        x = torch.randn(64, 32, device=device, requires_grad=True)
        args = (x, torch.rand(32, device=device, requires_grad=True)) if entry.parameter else (x,)
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            entry.function(*args, **entry.required_kwargs)
        return sorted(sizes)

    assert saved_bytes("cuda") == saved_bytes("cpu")


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_memory_kept_for_backward_on_the_allocator(name):
    """What the graph keeps alive on the GPU, read from the caching allocator:
    once the output is dropped, exactly the saved tensors the op allocated
    (the CPU table's, less the input and weight the caller holds anyway), each
    rounded up to the allocator's 512-byte blocks."""
    entry = ACTIVATIONS[name]

    def inputs(device):
        x = torch.randn(256, 64, device=device, requires_grad=True)  # 64 KiB in float32
        return (x, torch.rand(64, device=device, requires_grad=True)) if entry.parameter else (x,)

    new_bytes = []
    args = inputs("cpu")
    held = {a.data_ptr() for a in args}

    def pack(t):
        if t.data_ptr() not in held:
            new_bytes.append(t.numel() * t.element_size())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        entry.function(*args, **entry.required_kwargs)
    expected = sum(-(-b // 512) * 512 for b in new_bytes)

    args = inputs("cuda")
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    y = entry.function(*args, **entry.required_kwargs)
    node = y.grad_fn
    del y
    kept = torch.cuda.memory_allocated() - before
    assert node is not None
    assert kept == expected, f"{name}: the graph keeps {kept} bytes on the GPU, the CPU table says {expected}"


def test_autocast_on_cuda_casts_prelu_like_torch():
    x = torch.randn(4, 3, device="cuda")
    w = torch.rand(3, device="cuda", requires_grad=True)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        ours, theirs = torch_act.prelu(x, w), nn.functional.prelu(x, w)
    assert ours.dtype == theirs.dtype == torch.bfloat16
    torch.testing.assert_close(ours, theirs)
    (grad,) = torch.autograd.grad(ours.float().sum(), w)
    assert grad.dtype == torch.float32


@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=VARIANT_IDS)
def test_forward_ad_and_vmap_on_cuda(name, kwargs):
    """Tangents and per-sample gradients (vmap with its fallback off) on CUDA
    tensors, equal to torch.nn's."""
    from torch.func import grad, jvp, vmap

    entry = ACTIVATIONS[name]
    x = torch.randn(4, 3, 70, dtype=torch.float64, device="cuda")
    x[0, 0, :2] = torch.tensor([0.0, -0.0])  # the kinks (NaN: test_parity_on_cuda)
    w = torch.rand(3, dtype=torch.float64, device="cuda") - 0.3 if entry.parameter else None

    def bind(fn):
        return (lambda v: fn(v, w, **kwargs)) if w is not None else (lambda v: fn(v, **kwargs))

    ours, theirs = bind(entry.function), bind(entry.torch_function)
    t = torch.randn_like(x)
    torch.testing.assert_close(jvp(ours, (x,), (t,))[1], jvp(theirs, (x,), (t,))[1])
    torch._C._functorch._set_vmap_fallback_enabled(False)
    try:
        def per_sample(f):
            return vmap(grad(lambda s: f(s[None]).sum()))(x)

        torch.testing.assert_close(per_sample(ours), per_sample(theirs))
    finally:
        torch._C._functorch._set_vmap_fallback_enabled(True)


def test_compile_inductor_on_cuda_matches_eager():
    """A model with every module, compiled by Inductor for the GPU (fullgraph:
    no graph break), gives eager's outputs and gradients."""
    torch._dynamo.reset()
    model = every_activation_model().cuda()
    x = torch.randn(5, 8, device="cuda")
    eager = outputs_and_grads(model, x)
    compiled = torch.compile(model, fullgraph=True)
    assert_all_close(outputs_and_grads(compiled, x), eager)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_errors_on_cuda_name_the_argument_and_leave_input_alone(name):
    entry = ACTIVATIONS[name]
    x = torch.tensor([1, -2, 3], device="cuda")
    args = (x, torch.rand(1, device="cuda")) if entry.parameter else (x,)
    with pytest.raises(RuntimeError, match="expected 'input' to be a floating-point tensor"):
        entry.function(*args, **entry.required_kwargs)
    assert torch.equal(x.cpu(), torch.tensor([1, -2, 3]))
    if entry.parameter:
        with pytest.raises(RuntimeError, match="'weight'"):
            entry.function(torch.randn(2, 3, device="cuda"), torch.rand(4, device="cuda"))
