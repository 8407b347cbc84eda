"""Derives the float32 coefficients of csrc/vec_math.h's log(1 + e) for e in
[0, 1] (Softplus and LogSigmoid take log(1 + exp(-|z|))):

    log(1 + e) = 2 atanh(s),  s = e / (2 + e) in [0, 1/3]
               = 2s + s^3 L(s^2),  L of degree 3

prints them as a C array with the error of the fit (float64) and of the whole
float32 evaluation as the kernel does it (s and its rounding correction, then
2s + (2c + s^3 L) rounded once), in units of 2^-24 relative and in ulp.

    python tools/fit_log1p_coefficients.py

The fit minimizes the error relative to log(1 + e) (Lawson's method against
mpmath). The tail s^3 L is at most 4% of the result, so its own rounding
errors hardly show: the result is the rounding of 2s + tail, within about
half an ulp.
"""
import mpmath as mp
import numpy as np

from minimax import fma32, fmt, horner32, lawson

mp.mp.dps = 40
DEGREE = 3


def fit():
    s = np.linspace(1e-4, 1 / 3, 4001)
    total = np.array([float(2 * mp.atanh(mp.mpf(v))) for v in s])
    tail = np.array([float((2 * mp.atanh(mp.mpf(v)) - 2 * mp.mpf(v)) / mp.mpf(v) ** 3) for v in s])
    design = np.vander(s * s, DEGREE + 1, increasing=True)
    return lawson(design, tail, total / s**3, iters=80)


def log1p_float32(e, coeffs):
    """The kernel's steps in float32 (its division is correctly rounded here;
    the AVX-512 build's reciprocal step is within 0.6 ulp of it)."""
    f = np.float32
    h = (e * f(0.5)).astype(f)
    d = (h + f(1)).astype(f)
    d_lo = ((f(1) - d) + h).astype(f)
    s = (h / d).astype(f)
    residual = fma32(-s, d, h)
    c = (fma32(-s, d_lo, residual) / d).astype(f)
    w = (s * s).astype(f)
    return fma32(s, f(2), fma32((s * w).astype(f), horner32(list(coeffs), w), (c + c).astype(f)))


def main():
    coeffs, err = fit()
    e = np.concatenate([np.geomspace(1e-30, 1e-3, 2001), np.linspace(1e-3, 1, 20001)]).astype(np.float32)
    exact = np.array([float(mp.log1p(mp.mpf(float(v)))) for v in e])
    got = log1p_float32(e, np.float32(coeffs)).astype(np.float64)
    ulp = np.spacing(np.abs(got).astype(np.float32)).astype(np.float64)
    print(f"// log1p on [0, 1]: fit {err * 2**24:.3f} units of 2^-24, "
          f"float32 evaluation within {(np.abs(got - exact) / ulp).max():.2f} ulp")
    print("constexpr float kLog1pTail[] = {" + ", ".join(fmt(v) for v in coeffs) + "};")


if __name__ == "__main__":
    main()
