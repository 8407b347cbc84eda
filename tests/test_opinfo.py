"""PyTorch's own OpInfo inputs (sample_inputs and the larger reference_inputs,
extremal values included) for every activation torch has an OpInfo for, run
through torch_act and compared with torch's results: values, gradients and
forward-mode tangents."""
import pytest
import torch
from torch.testing._internal.common_methods_invocations import op_db

from torch_act import ACTIVATIONS

from helpers import (EXACT, FLOAT_DTYPES, assert_same, float64_values, judged_reference, output_grad_atol,
                     corrected_reference)


def opinfo_for(name):
    matches = [op for op in op_db if op.name in (f"nn.functional.{name}", name)
               and op.variant_test_name == ""]
    assert len(matches) == 1, f"no unique OpInfo for {name}: {[m.name for m in matches]}"
    return matches[0]


def cases():
    for name in ACTIVATIONS:
        op = opinfo_for(name)
        for dtype in FLOAT_DTYPES:
            if dtype in op.supported_dtypes("cpu"):
                yield pytest.param(name, dtype, id=f"{name}-{dtype}")


# reference_inputs (larger, with extremal values) fail today: issue 21 is open on it.
@pytest.mark.parametrize("inputs", ["sample_inputs", "reference_inputs"])
@pytest.mark.parametrize("name,dtype", list(cases()))
def test_opinfo_samples(name, dtype, inputs):
    entry = ACTIVATIONS[name]
    op = opinfo_for(name)
    samples = list(getattr(op, inputs)("cpu", dtype, requires_grad=True))
    if entry.random_in_training:  # other slopes than torch's in training: tests/test_rrelu.py
        samples = [s for s in samples if not s.kwargs.get("training", False)]
    assert samples
    for sample in samples:
        def run(fn):
            args = [sample.input, *sample.args]
            kwargs = dict(sample.kwargs)
            tensors = [t for t in [*args, *kwargs.values()]
                       if isinstance(t, torch.Tensor) and t.requires_grad]
            out = fn(*args, **kwargs)
            grad_out = torch.ones_like(out)
            grads = torch.autograd.grad(out, tensors, grad_out, allow_unused=True) if out.requires_grad else []
            return out.detach(), grads

        def tangent(fn):
            # Forward mode: every differentiable tensor argument gets the tangent 1.
            # make_dual gives the tangent the primal's strides, which torch refuses
            # for a primal whose elements share memory (expanded): those go dense.
            def primal(a):
                a = a.detach()
                return a.contiguous() if 0 in a.stride() and a.numel() > 1 else a

            with torch.autograd.forward_ad.dual_level():
                args = [torch.autograd.forward_ad.make_dual(primal(a), torch.ones_like(primal(a)))
                        if isinstance(a, torch.Tensor) and a.requires_grad else a
                        for a in [sample.input, *sample.args]]
                return torch.autograd.forward_ad.unpack_dual(fn(*args, **sample.kwargs)).tangent

        out, grads = run(entry.function)
        ref_out, ref_grads = run(op.op)
        exact = name in EXACT
        atol = output_grad_atol(name, sample.kwargs, dtype, torch.ones(()))
        unary = not sample.args and not entry.parameter

        def judged(actual, expected, which, atol_extra=0.0):
            # Where torch.nn's vector kernels are off at special values (helpers.float64_values),
            # the float64 value decides between the two.
            if not unary or exact:
                return expected
            return judged_reference(actual, expected, lambda i: float64_values(
                op.op, sample.input, torch.ones_like(sample.input), sample.kwargs, i)[which], atol_extra)

        assert_same(out, judged(out, ref_out, 0), exact)
        for g, r in zip(grads, ref_grads):
            assert (g is None) == (r is None)
            if g is None:  # an argument neither op differentiates through
                continue
            if g.shape == sample.input.shape:
                r = corrected_reference(name, r, sample.input.detach(), torch.ones(()))
                assert_same(g, judged(g, r, 1, atol), exact, atol)
            else:
                # A weight gradient is a sum: its order of additions differs from torch's.
                assert_same(g, r, exact=False)
        if dtype in (torch.float32, torch.float64) and sample.input.is_floating_point():
            t, ref_t = tangent(entry.function), tangent(op.op)
            ref_t = corrected_reference(name, ref_t, sample.input.detach(), torch.ones(()))
            assert_same(t, judged(t, ref_t, 1, atol), exact, atol)
