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


def run_python(code, capability, **env_vars):
    env = {k: v for k, v in os.environ.items() if k not in ("TORCH_ACT_CPU_CAPABILITY", "ATEN_CPU_CAPABILITY")}
    if capability is not None:
        env["TORCH_ACT_CPU_CAPABILITY"] = capability
    env.update(env_vars)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def supported():
    """Capabilities this CPU runs (forcing an unsupported one is an error)."""
    code = "import torch, torch_act; print(torch.ops.torch_act.cpu_capability())"
    return [c for c in CAPABILITIES if run_python(code, c).returncode == 0]


def test_current_capability_is_reported():
    assert torch.ops.torch_act.cpu_capability() in CAPABILITIES.values()


@pytest.mark.skipif("TORCH_ACT_EXPECT_CAPABILITY" not in os.environ,
                    reason="make qemu-test sets TORCH_ACT_EXPECT_CAPABILITY: the table its emulated CPU must get")
def test_runs_the_expected_table():
    """Under make qemu-test: this process (an xdist worker) runs on the emulated CPU."""
    assert torch.ops.torch_act.cpu_capability() == os.environ["TORCH_ACT_EXPECT_CAPABILITY"]


def test_forcing_selects_the_table_and_bad_names_are_refused():
    code = "import torch, torch_act; print(torch.ops.torch_act.cpu_capability())"
    ok = supported()
    assert "default" in ok
    for c in ok:
        assert run_python(code, c).stdout.strip() == CAPABILITIES[c]
    bad = run_python(code, "sse9")
    assert bad.returncode != 0 and "must be default, avx2 or avx512" in bad.stderr


def test_follows_atens_capability_unless_forced():
    """PyTorch's ATEN_CPU_CAPABILITY picks the table too (capped at what this
    CPU runs; values that are not ours are ignored); TORCH_ACT_CPU_CAPABILITY wins."""
    code = "import torch, torch_act; print(torch.ops.torch_act.cpu_capability())"
    ok = supported()
    widest = CAPABILITIES[ok[-1]]
    for aten in CAPABILITIES:
        expected = CAPABILITIES[aten] if aten in ok else widest
        assert run_python(code, None, ATEN_CPU_CAPABILITY=aten).stdout.strip() == expected, aten
    assert run_python(code, None, ATEN_CPU_CAPABILITY="zvector").stdout.strip() == widest
    assert run_python(code, None).stdout.strip() == widest
    assert run_python(code, "default", ATEN_CPU_CAPABILITY=ok[-1]).stdout.strip() == "DEFAULT"


SCRIPT = """
import torch, torch_act
torch.manual_seed(0)
x = torch.randn(3, 5000, dtype=torch.float64).float().requires_grad_()
w = torch.rand(5000) - 0.3
outs = []
for name, e in torch_act.ACTIVATIONS.items():
    y = e.function(x, w) if e.parameter else e.function(x, **e.required_kwargs)
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


def test_streaming_stores_give_the_same_results(tmp_path):
    """Large loops write with streaming stores (TORCH_ACT_STREAMING_BYTES, 32 MiB
    by default); forcing them on for every size changes no bit."""
    runs = {}
    for threshold in ("0", str(1 << 62)):
        path = tmp_path / f"{threshold}.pt"
        proc = run_python(SCRIPT.format(path=str(path)), supported()[-1], TORCH_ACT_STREAMING_BYTES=threshold)
        assert proc.returncode == 0, proc.stderr
        runs[threshold] = torch.load(path)
    for a, b in zip(*runs.values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, equal_nan=True)


def test_bad_streaming_threshold_is_refused():
    proc = run_python("import torch, torch_act; torch_act.relu(torch.ones(3))", "default",
                      TORCH_ACT_STREAMING_BYTES="lots")
    assert proc.returncode != 0 and "TORCH_ACT_STREAMING_BYTES must be a byte count" in proc.stderr
