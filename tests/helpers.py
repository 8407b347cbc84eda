"""Shared test helpers: inputs in every layout, calls through the registry, and
the comparison rules against torch.nn.functional (the reference)."""
import math

import torch

from torch_act import ACTIVATIONS

FLOAT_DTYPES = [torch.float32, torch.float64, torch.bfloat16, torch.float16]

# Activations whose math is exact (comparisons and products by the slope):
# they must match torch bit for bit, values and gradients.
EXACT = {name for name, a in ACTIVATIONS.items() if a.exact}
# torch.nn's backward disagrees with itself at a NaN input for these: its CPU
# vector body gives NaN (elu_backward: ELU, SELU, CELU; hardswish_backward in
# float32/float64) or 0 (hardtanh_backward: Hardtanh, ReLU6; the shrinks'
# backward in float32/float64), its scalar tail and its CUDA kernels the
# incoming gradient or tangent, times the factor given here (SELU's scale: NaN
# <= 0 is false, so its positive side's grad * scale). torch_act gives that
# everywhere (test_parity.py's test_gradient_at_nan_is_grad_output);
# comparisons with torch.nn take it as the reference at NaN inputs.
INCOMING_AT_NAN = {"elu": 1.0, "selu": 1.0507009873554805, "celu": 1.0, "relu6": 1.0, "hardtanh": 1.0,
                   "hardshrink": 1.0, "softshrink": 1.0, "hardswish": 1.0}


def deterministic(module, name):
    """`module`, out of training where the activation is random in training
    (RReLU: each call draws new slopes, and other ones than torch.nn's), for
    tests that compare it with torch.nn or with another call of itself;
    tests/test_rrelu.py holds training to its own reference."""
    return module.eval() if ACTIVATIONS[name].random_in_training else module


def incoming_at_nan(name, incoming):
    """What torch_act gives at a NaN input: the incoming gradient or tangent
    times INCOMING_AT_NAN[name], in the compute type (float for the float
    types, double for float64), rounded to the incoming dtype once."""
    compute = torch.float64 if incoming.dtype == torch.float64 else torch.float32
    factor = INCOMING_AT_NAN[name]
    return incoming if factor == 1.0 else (incoming.to(compute) * torch.tensor(factor, dtype=compute)).to(incoming.dtype)


# torch.nn's float64 Hardsigmoid gradient and tangent multiply by 1/6 rounded
# to float32 (3e-8 off); torch_act's by 1/6 in float64. There the reference
# is the analytic derivative.
FLOAT64_DERIVATIVE_OFF = {"hardsigmoid"}
# torch.nn's log_sigmoid_forward and rrelu (rrelu_with_noise) return a
# contiguous output whatever the input's layout; torch_act keeps the input's
# layout, as every elementwise op (torch.nn's other activations included):
# the layout is not compared there.
TORCH_OUTPUT_CONTIGUOUS = {"logsigmoid", "rrelu"}
# torch.nn activations whose backward has no derivative in torch (torch raises
# "derivative for aten::hardsigmoid_backward is not implemented"): second
# derivatives are compared with the analytic 0 of a piecewise-linear function.
TORCH_WITHOUT_SECOND_DERIVATIVE = {"hardsigmoid"}
# torch.nn's softshrink gives -0 for a negative x inside [-lambd, lambd] in
# its scalar tail (x * 0) and +0 in its vector body: torch_act gives +0
# everywhere, and the sign-of-zero test expects +0 there.
ZERO_IS_POSITIVE = {"softshrink"}


def corrected_reference(name, reference, x, incoming):
    """torch.nn's gradient or tangent `reference` of the input x, given the
    incoming gradient or tangent, with the corrections above: `incoming` where
    x is NaN (INCOMING_AT_NAN), the analytic value in float64 for
    FLOAT64_DERIVATIVE_OFF."""
    if reference.shape != x.shape:
        return reference
    incoming = incoming.to(reference.dtype).expand_as(reference)
    if name in INCOMING_AT_NAN:
        reference = torch.where(torch.isnan(x), incoming_at_nan(name, incoming), reference)
    if name in FLOAT64_DERIVATIVE_OFF and reference.dtype == torch.float64:
        reference = torch.where((x > -3) & (x < 3), incoming * (1.0 / 6.0), torch.zeros((), dtype=torch.float64))
    return reference


def variant_id(name, kwargs):
    return name + "".join(f"-{k}={v}" for k, v in kwargs.items())


def all_variants():
    """(name, kwargs) for every registered activation and argument set."""
    return [(name, kw) for name, a in ACTIVATIONS.items() for kw in a.variants]


def special_values(dtype):
    """NaN, +-inf, +-0, denormals, +-1e30 (inf in float16) and a few ordinary numbers."""
    tiny = torch.finfo(dtype).tiny
    vals = [math.nan, math.inf, -math.inf, 0.0, -0.0, tiny / 4, -tiny / 4, 1e30, -1e30,
            1.0, -1.0, 0.5, -3.0, 20.0, -20.0]
    return torch.tensor(vals, dtype=torch.float64).to(dtype)


def with_specials(t):
    """t with special values written over its first elements (in memory order)."""
    flat = t.view(-1)
    s = special_values(t.dtype)
    k = min(flat.numel(), s.numel())
    flat[:k] = s[:k]
    return t


# Each layout: (shape of the leaf tensor, function making the op's input from the leaf).
# The op input always has logical shape (2, 3, 5, 7) except the 0-d and empty cases.
LAYOUTS = {
    "contiguous": ((2, 3, 5, 7), lambda t: t),
    "transposed": ((2, 3, 7, 5), lambda t: t.transpose(2, 3)),
    "sliced_step": ((2, 3, 10, 7), lambda t: t[:, :, ::2]),
    "channels_last": ((2, 3, 5, 7), lambda t: t.contiguous(memory_format=torch.channels_last)),
    "expanded": ((1, 3, 1, 7), lambda t: t.expand(2, 3, 5, 7)),
    "zero_dim": ((), lambda t: t),
    "empty": ((0, 3, 4), lambda t: t),
}


def make_leaf(shape, dtype, specials=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    t = (torch.randn(shape, generator=g, dtype=torch.float64) * 3).to(dtype)
    return with_specials(t) if specials else t


def make_weight(entry, x, dtype, per_channel, seed=1):
    """PReLU's weight: one slope, or one per channel (dim 1), some negative."""
    if not entry.parameter:
        return None
    n = x.shape[1] if per_channel and x.dim() >= 2 else 1
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, generator=g, dtype=torch.float64) - 0.3).to(dtype=dtype, device=x.device)


def call(fn, x, weight, kwargs):
    return fn(x, weight, **kwargs) if weight is not None else fn(x, **kwargs)


def run(fn, leaf, make_input, weight, kwargs, grad_seed=2, grad_dtype=None):
    """Forward and backward of fn; returns (output, grad of input, grad of weight,
    grad_output). grad_output is drawn in grad_dtype (default: the output's)."""
    leaf = leaf.detach().clone().requires_grad_(True)
    w = weight.detach().clone().requires_grad_(True) if weight is not None else None
    x = make_input(leaf)
    y = call(fn, x, w, kwargs)
    g = torch.Generator().manual_seed(grad_seed)
    grad_out = torch.randn(y.shape, generator=g, dtype=torch.float64).to(grad_dtype or y.dtype).to(y.device, y.dtype)
    # Gradients of the op's own input, element for element (not of the leaf,
    # where an expanded input would sum them).
    inputs = [x] + ([w] if w is not None else [])
    grads = torch.autograd.grad(y, inputs, grad_out)
    return y.detach(), grads[0], (grads[1] if w is not None else None), grad_out


# How much an output-based derivative moves per unit of the output, times
# the largest |y| where it moves: ELU with alpha >= 0: y + alpha, 1 (times
# alpha below); CELU: (y + alpha) / alpha, |y| <= alpha: 1; Sigmoid:
# y (1 - y), 1; Tanh: 1 - y^2, 2.
_OUTPUT_SLOPE = {"elu": 1.0, "celu": 1.0, "sigmoid": 1.0, "tanh": 2.0}


def output_grad_atol(name, kwargs, dtype, grad_out):
    """Where backward differentiates from the stored output (ELU with
    alpha >= 0, Sigmoid, Tanh) and the dtype is reduced, the output is rounded
    to that dtype first, and torch_act's and torch.nn's outputs may round to
    neighbouring numbers (near a tie, the exact value lies between them): the
    gradients then differ by up to eps(dtype) * slope * |grad|, with slope
    _OUTPUT_SLOPE (ELU's times alpha), while both are as right as the output
    allows. Returns that bound, or 0 where it does not apply."""
    alpha = kwargs.get("alpha", 1.0)
    if name not in _OUTPUT_SLOPE or dtype not in (torch.bfloat16, torch.float16) or alpha < 0:
        return 0.0
    finite = grad_out[torch.isfinite(grad_out)].abs()
    gmax = float(finite.max()) if finite.numel() else 0.0
    return torch.finfo(dtype).eps * _OUTPUT_SLOPE[name] * (alpha if name == "elu" else 1.0) * gmax


# torch's strided (non-vectorized) float16 kernels round every intermediate
# to float16 (sigmoid_backward's g * (1 - y) * y rounds twice), so torch.nn
# itself lands up to ~3 units in the last place away from the once-rounded
# float result that torch_act returns; the default float16 rtol (1e-3) is one
# unit. bfloat16's default rtol (1.6e-2) already spans two units and is kept.
REDUCED_RTOL = {torch.float16: 4e-3, torch.bfloat16: 1.6e-2}


def tolerances(dtype, atol_extra=0.0):
    """(rtol, atol) of the non-exact comparisons: assert_close's defaults, REDUCED_RTOL for half types."""
    if dtype in REDUCED_RTOL:
        return REDUCED_RTOL[dtype], 1e-5 + atol_extra
    assert atol_extra == 0.0
    return {torch.float32: (1.3e-6, 1e-5), torch.float64: (1e-7, 1e-7)}[dtype]


def assert_same(actual, expected, exact, atol_extra=0.0):
    if exact:
        torch.testing.assert_close(actual, expected, rtol=0, atol=0, equal_nan=True)
    else:
        rtol, atol = tolerances(actual.dtype, atol_extra)
        torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=True)


# --- judging against the float64 value where torch.nn itself is off --------------------

def distance(a, truth):
    """|a - truth| in float64, 0 where both are the same infinity or both NaN, inf where one is NaN."""
    a, truth = a.double(), truth.double()
    d = (a - truth).abs()
    d = torch.where(a == truth, 0.0, d)
    d = torch.where(a.isnan() | truth.isnan(), math.inf, d)
    return torch.where(a.isnan() & truth.isnan(), 0.0, d)


def float64_values(fn, x, grad_out, kwargs, index):
    """torch.nn's output and input gradient at the flat positions `index`,
    computed in float64. Non-finite inputs each go through a one-element
    tensor, which takes torch's scalar path: its vectorized CPU kernels are
    wrong at some special values on some CPUs (on AVX-512 machines F.gelu(+inf)
    is NaN in any tensor of 2 or more elements, inf in a 1-element one;
    F.elu's gradient at NaN is NaN in the vector body, grad_output in the
    scalar tail). Finite ones go in one call (one at a time, a bfloat16 sample
    of 100,000 values took a minute)."""
    xs = x.detach().reshape(-1)[index].double()
    gs = grad_out.reshape(-1)[index].double()

    def at(xv, gv):
        leaf = xv.clone().requires_grad_()
        y = fn(leaf, **kwargs)
        (gx,) = torch.autograd.grad(y, leaf, gv)
        return y.detach(), gx

    ys, gxs = torch.empty_like(xs), torch.empty_like(xs)
    finite = torch.isfinite(xs)
    if finite.any():
        ys[finite], gxs[finite] = at(xs[finite], gs[finite])
    for i in (~finite).nonzero().squeeze(1).tolist():
        ys[i], gxs[i] = (v[0] for v in at(xs[i].reshape(1), gs[i].reshape(1)))
    return ys, gxs


def judged_reference(actual, expected, truth_at, atol_extra=0.0):
    """torch.nn's result `expected`, except where it and torch_act's `actual`
    disagree and `actual` is no farther than it from the float64 value
    (truth_at(flat indices) gives those): there torch.nn is the one that is
    off, so it is not taken as the truth. Returns the reference to compare
    `actual` with."""
    rtol, atol = tolerances(actual.dtype, atol_extra)
    differ = ~torch.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    if not differ.any():
        return expected
    index = differ.reshape(-1).nonzero().squeeze(1)
    truth = truth_at(index)
    a, e = actual.reshape(-1)[index], expected.reshape(-1)[index]
    nearer = distance(a, truth) <= distance(e, truth)
    flat = expected.reshape(-1).clone()
    flat[index[nearer]] = a[nearer]
    return torch.empty_like(expected).copy_(flat.view(expected.shape))  # in expected's memory layout
