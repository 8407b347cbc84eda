"""torch_act works where PyTorch ops work: torch.compile (no graph breaks),
torch.export (its ops stay in the graph), TorchScript, autocast, and
torch_act.convert of existing models."""
import copy

import pytest
import torch
from torch import nn

import torch_act
from torch_act import ACTIVATIONS

from helpers import (all_variants, assert_all_close, deterministic, every_activation_model, make_module,
                     outputs_and_grads, variant_id)

VARIANTS = all_variants()


def test_compile_fullgraph_inductor_matches_eager():
    torch._dynamo.reset()
    model = every_activation_model()
    x = torch.randn(5, 8)
    eager = outputs_and_grads(model, x)
    compiled = torch.compile(model, fullgraph=True)  # fullgraph: any graph break raises
    assert_all_close(outputs_and_grads(compiled, x), eager)
    assert_all_close(outputs_and_grads(compiled, x + 1), outputs_and_grads(model, x + 1))


@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=[variant_id(n, kw) for n, kw in VARIANTS])
def test_compile_each_activation_dynamic_shapes(name, kwargs):
    torch._dynamo.reset()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 6), make_module(name, kwargs, 6), nn.Linear(6, 3))
    compiled = torch.compile(model, fullgraph=True, dynamic=True, backend="aot_eager")
    for batch in (3, 7):
        x = torch.randn(batch, 6)
        assert_all_close(outputs_and_grads(compiled, x), outputs_and_grads(model, x))


def test_export_keeps_torch_act_ops():
    model = every_activation_model().eval()
    x = torch.randn(5, 8)
    exported = torch.export.export(model, (x,))
    targets = {str(n.target) for n in exported.graph.nodes if n.op == "call_function"}
    for name in ACTIVATIONS:
        assert f"torch_act.{name}.default" in targets, (name, targets)
    with torch.no_grad():
        torch.testing.assert_close(exported.module()(x), model(x))


@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=[variant_id(n, kw) for n, kw in VARIANTS])
def test_torchscript_each_module(name, kwargs):
    module = make_module(name, kwargs, 4)
    scripted = torch.jit.script(module)
    x = torch.randn(3, 4, 5)
    torch.testing.assert_close(scripted(x.clone()), module(x.clone()))
    for inplace_kwargs in ([{**kwargs, "inplace": True}] if ACTIVATIONS[name].has_inplace else []):
        module = make_module(name, inplace_kwargs, 4)
        y = x.clone()
        assert torch.jit.script(module)(y) is not None
        torch.testing.assert_close(y, make_module(name, kwargs, 4)(x))


def test_torchscript_model_trains_like_eager():
    model = every_activation_model()
    scripted = torch.jit.script(copy.deepcopy(model))
    x = torch.randn(5, 8)
    assert_all_close(outputs_and_grads(scripted, x), outputs_and_grads(model, x))


def torch_nn_model(width=16):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, width), nn.PReLU(width), nn.Linear(width, width), nn.LeakyReLU(0.2),
                         nn.ELU(), nn.Linear(width, width), nn.Tanh(), nn.Sigmoid(), nn.ReLU(),
                         nn.Linear(width, 4))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_autocast_matches_torch_nn(dtype):
    ours = torch_act.convert(torch_nn_model())
    theirs = torch_nn_model()
    x = torch.randn(6, 8)
    results = []
    for model in (ours, theirs):
        with torch.autocast("cpu", dtype=dtype):
            y = model(x)
        y.float().sum().backward()
        results.append((y, model[1].weight.grad if isinstance(model[1], nn.PReLU) else model[1].alpha.grad))
    (y, grad), (ref, ref_grad) = results
    assert y.dtype == ref.dtype == dtype
    torch.testing.assert_close(y, ref)
    assert grad.dtype == ref_grad.dtype == torch.float32
    # Reduced-precision products summed over a batch: tolerance of the dtype's own.
    torch.testing.assert_close(grad, ref_grad, rtol=2e-2, atol=2e-2)


def test_autocast_prelu_float32_alpha_with_bfloat16_input():
    """The case of PyTorch issue #95365: a bfloat16 input meets a float32 alpha."""
    alpha = torch.rand(4, requires_grad=True)
    x = torch.randn(3, 4, 5, dtype=torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = torch_act.prelu(x, alpha)
        ref = torch.nn.functional.prelu(x, alpha.detach())
    assert y.dtype == ref.dtype == torch.bfloat16
    torch.testing.assert_close(y, ref, rtol=0, atol=0)
    y.float().sum().backward()
    assert alpha.grad is not None and alpha.grad.dtype == torch.float32
    with pytest.raises(RuntimeError, match="expected 'weight' to have the dtype of 'input'"):
        torch_act.prelu(x, alpha)  # outside autocast a mismatch is still an error, as in torch.nn


class ResidualBlock(nn.Module):
    def __init__(self, channels=4):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.act1 = nn.PReLU(channels, init=0.1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.gate = nn.Sequential(nn.Conv2d(channels, channels, 1), nn.Sigmoid())
        self.act2 = nn.ReLU(inplace=True)

    def forward(self, x):
        out = self.conv2(self.act1(self.conv1(x))) * self.gate(x)
        return self.act2(out + x)


def test_convert_resnet_block_and_mlp():
    torch.manual_seed(0)
    block = nn.Sequential(ResidualBlock(), ResidualBlock(), nn.ELU(alpha=0.5))
    with torch.no_grad():
        block[0].act1.weight.uniform_(-0.5, 0.5)
    mlp = nn.Sequential(nn.Linear(10, 20), nn.LeakyReLU(0.2, inplace=True), nn.Linear(20, 20), nn.Tanh(),
                        nn.Linear(20, 1))
    for model, x in ((block, torch.randn(2, 4, 6, 6)), (mlp, torch.randn(5, 10))):
        before = copy.deepcopy(model.state_dict())
        converted = torch_act.convert(model)
        assert converted is not model
        kinds = {type(m) for m in converted.modules()}
        assert not kinds & {e.torch_module for e in ACTIVATIONS.values()}, kinds
        for k, v in before.items():  # the original is untouched
            assert torch.equal(model.state_dict()[k], v)
        with torch.no_grad():
            torch.testing.assert_close(converted(x.clone()), model(x.clone()))
    converted = torch_act.convert(block)
    assert isinstance(converted[0].act1, torch_act.PReLU)
    assert torch.equal(converted[0].act1.alpha, block[0].act1.weight)
    assert converted[0].act1.init == 0.1 and converted[0].act2.inplace
    assert converted[2].alpha == 0.5
    assert torch_act.convert(mlp, inplace=True) is mlp and isinstance(mlp[1], torch_act.LeakyReLU)
    assert mlp[1].negative_slope == 0.2 and mlp[1].inplace


def test_convert_single_module_and_bad_argument():
    assert isinstance(torch_act.convert(nn.ReLU()), torch_act.ReLU)
    with pytest.raises(TypeError, match="expected 'model' to be an nn.Module"):
        torch_act.convert(lambda x: x)


# Every argument set, and in place where the activation has an in-place form.
COMPILED_AUTOGRAD_CASES = VARIANTS + [(n, {**kw, "inplace": True}) for n, kw in VARIANTS
                                      if ACTIVATIONS[n].has_inplace]


@pytest.mark.parametrize("name,kwargs", COMPILED_AUTOGRAD_CASES,
                         ids=[variant_id(n, kw) for n, kw in COMPILED_AUTOGRAD_CASES])
def test_compiled_autograd_captures_our_backward_nodes(name, kwargs):
    """Compiled autograd traces a backward graph holding torch_act's nodes (the
    forward runs eagerly), in-place ones included: every op records the same
    kind of hand-built node."""
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 6), make_module(name, kwargs, 6), nn.Linear(6, 3))
    x = torch.randn(4, 6)
    eager = outputs_and_grads(model, x)

    model.zero_grad()
    xr = x.clone().requires_grad_()
    y = model(xr)
    # torch 2.13's Dynamo does not trace Tensor.backward() by default; this is
    # the context manager torch.compile's compiled-autograd mode enters.
    from torch._dynamo import compiled_autograd
    with compiled_autograd._enable(torch.compile(backend="aot_eager")):
        y.square().sum().backward()
    assert counters["compiled_autograd"]["captures"] >= 1
    assert_all_close([y.detach(), xr.grad] + [p.grad.clone() for p in model.parameters()], eager)


@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=[variant_id(n, kw) for n, kw in VARIANTS])
def test_convert_every_activation_keeps_its_settings(name, kwargs):
    """convert() reaches every registered activation, with each argument set,
    in place or not, and the converted model computes the same."""
    entry = ACTIVATIONS[name]
    for extra in ([{}, {"inplace": True}] if entry.has_inplace else [{}]):
        settings = {"num_parameters": 4} if entry.parameter else {**kwargs, **extra}
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), deterministic(entry.torch_module(**settings), name), nn.Linear(4, 2))
        converted = torch_act.convert(model)
        twin = converted[1]
        assert type(twin) is entry.module
        for setting in entry.settings:
            assert getattr(twin, setting) == getattr(model[1], setting), setting
        x = torch.randn(5, 3)
        with torch.no_grad():
            torch.testing.assert_close(converted(x.clone()), model(x.clone()))
