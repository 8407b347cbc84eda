"""The polynomial behind Tanhshrink near 0 (csrc/vec_accurate.h, kTanhshrink*).

x - tanh(x) cancels for small |x|: below 1.41 one ulp of tanh(x) is two or
more ulps of the difference (the kernels' tanh is within 1 to 2 ulp). There the kernels take x (u P(u - c)), u = x^2, P a
near-minimax polynomial (mpmath's Chebyshev fit at 50 digits) for
(x - tanh x) / x^3, which is smooth in u (its nearest singularity is at
u = -(pi/2)^2). Centred on c, the middle of the window, P's terms fall off
four times faster than in u itself and mostly share a sign: in u, float's
Horner's rule added terms of alternating sign to a sum four times smaller
than them, 2.8 ulp off. Rounding P's
leading coefficient and x^3 would cost a unit each (2.8 ulp in all): the
kernels carry both as hi + lo (x^3 from two products whose rounding errors
fma recovers). This prints the tables, {c0_hi, c0_lo, c1, ...}, for float
and double, and the worst error of the whole scheme as the float kernels
evaluate it over 2^20 points of (0, 1.5), against mpmath.
"""
import mpmath
import numpy as np

from minimax import fma32, fmt

mpmath.mp.dps = 50
WINDOW = 1.5
CENTRE = 1.125  # WINDOW^2 / 2, in float: u - CENTRE is exact over most of the window (Sterbenz)
TERMS = {"float": 12, "double": 24}


def ratio(u):
    """(x - tanh x) / x^3 at x = sqrt(u)."""
    if u == 0:
        return mpmath.mpf(1) / 3
    x = mpmath.sqrt(u)
    return (x - mpmath.tanh(x)) / x ** 3


def fit(terms):
    poly, err = mpmath.chebyfit(lambda v: ratio(v + CENTRE), [-CENTRE, WINDOW ** 2 - CENTRE], terms, error=True)
    return poly[::-1], err  # lowest degree first


def table(coeffs, bits):
    """{c0_hi, c0_lo, c1, ...} rounded to float (bits 24) or double (53)."""
    rounded = (lambda c: float(np.float32(float(c)))) if bits == 24 else float
    hi = rounded(coeffs[0])
    return [hi, rounded(coeffs[0] - mpmath.mpf(hi))] + [rounded(c) for c in coeffs[1:]]


def float_error(t):
    """Worst error in float32 ulps of x^3 P(x^2 - c) evaluated as the float kernels do."""
    t = [np.float32(c) for c in t]
    x = np.linspace(1e-3, WINDOW, 1 << 20, dtype=np.float32)
    u_hi = x * x
    u_lo = fma32(x, x, -u_hi)
    cube_hi = x * u_hi
    cube_lo = fma32(x, u_hi, -cube_hi) + x * u_lo
    v = u_hi - np.float32(CENTRE)
    p = np.full_like(x, t[-1])
    for c in t[-2:1:-1]:
        p = fma32(p, v, c)
    p = fma32(p, v, t[1]) + t[0]
    y = fma32(cube_hi, p, cube_lo * p)
    exact = np.array([float(xi - mpmath.tanh(xi)) for xi in map(mpmath.mpf, x.astype(np.float64))])
    return (np.abs(y.astype(np.float64) - exact) / np.spacing(np.abs(exact).astype(np.float32))).max()


def main():
    for (ctype, terms), bits in zip(TERMS.items(), (24, 53)):
        coeffs, err = fit(terms)
        t = table(coeffs, bits)
        literal = fmt if bits == 24 else repr
        print(f"// P(u - {CENTRE}) fits (x - tanh x) / x^3 on u = x^2 in [0, {WINDOW}^2] to {mpmath.nstr(err, 3)}")
        print(f"inline constexpr {ctype} kTanhshrink{ctype.capitalize()}[] = {{{', '.join(literal(c) for c in t)}}};")
        if bits == 24:
            print(f"// float32 x^3 P(x^2 - c) on (0, {WINDOW}): worst {float_error(t):.2f} ulp")


if __name__ == "__main__":
    main()
