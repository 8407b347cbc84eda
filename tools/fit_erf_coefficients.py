"""Derives the float32 coefficients of csrc/vec_math_normal.h (GELU's erf form
in the AVX2/AVX-512 builds): prints them as C arrays, with the error of each
fit in float64 and of the float32 Horner evaluation (units of 2^-24 relative;
for A, relative to max(|A|, 1e-3): it crosses zero).

    python tools/fit_erf_coefficients.py

Near the centre, s = |x| < 4 (all 16 lanes of 99.9% of vectors of normally
distributed inputs), two functions straight from polynomials, no exp:
  Q(s) = Phi(-s)                 GELU: x < 0: x Q(s);  x >= 0: x - x Q(s)
  A(s) = Phi(-s) - s phi(s)      GELU': x < 0: A(s);   x >= 0: 1 - A(s)
each in 8 intervals of width 0.5, 8 terms in s - mid_i, the lane's
coefficients picked by one permute each (i = floor(2 s)).
Beyond (the rare path): Phi(-s) = exp(-s^2 / 2) * R_i(s - mid_i) in 8
intervals of width 1.35 up to 14.5 (beyond, x Phi(-s) underflows to zero),
9 terms: R = Phi(-s) exp(s^2 / 2) (Mills' ratio over sqrt(2 pi)) is smooth.
Fits are in x itself, not x / sqrt 2 (rounding that argument would cost up
to a unit), and minimize the relative error by iteratively reweighted least
squares (Lawson's method, close to minimax) against mpmath at 40 digits.
"""
import mpmath as mp
import numpy as np

from minimax import fmt, horner32, lawson

mp.mp.dps = 40
NEAR_END, NEAR_INTERVALS, NEAR_TERMS = 4.0, 8, 8
TAIL_WIDTH, TAIL_END, TAIL_TERMS = 1.35, 14.5, 9


def q(s):  # Phi(-s)
    return mp.erfc(s / mp.sqrt(2)) / 2


def a(s):  # Phi(-s) - s phi(s)
    return q(s) - s * mp.exp(-s * s / 2) / mp.sqrt(2 * mp.pi)


def tail(s):  # Phi(-s) * exp(s^2 / 2)
    return q(s) * mp.exp(s * s / 2)


def fit(f, lo, hi, terms, floor=0.0):
    mid = np.float32(0.5 * (lo + hi))
    xs = np.linspace(lo, hi, 1500)
    ys = np.array([float(f(mp.mpf(x))) for x in xs])
    c, err = lawson(np.vander(xs - float(mid), terms, increasing=True), ys, np.maximum(np.abs(ys), floor))
    a32 = np.linspace(lo, hi, 4000, endpoint=False).astype(np.float32)
    exact = np.array([float(f(mp.mpf(float(v)))) for v in a32])
    got = horner32(c, (a32 - mid).astype(np.float32))
    f32 = (np.abs(got - exact) / np.maximum(np.abs(exact), floor)).max() * 2**24
    print(f"// {f.__name__} on [{lo:g}, {hi:g}): fit {err:.1e}, float32 evaluation {f32:.2f} units of 2^-24")
    return mid, c


def tables(name, f, edges, terms, floor=0.0, mids=None):
    """The coefficients of f's fits, one column per interval; and the
    intervals' midpoints, unless they are already printed as `mids`."""
    fits = [fit(f, lo, hi, terms, floor) for lo, hi in zip(edges, edges[1:])]
    if mids is None:
        mids = name + "Mid"
        print(f"alignas(32) constexpr float k{mids}[8] = {{" + ", ".join(fmt(m) for m, _ in fits) + "};")
    print(f"alignas(32) constexpr float k{name}[{terms}][8] = {{")
    for k in range(terms):
        print("    {" + ", ".join(fmt(c[k]) for _, c in fits) + "},")
    print("};")


def main():
    near = [i * NEAR_END / NEAR_INTERVALS for i in range(NEAR_INTERVALS + 1)]
    print("alignas(32) constexpr float kNearMid[8] = {"
          + ", ".join(fmt(0.5 * (lo + hi)) for lo, hi in zip(near, near[1:])) + "};")
    tables("Q", q, near, NEAR_TERMS, mids="NearMid")
    tables("A", a, near, NEAR_TERMS, floor=1e-3, mids="NearMid")
    tables("Tail", tail, [i * TAIL_WIDTH for i in range(8)] + [TAIL_END], TAIL_TERMS)


if __name__ == "__main__":
    main()
