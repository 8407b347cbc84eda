"""torch_act.plot: curves from torch_act's kernels and autograd, equal to
torch's functions and derivatives; the figure and the CLI."""
import pytest
import torch

from torch_act import ACTIVATIONS, GATED
from torch_act import plot


def test_curves_are_the_functions_and_their_derivatives():
    x = torch.linspace(-10, 10, 501, dtype=torch.float64)
    settings = {"leaky_relu": {"negative_slope": 0.1}}
    drawn = plot.curves(x, prelu_alpha=0.3, settings=settings)
    assert set(drawn) == set(ACTIVATIONS) | set(GATED)
    for name, (label, y, dy) in drawn.items():
        if name in GATED:  # against the composite people write, at up = 1
            gate = x.clone().requires_grad_()
            ref = GATED[name].composite(gate, torch.ones_like(gate))
            (ref_dy,) = torch.autograd.grad(ref.sum(), gate)
            assert GATED[name].title in label
            torch.testing.assert_close(y, ref.detach())
            torch.testing.assert_close(dy, ref_dy)
            continue
        entry = ACTIVATIONS[name]
        assert entry.title in label
        xs = x.clone().requires_grad_()
        if entry.parameter:
            ref = entry.torch_function(xs, torch.tensor([0.3], dtype=x.dtype))
        else:
            ref = entry.torch_function(xs, **{**entry.required_kwargs, **settings.get(name, {})})
        (ref_dy,) = torch.autograd.grad(ref.sum(), xs)
        torch.testing.assert_close(y, ref.detach())
        torch.testing.assert_close(dy, ref_dy)


def test_plot_writes_figure(tmp_path):
    out = tmp_path / "act.png"
    fig = plot.plot_activations(str(out), prelu_alpha=0.2)
    assert out.stat().st_size > 10_000
    rows = plot.grouped([*ACTIVATIONS, *GATED])
    assert len(fig.axes) == 2 * len(rows)
    # Every activation is drawn once as f and once as f' (plus the two axis lines per panel).
    assert sum(len(ax.lines) - 2 for ax in fig.axes) == 2 * (len(ACTIVATIONS) + len(GATED))
    assert max(len(members) for members in rows.values()) <= 7, "a panel too crowded to read"


def test_cli(tmp_path, capsys):
    out = tmp_path / "cli.png"
    plot.main(["--out", str(out), "--prelu-alpha", "0.5", "--xmin", "-3", "--xmax", "3"])
    assert out.exists() and "wrote" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        plot.main(["--xmin", "2", "--xmax", "1"])
