"""The kernel table is picked per CPU and can be forced with
TORCH_ACT_CPU_CAPABILITY; every table gives the same results. (`make test`
also runs the parity tests under each capability this CPU supports.)"""
import os
import subprocess
import sys

import pytest
import torch

import torch_act  # noqa: F401

CAPABILITIES = {"default": "DEFAULT", "avx2": "AVX2", "avx512": "AVX512"}


def run_python(code, capability):
    env = dict(os.environ, TORCH_ACT_CPU_CAPABILITY=capability)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def supported():
    """Capabilities this CPU runs (forcing an unsupported one is an error)."""
    code = "import torch, torch_act; print(torch.ops.torch_act.cpu_capability())"
    return [c for c in CAPABILITIES if run_python(code, c).returncode == 0]


def test_current_capability_is_reported():
    assert torch.ops.torch_act.cpu_capability() in CAPABILITIES.values()


def test_forcing_selects_the_table_and_bad_names_are_refused():
    code = "import torch, torch_act; print(torch.ops.torch_act.cpu_capability())"
    ok = supported()
    assert "default" in ok
    for c in ok:
        assert run_python(code, c).stdout.strip() == CAPABILITIES[c]
    bad = run_python(code, "sse9")
    assert bad.returncode != 0 and "must be default, avx2 or avx512" in bad.stderr


SCRIPT = """
import torch, torch_act
torch.manual_seed(0)
x = torch.randn(3, 5000, dtype=torch.float64).float().requires_grad_()
w = torch.rand(5000) - 0.3
outs = []
for name, e in torch_act.ACTIVATIONS.items():
    y = e.function(x, w) if e.parameter else e.function(x)
    g, = torch.autograd.grad(y, x, torch.ones_like(y))
    outs += [y.detach(), g]
torch.save(outs, {path!r})
"""


def test_every_table_gives_torch_nns_results(tmp_path):
    results = {}
    for c in supported():
        path = tmp_path / f"{c}.pt"
        proc = run_python(SCRIPT.format(path=str(path)), c)
        assert proc.returncode == 0, proc.stderr
        results[c] = torch.load(path)
    base = results.pop("default")
    for c, outs in results.items():
        for a, b in zip(outs, base):
            # Vector exp/tanh (Sleef) and scalar libm differ by an ulp or so.
            torch.testing.assert_close(a, b, msg=f"{c} differs from DEFAULT")
