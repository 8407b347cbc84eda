"""Every argument check in csrc/ keeps its promise.

For each TORCH_CHECK in the C++ sources there is a case here that trips it
and checks that the message names the op, the argument and what was
expected, and that no input tensor changed (values bit for bit and version
counters). `test_every_check_has_a_case` reads the sources, so a check added
without a case, or a case whose check was removed, fails the suite.
`make coverage` shows the failure branches these cases reach.
"""
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Callable

import pytest
import torch

import torch_act  # noqa: F401  (registers torch.ops.torch_act)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_DIRS = ["csrc", os.path.join("torch_act", "include")]
ops = torch.ops.torch_act


@dataclass
class Check:
    file: str  # path of the check's source, relative to the repository
    site: str  # a fragment of the TORCH_CHECK statement's text that only it holds
    message: str  # regex the error must match: the op, the argument, what was expected
    inputs: Callable[[str], tuple] = None  # device -> the call's arguments (fresh)
    call: Callable[..., object] = None
    devices: tuple = ("cpu", "meta")
    env: dict = field(default_factory=dict)  # run in a fresh process with these variables instead
    elsewhere: str = ""  # where a check that Python cannot reach is tested instead, and why


def relu_mask(n, device="cpu"):
    return ops.relu_forward(torch.randn(n, device=device))[1]


CHECKS = [
    Check("csrc/checks.h", "to be a tensor, but got None",
          r"torch_act\.sigmoid_backward: expected 'grad_output' to be a tensor, but got None",
          lambda d: (None, torch.randn(3, device=d)), ops.sigmoid_backward),
    Check("csrc/checks.h", "to be a floating-point tensor (float32",
          r"torch_act\.relu: expected 'input' to be a floating-point tensor \(float32, float64, bfloat16 or "
          r"float16\), but got Long",
          lambda d: (torch.arange(-3, 3, device=d),), ops.relu),
    Check("csrc/checks.h", "\"' to have the dtype of '\", ref_arg",
          r"torch_act\.sigmoid_backward: expected 'grad_output' to have the dtype of 'output' \(Float\), "
          r"but got Double",
          lambda d: (torch.randn(3, dtype=torch.float64, device=d), torch.randn(3, device=d)), ops.sigmoid_backward),
    Check("csrc/checks.h", "\"' on the device of '\", ref_arg",
          r"torch_act\.sigmoid_backward: expected 'grad_output' on the device of 'output' \(cpu\), but got meta",
          lambda d: (torch.randn(3, device="meta"), torch.randn(3)), ops.sigmoid_backward, devices=("mixed",)),
    Check("csrc/checks.h", "' to have the shape of '",
          r"torch_act\.tanh_backward: expected 'grad_output' to have the shape of 'output' \[4\], but got \[3\]",
          lambda d: (torch.randn(3, device=d), torch.randn(4, device=d)), ops.tanh_backward),
    Check("csrc/checks.h", "expected 'mask' to be a 1-d uint8 tensor",
          r"torch_act\.leaky_relu_backward: expected 'mask' to be a 1-d uint8 tensor made by the forward op, "
          r"but got Float of shape \[8\]",
          lambda d: (torch.randn(10, device=d), relu_mask(10, d).float(), [0], 0.1), ops.leaky_relu_backward),
    Check("csrc/checks.h", " bytes, which does not fit 'grad_output'",
          r"torch_act\.relu_backward: 'mask' holds 8 bytes, which does not fit 'grad_output' of 100 elements",
          lambda d: (torch.randn(100, device=d), relu_mask(10, d), [0]), ops.relu_backward),
    Check("csrc/checks.h", "expected 'mask' on the device of 'grad_output'",
          r"torch_act\.relu_backward: expected 'mask' on the device of 'grad_output' \(cpu\), but got meta",
          lambda d: (torch.randn(10), relu_mask(10, "meta"), [0]), ops.relu_backward, devices=("mixed",)),
    Check("csrc/checks.h", "expected 'weight' to have the dtype of 'input'",
          r"torch_act\.prelu: expected 'weight' to have the dtype of 'input' \(Float\), but got Double",
          lambda d: (torch.randn(2, 3, device=d), torch.rand(3, dtype=torch.float64, device=d)), ops.prelu),
    Check("csrc/checks.h", "expected 'weight' on the device of 'input'",
          r"torch_act\.prelu_backward: expected 'weight' on the device of 'input' \(cpu\), but got meta",
          lambda d: (torch.randn(2, 3), torch.randn(2, 3), torch.rand(3, device="meta")), ops.prelu_backward,
          devices=("mixed",)),
    Check("csrc/checks.h", "expected 'weight' to be a 0-d or 1-d tensor",
          r"torch_act\.prelu: expected 'weight' to be a 0-d or 1-d tensor, but got a tensor with 2 dimensions",
          lambda d: (torch.randn(2, 3, device=d), torch.rand(3, 1, device=d)), ops.prelu),
    Check("csrc/checks.h", "expected 'weight' to hold 1 element or one per channel",
          r"torch_act\.prelu_backward: expected 'weight' to hold 1 element or one per channel of 'input' "
          r"\(dim 1, size 3\), but got 5 elements",
          lambda d: (torch.randn(2, 3, device=d), torch.randn(2, 3, device=d), torch.rand(5, device=d)),
          ops.prelu_backward),
    # The activation's own parameter rules (GELU's invalid_params()), with their message.
    Check("csrc/checks.h", "why.empty()",
          r"torch_act\.gelu_backward: expected 'approximate' to be 'none' or 'tanh', but got 'erf'",
          lambda d: (torch.randn(3, device=d), torch.randn(3, device=d), "erf"), ops.gelu_backward),
    Check("csrc/checks.h", "why.empty()",
          r"torch_act\.celu_backward: ZeroDivisionError: alpha cannot be 0 for CELU",
          lambda d: (torch.randn(3, device=d), torch.randn(3, device=d), 0.0), ops.celu_backward),
    Check("csrc/checks.h", "why.empty()",
          r"torch_act\.hardtanh_: min_val cannot be greater than max_val",
          lambda d: (torch.randn(3, device=d), 2.0, 1.0), ops.hardtanh_),
    # Softshrink's lambd, for the input's dtype (invalid_params(dtype)), in torch's words.
    Check("csrc/checks.h", "why.empty()",
          r"torch_act\.softshrink: lambda must be in range \[0, 3\.40282e\+38\] for input dtype Float, "
          r"but found -0\.5",
          lambda d: (torch.randn(3, device=d), -0.5), ops.softshrink),
    Check("csrc/checks.h", "why.empty()",
          r"torch_act\.softshrink_backward: lambda must be in range \[0, 65504\] for input dtype Half, "
          r"but found 1e\+06",
          lambda d: (torch.randn(8, device=d).half(), relu_mask(8, d), [0], 1e6), ops.softshrink_backward),
    Check("csrc/checks.h", "one memory location per element",
          r"torch_act\.elu_: expected 'input' to have one memory location per element, but several of its "
          r"elements share one",
          lambda d: (torch.randn(1, 3, device=d).expand(2, 3), 1.0), ops.elu_),
    Check("csrc/layout.h", "to have one entry per dimension of 'grad_output'",
          r"torch_act\.relu_backward: expected 'dim_order' to have one entry per dimension of 'grad_output' "
          r"\(2\), but got 1",
          lambda d: (torch.randn(2, 5, device=d), relu_mask(10, d), [0]), ops.relu_backward),
    Check("csrc/layout.h", "to be a permutation of 0..",
          r"torch_act\.relu_backward: expected 'dim_order' to be a permutation of 0\.\.1, but got \[0, 0\]",
          lambda d: (torch.randn(2, 5, device=d), relu_mask(10, d), [0, 0]), ops.relu_backward),
    Check("csrc/vmap/batch_rules.h", "_backward: expected each sample's 'mask' to hold",
          r"torch_act\.relu_backward: expected each sample's 'mask' to hold 8 bytes, but got 16",
          lambda d: (torch.randn(4, 10, device=d), torch.zeros(4, 16, dtype=torch.uint8, device=d)),
          lambda g, m: torch.vmap(lambda gi, mi: ops.relu_backward(gi, mi, [0]))(g, m), devices=("cpu",)),
    Check("csrc/cpu/settings.cpp", "must be default, avx2 or avx512",
          r"TORCH_ACT_CPU_CAPABILITY must be default, avx2 or avx512, but is 'sse4'",
          env={"TORCH_ACT_CPU_CAPABILITY": "sse4"}),
    Check("csrc/cpu/settings.cpp", "but this CPU lacks",
          r"TORCH_ACT_CPU_CAPABILITY=\w+, but this CPU lacks one of",
          env={"TORCH_ACT_CPU_CAPABILITY": "<widest this CPU lacks>"}),
    Check("csrc/cpu/settings.cpp", "must be a byte count >= 0",
          r"TORCH_ACT_STREAMING_BYTES must be a byte count >= 0, but is '-5'",
          env={"TORCH_ACT_STREAMING_BYTES": "-5"}),
    Check("torch_act/include/torch_act/nn.h", "expected 'num_parameters' >= 1",
          r"torch_act::nn::PReLU: expected 'num_parameters' >= 1, but got 0",
          elsewhere="tests/cpp/test_api.cpp (bad_input_errors): a C++ module option, no Python path reaches it"),
    Check("torch_act/include/torch_act/functional.h", "glu does not support scalars",
          r"glu does not support scalars because halving size must be even",
          elsewhere="tests/cpp/test_api.cpp (gated_activations): the C++ split forms; Python's "
                    "(torch_act/gated.py) raise the same words, tests/test_gated.py"),
    Check("torch_act/include/torch_act/functional.h", "Halving dimension must be even",
          r"Halving dimension must be even, but dimension 1 is size 3",
          elsewhere="tests/cpp/test_api.cpp (gated_activations): the C++ split forms; Python's "
                    "(torch_act/gated.py) raise the same words, tests/test_gated.py"),
    Check("torch_act/include/torch_act/nn.h", "must be greater than min_val",
          r"torch_act::nn::Hardtanh: max_val \(1\) must be greater than min_val \(2\)",
          elsewhere="tests/cpp/test_api.cpp (bad_input_errors): a C++ module option, no Python path reaches it"),
    # The CUDA emulator's refusals (a test build's, make cuda-emulate): of launches a GPU would refuse or
    # hang on, which torch_act's kernels never make, so only a kernel written to misbehave reaches them.
    *[Check("csrc/cuda/emulated/emulator.cpp", site, "", elsewhere=f"tests/cpp/test_cuda_emulator.cpp ({case}): "
            "misbehaving kernels written for the emulator's own test")
      for site, case in [("called outside a kernel launch", "misuse_is_refused"),
                         ("a kernel launched from inside a kernel", "misuse_is_refused"),
                         (", thread ", "lane_missing_from_shuffle_is_reported"),
                         ("deadlock in block (", "deadlock_is_reported"),
                         ("a block of ", "launch_limits_are_cuda_s"),
                         ("outside CUDA's limits", "launch_limits_are_cuda_s")]],
    Check("csrc/cuda/emulated/emulator.cpp", "expected a multiprocessor count from 1 to 1024", "",
          elsewhere="tests/cpp/CMakeLists.txt (emulator.multiprocessor_count_refused): an environment variable "
                    "of the emulator's test build only"),
    Check("csrc/vmap/batch_rules.h", "a batch rule ran with no batched argument", "",
          elsewhere="an internal invariant (TORCH_INTERNAL_ASSERT): functorch calls a batch rule only with "
                    "a batched argument, so no input reaches it"),
]


def statements():
    """(file, line, text) of every TORCH_CHECK / TORCH_INTERNAL_ASSERT in the C++ sources."""
    found = []
    for top in SOURCE_DIRS:
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith((".h", ".cpp", ".cu", ".cuh")):
                    path = os.path.join(folder, name)
                    text = open(path).read()
                    rel = os.path.relpath(path, ROOT)
                    found += [(rel, text.count("\n", 0, m.start()) + 1, m.group(0))
                              for m in re.finditer(r"TORCH_(?:CHECK|INTERNAL_ASSERT)\(.*?\);", text, re.S)]
    return found


def statement_of(case):
    """(file, line) of the one check the case names."""
    sites = [(file, line) for file, line, text in statements() if file == case.file and case.site in text]
    assert len(sites) == 1, f"{case.site!r} names {len(sites)} checks in {case.file}, expected exactly one"
    return sites[0]


def test_every_check_has_a_case():
    checks = statements()
    assert len(checks) >= 20, "found too few checks: is the source scan broken?"
    for file, line, text in checks:
        matching = [c for c in CHECKS if c.file == file and c.site in text]
        assert matching, f"no case in tests/test_checks.py for this check at {file}:{line}:\n{text}"
    for case in CHECKS:
        statement_of(case)


def snapshot(args):
    return [(a, a._version, a.clone() if a.device.type != "meta" else None)
            for a in args if isinstance(a, torch.Tensor)]


def assert_unchanged(saved):
    for tensor, version, values in saved:
        assert tensor._version == version, "an input's version counter moved"
        if values is not None:
            assert torch.equal(tensor.view(torch.uint8) if tensor.dim() else tensor, values.view(torch.uint8)
                               if values.dim() else values), "an input's values changed"


IN_PROCESS = [(c, d) for c in CHECKS if c.call is not None for d in c.devices]


@pytest.mark.parametrize("case,device", IN_PROCESS, ids=[f"{c.site[:40]}-{d}" for c, d in IN_PROCESS])
def test_check_refuses_and_leaves_inputs_alone(case, device):
    args = case.inputs(device)
    saved = snapshot(args)
    with pytest.raises(RuntimeError, match=case.message):
        case.call(*args)
    assert_unchanged(saved)


# With TORCH_SHOW_CPP_STACKTRACES=1 a c10 error says where it was raised: a
# TORCH_CHECK's file and first line. This proves each case fails the check it
# names, not another one with a similar message (gcov cannot tell which of a
# check's branches is its failure path; this can).
RAISED_AT = re.compile(r"Exception raised from \S+ at (\S+):(\d+)")
CPP_LOCATIONS = {"TORCH_SHOW_CPP_STACKTRACES": "1", "TORCH_DISABLE_ADDR2LINE": "1"}


def raised_at(message):
    found = RAISED_AT.search(message)
    assert found, "no 'Exception raised from' in the message:\n" + message[:2000]
    return os.path.relpath(os.path.normpath(found.group(1)), ROOT), int(found.group(2))


LOCATE = """
import json, sys
sys.path.insert(0, {tests!r})
import test_checks as t
where = []
for case, device in t.IN_PROCESS:
    try:
        case.call(*case.inputs(device))
        where.append(None)
    except RuntimeError as e:
        where.append(t.raised_at(str(e)))
print(json.dumps(where))
"""


def test_each_case_fails_the_check_it_names():
    env = dict(os.environ, **CPP_LOCATIONS)
    done = subprocess.run([sys.executable, "-c", LOCATE.format(tests=os.path.dirname(os.path.abspath(__file__)))],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    where = json.loads(done.stdout.strip().splitlines()[-1])
    for (case, device), location in zip(IN_PROCESS, where):
        assert location is not None, f"{case.site!r} on {device}: nothing was raised"
        assert tuple(location) == statement_of(case), f"{case.site!r} on {device} raised at {location}"


def widest_missing_capability():
    have = set()
    for cap in ("avx2", "avx512"):
        env = dict(os.environ, TORCH_ACT_CPU_CAPABILITY=cap)
        ok = subprocess.run([sys.executable, "-c", "import torch, torch_act; torch.ops.torch_act.cpu_capability()"],
                            env=env, capture_output=True).returncode == 0
        if ok:
            have.add(cap)
    return next((cap for cap in ("avx512", "avx2") if cap not in have), None)


SETTINGS = [c for c in CHECKS if c.env]
PROBE = """
import torch, torch_act
x = torch.linspace(-2, 2, 7)
before = x.clone()
try:
    torch.ops.torch_act.relu_(x)
except RuntimeError as e:
    print(e)
    assert torch.equal(x, before) and x._version == 0, "the refused call changed its input"
else:
    raise SystemExit("the call was not refused")
"""


@pytest.mark.parametrize("case", SETTINGS, ids=[c.site for c in SETTINGS])
def test_setting_check_refuses_and_leaves_inputs_alone(case):
    env = dict(os.environ, **case.env)
    if "TORCH_ACT_CPU_CAPABILITY" in case.env and case.env["TORCH_ACT_CPU_CAPABILITY"].startswith("<"):
        missing = widest_missing_capability()
        if missing is None:
            pytest.skip(reason="this CPU has every capability torch_act builds for: nothing to refuse "
                        "(the emulated CPU of `make qemu-test` lacks them)")
        env["TORCH_ACT_CPU_CAPABILITY"] = missing
    env.update(CPP_LOCATIONS)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert re.search(case.message, done.stdout), done.stdout
    assert raised_at(done.stdout) == statement_of(case)


@pytest.mark.parametrize("case", [c for c in CHECKS if c.elsewhere], ids=lambda c: c.site)
def test_checks_python_cannot_reach_are_tested_elsewhere(case):
    """A check named as tested in the C++ tests has its message there."""
    if case.elsewhere.startswith("tests/"):
        path = case.elsewhere.split()[0]
        source = open(os.path.join(ROOT, path)).read()
        assert case.site in source, f"{path} does not test {case.site!r}"
    else:  # said to be an internal invariant: the source must say so too, or a user may reach it untested
        file, line = statement_of(case)
        text = next(t for f, n, t in statements() if (f, n) == (file, line))
        assert text.startswith("TORCH_INTERNAL_ASSERT"), f"{file}:{line} is a user-facing check:\n{text}"
