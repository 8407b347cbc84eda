"""Plots of every activation and its derivative, both computed by torch_act's
own kernels (forward) and C++ autograd (derivative).

    python -m torch_act.plot --out activations.png

matplotlib is imported here only, when a plot is drawn.
"""
import argparse
from typing import Dict, Optional, Tuple

import torch

from .gated import GATED
from .registry import ACTIVATIONS

# torch.nn's default LeakyReLU slope (0.01) is invisible at this scale.
DEFAULT_SETTINGS = {"leaky_relu": {"negative_slope": 0.1}}

# One row of the figure per group, so that no panel holds more curves than
# the eye can follow; an activation not named here lands in "others".
GROUPS = {
    "rectifiers": ("relu", "leaky_relu", "rrelu", "prelu", "relu6", "hardtanh", "threshold"),
    "smooth rectifiers": ("elu", "selu", "celu", "softplus"),
    "self-gated (x times a gate of x)": ("gelu", "silu", "mish", "hardswish"),
    "squashing": ("sigmoid", "tanh", "hardsigmoid", "softsign", "logsigmoid"),
    "shrinkage": ("hardshrink", "softshrink", "tanhshrink"),
    # The gated ops as functions of the gate with up = 1, f' being d/d(gate).
    "gated (act(gate) * up, up = 1)": ("swiglu", "geglu", "reglu", "sigmoid_glu"),
}


def grouped(names) -> Dict[str, list]:
    """GROUPS restricted to `names`, in order, plus "others" for the rest; empty groups dropped."""
    placed = {n for members in GROUPS.values() for n in members}
    rows = {group: [n for n in members if n in names] for group, members in GROUPS.items()}
    rows["others"] = [n for n in names if n not in placed]
    return {group: members for group, members in rows.items() if members}


def curves(x: torch.Tensor, prelu_alpha: float = 0.25,
           settings: Optional[Dict[str, dict]] = None) -> Dict[str, Tuple[str, torch.Tensor, torch.Tensor]]:
    """name -> (label, f(x), f'(x)) for every registered activation, and for
    each gated one (GATED) as a function of the gate with up = 1."""
    settings = DEFAULT_SETTINGS if settings is None else settings
    out = {}
    for name, entry in ACTIVATIONS.items():
        kwargs = {**entry.required_kwargs, **settings.get(name, {})}
        xs = x.detach().clone().requires_grad_(True)
        if entry.parameter:
            y = entry.function(xs, torch.tensor([prelu_alpha], dtype=x.dtype), **kwargs)
            kwargs = {"alpha": prelu_alpha}
        else:
            y = entry.function(xs, **kwargs)
        (dy,) = torch.autograd.grad(y.sum(), xs)  # elementwise: the sum's gradient is f'(x)
        detail = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        label = f"{entry.title} ({detail})" if detail else entry.title
        out[name] = (label, y.detach(), dy)
    for name, entry in GATED.items():
        gate = x.detach().clone().requires_grad_(True)
        y = entry.function(gate, torch.ones_like(gate))
        (dy,) = torch.autograd.grad(y.sum(), gate)
        out[name] = (f"{entry.title} (up = 1)", y.detach(), dy)
    return out


def plot_activations(out: Optional[str] = None, xmin: float = -10.0, xmax: float = 10.0,
                     prelu_alpha: float = 0.25, settings: Optional[Dict[str, dict]] = None):
    """Draws the classic comparison figure, one row per group of activations
    (GROUPS): functions left, derivatives right.

    Returns the matplotlib Figure; writes it to ``out`` (PNG, SVG, PDF...) when given.
    """
    import matplotlib
    if out is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = torch.linspace(xmin, xmax, 2001, dtype=torch.float64)
    drawn = curves(x, prelu_alpha, settings)
    rows = grouped(list(drawn))
    fig, axes = plt.subplots(len(rows), 2, figsize=(12, 3.6 * len(rows)), constrained_layout=True, squeeze=False)
    # Several curves coincide for x > 0: widths and dashes keep each visible.
    styles = [dict(linewidth=4.0, alpha=0.5), dict(linewidth=2.0, linestyle="--"),
              dict(linewidth=2.0, linestyle="-."), dict(linewidth=2.0, linestyle=":"),
              dict(linewidth=1.8), dict(linewidth=1.8, linestyle="--"),
              dict(linewidth=2.5, linestyle=(0, (5, 1, 1, 1))), dict(linewidth=2.5, linestyle=(0, (1, 1)))]
    for (group, names), (ax_f, ax_d) in zip(rows.items(), axes):
        for i, name in enumerate(names):
            label, y, dy = drawn[name]
            ax_f.plot(x, y, label=label, **styles[i % len(styles)])
            ax_d.plot(x, dy, label=label, **styles[i % len(styles)])
        ax_f.set(title=f"{group}: f(x)", xlabel="x", ylabel="f(x)", ylim=(-2.5, 4))
        ax_d.set(title=f"{group}: f'(x) (torch_act autograd)", xlabel="x", ylabel="f'(x)", ylim=(-0.4, 1.8))
        for ax in (ax_f, ax_d):
            ax.axhline(0, color="0.6", linewidth=0.8)
            ax.axvline(0, color="0.6", linewidth=0.8)
            ax.grid(alpha=0.3)
        ax_f.legend(loc="upper left", fontsize=9)
    if out is not None:
        fig.savefig(out, dpi=120)
        plt.close(fig)
    return fig


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Plot torch_act's activations and their derivatives.")
    parser.add_argument("--out", default="activations.png", help="output image (default: activations.png)")
    parser.add_argument("--xmin", type=float, default=-10.0)
    parser.add_argument("--xmax", type=float, default=10.0)
    parser.add_argument("--prelu-alpha", type=float, default=0.25, help="PReLU's alpha to draw (default 0.25)")
    parser.add_argument("--negative-slope", type=float, default=0.1, help="Leaky ReLU's slope to draw (default 0.1)")
    args = parser.parse_args(argv)
    if not args.xmin < args.xmax:
        parser.error(f"--xmin ({args.xmin}) must be below --xmax ({args.xmax})")
    plot_activations(args.out, args.xmin, args.xmax, args.prelu_alpha,
                     {"leaky_relu": {"negative_slope": args.negative_slope}})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
