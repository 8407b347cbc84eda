"""torch.library.opcheck on every op in the torch_act namespace (schema,
autograd registration, fake/meta kernels, AOT dispatch)."""
import pytest
import torch

import torch_act  # noqa: F401

ops = torch.ops.torch_act


def _x(*shape, requires_grad=True, dtype=torch.float32):
    x = torch.randn(*shape, dtype=dtype)
    return x.requires_grad_(requires_grad)


def samples():
    """(op name, args) pairs; every op of the namespace appears at least once."""
    for dtype in (torch.float32, torch.float64):
        x = _x(3, 5, 7, dtype=dtype)
        cl = _x(2, 3, 4, 5, dtype=dtype).contiguous(memory_format=torch.channels_last).detach().requires_grad_()
        g = torch.randn(3, 5, 7, dtype=dtype)
        y = torch.sigmoid(x.detach())
        for inp in (x, cl):
            yield "relu", (inp,)
            yield "leaky_relu", (inp, 0.1)
            yield "elu", (inp, 1.0)
            yield "elu", (inp, -0.5)
            yield "sigmoid", (inp,)
            yield "tanh", (inp,)
            yield "relu_forward", (inp,)
            yield "leaky_relu_forward", (inp, -0.2)
        yield "prelu", (x, torch.rand(5, dtype=dtype, requires_grad=True))
        yield "prelu", (cl, torch.rand(1, dtype=dtype, requires_grad=True))
        yield "prelu_backward", (g.requires_grad_(), x, torch.rand(5, dtype=dtype, requires_grad=True))
        for name in ("relu_", "relu_forward_"):
            yield name, (torch.randn(3, 5, 7, dtype=dtype),)
        for name in ("leaky_relu_", "leaky_relu_forward_", "elu_"):
            yield name, (torch.randn(3, 5, 7, dtype=dtype), 0.3)
        _, mask = ops.relu_forward(x.detach())
        yield "relu_backward", (g.detach().requires_grad_(), mask, [0, 1, 2])
        _, mask = ops.leaky_relu_forward(x.detach(), 0.1)
        yield "leaky_relu_backward", (g.detach().requires_grad_(), mask, [0, 1, 2], 0.1)
        yield "elu_backward", (g.detach().requires_grad_(), y.requires_grad_(), 1.0, True)
        yield "elu_backward", (g.detach().requires_grad_(), x, -0.5, False)
        yield "sigmoid_backward", (g.detach().requires_grad_(), y)
        yield "tanh_backward", (g.detach().requires_grad_(), torch.tanh(x.detach()).requires_grad_())


SAMPLES = list(samples())


# Ops without tensor arguments: nothing for opcheck to check.
NO_TENSOR_OPS = {"cpu_capability"}


def test_every_op_is_covered():
    registered = {n.split("::")[1] for n in torch._C._dispatch_get_all_op_names()
                  if n.startswith("torch_act::")}
    assert registered - NO_TENSOR_OPS == {name for name, _ in SAMPLES}


@pytest.mark.parametrize("name,args", SAMPLES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SAMPLES)])
def test_opcheck(name, args):
    torch.library.opcheck(getattr(ops, name).default, args)
