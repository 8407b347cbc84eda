"""Derives the float32 coefficients of csrc/vec_math.h's exp core, on the
reduced argument r in [-ln2 / 2, ln2 / 2]:

    exp(r)   ~ P(r), degree 6, P(0) = 1 exactly     (sigmoid, SiLU, GELU's tanh form)
    expm1(r) ~ r + r^2 E(r), E of degree 4          (tanh, ELU: relative accuracy near 0)

prints them as C arrays with the error of the fit (float64) and of the
float32 evaluation (Horner with fused multiply-adds), in units of 2^-24
relative.

    python tools/fit_exp_coefficients.py

Fits minimize the relative error by iteratively reweighted least squares
(Lawson's method, close to minimax) against mpmath. Taylor's coefficients
need a degree more for the same accuracy: one fma per exp saved.
"""
import mpmath as mp
import numpy as np

from minimax import fma32, fmt, horner32, lawson

mp.mp.dps = 40
HALF_LN2 = float(mp.log(2) / 2)


def main():
    rs = np.linspace(-HALF_LN2, HALF_LN2, 4001)
    r32 = np.linspace(-HALF_LN2, HALF_LN2, 20001).astype(np.float32)

    # exp(r) = 1 + r c1 + ... + r^6 c6: fit c1..c6 to (exp(r) - 1) / r.
    exact = np.array([float(mp.exp(mp.mpf(r))) for r in rs])
    design = np.vander(rs, 7, increasing=True)[:, 1:]
    c, err = lawson(design, exact - 1, exact, iters=60)
    coeffs = [1.0] + list(c)
    ex32 = np.array([float(mp.exp(mp.mpf(float(r)))) for r in r32])
    e32 = np.abs(horner32(coeffs, r32) / ex32 - 1).max() * 2**24
    print(f"// exp: fit {err * 2**24:.3f}, float32 evaluation {e32:.2f} units of 2^-24")
    print("constexpr float kExp[] = {" + ", ".join(fmt(v) for v in coeffs) + "};")

    # expm1(r) = r + r^2 E(r): fit E so that the result's relative error is small.
    exact = np.array([float(mp.expm1(mp.mpf(r))) for r in rs])
    safe = np.where(rs == 0, 1e-30, rs)
    design = np.vander(rs, 5, increasing=True) * (safe**2)[:, None]
    c, err = lawson(design, exact - rs, np.maximum(np.abs(exact), 1e-30), iters=60)
    ex32 = np.array([float(mp.expm1(mp.mpf(float(r)))) for r in r32])
    e = horner32(list(c), r32)
    got = fma32(r32 * r32, e, r32)
    nz = ex32 != 0
    e32 = np.abs(got[nz] / ex32[nz] - 1).max() * 2**24
    print(f"// expm1: fit {err * 2**24:.3f}, float32 evaluation {e32:.2f} units of 2^-24")
    print("constexpr float kExpm1[] = {" + ", ".join(fmt(v) for v in c) + "};")


if __name__ == "__main__":
    main()
