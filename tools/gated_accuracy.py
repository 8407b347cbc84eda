"""How far the gated activations (torch_act.GATED) land from the exact value,
fused against the composite people write (F.silu(gate) * up), in float32,
float64, bfloat16 and float16: output, gate gradient and up gradient.

The truth: the activation's exact math (torch_act/declarations.py,
`exact_math`) at each finite gate, times up and the gradient, in float64 for
results of the narrower types and by mpmath at 40 digits for float64 results
(float64's own evaluation of the exact forms is off by more than float64's
ulp near the derivatives' zeros); at infinite gates torch.nn's float64
composite (its NaN gradients at +-inf set the convention). ReGLU's composite is
exact in float64. Errors are in units of eps times max(|exact|, scale), scale
being 0 for the output and up gradient and 1e-3 |grad * up| for the gate
gradient, where the exact value is a small difference of larger terms near
act''s zeros. tests/test_gated.py asserts the bounds (6 for float32 and
float64, 1 for the half types) with the same truth.

    python tools/gated_accuracy.py            # 100,000 random values a case, plus specials
"""
import argparse
import math
import sys
from pathlib import Path

import mpmath
import torch
from tqdm import tqdm

from torch_act import ACTIVATIONS, GATED

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import Float64, Mp  # noqa: E402  (exact_math over float64 tensors, over mpmath numbers)

DTYPES = (torch.float32, torch.float64, torch.bfloat16, torch.float16)
SPECIALS = [0.0, -0.0, math.inf, -math.inf, math.nan, 1e-30, -40.0, 40.0, -1.2785, -0.7518]


def sample(n, dtype, seed, specials=True):
    """n values ~ 3 N(0, 1) in `dtype`, the first ones special (zeros, infinities, NaN,
    far tails, the zeros of SiLU' and GELU')."""
    g = torch.Generator().manual_seed(seed)
    t = torch.randn(n, generator=g, dtype=torch.float64) * 3
    if specials:
        k = min(n, len(SPECIALS))
        t[:k] = torch.tensor(SPECIALS[:k], dtype=torch.float64)
    return t.to(dtype)


def truth(name, kw, gate, up, grad):
    """(output, gate gradient, up gradient) exact to float64 (module docstring)."""
    g, u, dy = gate.double().requires_grad_(), up.double().requires_grad_(), grad.double()
    y = GATED[name].composite(g, u, **kw)
    y, gg, gu = (t.contiguous() for t in (y.detach(), *torch.autograd.grad(y, (g, u), dy)))
    exact = ACTIVATIONS[GATED[name].inner].exact_math
    if exact is None:  # piecewise linear: the composite is exact
        return y, gg, gu
    g, u = g.detach(), u.detach()
    finite = torch.isfinite(g)
    if gate.dtype != torch.float64:
        f, df = exact(Float64, g, **kw)
        return (torch.where(finite, f * u, y), torch.where(finite, dy * u * df, gg), torch.where(finite, dy * f, gu))
    with mpmath.workdps(40):
        for i in finite.reshape(-1).nonzero().squeeze(1).tolist():
            gi, ui, dyi = (mpmath.mpf(t.reshape(-1)[i].item()) for t in (g, u, dy))
            f, df = exact(Mp, gi, **kw)
            y.view(-1)[i], gg.view(-1)[i], gu.view(-1)[i] = float(f * ui), float(dyi * ui * df), float(dyi * f)
    return y, gg, gu


def scales(gate, up, grad):
    """The scale of each result (module docstring): output, gate gradient, up gradient."""
    zero = torch.zeros(gate.shape, dtype=torch.float64)
    return zero, (grad.double() * up.double()).abs() * 1e-3, zero


def units(actual, exact, scale, dtype):
    """|actual - exact| in units of eps max(|exact|, scale) at finite exact values; inf where a
    non-finite exact value is not matched (NaN for NaN, the same infinity)."""
    a = actual.double()
    finite = torch.isfinite(exact)
    err = (a - exact).abs() / (torch.finfo(dtype).eps * torch.maximum(exact.abs(), scale) + torch.finfo(dtype).tiny)
    err = torch.where(finite, err, 0.0)
    matched = (a.isnan() & exact.isnan()) | (a == exact)
    return torch.where(~finite & ~matched, math.inf, err)


def run(name, kw, fn, gate, up, grad):
    """fn's (output, gate gradient, up gradient)."""
    g, u = gate.clone().requires_grad_(), up.clone().requires_grad_()
    y = fn(g, u, **kw)
    return (y.detach(), *torch.autograd.grad(y, (g, u), grad))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="values per case (float64: a tenth, mpmath is slow)")
    args = parser.parse_args()
    rows = []
    cases = [(name, kw, dtype) for name, g in GATED.items() for kw in g.variants for dtype in DTYPES]
    for name, kw, dtype in tqdm(cases, desc="gated accuracy", file=sys.stderr):
        n = args.n // 10 if dtype == torch.float64 else args.n
        gate, up, grad = (sample(n, dtype, seed) for seed in (0, 1, 2))
        exact = truth(name, kw, gate, up, grad)
        worst = {}
        for who, fn in (("torch_act", GATED[name].function), ("torch.nn", GATED[name].composite)):
            got = run(name, kw, fn, gate, up, grad)
            worst[who] = [float(units(a, e, s, dtype).max()) for a, e, s in zip(got, exact, scales(gate, up, grad))]
        label = GATED[name].title + "".join(f" ({v})" for v in kw.values())
        rows.append((label, str(dtype).replace("torch.", ""), worst["torch_act"], worst["torch.nn"]))
    print("| gated activation | dtype | output | gate gradient | up gradient |")
    print("|---|---|---:|---:|---:|")
    for label, dtype, ours, theirs in rows:
        cells = [f"{a:.2f} / {b:.3g}" for a, b in zip(ours, theirs)]
        print(f"| {label} | {dtype} | " + " | ".join(cells) + " |")
    print("\nworst error, torch_act fused / torch.nn composite, in eps units (tools/gated_accuracy.py)")


if __name__ == "__main__":
    main()
