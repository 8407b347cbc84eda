"""The Python side of each activation's declaration: one entry per activation.

Names, module names, families, hyper-parameters and their defaults come from
the C++ declaration (``torch_act/include/torch_act/activation_list.h``),
which the library reports (``_library.declared()``, the op schemas); an
entry adds what only Python needs: the torch.nn twins, the docstring, the
hand-written composite the benchmarks race against, and the argument sets the
tests exercise. From it come the function (``functional.py``), the module
(``modules.py``) and the ``ACTIVATIONS`` entry (``registry.py``).
"""
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

import torch
import torch.nn.functional as TF
from torch import nn


@dataclass(frozen=True)
class Declaration:
    name: str  # the op and function name, as in activation_list.h
    title: str  # for people: plots, tables
    doc: str  # what it computes and what its backward keeps
    torch_function: Callable[..., torch.Tensor]
    torch_module: type
    # What people write by hand with plain tensor ops (autograd does the rest):
    # the third contender in the benchmarks. Same signature as the function.
    naive: Callable[..., torch.Tensor]
    # Keyword arguments worth exercising beyond the defaults (slopes, alphas).
    variants: Tuple[Dict[str, Any], ...] = ({},)
    # Comparisons and products only: results equal torch.nn's bit for bit.
    exact: bool = False
    # Bounded on both sides (sigmoid-like): such units saturate rather than die.
    saturating: bool = False
    # How torch.nn's repr shows the settings: "named" ("alpha=1.0, inplace=True"),
    # "bare" (the shrinks': "0.5"), "none" (Hardsigmoid's: nothing, inplace included).
    repr_style: str = "named"
    # Constructor arguments of a module written by hand (the weighted family's,
    # PReLU's); the rest are the op's hyper-parameters (and inplace).
    module_settings: Tuple[str, ...] = ()
    # The exact math of a smooth activation, for the accuracy measurement
    # (tools/accuracy.py): exact(m, x, **params) -> (f(x), f'(x)) in any number
    # system m with exp, expm1, log1p, erfc, sqrt, pi, where(c, a, b) and const("0.1")
    # (mpmath's numbers, or float64 tensors). Written so that no step cancels
    # or overflows: its value at 40 digits is the truth to a few units in the 40th.
    exact_math: Optional[Callable[..., Tuple[Any, Any]]] = None
    # For an activation whose backward may read its output: f'(x) written in
    # y = f(x), the function that backward evaluates: from_output(m, y, **params).
    derivative_from_output: Optional[Callable[..., Any]] = None


def _naive_prelu(x, weight):
    w = weight.reshape(-1, *([1] * (x.dim() - 2))) if weight.numel() > 1 else weight.reshape(())
    return torch.where(x > 0, x, w * x)


def _sigmoid_parts(m, z):
    """sigmoid(z) and sigmoid(z) (1 - sigmoid(z)) from e = exp(-|z|) <= 1: nothing cancels."""
    e = m.exp(-abs(z))
    return m.where(z >= 0, 1 / (1 + e), e / (1 + e)), e / (1 + e) ** 2


def _exact_gelu(m, x, approximate="none"):
    if approximate == "tanh":
        k = m.sqrt(2 / m.pi)
        z = 2 * k * (x + m.const("0.044715") * x ** 3)
        s, ds = _sigmoid_parts(m, z)
        return x * s, s + x * ds * 2 * k * (1 + 3 * m.const("0.044715") * x ** 2)
    cdf = m.erfc(-x / m.sqrt(2)) / 2
    return x * cdf, cdf + x * m.exp(-x ** 2 / 2) / m.sqrt(2 * m.pi)


def _exact_sigmoid(m, x):
    return _sigmoid_parts(m, x)


def _exact_tanh(m, x):
    e = m.exp(-2 * abs(x))  # tanh = sign(x) (1 - e) / (1 + e), tanh' = 4 e / (1 + e)^2
    return m.where(x >= 0, 1, -1) * (-m.expm1(-2 * abs(x))) / (1 + e), 4 * e / (1 + e) ** 2


def _exact_softplus(m, x, beta=1.0, threshold=20.0):
    z = x * beta
    s, _ = _sigmoid_parts(m, z)
    softplus = m.where(z > 0, z, 0) + m.log1p(m.exp(-abs(z)))
    return m.where(z > threshold, x, softplus / beta), m.where(z > threshold, 1, s)


def _exact_logsigmoid(m, x):
    s, _ = _sigmoid_parts(m, -x)
    return m.where(x < 0, x, 0) - m.log1p(m.exp(-abs(x))), s


def _exact_silu(m, x):
    s, ds = _sigmoid_parts(m, x)
    return x * s, s + x * ds


def _exact_mish(m, x):
    """x tanh(softplus(x)) with u = exp(-|x|): tanh(log(1 + e^x)) = n / d, n = (1 + e^x)^2 - 1
    and d = (1 + e^x)^2 + 1 divided by e^(2x) where x >= 0; 1 - t^2 = (d - n)(d + n) / d^2."""
    u = m.exp(-abs(x))
    s, _ = _sigmoid_parts(m, x)
    n = m.where(x >= 0, 1 + 2 * u, u * (u + 2))
    d = m.where(x >= 0, n + 2 * u * u, n + 2)
    one_minus_t2 = m.where(x >= 0, 4 * u * u * (n + u * u), 4 * (n + 1)) / (d * d)
    return x * (n / d), n / d + x * s * one_minus_t2


def _exact_tanhshrink(m, x):
    """x - tanh(x); below |x| = 0.01 its series (next term 1e-22 of the sum), where the difference cancels."""
    tanh, _ = _exact_tanh(m, x)
    series = x ** 3 / 3 - 2 * x ** 5 / 15 + 17 * x ** 7 / 315 - 62 * x ** 9 / 2835 + 1382 * x ** 11 / 155925
    return m.where(abs(x) < m.const("0.01"), series, x - tanh), tanh * tanh


DECLARATIONS = (
    Declaration(
        "relu", "ReLU",
        "ReLU(x) = max(0, x), elementwise.\n\n"
        "Backward keeps a 1-bit-per-element mask, not the output, so the result may be\n"
        "modified in place afterwards.",
        TF.relu, nn.ReLU, naive=lambda x: torch.where(x > 0, x, 0.0), exact=True),
    Declaration(
        "relu6", "ReLU6",
        "ReLU6(x) = min(max(0, x), 6), elementwise (torch's hardtanh(x, 0, 6)).\n\n"
        "Backward keeps a 1-bit-per-element mask (0 < x < 6), not the input, so the result\n"
        "may be modified in place afterwards.",
        TF.relu6, nn.ReLU6, naive=lambda x: torch.clamp(x, 0.0, 6.0), exact=True),
    Declaration(
        "hardtanh", "Hardtanh",
        "Hardtanh(x) = min(max(x, min_val), max_val), elementwise (torch's clamp: NaN and -0\n"
        "kept); min_val > max_val is refused, as torch.nn.functional.hardtanh does.\n\n"
        "Backward keeps a 1-bit-per-element mask (min_val < x < max_val), not the input.",
        TF.hardtanh, nn.Hardtanh,
        naive=lambda x, min_val=-1.0, max_val=1.0: torch.clamp(x, min_val, max_val),
        variants=({}, {"min_val": -2.5, "max_val": 0.1}, {"min_val": 0.0, "max_val": 6.0}), exact=True),
    Declaration(
        "threshold", "Threshold",
        "Threshold(x) = x if x > threshold else value, elementwise; both arguments required,\n"
        "as in torch.nn.\n\n"
        "Backward keeps a 1-bit-per-element mask (not x <= threshold), not the input.",
        TF.threshold, nn.Threshold,
        naive=lambda x, threshold, value: torch.where(x > threshold, x, value),
        variants=({"threshold": 1.0, "value": 0.0}, {"threshold": 0.1, "value": 20.0},
                  {"threshold": -1.0, "value": -2.5}), exact=True),
    Declaration(
        "hardshrink", "Hardshrink",
        "Hardshrink(x) = x if |x| > lambd else 0, elementwise.\n\n"
        "Backward keeps a 1-bit-per-element mask (x outside [-lambd, lambd]), not the input.",
        TF.hardshrink, nn.Hardshrink,
        naive=lambda x, lambd=0.5: torch.where(x.abs() > lambd, x, 0.0),
        variants=({}, {"lambd": 2.0}, {"lambd": 0.0}), exact=True, repr_style="bare"),
    Declaration(
        "softshrink", "Softshrink",
        "Softshrink(x) = x - lambd if x > lambd, x + lambd if x < -lambd, else 0.\n\n"
        "lambd must lie in [0, the dtype's largest value], as torch.nn checks. Backward keeps\n"
        "a 1-bit-per-element mask (x outside [-lambd, lambd]), not the input.",
        TF.softshrink, nn.Softshrink,
        naive=lambda x, lambd=0.5: torch.where(x > lambd, x - lambd, torch.where(x < -lambd, x + lambd, 0.0)),
        variants=({}, {"lambd": 2.0}, {"lambd": 0.0}), exact=True, repr_style="bare"),
    Declaration(
        "hardsigmoid", "Hardsigmoid",
        "Hardsigmoid(x) = min(max(x + 3, 0), 6) / 6, elementwise.\n\n"
        "Backward keeps a 1-bit-per-element mask (-3 < x < 3, where the derivative is 1/6).\n"
        "In float64 the gradient is grad / 6 to the last bit; torch.nn's multiplies by 1/6\n"
        "rounded to float32 (3e-8 off).",
        TF.hardsigmoid, nn.Hardsigmoid, naive=lambda x: torch.clamp(x + 3, 0.0, 6.0) / 6,
        exact=True, saturating=True, repr_style="none"),
    Declaration(
        "leaky_relu", "Leaky ReLU",
        "LeakyReLU(x) = x if x > 0 else negative_slope * x.\n\n"
        "The default slope is torch.nn's, 0.01 (TensorFlow's ``tf.nn.leaky_relu`` defaults\n"
        "to 0.2). Backward keeps a 1-bit mask, so in-place use gives correct gradients for\n"
        "any slope, negative included.",
        TF.leaky_relu, nn.LeakyReLU,
        naive=lambda x, negative_slope=0.01: torch.where(x > 0, x, negative_slope * x),
        variants=({}, {"negative_slope": 0.2}, {"negative_slope": 0.0}, {"negative_slope": -0.5}),
        exact=True),
    Declaration(
        "rrelu", "RReLU",
        "RReLU(x) = x if x >= 0 else a * x: in training a is drawn for each element from\n"
        "U(lower, upper); out of training a = (lower + upper) / 2 (LeakyReLU's formula).\n\n"
        "The slopes come from torch's default generator (``torch.manual_seed`` repeats\n"
        "them): each call draws one seed, and an element's slope is a hash of the seed and\n"
        "its index in memory order, so backward draws the slopes again and keeps a 1-bit\n"
        "mask where torch.nn keeps a full tensor of them. Out of training it equals\n"
        "torch.nn's bit for bit; in training the slopes are torch_act's own draw, not\n"
        "torch.nn's (a different generator).",
        TF.rrelu, nn.RReLU,
        naive=lambda x, lower=1.0 / 8, upper=1.0 / 3, training=False: torch.where(
            x >= 0, x, x * (torch.empty_like(x).uniform_(lower, upper) if training else (lower + upper) / 2)),
        # Out of training it is LeakyReLU (whose suites run four slopes): the default
        # bounds, and bounds of both signs (a negative slope).
        variants=({}, {"lower": -0.5, "upper": 0.25}),
        exact=True),
    Declaration(
        "prelu", "PReLU",
        "PReLU(x) = x if x > 0 else weight[c] * x, c being the channel (dim 1).\n\n"
        "``weight`` is 0-d, or 1-d with 1 or C elements, as ``torch.nn.functional.prelu``.\n"
        "Its gradient is reduced in the same fused pass as the input's gradient.",
        TF.prelu, nn.PReLU, naive=_naive_prelu, exact=True,
        module_settings=("num_parameters", "init")),
    Declaration(
        "elu", "ELU",
        "ELU(x) = x if x > 0 else alpha * (exp(x) - 1).\n\n"
        "For alpha >= 0 backward reads the output (saved anyway by the next layer in most\n"
        "models); modifying that output in place then makes backward raise autograd's\n"
        "\"modified by an inplace operation\" error. For alpha < 0 it keeps the input.",
        TF.elu, nn.ELU,
        naive=lambda x, alpha=1.0: torch.where(x > 0, x, alpha * (torch.exp(x) - 1)),
        variants=({}, {"alpha": 0.5}, {"alpha": 0.0}, {"alpha": -0.7}),
        exact_math=lambda m, x, alpha=1.0: (m.where(x > 0, x, alpha * m.expm1(x)), m.where(x > 0, 1, alpha * m.exp(x))),
        derivative_from_output=lambda m, y, alpha=1.0: m.where(y > 0, 1, y + alpha)),
    Declaration(
        "selu", "SELU",
        "SELU(x) = scale * (x if x > 0 else alpha * (exp(x) - 1)), alpha = 1.6732632423543772,\n"
        "scale = 1.0507009873554805 (self-normalizing networks).\n\n"
        "Backward keeps the input (as torch.nn).",
        TF.selu, nn.SELU,
        naive=lambda x: 1.0507009873554805 * torch.where(x > 0, x, 1.6732632423543772 * torch.expm1(x)),
        exact_math=lambda m, x: (
            m.where(x > 0, m.const("1.0507009873554805") * x,
                    m.const("1.0507009873554805") * m.const("1.6732632423543772") * m.expm1(x)),
            m.where(x > 0, m.const("1.0507009873554805"),
                    m.const("1.0507009873554805") * m.const("1.6732632423543772") * m.exp(x)))),
    Declaration(
        "celu", "CELU",
        "CELU(x) = x if x > 0 else alpha * (exp(x / alpha) - 1); alpha = 0 is refused.\n\n"
        "Backward reads the output (CELU(x) <= 0 exactly where x <= 0, for either sign of\n"
        "alpha): modifying it in place makes backward raise autograd's \"modified by an\n"
        "inplace operation\" error.",
        TF.celu, nn.CELU,
        naive=lambda x, alpha=1.0: torch.where(x > 0, x, alpha * torch.expm1(x / alpha)),
        variants=({}, {"alpha": 0.5}, {"alpha": 1.7}),
        exact_math=lambda m, x, alpha=1.0: (m.where(x > 0, x, alpha * m.expm1(x / alpha)),
                                            m.where(x > 0, 1, m.exp(x / alpha))),
        derivative_from_output=lambda m, y, alpha=1.0: m.where(y > 0, 1, (y + alpha) / alpha)),
    Declaration(
        "sigmoid", "Sigmoid",
        "Sigmoid(x) = 1 / (1 + exp(-x)). Backward reads the output.",
        torch.sigmoid, nn.Sigmoid, naive=lambda x: 1 / (1 + torch.exp(-x)), saturating=True,
        exact_math=_exact_sigmoid, derivative_from_output=lambda m, y: y * (1 - y)),
    Declaration(
        "tanh", "Tanh",
        "Tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x)). Backward reads the output.",
        torch.tanh, nn.Tanh, naive=lambda x: 1 - 2 / (torch.exp(2 * x) + 1), saturating=True,
        exact_math=_exact_tanh, derivative_from_output=lambda m, y: 1 - y * y),
    Declaration(
        "gelu", "GELU",
        "GELU(x) = x * Phi(x), Phi the standard normal CDF; with approximate='tanh',\n"
        "0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))).\n\n"
        "Accurate for x < 0 too (no cancellation in 1 + erf or 1 + tanh). Backward keeps the input.",
        TF.gelu, nn.GELU, variants=({}, {"approximate": "tanh"}),
        naive=lambda x, approximate="none": (
            0.5 * x * (1 + torch.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3))) if approximate == "tanh"
            else 0.5 * x * (1 + torch.erf(x * 0.7071067811865476))),
        exact_math=_exact_gelu),
    Declaration(
        "silu", "SiLU",
        "SiLU(x) = x * sigmoid(x), also called swish. Backward keeps the input (in place,\n"
        "a copy of it).",
        TF.silu, nn.SiLU, naive=lambda x: x * torch.sigmoid(x), exact_math=_exact_silu),
    Declaration(
        "hardswish", "Hardswish",
        "Hardswish(x) = x * min(max(x + 3, 0), 6) / 6, elementwise.\n\n"
        "Backward keeps the input (the derivative, x / 3 + 1/2 on (-3, 3), is linear in x).",
        TF.hardswish, nn.Hardswish, naive=lambda x: x * torch.clamp(x + 3, 0.0, 6.0) / 6, exact=True,
        repr_style="none"),
    Declaration(
        "mish", "Mish",
        "Mish(x) = x * tanh(softplus(x)), elementwise.\n\n"
        "Computed from exp(-|x|): no overflow, no cancellation, exact near underflow.\n"
        "Backward keeps the input.",
        TF.mish, nn.Mish, naive=lambda x: x * torch.tanh(TF.softplus(x)), exact_math=_exact_mish),
    Declaration(
        "softplus", "Softplus",
        "Softplus(x) = log(1 + exp(beta * x)) / beta, and x where beta * x > threshold (torch's\n"
        "switch to the identity).\n\n"
        "Computed as max(z, 0) + log1p(exp(-|z|)), z = beta * x: no overflow, exact near\n"
        "underflow. Backward keeps the input (grad * sigmoid(beta * x)).",
        TF.softplus, nn.Softplus,
        naive=lambda x, beta=1.0, threshold=20.0: torch.where(x * beta > threshold, x,
                                                              torch.log1p(torch.exp(x * beta)) / beta),
        variants=({}, {"beta": 2.0, "threshold": 10.0}, {"beta": 0.5}),
        exact_math=_exact_softplus),
    Declaration(
        "logsigmoid", "LogSigmoid",
        "LogSigmoid(x) = log(1 / (1 + exp(-x))) = min(x, 0) - log1p(exp(-|x|)).\n\n"
        "Backward keeps the input (grad * sigmoid(-x)); torch.nn keeps the input and a buffer.",
        TF.logsigmoid, nn.LogSigmoid, naive=lambda x: -torch.log1p(torch.exp(-x)), saturating=False,
        exact_math=_exact_logsigmoid),
    Declaration(
        "softsign", "Softsign",
        "Softsign(x) = x / (1 + |x|), elementwise (torch.nn's very division, NaN at +-inf as\n"
        "torch.nn's).\n\n"
        "Backward keeps the input (grad / (1 + |x|)^2); torch.nn's composite keeps more.",
        TF.softsign, nn.Softsign, naive=lambda x: x / (1 + x.abs()), saturating=True,
        exact_math=lambda m, x: (x / (1 + abs(x)), 1 / (1 + abs(x)) ** 2)),
    Declaration(
        "tanhshrink", "Tanhshrink",
        "Tanhshrink(x) = x - tanh(x), elementwise.\n\n"
        "Accurate near 0, where the difference cancels (torch.nn's is 0 for |x| < 3.5e-4 in\n"
        "float32): there a polynomial for (x - tanh x) / x^3. Backward keeps the input\n"
        "(grad * tanh(x)^2).",
        TF.tanhshrink, nn.Tanhshrink, naive=lambda x: x - torch.tanh(x), exact_math=_exact_tanhshrink),
)
