"""PyTorch's own ModuleInfo inputs (torch.testing._internal.common_modules) for
every activation torch has one for, through torch_act's module built with the
same constructor arguments: forward and gradients against torch.nn's module,
then what PyTorch's module tests also check: repr, state_dict, pickling,
torch.save/load and moves between dtypes."""
import copy
import io
import pickle

import pytest
import torch
from torch.testing._internal.common_modules import module_db

from torch_act import ACTIVATIONS

from helpers import EXACT, FLOAT_DTYPES, assert_same, judged_reference, output_grad_atol


# torch.nn modules PyTorch's module_db has no ModuleInfo for (torch 2.13).
WITHOUT_MODULE_INFO = {"Hardsigmoid", "RReLU"}


def module_info_for(entry):
    matches = [m for m in module_db if m.module_cls is entry.torch_module]
    if not matches and entry.torch_module.__name__ in WITHOUT_MODULE_INFO:
        return None
    assert len(matches) == 1, f"no unique ModuleInfo for {entry.torch_module}"
    return matches[0]


def cases():
    for name, entry in ACTIVATIONS.items():
        info = module_info_for(entry)
        if info is None:
            continue
        for dtype in FLOAT_DTYPES:
            if dtype in info.dtypes:
                yield pytest.param(name, dtype, id=f"{name}-{dtype}")


def module_inputs(name, dtype):
    info = module_info_for(ACTIVATIONS[name])
    inputs = info.module_inputs_func(info, device="cpu", dtype=dtype, requires_grad=True, training=True)
    assert inputs
    return inputs


def twins(name, module_input, dtype):
    """torch.nn's module and torch_act's, from the same constructor arguments, same weights."""
    entry = ACTIVATIONS[name]
    args, kwargs = module_input.constructor_input.args, module_input.constructor_input.kwargs
    theirs = entry.torch_module(*args, **kwargs).to(dtype)
    ours = entry.from_torch(theirs)
    return ours, theirs


def forward_and_grads(module, x):
    leaf = x.detach().clone().requires_grad_(x.requires_grad)
    y = module(leaf)
    wrt = [leaf] + [p for p in module.parameters() if p.requires_grad]
    grads = torch.autograd.grad(y, wrt, torch.ones_like(y)) if y.requires_grad else []
    return y.detach(), grads


@pytest.mark.parametrize("name,dtype", list(cases()))
def test_module_inputs(name, dtype):
    for module_input in module_inputs(name, dtype):
        ours, theirs = twins(name, module_input, dtype)
        (x,) = module_input.forward_input.args
        y, grads = forward_and_grads(ours, x)
        ref_y, ref_grads = forward_and_grads(theirs, x)
        exact = name in EXACT
        assert_same(y, ref_y, exact)
        atol = output_grad_atol(name, vars(theirs), dtype, torch.ones(()))
        assert_same(grads[0], ref_grads[0], exact, atol)
        for g, r in zip(grads[1:], ref_grads[1:]):  # PReLU's weight: a sum, in another order
            assert_same(g, r, exact=False)


@pytest.mark.parametrize("name", [n for n, e in ACTIVATIONS.items() if module_info_for(e) is not None])
def test_module_state_and_moves(name):
    dtype = torch.float32
    for module_input in module_inputs(name, dtype):
        ours, theirs = twins(name, module_input, dtype)
        (x,) = module_input.forward_input.args
        expected = ours(x).detach()
        # repr: the class name and torch.nn's settings, as torch.nn prints them.
        assert repr(ours).split("(", 1)[1] == repr(theirs).split("(", 1)[1]
        # state_dict round trip, and torch.nn's state_dict loads into ours (PReLU: weight -> alpha).
        fresh = copy.deepcopy(ours)
        fresh.load_state_dict(ours.state_dict())
        fresh.load_state_dict(theirs.state_dict())
        assert_same(fresh(x).detach(), expected, exact=True)
        for clone in (pickle.loads(pickle.dumps(ours)), copy.deepcopy(ours), save_load(ours)):
            assert type(clone) is type(ours)
            assert_same(clone(x).detach(), expected, exact=True)
        for moved_dtype in (torch.float64, torch.bfloat16, torch.float16):
            moved, moved_theirs = copy.deepcopy(ours).to(moved_dtype), copy.deepcopy(theirs).to(moved_dtype)
            assert [p.dtype for p in moved.parameters()] == [p.dtype for p in moved_theirs.parameters()]
            xd = x.detach().to(moved_dtype)
            ours_y, theirs_y = moved(xd).detach(), moved_theirs(xd).detach()
            if name not in EXACT:  # where they differ, the float64 value decides (torch.nn's
                # bfloat16 tanhshrink rounds tanh(x) before subtracting it: all its digits lost near 0)
                truth = copy.deepcopy(theirs).double()(xd.double()).detach().reshape(-1)
                theirs_y = judged_reference(ours_y, theirs_y, lambda i: truth[i])
            assert_same(ours_y, theirs_y, name in EXACT)


def save_load(module):
    buffer = io.BytesIO()
    torch.save(module, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)
