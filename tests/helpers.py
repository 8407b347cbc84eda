"""Shared test helpers: inputs in every layout, calls through the registry, the
comparison rules against torch.nn.functional (the reference) and the checks
built on them, models holding every activation, opcheck samples. Test files
import from here, never from each other."""
import math

import torch

from torch import nn

from torch_act import ACTIVATIONS, GATED
from torch_act._codegen import SEED, TRAINING, op_arguments

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


# --- Against torch.nn: one activation, one input (test_parity, test_cuda, test_cuda_paths) ---


def same_layout(a, b):
    """Equal strides wherever they matter: a size-1 dim's stride never moves anything."""
    return a.shape == b.shape and all(sa == sb for sa, sb, n in zip(a.stride(), b.stride(), a.shape) if n > 1)


def check_against_torch(name, kwargs, leaf, make_input, per_channel=False):
    entry = ACTIVATIONS[name]
    weight = make_weight(entry, make_input(leaf), leaf.dtype, per_channel)
    y, grad_x, grad_w, grad_out = run(entry.function, leaf, make_input, weight, kwargs)
    ref_y, ref_grad_x, ref_grad_w, _ = run(entry.torch_function, leaf, make_input, weight, kwargs)
    if leaf.is_cuda and leaf.dtype in (torch.bfloat16, torch.float16):
        # torch's CUDA tanh_backward/sigmoid_backward compute in the reduced
        # dtype, rounding each intermediate (1 - y * y near |y| = 1 loses most
        # of its bits: up to 3% apart); torch_act computes once in float, as
        # torch's CPU kernels do, so the gradient's reference there is CPU's.
        _, ref_grad_x, _, _ = run(entry.torch_function, leaf.cpu(), make_input,
                                  None if weight is None else weight.cpu(), kwargs)
        ref_grad_x = ref_grad_x.cuda()
    ref_grad_x = corrected_reference(name, ref_grad_x, make_input(leaf).detach(), grad_out)
    exact = name in EXACT
    atol = output_grad_atol(name, kwargs, leaf.dtype, grad_out)
    if not exact:
        # Where torch.nn disagrees with torch_act, the float64 value decides.
        def truth_at(what):
            return lambda index: float64_values(entry.torch_function, make_input(leaf).cpu(), grad_out.cpu(),
                                                kwargs, index.cpu())[what].to(leaf.device)
        ref_y = judged_reference(y, ref_y, truth_at(0))
        ref_grad_x = judged_reference(grad_x, ref_grad_x, truth_at(1), atol)
    assert_same(y, ref_y, exact)
    if name not in TORCH_OUTPUT_CONTIGUOUS:  # (there torch_act's follows the rule of the others)
        assert same_layout(y, ref_y), "output memory layout differs from torch.nn's"
    assert_same(grad_x, ref_grad_x, exact, atol)
    if weight is not None:
        if leaf.dtype in (torch.float32, torch.float64):
            # A sum over up to 10^5 elements: compare with the sum done in
            # float64 (torch_act accumulates in double; torch.nn's float32
            # reduction drifts by ~1e-5 relative on such sizes).
            leaf64, weight64 = leaf.double(), weight.double()
            _, _, ref_grad_w, _ = run(entry.torch_function, leaf64, make_input, weight64, kwargs,
                                     grad_dtype=leaf.dtype)
            ref_grad_w = ref_grad_w.to(leaf.dtype)
        assert_same(grad_w, ref_grad_w, exact=False)


# --- Every activation in one model (test_integration, test_cuda, test_everywhere) ---


def make_module(name, kwargs, width):
    entry = ACTIVATIONS[name]
    return entry.module(width) if entry.parameter else deterministic(entry.module(**kwargs), name)


def every_activation_model(width=16):
    """Every registered activation between Linear layers, each also in place
    (with its second argument set) where it has an in-place form. (Linear
    keeps its input, not its output, so an in-place layer after it is fine;
    after ELU/Sigmoid/Tanh it would edit an output their backward reads.)"""
    torch.manual_seed(0)
    layers = [nn.Linear(8, width)]
    for name, entry in ACTIVATIONS.items():
        layers += [make_module(name, ACTIVATIONS[name].required_kwargs, width), nn.Linear(width, width)]
        if entry.has_inplace:
            kwargs = {**entry.variants[min(1, len(entry.variants) - 1)], "inplace": True}
            layers += [make_module(name, kwargs, width), nn.Linear(width, width)]
    layers.append(nn.Linear(width, 4))
    return nn.Sequential(*layers)


def outputs_and_grads(model, x):
    model.zero_grad()
    x = x.detach().clone().requires_grad_()
    y = model(x)
    y.square().sum().backward()
    return [y.detach(), x.grad] + [p.grad.clone() for p in model.parameters()]


def assert_all_close(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        torch.testing.assert_close(u, v)


# --- opcheck samples from the registries (test_opcheck, test_cuda) ---

ops = torch.ops.torch_act


def _x(*shape, dtype):
    return torch.randn(*shape, dtype=dtype).requires_grad_()


def positional(name, kwargs):
    """The op's hyper-parameter arguments, in schema order, for these kwargs."""
    return [kwargs.get(n, default) for n, _, default in op_arguments(name)]


def op_variants(name, entry):
    """The entry's argument sets, and for a random activation (RReLU) the
    training one with a fixed seed, which the function draws itself."""
    return entry.variants + (({TRAINING: True, SEED: 20261203},) if entry.random_in_training else ())


def opcheck_samples():
    """(op name, args) pairs; every op of the namespace appears at least once."""
    for dtype in (torch.float32, torch.float64):
        x = _x(3, 5, 7, dtype=dtype)
        cl = _x(2, 3, 4, 5, dtype=dtype).contiguous(memory_format=torch.channels_last).detach().requires_grad_()
        g = torch.randn(3, 5, 7, dtype=dtype)
        for name, entry in ACTIVATIONS.items():
            if entry.parameter:
                yield name, (x, torch.rand(5, dtype=dtype, requires_grad=True))
                yield name, (cl, torch.rand(1, dtype=dtype, requires_grad=True))
                yield name + "_backward", (g.clone().requires_grad_(), x, torch.rand(5, dtype=dtype, requires_grad=True))
                continue
            for kwargs in op_variants(name, entry):
                params = positional(name, kwargs)
                for inp in (x, cl):
                    yield name, (inp, *params)
                if entry.has_inplace:
                    yield name + "_", (torch.randn(3, 5, 7, dtype=dtype), *params)
                if entry.family == "mask":
                    for inp in (x, cl):
                        yield name + "_forward", (inp, *params)
                    if entry.has_inplace:
                        yield name + "_forward_", (torch.randn(3, 5, 7, dtype=dtype), *params)
                    _, mask = getattr(ops, name + "_forward")(x.detach(), *params)
                    yield name + "_backward", (g.clone().requires_grad_(), mask, [0, 1, 2], *params)
                else:
                    saved = getattr(ops, name)(x.detach(), *params).requires_grad_()
                    yield name + "_backward", (g.clone().requires_grad_(), saved, *params)


def gated_opcheck_samples():
    """The gated family: (gate, up, params) and its backward (grad, gate, up, params)."""
    for dtype in (torch.float32, torch.float64):
        gate, up = _x(3, 5, 7, dtype=dtype), _x(3, 5, 7, dtype=dtype)
        up_cl = _x(2, 3, 4, 5, dtype=dtype)
        gate_cl = up_cl.detach().contiguous(memory_format=torch.channels_last).requires_grad_()
        g = torch.randn(3, 5, 7, dtype=dtype)
        for name, entry in GATED.items():
            for kwargs in entry.variants:
                params = tuple(kwargs.values())
                yield name, (gate, up, *params)
                yield name, (gate_cl, up_cl, *params)  # gate and up in different layouts
                yield name + "_backward", (g.clone().requires_grad_(), gate, up, *params)
