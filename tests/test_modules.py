"""Modules behave like their torch.nn twins: constructor arguments, reprs,
outputs, state_dicts, and PReLU's parameter life cycle."""
import copy
import pickle

import pytest
import torch
from torch import nn

import torch_act
from torch_act import ACTIVATIONS
from helpers import deterministic

# PReLU's constructor differs from its function's arguments.
PRELU_MODULE_ARGS = [{}, {"num_parameters": 3}, {"num_parameters": 3, "init": -0.1}]


def module_args(entry):
    """Constructor arguments to try: the registry's argument sets, also in place."""
    if entry.parameter:
        return PRELU_MODULE_ARGS
    args = list(entry.variants)
    if entry.has_inplace:
        args += [{**kw, "inplace": True} for kw in entry.variants]
    return args


MODULE_ARGS = {name: module_args(entry) for name, entry in ACTIVATIONS.items()}


# torch.nn.modules.activation's classes that are not element-wise: they
# normalise over a dim or attend; GLU is torch_act's gated family (tests/test_gated.py).
NOT_ELEMENTWISE = {"Softmax", "Softmin", "LogSoftmax", "Softmax2d", "MultiheadAttention", "GLU"}


def test_every_elementwise_activation_of_torch_nn_has_a_module():
    """torch_act covers the element-wise activations torch.nn has today: a new
    one in a torch release fails here until it is added (or named above)."""
    activation = torch.nn.modules.activation
    theirs = {name for name, cls in vars(activation).items()
              if isinstance(cls, type) and issubclass(cls, nn.Module) and cls.__module__ == activation.__name__}
    assert theirs - NOT_ELEMENTWISE == {entry.torch_module.__name__ for entry in ACTIVATIONS.values()}
    for entry in ACTIVATIONS.values():
        ours = getattr(torch_act, entry.torch_module.__name__)
        assert issubclass(ours, nn.Module) and ours is not entry.torch_module


@pytest.mark.parametrize("name,kwargs", [(n, kw) for n, kws in MODULE_ARGS.items() for kw in kws])
def test_module_matches_torch_nn(name, kwargs):
    entry = ACTIVATIONS[name]
    ours, theirs = deterministic(entry.module(**kwargs), name), deterministic(entry.torch_module(**kwargs), name)
    assert repr(ours) == repr(theirs)
    x = torch.randn(4, 3, 5)
    torch.testing.assert_close(ours(x.clone()), theirs(x.clone()))
    if name == "prelu":
        ours.alpha.data.uniform_(-1, 1)
        theirs.weight.data.copy_(ours.alpha.data)
        torch.testing.assert_close(ours(x), theirs(x))


def test_prelu_parameter():
    m = torch_act.PReLU(8)
    assert [n for n, _ in m.named_parameters()] == ["alpha"]
    assert m.alpha.shape == (8,) and torch.all(m.alpha == 0.25)
    assert list(m.state_dict()) == ["alpha"]
    assert m.weight is m.alpha


def test_prelu_loads_torch_nn_state_dict():
    theirs = nn.Sequential(nn.Linear(4, 3), nn.PReLU(3))
    theirs[1].weight.data = torch.tensor([0.1, -0.2, 0.3])
    ours = nn.Sequential(nn.Linear(4, 3), torch_act.PReLU(3))
    ours.load_state_dict(theirs.state_dict())
    assert torch.equal(ours[1].alpha.data, theirs[1].weight.data)
    x = torch.randn(5, 4)
    torch.testing.assert_close(ours(x), theirs(x))


def test_prelu_reset_device_dtype_meta_deepcopy_pickle():
    m = torch_act.PReLU(4, init=0.1, dtype=torch.float64)
    assert m.alpha.dtype == torch.float64
    m.alpha.data.fill_(3.0)
    m.reset_parameters()
    assert torch.all(m.alpha == 0.1)

    meta = torch_act.PReLU(4, device="meta")
    assert meta.alpha.is_meta
    real = meta.to_empty(device="cpu")
    real.reset_parameters()
    assert torch.all(real.alpha == 0.25)

    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert torch.equal(clone.alpha, m.alpha) and clone.alpha is not m.alpha
        x = torch.randn(2, 4, dtype=torch.float64)
        torch.testing.assert_close(clone(x), m(x))


def documented_parameters(fn):
    """{name: default} of a C builtin's positional parameters, from the signature
    its docstring opens with ("gelu(input, approximate = 'none') -> Tensor");
    keyword-only ones (after '*', as torch.sigmoid's out=) are not torch.nn.functional's."""
    import ast
    import inspect
    first = fn.__doc__.strip().splitlines()[0]
    params = {}
    for part in first[first.index("(") + 1:first.rindex(")")].split(","):
        name, _, default = (p.strip() for p in part.partition("="))
        if name == "*":
            break
        params[name] = ast.literal_eval(default) if default else inspect.Parameter.empty
    return params


def test_functional_signatures_match_torch():
    import inspect
    for name, entry in ACTIVATIONS.items():
        ours = {p.name: p.default for p in inspect.signature(entry.function).parameters.values()}
        try:
            theirs = {p.name: p.default for p in inspect.signature(entry.torch_function).parameters.values()}
        except ValueError:  # a C builtin (F.prelu, F.gelu, torch.sigmoid)
            theirs = documented_parameters(entry.torch_function)
        assert ours == theirs, name
        assert list(ours) == list(theirs), name
    assert torch_act.functional.leaky_relu is torch_act.leaky_relu


def test_naive_composites_compute_the_same_function():
    """The hand-written composites the benchmarks race against are correct."""
    x = torch.randn(2, 3, 7, dtype=torch.float64)
    for name, entry in ACTIVATIONS.items():
        assert entry.naive is not None, name
        for kwargs in entry.variants:
            if entry.parameter:
                w = torch.rand(3, dtype=torch.float64) - 0.3
                torch.testing.assert_close(entry.naive(x, w), entry.torch_function(x, w))
            else:
                torch.testing.assert_close(entry.naive(x, **kwargs), entry.torch_function(x, **kwargs))
