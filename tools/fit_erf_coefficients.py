"""Derives the float32 coefficients of csrc/vec_math.h's normal CDF Phi (GELU's
erf): prints them as C arrays, with the error of each fit in float64 and of
the float32 Horner evaluation (units of 2^-24 relative).

    python tools/fit_erf_coefficients.py

  Phi(-s) = exp(-s^2 / 2) * R_i(s - mid_i)     for s = |x| >= 0,
  in 8 intervals of width 1.35, i = min(floor(s / 1.35), 7), the last one
  [9.45, 13.5] (beyond, exp(-s^2 / 2) underflows); Phi(s) = 1 - Phi(-s).
  R = Phi(-s) exp(s^2 / 2) (Mills' ratio over sqrt(2 pi)) is smooth, so 9
  terms per interval reach float32's precision. For s < 3, where nearly all
  of an activation's inputs fall, R_central(s - 1.5) (14 terms) needs no
  per-lane lookups: a vector whose lanes all lie there uses it alone. The fit is in x itself, not
  in x / sqrt 2: the rounding of that argument would cost up to a unit.

Fits minimize the relative error by iteratively reweighted least squares
(Lawson's method, close to minimax) against mpmath at 40 digits.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
WIDTH = 1.35
EDGES = [i * WIDTH for i in range(8)] + [13.5]
TERMS = 9
CENTRAL, CENTRAL_TERMS = (0.0, 3.0), 14


def tail(s):  # Phi(-s) * exp(s^2 / 2)
    return mp.erfc(s / mp.sqrt(2)) / 2 * mp.exp(s * s / 2)


def lawson(xs, ys, design, iters=30):
    w = 1 / np.abs(ys)
    for _ in range(iters):
        c, *_ = np.linalg.lstsq(design * w[:, None], ys * w, rcond=None)
        err = (design @ c - ys) / ys
        w = w * (1 + 10 * np.abs(err) / np.abs(err).max())
    return c, np.abs(err).max()


def horner32(coeffs, u):
    """Horner in float32 with fused multiply-adds (one rounding per step)."""
    acc = np.full_like(u, np.float32(coeffs[-1]))
    for c in coeffs[-2::-1]:
        acc = (acc.astype(np.float64) * u.astype(np.float64) + np.float64(np.float32(c))).astype(np.float32)
    return acc


def fmt(v):
    return np.format_float_scientific(np.float32(v), unique=True, trim="-", exp_digits=2) + "f"


def fit(lo, hi, mid, terms):
    xs = np.linspace(lo, hi, 1500)
    ys = np.array([float(tail(mp.mpf(x))) for x in xs])
    c, err = lawson(xs, ys, np.vander(xs - float(mid), terms, increasing=True))
    a32 = np.linspace(lo, hi, 4000, endpoint=False).astype(np.float32)
    exact = np.array([float(tail(mp.mpf(float(a)))) for a in a32])
    f32 = np.abs(horner32(c, (a32 - mid).astype(np.float32)) / exact - 1).max() * 2**24
    print(f"// [{lo:g}, {hi:g}): fit {err:.1e}, float32 evaluation {f32:.2f} units of 2^-24")
    return c


def main():
    lo, hi = CENTRAL
    central = fit(lo, hi, np.float32(0.5 * (lo + hi)), CENTRAL_TERMS)
    print(f"constexpr float kCdfCentralMid = {fmt(0.5 * (lo + hi))};")
    print("constexpr float kCdfCentral[] = {" + ", ".join(fmt(v) for v in central) + "};")
    mids, table = [], []
    for lo, hi in zip(EDGES, EDGES[1:]):
        mid = np.float32(0.5 * (lo + hi))
        c = fit(lo, hi, mid, TERMS)
        mids.append(mid)
        table.append(c)
    print(f"constexpr float kCdfIntervalsPerUnit = {fmt(1 / WIDTH)};")
    print("alignas(32) constexpr float kCdfMid[8] = {" + ", ".join(fmt(m) for m in mids) + "};")
    print(f"alignas(32) constexpr float kCdfTail[{TERMS}][8] = {{")
    for k in range(TERMS):
        print("    {" + ", ".join(fmt(table[i][k]) for i in range(8)) + "},")
    print("};")


if __name__ == "__main__":
    main()
