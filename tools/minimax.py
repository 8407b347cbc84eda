"""Shared pieces of the coefficient fits (tools/fit_exp_coefficients.py,
tools/fit_erf_coefficients.py): a near-minimax least-squares fit, Horner's
rule as float32 with fused multiply-adds evaluates it, and C's spelling of a
float32 constant."""
import numpy as np


def lawson(design, ys, scale, iters=30):
    """Coefficients c minimizing max |design @ c - ys| / scale, by iteratively
    reweighted least squares (Lawson's method, close to minimax); and that max."""
    w = 1 / scale
    for _ in range(iters):
        c, *_ = np.linalg.lstsq(design * w[:, None], ys * w, rcond=None)
        err = (design @ c - ys) / scale
        w = w * (1 + 10 * np.abs(err) / np.abs(err).max())
    return c, np.abs(err).max()


def fma32(a, b, c):
    """a * b + c rounded once to float32, as an fma instruction does."""
    return np.float32(np.float64(a) * np.float64(b) + np.float64(c))


def horner32(coeffs, u):
    """sum coeffs[i] u^i by Horner's rule in float32, one rounding per step."""
    acc = np.full_like(u, np.float32(coeffs[-1]))
    for c in coeffs[-2::-1]:
        acc = fma32(acc, u, np.float32(c))
    return acc


def fmt(v):
    """v as a C float32 literal with the fewest digits that round-trip."""
    return np.format_float_scientific(np.float32(v), unique=True, trim="-", exp_digits=2) + "f"
