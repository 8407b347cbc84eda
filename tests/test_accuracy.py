"""Every smooth activation's forward, input gradient and forward-mode tangent
against the exact value (tools/accuracy.py: mpmath at 40 digits for float32 and
float64, every finite number for bfloat16 and float16): within 4 ulp in
float32/float64, within one representable number of the exact value's rounding
in bfloat16/float16, torch.nn measured beside it. `make test` also runs this
file under every kernel build (DEFAULT, AVX2, AVX-512)."""
import math
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import accuracy  # noqa: E402


@pytest.mark.parametrize("case", accuracy.cases(), ids=lambda c: c.label)
def test_within_bounds(case):
    """Within the bound on the whole line, near underflow included. One case a
    test, so that pytest-xdist's workers share the cases out."""
    measured = {}
    for dtype in accuracy.DTYPES:
        accuracy.measure_case(case, dtype, measured)
    print("\n" + accuracy.table(measured) + "\n\n" + accuracy.near_underflow(measured))
    beyond = accuracy.beyond_bounds(measured)
    assert not beyond, "\n".join(beyond)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_underflow_range_is_sampled(dtype):
    """The grid reaches the subnormal results of every exp-family activation,
    where an exp flushed to zero would be off by the whole value: some of the
    points underflow_range adds have exact results that are subnormal but not zero."""
    import mpmath
    tiny = mpmath.mpf(torch.finfo(dtype).tiny)
    for case in accuracy.cases():
        if case.name not in ("silu", "gelu", "sigmoid") and case.label != "elu(alpha=-0.7)":
            continue
        which = 1 if case.name == "elu" else 0  # ELU's derivative underflows, its value does not
        points = accuracy.underflow_range(case, dtype)
        exact = [abs(case.entry.exact_math(accuracy.Mp, mpmath.mpf(v), **dict(case.kwargs))[which])
                 for v in points.double().tolist()]
        assert sum(0 < t < tiny for t in exact) >= 100, (case.label, dtype)


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
