"""Polynomials for derivatives near their zeros (csrc/vec_accurate.h, namespace roots).

SiLU', GELU' (both forms) and Mish' cross zero at one negative x0. There f' is the
difference of two terms of about 0.2 (s and x s (1 - s); Phi and x phi), so
the ordinary formula's absolute error, a few units of 2^-24 (or 2^-53), is
many units of the small result's last place. Near x0 the kernels write
f'(x0 + d) = d P(d), with d = (x - x0_hi) - x0_lo (x - x0_hi is exact within
a factor 2 of x0, Sterbenz, and farther out d is large enough that its rounding
costs a fraction of a unit) and P from its Taylor series at x0, taken by mpmath at 60 digits
from the same exact math the accuracy test uses (torch_act/declarations.py).
Every term has the sign of d: relative accuracy all the way to the zero.

For each root and type this prints {window, x0_hi, x0_lo, P's coefficients}, enough of them that the series' remainder is below 2^-(p+2) of
P on |d| <= the window (p = 24 for float, 53 for double).
"""
import mpmath

from torch_act.declarations import DECLARATIONS

mpmath.mp.dps = 60


class Mp:
    exp, expm1, erfc, sqrt, pi = mpmath.exp, mpmath.expm1, mpmath.erfc, mpmath.sqrt, mpmath.pi
    const = staticmethod(mpmath.mpf)

    @staticmethod
    def where(c, a, b):
        return a if c else b


# (activation, arguments, C++ name, windows for float and double): a window
# is where the ordinary formula would be off by more than a few units
# (tools/accuracy.py); narrower means fewer terms, which the float kernels
# pay for in every vector.
ROOTS = [
    ("silu", {}, "kSiluRoot", (0.2, 0.4)),
    ("gelu", {}, "kGeluRoot", (0.06, 0.9)),
    ("gelu", {"approximate": "tanh"}, "kGeluTanhRoot", (0.5, 0.5)),
    ("mish", {}, "kMishRoot", (0.3, 0.4)),
]


def derivative(name, kwargs):
    d = next(d for d in DECLARATIONS if d.name == name)
    return lambda x: d.exact_math(Mp, x, **kwargs)[1]


def split(v, bits):
    """v as hi + lo, hi rounded to `bits` significant bits (float or double)."""
    hi = mpmath.mpf(float(v)) if bits == 53 else mpmath.mpf(float(mpmath.mpf(v)))
    if bits == 24:
        import numpy as np
        hi = mpmath.mpf(float(np.float32(float(v))))
    return hi, v - hi


def literal(v, bits):
    if bits == 24:
        import numpy as np
        return np.format_float_scientific(np.float32(float(v)), unique=True, trim="-", exp_digits=2) + "f"
    return repr(float(v))


def main():
    for name, kwargs, cname, windows in ROOTS:
        f = derivative(name, kwargs)
        x0 = mpmath.findroot(f, -1.0)
        taylor = mpmath.taylor(f, x0, 40)  # taylor[n] = f^(n)(x0) / n!, taylor[0] = f'(x0) = 0
        p = taylor[1:]
        for (bits, ctype), window in zip(((24, "float"), (53, "double")), windows):
            w = mpmath.mpf(window)
            smallest = min(abs(sum(c * t ** i for i, c in enumerate(p))) for t in (-w, w))
            terms = next(n for n in range(2, len(p))
                         if sum(abs(c) * w ** k for k, c in enumerate(p) if k >= n) < smallest * mpmath.mpf(2) ** -(bits + 2))
            hi, lo = split(x0, bits)
            coeffs = ", ".join(literal(c, bits) for c in p[:terms])
            print(f"// {name}{kwargs or ''}: f'(x) = 0 at x0 = {mpmath.nstr(x0, 20)}; window {window}, {terms} terms")
            print(f"constexpr {ctype} {cname}{'Float' if bits == 24 else 'Double'}[] = "
                  f"{{{literal(w, bits)}, {literal(hi, bits)}, {literal(lo, bits)}, {coeffs}}};")


if __name__ == "__main__":
    main()
