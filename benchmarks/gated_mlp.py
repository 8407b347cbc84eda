"""The gated activations in a LLaMA-style MLP block, fused against the composite.

    python benchmarks/gated_mlp.py            # -> benchmarks/RESULTS_GATED.md (make bench-gated)
    ATEN_CPU_CAPABILITY=avx2 TORCH_ACT_CPU_CAPABILITY=avx2 python benchmarks/gated_mlp.py --append
                                              # the AVX2 builds of both, as a second table
    python benchmarks/gated_mlp.py --help

The block is down(act(gate(x)) * up(x)) with bias-free projections, LLaMA's
shape: 2048 tokens, width 1024, hidden 2816 (8/3 of the width, rounded up to
256), so gate and up are 5.8M float32 elements each. Two steps are timed,
forward + backward:

* the activation alone: act(gate) * up and its backward, from gate and up;
* the whole block, projections included (on a CPU the matmuls dominate).

The composite is what people write, ``F.silu(gate) * up``: it keeps gate,
silu(gate) and up for backward and makes three passes over memory there;
torch_act's ``swiglu(gate, up)`` keeps gate and up and makes one. Saved bytes
are the unique storages autograd saves (saved-tensor hooks). Timing as in
bench.py: contenders in alternation for several rounds, each the best block of
a torch.utils.benchmark blocked_autorange, the ratio the median of the
per-round ratios fused / composite. Nothing here is asserted.
"""
import argparse
import platform
import statistics
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils import benchmark
from tqdm import tqdm

import torch_act

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cpu_info  # noqa: E402  (benchmarks/cpu_info.py)
import saved_memory  # noqa: E402  (benchmarks/saved_memory.py)

TOKENS, WIDTH, HIDDEN = 2048, 1024, 2816

# (label, fused, composite): the gated activations transformer MLPs use.
CONTENDERS = [
    ("SwiGLU", torch_act.swiglu, lambda g, u: F.silu(g) * u),
    ("GeGLU", torch_act.geglu, lambda g, u: F.gelu(g) * u),
    ("GeGLU (tanh)", lambda g, u: torch_act.geglu(g, u, "tanh"), lambda g, u: F.gelu(g, approximate="tanh") * u),
    ("ReGLU", torch_act.reglu, lambda g, u: F.relu(g) * u),
]


class GatedMLP(nn.Module):
    def __init__(self, act, device, dtype):
        super().__init__()
        torch.manual_seed(0)
        self.gate = nn.Linear(WIDTH, HIDDEN, bias=False, device=device, dtype=dtype)
        self.up = nn.Linear(WIDTH, HIDDEN, bias=False, device=device, dtype=dtype)
        self.down = nn.Linear(HIDDEN, WIDTH, bias=False, device=device, dtype=dtype)
        self.act = act

    def forward(self, x):
        return self.down(self.act(self.gate(x), self.up(x)))


def saved_bytes(run):
    """Bytes of the unique storages autograd saves while `run()` builds its graph."""
    return saved_memory.saved_bytes(lambda _: run(), None)


def best_time(fn, threads, min_run_time, device):
    if device == "cuda":
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        fn()
        torch.cuda.synchronize()
        start.record()
        for _ in range(20):
            fn()
        stop.record()
        torch.cuda.synchronize()
        return start.elapsed_time(stop) / 20 / 1e3
    timer = benchmark.Timer("fn()", globals={"fn": fn}, num_threads=threads)
    return min(timer.blocked_autorange(min_run_time=min_run_time).times)


def steps(fused, composite, device, dtype):
    """{step: (fused train step, composite train step, fused forward, composite forward)} as callables."""
    g = torch.Generator(device=device).manual_seed(0)
    gate = torch.randn(TOKENS, HIDDEN, device=device, dtype=dtype, generator=g).requires_grad_()
    up = torch.randn(TOKENS, HIDDEN, device=device, dtype=dtype, generator=g).requires_grad_()
    dy = torch.randn(TOKENS, HIDDEN, device=device, dtype=dtype, generator=g)
    x = torch.randn(TOKENS, WIDTH, device=device, dtype=dtype, generator=g).requires_grad_()
    dout = torch.randn(TOKENS, WIDTH, device=device, dtype=dtype, generator=g)
    blocks = {fn: GatedMLP(fn, device, dtype) for fn in (fused, composite)}

    # autograd.grad: the gradients go on (to the projections' backward in a
    # model) instead of being added into leaves' .grad, a pass the fused op does not save.
    def activation(fn):
        return (lambda: torch.autograd.grad(fn(gate, up), (gate, up), dy)), (lambda: fn(gate, up))

    def block(fn):
        return (lambda: blocks[fn](x).backward(dout)), (lambda: blocks[fn](x))

    return {"activation": (activation(fused), activation(composite)), "block": (block(fused), block(composite))}


def measure(device, dtype, threads, rounds, min_run_time):
    rows = []
    work = [(label, step) for label, _, _ in CONTENDERS for step in ("activation", "block")]
    with tqdm(total=len(work), desc="gated MLP", file=sys.stderr) as bar:
        for label, fused, composite in CONTENDERS:
            for step, ((fused_train, fused_fwd), (comp_train, comp_fwd)) in steps(fused, composite, device,
                                                                                  dtype).items():
                ratios, t_fused, t_comp = [], [], []
                for _ in range(rounds):
                    a = best_time(fused_train, threads, min_run_time, device)
                    b = best_time(comp_train, threads, min_run_time, device)
                    t_fused.append(a)
                    t_comp.append(b)
                    ratios.append(a / b)
                rows.append(dict(activation=label, step=step, fused_ms=1e3 * statistics.median(t_fused),
                                 composite_ms=1e3 * statistics.median(t_comp), ratio=statistics.median(ratios),
                                 fused_saved=saved_bytes(fused_fwd), composite_saved=saved_bytes(comp_fwd)))
                bar.update()
    return rows


def machine(device):
    if device == "cuda":
        return f"{torch.cuda.get_device_name()}; torch {torch.__version__} (CUDA {torch.version.cuda})"
    return (f"{cpu_info.summary()}; torch {torch.__version__}; torch_act {torch_act.__version__}; "
            f"Python {platform.python_version()}")


def table(rows):
    lines = ["| activation | step | composite ms | fused ms | time fused / composite | composite saved MB "
             "| fused saved MB | saved fused / composite |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['activation']} | {r['step']} | {r['composite_ms']:.2f} | {r['fused_ms']:.2f} | "
                     f"{r['ratio']:.2f} | {r['composite_saved'] / 2**20:.1f} | {r['fused_saved'] / 2**20:.1f} | "
                     f"{r['fused_saved'] / r['composite_saved']:.2f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--min-run-time", type=float, default=0.2, help="seconds per blocked_autorange")
    parser.add_argument("--out", default=str(Path(__file__).parent / "RESULTS_GATED.md"))
    parser.add_argument("--append", action="store_true", help="add this run's table to --out instead of replacing it")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    rows = measure(args.device, dtype, args.threads, args.rounds, args.min_run_time)
    section = "\n".join([f"Machine: {machine(args.device)}.", "", table(rows), ""])
    out = Path(args.out)
    if args.append and out.exists():
        text = out.read_text() + "\n" + section
    else:
        text = "\n".join([
            "# Gated activations in a LLaMA-style MLP block: fused against the composite",
            "",
            f"Block: down(act(gate(x)) * up(x)), {TOKENS} tokens, width {WIDTH}, hidden {HIDDEN} "
            f"({TOKENS * HIDDEN / 1e6:.1f}M elements in gate and up), {args.dtype}, {args.threads} threads; "
            "forward + backward. Composite: `F.silu(gate) * up` (and F.gelu, F.relu); fused: "
            f"`torch_act.swiglu(gate, up)` (geglu, reglu). Time: median of {args.rounds} alternating rounds "
            "(`python benchmarks/gated_mlp.py`, `make bench-gated`). Saved: unique storages autograd keeps for "
            "backward (the block's include x and the down projection's input).",
            "", section])
    out.write_text(text)
    print(section)


if __name__ == "__main__":
    main()
