"""The float32 exp-family math of csrc/vec_math.h (ELU's expm1, Sigmoid, Tanh
in the AVX2/AVX-512 builds): within MAX_ULP of the exact value, taken in
float64, over a sweep of every binade, and torch's results on special values.
`make test` also runs this file under each CPU capability (DEFAULT uses
ATen's Sleef functions)."""
import pytest
import torch

import torch_act  # noqa: F401

ops = torch.ops.torch_act

# Sleef's functions, which torch uses, are within 1 ulp (measured max over this
# sweep: sigmoid 2.4, tanh 0.5, expm1 0.75, counting the final division);
# ours measure 2.4, 2.5 and 0.9. 3 ulp is 1.8e-7 relative, well inside the
# float32 tolerance the parity tests use against torch.nn (1.3e-6).
MAX_ULP = 3.0

CASES = {
    "elu": (lambda x: ops.elu(x, 1.0), lambda x: torch.nn.functional.elu(x.double()), (-0.0, -100.0)),
    "sigmoid+": (ops.sigmoid, lambda x: torch.sigmoid(x.double()), (0.0, 100.0)),
    "sigmoid-": (ops.sigmoid, lambda x: torch.sigmoid(x.double()), (-0.0, -100.0)),
    "tanh+": (ops.tanh, lambda x: torch.tanh(x.double()), (0.0, 100.0)),
    "tanh-": (ops.tanh, lambda x: torch.tanh(x.double()), (-0.0, -100.0)),
}


def float_sweep(a, b, step=997):
    """Every step-th float32 between a and b (same sign): all binades, evenly."""
    ia = torch.tensor(a).view(torch.int32).item()
    ib = torch.tensor(b).view(torch.int32).item()
    return torch.arange(min(ia, ib), max(ia, ib), step, dtype=torch.int64).to(torch.int32).view(torch.float32)


def ulp_error(y, exact):
    ulp = torch.nextafter(y.abs(), torch.tensor(float("inf"))).double() - y.abs().double()
    return (y.double() - exact).abs() / ulp


@pytest.mark.parametrize("name", CASES)
def test_within_max_ulp_of_float64(name):
    ours, exact, (a, b) = CASES[name]
    x = float_sweep(a, b)
    y = ours(x)
    normal = y.abs() >= torch.finfo(torch.float32).tiny  # an ulp of a subnormal says little
    err = ulp_error(y[normal], exact(x)[normal])
    assert err.max().item() <= MAX_ULP, f"{name}: {err.max().item():.2f} ulp at x={x[normal][err.argmax()].item()!r}"


SPECIAL = [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 88.7, -88.7, 89.0, -89.0, 104.0, -104.0,
           1e-40, -1e-40, 1e-7, -1e-7, 17.5, -17.5]


@pytest.mark.parametrize("op,reference", [
    (lambda x: ops.elu(x, 1.0), torch.nn.functional.elu), (ops.sigmoid, torch.sigmoid), (ops.tanh, torch.tanh)])
def test_special_values_as_torch(op, reference):
    # Repeated so that the values fill whole vectors, not only the scalar tail.
    x = torch.tensor(SPECIAL * 8)
    y, ref = op(x), reference(x)
    torch.testing.assert_close(y, ref, equal_nan=True)
    finite = ~ref.isnan()
    assert torch.equal(torch.signbit(y[finite]), torch.signbit(ref[finite]))
