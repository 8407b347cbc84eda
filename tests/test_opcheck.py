"""torch.library.opcheck on every op in the torch_act namespace (schema,
autograd registration, fake/meta kernels, AOT dispatch), with samples derived
from the registries (ACTIVATIONS, GATED): every op of every activation's
family, every argument set."""
import pytest
import torch

from torch_act import ACTIVATIONS, GATED
from torch_act._codegen import SEED, TRAINING, op_arguments

ops = torch.ops.torch_act


def _x(*shape, dtype):
    return torch.randn(*shape, dtype=dtype).requires_grad_()


def positional(name, kwargs):
    """The op's hyper-parameter arguments, in schema order, for these kwargs."""
    return [kwargs.get(n, default) for n, _, default in op_arguments(name)]


def op_variants(name, entry):
    """The entry's argument sets, and for a random activation (RReLU) the
    training one with a fixed seed, which the function draws itself."""
    return entry.variants + (({TRAINING: True, SEED: 20261203},) if entry.random_in_training else ())


def samples():
    """(op name, args) pairs; every op of the namespace appears at least once."""
    for dtype in (torch.float32, torch.float64):
        x = _x(3, 5, 7, dtype=dtype)
        cl = _x(2, 3, 4, 5, dtype=dtype).contiguous(memory_format=torch.channels_last).detach().requires_grad_()
        g = torch.randn(3, 5, 7, dtype=dtype)
        for name, entry in ACTIVATIONS.items():
            if entry.parameter:
                yield name, (x, torch.rand(5, dtype=dtype, requires_grad=True))
                yield name, (cl, torch.rand(1, dtype=dtype, requires_grad=True))
                yield name + "_backward", (g.clone().requires_grad_(), x, torch.rand(5, dtype=dtype, requires_grad=True))
                continue
            for kwargs in op_variants(name, entry):
                params = positional(name, kwargs)
                for inp in (x, cl):
                    yield name, (inp, *params)
                if entry.has_inplace:
                    yield name + "_", (torch.randn(3, 5, 7, dtype=dtype), *params)
                if entry.keeps == "mask":
                    for inp in (x, cl):
                        yield name + "_forward", (inp, *params)
                    if entry.has_inplace:
                        yield name + "_forward_", (torch.randn(3, 5, 7, dtype=dtype), *params)
                    _, mask = getattr(ops, name + "_forward")(x.detach(), *params)
                    yield name + "_backward", (g.clone().requires_grad_(), mask, [0, 1, 2], *params)
                else:
                    saved = getattr(ops, name)(x.detach(), *params).requires_grad_()
                    yield name + "_backward", (g.clone().requires_grad_(), saved, *params)


def gated_samples():
    """The gated family: (gate, up, params) and its backward (grad, gate, up, params)."""
    for dtype in (torch.float32, torch.float64):
        gate, up = _x(3, 5, 7, dtype=dtype), _x(3, 5, 7, dtype=dtype)
        up_cl = _x(2, 3, 4, 5, dtype=dtype)
        gate_cl = up_cl.detach().contiguous(memory_format=torch.channels_last).requires_grad_()
        g = torch.randn(3, 5, 7, dtype=dtype)
        for name, entry in GATED.items():
            for kwargs in entry.variants:
                params = tuple(kwargs.values())
                yield name, (gate, up, *params)
                yield name, (gate_cl, up_cl, *params)  # gate and up in different layouts
                yield name + "_backward", (g.clone().requires_grad_(), gate, up, *params)


SAMPLES = list(samples()) + list(gated_samples())


# Ops without tensor arguments: nothing for opcheck to check.
NO_TENSOR_OPS = {"cpu_capability"}


def test_every_op_is_covered():
    registered = {n.split("::")[1] for n in torch._C._dispatch_get_all_op_names()
                  if n.startswith("torch_act::")}
    assert registered - NO_TENSOR_OPS == {name for name, _ in SAMPLES}


@pytest.mark.parametrize("name,args", SAMPLES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SAMPLES)])
def test_opcheck(name, args):
    torch.library.opcheck(getattr(ops, name).default, args)
