"""torch_act.everywhere(): models that call activations as functions (as
torchvision's GoogLeNet calls F.relu(x, inplace=True)) run on torch_act's
kernels, with torch.nn's results; what torch_act cannot take goes to torch."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import torch_act
from torch_act import ACTIVATIONS
from torch_act.everywhere import _torch_callables

from helpers import EXACT, outputs_and_grads


class BasicConv2d(nn.Module):
    """As torchvision's GoogLeNet block: conv, batch norm, functional ReLU in place."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


class FunctionalNet(nn.Module):
    """Every activation called as a function, in each spelling people use."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(BasicConv2d(3, 8), BasicConv2d(8, 8), BasicConv2d(8, 8))
        self.alpha = nn.Parameter(torch.full((8,), 0.25))
        self.head = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        x = self.blocks(x)
        x = F.leaky_relu(x, 0.2) + torch.relu(x) + x.sigmoid() + torch.tanh(x)
        x = F.prelu(x, self.alpha) + F.elu(x, alpha=0.5) + F.gelu(x, approximate="tanh") + F.silu(x)
        x = F.gelu(x).flatten(1)
        return self.head(x).relu()


# Calls per forward, by activation.
EXPECTED = {"relu": 3 + 1 + 1, "leaky_relu": 1, "sigmoid": 1, "tanh": 1, "prelu": 1, "elu": 1, "gelu": 2, "silu": 1}


def test_functional_model_runs_on_torch_act_with_torch_nn_results():
    torch.manual_seed(0)
    # float64: eight activations in a row, squared, would turn the last-bit
    # differences of GELU/SiLU/Sigmoid in float32 into 1e-4 in the gradients.
    model, x = FunctionalNet().double(), torch.randn(2, 3, 4, 4, dtype=torch.float64)
    expected = outputs_and_grads(model, x)
    with torch_act.everywhere() as calls:
        got = outputs_and_grads(model, x)
    assert dict(calls.counts) == EXPECTED
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e)


# F.glu's route (to torch_act.glu, not an ACTIVATIONS entry) is tested with the gated
# family: tests/test_gated.py::test_convert_swaps_glu_and_everywhere_routes_F_glu.
@pytest.mark.parametrize("func,route", [(f, r) for f, r in _torch_callables().items() if r[0] in ACTIVATIONS],
                         ids=lambda v: getattr(v, "__qualname__", None) or str(v))
def test_every_torch_spelling_is_routed_with_its_arguments(func, route):
    name, inplace_alias = route
    entry = ACTIVATIONS[name]
    for kwargs in entry.variants:
        if inplace_alias:
            kwargs = {k: v for k, v in kwargs.items() if k != "approximate"}
        args = (torch.randn(4, 3, 5) * 3,) + ((torch.rand(3) - 0.3,) if entry.parameter else ())
        expected = func(*[a.clone() for a in args], **kwargs)
        with torch_act.everywhere() as calls:
            got = func(*[a.clone() for a in args], **kwargs)
        assert calls.counts[name] == 1, f"{func} was not routed to torch_act.{name}"
        exact = {"rtol": 0, "atol": 0} if name in EXACT else {}
        torch.testing.assert_close(got, expected, **exact)


def test_inplace_alias_changes_the_callers_tensor():
    x = torch.randn(10)
    expected = x.clamp(min=0)
    with torch_act.everywhere() as calls:
        out = F.relu_(x)
    assert out is x and calls.counts["relu"] == 1
    torch.testing.assert_close(x, expected, rtol=0, atol=0)


@pytest.mark.parametrize("call", [
    pytest.param(lambda: torch.relu(torch.tensor([1, -2, 3])), id="int64"),
    pytest.param(lambda: torch.sigmoid(torch.tensor([1 + 1j])), id="complex"),
    pytest.param(lambda: torch.tanh(torch.randn(3), out=torch.empty(3)), id="out="),
    pytest.param(lambda: torch.relu(torch.randn(3, 3).to_sparse()), id="sparse"),
    pytest.param(lambda: torch.randn(3).sigmoid_(), id="sigmoid_"),
])
def test_what_torch_act_cannot_take_goes_to_torch(call):
    torch.manual_seed(0)
    expected = call()
    with torch_act.everywhere() as calls:
        torch.manual_seed(0)
        got = call()
    assert sum(calls.counts.values()) == 0
    torch.testing.assert_close(got.to_dense() if got.is_sparse else got,
                               expected.to_dense() if expected.is_sparse else expected)


@pytest.mark.parametrize("call", [
    pytest.param(lambda: F.gelu(torch.randn(3), approximate="erf"), id="gelu-bad-approximate"),
    pytest.param(lambda: F.prelu(torch.randn(2, 3), torch.rand(4)), id="prelu-weight-count"),
    pytest.param(lambda: F.prelu(torch.randn(2, 3), torch.rand(3, dtype=torch.float64)), id="prelu-weight-dtype"),
])
def test_calls_torch_refuses_get_torchs_own_error(call):
    with pytest.raises(RuntimeError) as outside:
        call()
    with torch_act.everywhere() as calls, pytest.raises(RuntimeError) as inside:
        call()
    assert str(inside.value) == str(outside.value)
    assert sum(calls.counts.values()) == 0


def test_enable_disable_and_the_mode_stack():
    mode = torch_act.enable()
    try:
        assert torch_act.enable() is mode
        torch.relu(torch.randn(3))
        assert mode.counts["relu"] == 1
        with torch_act.everywhere() as inner:  # entered after enable(): must be left first
            with pytest.raises(RuntimeError, match="another torch function mode"):
                torch_act.disable()
            torch.relu(torch.randn(3))
        assert inner.counts["relu"] == 1 and mode.counts["relu"] == 1
    finally:
        torch_act.disable()
    torch.relu(torch.randn(3))
    assert mode.counts["relu"] == 1
    torch_act.disable()  # a second disable() does nothing


def test_composes_with_module_swap_and_torch_compile():
    """Modules swapped by convert() call torch_act directly (not counted
    twice); the functional calls left are routed; torch.compile traces the
    model under the mode without a graph break, with the same results."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 6), nn.Sigmoid())
    converted = torch_act.convert(model)

    def net(x):
        return F.silu(converted(x))

    x = torch.randn(5, 6)
    expected = F.silu(model(x))
    with torch_act.everywhere() as calls:
        eager = net(x)
    assert dict(calls.counts) == {"silu": 1}
    torch.testing.assert_close(eager, expected)
    torch._dynamo.reset()
    compiled = torch.compile(net, backend="aot_eager")
    with torch_act.everywhere():
        torch.testing.assert_close(compiled(x), expected)
        torch._dynamo.reset()
        explained = torch._dynamo.explain(net)(x)
    # Dynamo traces through the mode: one graph, torch_act's ops in it.
    assert explained.graph_count == 1 and explained.graph_break_count == 0
    targets = {str(n.target) for n in explained.graphs[0].graph.nodes if n.op == "call_function"}
    assert {"torch_act.silu", "torch_act.relu", "torch_act.sigmoid"} <= targets, targets


def test_convert_says_what_it_swapped(caplog):
    import warnings

    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4), nn.GELU(), nn.ReLU())
    with warnings.catch_warnings(record=True) as caught, caplog.at_level("INFO", logger="torch_act"):
        warnings.simplefilter("always")
        converted, counts = torch_act.convert(model, return_counts=True)
    assert counts == {"ReLU": 2, "GELU": 1}
    assert isinstance(converted[1], torch_act.ReLU) and isinstance(converted[3], torch_act.GELU)
    assert "swapped GELU x1, ReLU x2" in caplog.text
    assert not [w for w in caught if "torch_act" in str(w.message)]


def test_convert_warns_about_activations_called_as_functions():
    with pytest.warns(UserWarning, match=r"calls activations as functions \(BasicConv2d: relu; "
                                         r"FunctionalNet: elu, gelu, leaky_relu, prelu, relu, sigmoid, silu, "
                                         r"tanh\).*torch_act.everywhere\(\)"):
        _, counts = torch_act.convert(FunctionalNet(), return_counts=True)
    assert not counts


def test_convert_warns_when_nothing_is_there_to_swap():
    with pytest.warns(UserWarning, match="found no torch.nn activation module to swap"):
        torch_act.convert(nn.Sequential(nn.Linear(2, 2)))
