"""The declarations the library reports (torch.ops.torch_act.declarations(),
which Python reads instead of guessing from op schemas) against the ops the
same library registers: written by two pieces of C++ code from one list
(csrc/ops/schemas.cpp's JSON, ops/op_set.h's schemas), they must agree."""
import pytest
import torch
from torch import nn

import torch_act
from torch_act._library import declared

DECLARED = declared()
OPS = torch.ops.torch_act


def schema(op: str):
    return getattr(OPS, op).default._schema


def argument_names(op: str):
    return [a.name for a in schema(op).arguments]


def registered(op: str) -> bool:
    return f"torch_act::{op}" in torch._C._dispatch_get_all_op_names()


def test_the_list_is_reported_whole():
    families = {d.family for d in DECLARED.values()}
    assert families == {"mask", "output", "input", "output or input", "input and weight", "gate and up"}
    assert set(torch_act.ACTIVATIONS) | set(torch_act.GATED) == set(DECLARED)


@pytest.mark.parametrize("name", list(DECLARED))
def test_family_matches_the_ops_registered(name):
    family = DECLARED[name].family
    # Only the mask family has the forward that also returns the mask.
    assert registered(name + "_forward") == (family == "mask")
    if family == "mask":
        assert argument_names(name + "_backward")[:3] == ["grad_output", "mask", "dim_order"]
    elif family == "input and weight":
        assert argument_names(name) == ["input", "weight"]
    elif family == "gate and up":
        assert argument_names(name)[:2] == ["gate", "up"]
    else:  # what the backward op takes as its second argument names the family
        saved = {"output": "output", "input": "input", "output or input": "saved"}[family]
        assert argument_names(name + "_backward")[:2] == ["grad_output", saved]


@pytest.mark.parametrize("name", list(DECLARED))
def test_inplace_and_random_match_the_schemas(name):
    d = DECLARED[name]
    assert registered(name + "_") == d.inplace
    assert ("seed" in argument_names(name)) == d.random


@pytest.mark.parametrize("name", list(torch_act.ACTIVATIONS))
def test_module_names_are_torch_nn_s(name):
    module = DECLARED[name].module  # the math struct's name, which names the module too
    assert getattr(torch_act, module) is torch_act.ACTIVATIONS[name].module
    assert getattr(nn, module) is torch_act.ACTIVATIONS[name].torch_module
