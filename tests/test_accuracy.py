"""Every smooth activation's forward, input gradient and forward-mode tangent
against the exact value (tools/accuracy.py: mpmath at 40 digits for float32 and
float64, every finite number for bfloat16 and float16): within 4 ulp in
float32/float64, within one representable number of the exact value's rounding
in bfloat16/float16, torch.nn measured beside it. `make test` also runs this
file under every kernel build (DEFAULT, AVX2, AVX-512)."""
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import accuracy  # noqa: E402


@pytest.fixture(scope="module")
def measured():
    m = {}
    for case in accuracy.cases():
        for dtype in accuracy.DTYPES:
            accuracy.measure_case(case, dtype, m)
    print("\n" + accuracy.table(m) + "\n\n" + accuracy.near_underflow(m))
    return m


@pytest.mark.parametrize("case", accuracy.cases(), ids=lambda c: c.label)
def test_within_bounds(measured, case):
    beyond = []
    for (label, dtype, direction, contender), worst in measured.items():
        if label == case.label and contender == "torch_act" and worst.error > accuracy.bound(label, dtype, direction):
            beyond.append(f"{dtype} {direction}: {worst.error:.3g} at x = {worst.at!r} "
                          f"(bound {accuracy.bound(label, dtype, direction)})")
    assert not beyond, "\n".join(beyond)


def test_allowances_are_still_needed(measured):
    """An allowance above 4 ulp must name a case that still exceeds 4 ulp somewhere."""
    for label, dtype, direction in accuracy.ALLOWED:
        worst = measured[(label, dtype, direction, "torch_act")]
        assert worst.error > accuracy.MAX_ULP[getattr(torch, dtype)] or \
            torch.ops.torch_act.cpu_capability() != "AVX512", (label, dtype, direction, worst.error)


def test_measures_what_it_says():
    """The error measure itself: a value one float32 ulp off reads as 1 ulp, the exact one as 0."""
    import mpmath
    t = mpmath.mpf(1) / 3
    v = float(torch.tensor(float(t), dtype=torch.float32))
    assert accuracy.ulp_error(v, t, torch.float32) <= 0.5
    above = float(torch.nextafter(torch.tensor(v), torch.tensor(2.0)))
    assert 0.5 < accuracy.ulp_error(above, t, torch.float32) <= 1.5
    x = torch.tensor([1.0, 2.0], dtype=torch.bfloat16)
    assert accuracy.units_apart(torch.nextafter(x, x + 1), x.double()).tolist() == [1.0, 1.0]
