"""How far every smooth activation lands from the exact value: forward, input
gradient and forward-mode tangent, in float32, float64, bfloat16 and float16,
torch_act and torch.nn side by side.

The truth is each activation's `exact_math` (torch_act/declarations.py):
- float32 and float64: evaluated by mpmath at 40 significant digits on a grid
  (uniform points over the whole useful range and densely near 0, where
  formulas switch and derivatives cross zero, a few points in every binade up
  to the largest finite number, and the extreme values), the error counted in
  units in the last place (ulp) of the exact value in the tested type, as a
  fraction;
- bfloat16 and float16: every finite number of the type, the truth taken in
  float64 (2^29 times finer than float16) and rounded to the type; the error is
  how many representable numbers lie between the result and that rounding.

Gradients are taken with grad_output = 1 and tangents with tangent 1, so both
are f'(x) itself. Where an op's backward reads its output (Sigmoid, Tanh, and
ELU with alpha >= 0 in torch_act; Sigmoid and Tanh in torch.nn), the rounded
output has already lost what f'(x) needs (sigmoid(x) rounds to 1 for x > 16.6
in float32, while f'(x) is not 0): such a gradient is judged as the exact value
of the formula its backward evaluates (`derivative_from_output`) at that
rounded output, and the table says so.

Run `python tools/accuracy.py` (`make accuracy`) for the table, written into
README.md between its accuracy markers; tests/test_accuracy.py asserts the bounds.
"""
import argparse
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import mpmath
import torch

import torch_act
from torch_act import ACTIVATIONS

mpmath.mp.dps = 40

DTYPES = (torch.float32, torch.float64, torch.bfloat16, torch.float16)
DIRECTIONS = ("forward", "gradient", "tangent")
# torch.nn's backward reads the output for these (tools/autograd/derivatives.yaml:
# sigmoid_backward and tanh_backward take `result`; ELU's out-of-place backward the input).
TORCH_NN_READS_OUTPUT = {"sigmoid", "tanh"}

# The bounds tests/test_accuracy.py holds torch_act to (issue 21): float32 and
# float64 within 4 ulp of the exact value; bfloat16 and float16 within one
# representable number of the exact value's rounding.
MAX_ULP = {torch.float32: 4.0, torch.float64: 4.0, torch.bfloat16: 1, torch.float16: 1}
# Results this close to the underflow threshold (|f| < 2^p times the smallest
# normal number: 2e-31 in float32, 2e-292 in float64; 3e-36 in bfloat16,
# float16's subnormals) are held to the same bounds, in ulp of the subnormal
# range where they are subnormal, but reported apart ("near underflow"): there
# torch.nn's exp flushes or loses its digits, and its figures would hide those
# of the rest of the line.
UNDERFLOW_MARGIN = {torch.float32: 2.0 ** 24, torch.float64: 2.0 ** 53, torch.bfloat16: 2.0 ** 8,
                    torch.float16: 1.0}


class Mp:
    """mpmath as a number system for exact_math (one element at a time)."""

    exp, expm1, log1p, sqrt, pi = mpmath.exp, mpmath.expm1, mpmath.log1p, mpmath.sqrt, mpmath.pi
    const = staticmethod(mpmath.mpf)

    @staticmethod
    def erfc(z):
        # mpmath's series check overflows past |z| ~ 1e154; there the leading
        # asymptotic term is exact to ~1/z^2, below any float's resolution.
        if abs(z) > 1e30:
            return mpmath.mpf(2) if z < 0 else mpmath.exp(-z * z) / (z * mpmath.sqrt(mpmath.pi))
        return mpmath.erfc(z)

    @staticmethod
    def where(c, a, b):
        return a if c else b


class Float64:
    """float64 tensors as a number system for exact_math (whole tensors)."""

    exp, expm1, log1p, erfc, pi = torch.exp, torch.expm1, torch.log1p, torch.special.erfc, math.pi
    const = staticmethod(float)

    @staticmethod
    def sqrt(v):
        return torch.sqrt(v) if isinstance(v, torch.Tensor) else math.sqrt(v)

    @staticmethod
    def where(c, a, b):
        return torch.where(c, torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64))


@dataclass(frozen=True)
class Case:
    """One activation with one argument set."""

    name: str
    kwargs: Tuple[Tuple[str, object], ...]

    @property
    def label(self) -> str:
        return self.name + "".join(f"({k}={v!r})" for k, v in self.kwargs)

    @property
    def entry(self):
        return ACTIVATIONS[self.name]

    def reads_output(self, contender: str) -> bool:
        if contender == "torch.nn":
            return self.name in TORCH_NN_READS_OUTPUT
        family = self.entry.family
        return family == "output" or (family == "output or input" and dict(self.kwargs).get("alpha", 1.0) >= 0)


def cases() -> List[Case]:
    return [Case(name, tuple(kw.items())) for name, a in ACTIVATIONS.items() if a.exact_math is not None
            for kw in a.variants]


def grid(dtype: torch.dtype) -> torch.Tensor:
    """The inputs for float32/float64 (mpmath truth): see the module docstring."""
    g = torch.Generator().manual_seed(21)
    finfo = torch.finfo(dtype)
    wide = 20.0 if dtype == torch.float32 else 40.0
    uniform = torch.cat([(torch.rand(3000, generator=g, dtype=torch.float64) * 2 - 1) * wide,
                         (torch.rand(3000, generator=g, dtype=torch.float64) * 2 - 1) * 4])
    lowest = math.frexp(finfo.tiny)[1] - (24 if dtype == torch.float32 else 53)
    step = 1 if dtype == torch.float32 else 4
    binades = torch.tensor([math.ldexp(1.0 + f, e) for e in range(lowest, math.frexp(finfo.max)[1], step)
                            for f in (0.0, 0.37)], dtype=torch.float64)
    extremes = torch.tensor([finfo.max, finfo.tiny, finfo.smallest_normal / 2 ** 10, 0.0], dtype=torch.float64)
    x = torch.cat([uniform, binades, -binades, extremes, -extremes]).to(dtype)
    return torch.unique(x[torch.isfinite(x)])


def floats_around_zeros(case: Case, x: torch.Tensor, derivative: list, dtype: torch.dtype,
                        neighbours: int = 48) -> torch.Tensor:
    """The `neighbours` floats on each side of every zero of f' the grid brackets
    (SiLU', GELU'): there f' is a small difference of larger terms, and its
    nearest floats are where a formula that cancels shows it most."""
    kw = dict(case.kwargs)
    points = []
    for k in range(len(derivative) - 1):
        a, b = derivative[k], derivative[k + 1]
        if a * b < 0 and float(x[k + 1] - x[k]) < 1:
            try:
                root = mpmath.findroot(lambda t: case.entry.exact_math(Mp, t, **kw)[1],
                                       (mpmath.mpf(float(x[k])), mpmath.mpf(float(x[k + 1]))), solver="anderson")
            except ValueError:  # a jump (ELU with alpha < 0 at 0), not a zero
                continue
            center = torch.tensor(float(root), dtype=dtype)
            bits = center.view(torch.int32 if dtype == torch.float32 else torch.int64)
            offsets = torch.arange(-neighbours, neighbours + 1, dtype=bits.dtype)
            points.append((bits + offsets).view(dtype))
    return torch.cat(points) if points else x[:0]


def underflow_range(case: Case, dtype: torch.dtype, samples: int = 400) -> torch.Tensor:
    """`samples` points spread over each range of x < 0 where f or f' goes from
    the smallest normal number (times 2^12) down to half the smallest subnormal:
    there a formula that rounds an exp(-|z|) into the subnormal range first and
    multiplies it by |x| or more afterwards loses most of its digits, and an exp
    that flushes to zero loses all of them."""
    kw = dict(case.kwargs)
    finfo = torch.finfo(dtype)
    top = mpmath.mpf(finfo.tiny) * 2 ** 12
    bottom = mpmath.mpf(finfo.tiny) * finfo.eps / 2  # half the smallest subnormal
    ranges = []
    for which in (0, 1):
        def magnitude(v):
            return abs(mpmath.mpf(case.entry.exact_math(Mp, mpmath.mpf(v), **kw)[which]))

        def crossing(level):
            # |g| rises with x far out on the negative side: bisect [-2^16, -1] for |g| = level.
            lo, hi = mpmath.mpf(-2 ** 16), mpmath.mpf(-1)
            if not (magnitude(lo) < level < magnitude(hi)):
                return None
            for _ in range(80):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if magnitude(mid) < level else (lo, mid)
            return float(hi)

        start, end = crossing(bottom), crossing(top)
        if start is not None and end is not None:
            ranges.append(torch.linspace(start, end, samples, dtype=torch.float64))
    return torch.cat(ranges).to(dtype) if ranges else torch.zeros(0, dtype=dtype)


def every_finite(dtype: torch.dtype) -> torch.Tensor:
    bits = torch.arange(-2 ** 15, 2 ** 15, dtype=torch.int32).to(torch.int16)
    x = bits.view(dtype)
    return x[torch.isfinite(x)]


def results(case: Case, contender: str, x: torch.Tensor) -> Dict[str, torch.Tensor]:
    """Forward, gradient (grad_output 1) and tangent (tangent 1) of one contender."""
    fn = case.entry.function if contender == "torch_act" else case.entry.torch_function
    kw = dict(case.kwargs)
    leaf = x.detach().clone().requires_grad_(True)
    y = fn(leaf, **kw)
    (grad,) = torch.autograd.grad(y, leaf, torch.ones_like(y))
    with torch.autograd.forward_ad.dual_level():
        dual = torch.autograd.forward_ad.make_dual(x.detach().clone(), torch.ones_like(x))
        tangent = torch.autograd.forward_ad.unpack_dual(fn(dual, **kw)).tangent
    return {"forward": y.detach(), "gradient": grad, "tangent": tangent}


def ulp_of(t: mpmath.mpf, dtype: torch.dtype) -> mpmath.mpf:
    finfo = torch.finfo(dtype)
    precision = {torch.float32: 24, torch.float64: 53}[dtype]
    lowest_exponent = math.frexp(finfo.tiny)[1] - 1
    exponent = lowest_exponent if t == 0 else max(int(mpmath.floor(mpmath.log(abs(t), 2))), lowest_exponent)
    return mpmath.ldexp(1, exponent - precision + 1)


def ulp_error(computed: float, t: mpmath.mpf, dtype: torch.dtype) -> float:
    """|computed - t| in units of the last place of t in dtype (0 when t overflows to computed's inf)."""
    if math.isnan(computed):
        return math.inf
    if math.isinf(computed):
        return 0.0 if abs(t) > torch.finfo(dtype).max and (t > 0) == (computed > 0) else math.inf
    return float(abs(mpmath.mpf(computed) - t) / ulp_of(t, dtype))


def units_apart(computed: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """How many representable numbers of computed's type lie between it and truth rounded to it."""
    rounded = truth.to(computed.dtype)

    def order(v):  # sign-magnitude bits -> integers in the numbers' order
        bits = v.view(torch.int16).to(torch.int32)
        return torch.where(bits < 0, -(bits & 0x7FFF), bits)

    apart = (order(computed) - order(rounded)).abs().double()
    same_special = (computed == rounded) | (computed.isnan() & rounded.isnan())
    apart = torch.where(same_special, torch.zeros_like(apart), apart)
    return torch.where(computed.isnan() != rounded.isnan(), torch.full_like(apart, math.inf), apart)


@dataclass
class Extreme:
    error: float = 0.0
    at: float = math.nan

    def add(self, error: float, x: float) -> None:
        if error > self.error or (math.isnan(self.at) and error >= self.error):
            self.error, self.at = error, x


@dataclass
class Worst:
    """The worst error over the normal range, and apart from it near underflow."""

    normal: Extreme = field(default_factory=Extreme)
    near_underflow: Extreme = field(default_factory=Extreme)

    @property
    def whole_line(self) -> Extreme:
        return max(self.normal, self.near_underflow, key=lambda e: e.error)


Measurement = Dict[Tuple[str, str, str, str], Worst]  # (case label, dtype, direction, contender)


def measure(progress: bool = False, only: Tuple[str, ...] = (), dtypes: Tuple[torch.dtype, ...] = DTYPES) -> Measurement:
    """Worst error and where it is, for every case (or those named in `only`), dtype, direction and contender."""
    out: Measurement = {}
    work = [(c, d) for c in cases() if not only or c.name in only for d in dtypes]
    if progress:
        from tqdm import tqdm
        work = tqdm(work, desc="accuracy", file=sys.stderr)
    for case, dtype in work:
        measure_case(case, dtype, out)
    return out


def as_applied(kw: dict, dtype: torch.dtype) -> dict:
    """The hyper-parameters as the kernels apply them: rounded to the compute
    type (float for float32, bfloat16, float16; double for float64), as ATen
    does. The output-reading derivative is judged with these: CELU's y + alpha
    at a saturated y = -alpha is 0 with alpha = 1.7 rounded to float, not 5e-8."""
    compute = torch.float64 if dtype == torch.float64 else torch.float32
    return {k: torch.tensor(v, dtype=compute).item() if isinstance(v, float) else v for k, v in kw.items()}


def measure_case(case: Case, dtype: torch.dtype, out: Measurement) -> None:
    kw = dict(case.kwargs)
    applied = as_applied(kw, dtype)
    reduced = dtype in (torch.bfloat16, torch.float16)
    x = every_finite(dtype) if reduced else grid(dtype)
    if reduced:
        f, df = case.entry.exact_math(Float64, x.double(), **kw)
    else:
        x = torch.unique(torch.cat([x, underflow_range(case, dtype)]))
        exact = [case.entry.exact_math(Mp, mpmath.mpf(v), **kw) for v in x.double().tolist()]
        near = floats_around_zeros(case, x, [d for _, d in exact], dtype)
        x = torch.cat([x, near])
        exact += [case.entry.exact_math(Mp, mpmath.mpf(v), **kw) for v in near.double().tolist()]
    for contender in ("torch_act", "torch.nn"):
        got = results(case, contender, x)
        from_output = case.reads_output(contender)
        for direction in DIRECTIONS:
            worst = out.setdefault((case.label, str(dtype).replace("torch.", ""), direction, contender), Worst())
            judged_from_output = from_output and direction != "forward"
            if reduced:
                truth = f if direction == "forward" else (
                    case.entry.derivative_from_output(Float64, got["forward"].double(), **applied)
                    if judged_from_output else df)
                truth = torch.as_tensor(truth, dtype=torch.float64).expand_as(x)
                errors = units_apart(got[direction], truth)
                near = (truth != 0) & (truth.abs() < UNDERFLOW_MARGIN[dtype] * torch.finfo(dtype).tiny)
                for extreme, part in ((worst.normal, ~near), (worst.near_underflow, near)):
                    if part.any():
                        i = int(torch.where(part, errors, -1.0).argmax())
                        extreme.add(float(errors[i]), float(x[i]))
                continue
            values = got[direction].double().tolist()
            ys = got["forward"].double().tolist()
            for k, v in enumerate(values):
                if direction == "forward":
                    t = exact[k][0]
                elif judged_from_output:
                    t = mpmath.mpf(case.entry.derivative_from_output(Mp, mpmath.mpf(ys[k]), **applied))
                else:
                    t = exact[k][1]
                t = mpmath.mpf(t)
                near = t != 0 and abs(t) < UNDERFLOW_MARGIN[dtype] * torch.finfo(dtype).tiny
                (worst.near_underflow if near else worst.normal).add(ulp_error(v, t, dtype), float(x[k]))


def bound(dtype: str) -> float:
    return MAX_ULP[getattr(torch, dtype)]


def beyond_bounds(m: Measurement, contender: str = "torch_act") -> List[str]:
    """One line per case, dtype and direction whose worst error on the whole line exceeds its bound."""
    return [f"{label} {dtype} {direction}: {fmt(w.whole_line.error)} at x = {w.whole_line.at!r} (bound {bound(dtype)})"
            for (label, dtype, direction, who), w in m.items()
            if who == contender and w.whole_line.error > bound(dtype)]


def table(m: Measurement) -> str:
    """Markdown: one row per case and dtype, torch_act / torch.nn per direction."""
    lines = ["| activation | dtype | forward | gradient | tangent |", "|---|---|---|---|---|"]
    labels = list(dict.fromkeys(k[0] for k in m))
    for label in labels:
        for dtype in (str(d).replace("torch.", "") for d in DTYPES):
            if (label, dtype, "forward", "torch_act") not in m:
                continue
            cells = []
            for direction in DIRECTIONS:
                ours, theirs = m[(label, dtype, direction, "torch_act")], m[(label, dtype, direction, "torch.nn")]
                cells.append(f"{fmt(ours.normal.error)} / {fmt(theirs.normal.error)}")
            lines.append(f"| {label} | {dtype} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def near_underflow(m: Measurement) -> str:
    """The results near underflow (see UNDERFLOW_MARGIN), torch_act / torch.nn."""
    rows = ["Near underflow (results below 2e-31 in float32, 2e-292 in float64, 3e-36 in bfloat16, subnormal in "
            "float16), held to the same bounds, worst error, torch_act / torch.nn:", "",
            "| activation | dtype | forward | gradient | tangent |", "|---|---|---|---|---|"]
    for (label, dtype, direction, contender), w in m.items():
        if contender != "torch_act" or direction != "forward":
            continue
        cells = []
        for d in DIRECTIONS:
            ours, theirs = m[(label, dtype, d, "torch_act")], m[(label, dtype, d, "torch.nn")]
            if math.isnan(ours.near_underflow.at) and math.isnan(theirs.near_underflow.at):
                cells.append("-")  # no result there (ELU's derivative from its output)
            else:
                cells.append(f"{fmt(ours.near_underflow.error)} / {fmt(theirs.near_underflow.error)}")
        if cells != ["-"] * 3:
            rows.append(f"| {label} | {dtype} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def fmt(e: float) -> str:
    if math.isinf(e):
        return "inf"
    return f"{e:.2f}" if e < 10 else f"{e:.3g}" if e < 1e4 else f"{e:.1e}"


README_START, README_END = "<!-- accuracy table: tools/accuracy.py -->", "<!-- end of accuracy table -->"


def write_readme(text: str, readme: Path) -> None:
    body = readme.read_text()
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.S)
    if not pattern.search(body):
        raise SystemExit(f"{readme} has no {README_START} ... {README_END} section")
    readme.write_text(pattern.sub(lambda _: f"{README_START}\n{text}\n{README_END}", body))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readme", type=Path, default=Path(__file__).resolve().parent.parent / "README.md")
    parser.add_argument("--no-readme", action="store_true", help="print only")
    parser.add_argument("--only", default="", help="comma-separated activation names (implies --no-readme)")
    parser.add_argument("--dtypes", default="", help="comma-separated dtypes, e.g. float32,float64 (implies --no-readme)")
    args = parser.parse_args()
    only = tuple(n for n in args.only.split(",") if n)
    dtypes = tuple(getattr(torch, d) for d in args.dtypes.split(",") if d) or DTYPES
    m = measure(progress=True, only=only, dtypes=dtypes)
    if only or dtypes != DTYPES:
        args.no_readme = True
    machine = f"torch {torch.__version__}, torch_act kernels: {torch.ops.torch_act.cpu_capability()}"
    text = (f"Worst error, torch_act / torch.nn ({machine}; float32 and float64 in ulp of the exact "
            f"value, bfloat16 and float16 in representable numbers from its rounding):\n\n{table(m)}\n\n"
            f"{near_underflow(m)}")
    print(text)
    for contender in ("torch_act", "torch.nn"):
        beyond = beyond_bounds(m, contender)
        if beyond:
            print(f"\n{contender} beyond the bounds:\n- " + "\n- ".join(beyond))
    if not args.no_readme:
        write_readme(text, args.readme)


if __name__ == "__main__":
    main()
