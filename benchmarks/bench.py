"""Speed of torch_act against torch.nn.functional and a hand-written composite,
measured side by side in one process, placed against a plain copy (the
memory-bandwidth limit).

    make bench          # train step, float32, 2 threads, every size -> benchmarks/RESULTS.md + PNG
    make bench-full     # forward / backward / train step x float32, bfloat16 x 1, 2 threads,
                        # plus the RSS cross-check, deep-MLP peak memory and the compiled MLP
    python benchmarks/bench.py --device cuda   # train step on the GPU, float32 and bfloat16,
                        # 16M and 256M elements -> benchmarks/RESULTS_CUDA.md + PNG
    python benchmarks/bench.py --help

Method (the VMs are shared and noisy): for each case the contenders run in
alternation, A B C A B C ..., for several rounds; each run is the best block of
a torch.utils.benchmark blocked_autorange (on CUDA: CUDA events around
repeated launches); a ratio is the median over rounds of the per-round ratio
torch_act / torch.nn. Timings are never asserted anywhere.
"""
import argparse
import functools
import platform
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils import benchmark

import torch_act
from torch_act import ACTIVATIONS

import compiled_mlp  # benchmarks/compiled_mlp.py
import cpu_info  # benchmarks/cpu_info.py
import peak_memory  # benchmarks/peak_memory.py
import saved_memory  # benchmarks/saved_memory.py

SIZES = {"4K": 4096, "256K": 262_144, "6M": 6_291_456, "16M": 16_777_216, "256M": 268_435_456}
DEFAULT_SIZES = {"cpu": ["4K", "256K", "6M", "16M"], "cuda": ["16M", "256M"]}
# PReLU with 64 channel alphas: a ResNet stage's activation (6.4M elements),
# and the same channels at 16M and 256M elements.
PRELU_NCHW = {"NCHW 64ch 6M": (32, 64, 56, 56), "NCHW 64ch 16M": (32, 64, 128, 64),
              "NCHW 64ch 256M": (64, 64, 256, 256)}


@dataclass
class Case:
    name: str        # activation
    label: str       # size label
    shape: tuple
    per_channel: bool = False
    # Keyword arguments of every contender: RReLU's training=True cases.
    kwargs: dict = field(default_factory=dict)
    layout: str = ""  # "", "channels_last" or "offset 1" (a view one element into its storage)


# Layouts slow by construction on a GPU (issue 24), at 16M elements: PReLU
# where neighbouring elements sit in different channels (channels_last, (N, C)
# after a Linear), where a channel's runs are short (NCHW at 7x7), and ReLU on
# a view whose pointer is one element off a 16-byte boundary.
LAYOUT_CASES = [
    Case("prelu", "channels_last 64ch 16M", (32, 64, 128, 64), per_channel=True, layout="channels_last"),
    Case("prelu", "(N, C) 256ch 16M", (65536, 256), per_channel=True),
    Case("prelu", "NCHW 7x7 512ch 16M", (668, 512, 7, 7), per_channel=True),
    Case("relu", "x[1:] 16M", (SIZES["16M"],), layout="offset 1"),
]


def cases(names=None, sizes=None):
    for name in names or ACTIVATIONS:
        for label, n in SIZES.items():
            if sizes is None or label in sizes:
                yield Case(name, label, (n,))
                if ACTIVATIONS[name].random_in_training:  # its training mode is another kernel
                    yield Case(name, f"{label} training", (n,), kwargs={"training": True})
    if names is None or "prelu" in names:
        for label, shape in PRELU_NCHW.items():
            if sizes is None or label.split()[-1] in sizes:
                yield Case("prelu", label, shape, per_channel=True)
    for case in LAYOUT_CASES:
        if (names is None or case.name in names) and (sizes is None or "16M" in sizes):
            yield case


def make_inputs(case, dtype, device="cpu"):
    g = torch.Generator(device).manual_seed(0)

    def laid_out(t):
        if case.layout == "channels_last":
            return t.contiguous(memory_format=torch.channels_last)
        return t

    if case.layout == "offset 1":
        x, grad = (torch.randn(case.shape[0] + 1, generator=g, device=device).to(dtype)[1:] for _ in range(2))
    else:
        x = laid_out(torch.randn(case.shape, generator=g, device=device).to(dtype))
        grad = laid_out(torch.randn(case.shape, generator=g, device=device).to(dtype))
    w = None
    if ACTIVATIONS[case.name].parameter:
        w = torch.full((case.shape[1] if case.per_channel else 1,), 0.25, dtype=dtype, device=device)
    return x, grad, w


def statement(mode):
    """Code timed per mode; `f` is the contender, `args` its inputs."""
    return {
        "forward": "f(*args)",
        "backward": "torch.autograd.grad(y, inputs, grad, retain_graph=True)",
        "train": "torch.autograd.grad(f(*args), inputs, grad)",
    }[mode]


def contender_globals(fn, x, grad, w, mode):
    needs_grad = mode != "forward"
    xi = x.detach().clone().requires_grad_(needs_grad)
    wi = w.detach().clone().requires_grad_(needs_grad) if w is not None else None
    args = (xi, wi) if wi is not None else (xi,)
    glb = dict(f=fn, args=args, grad=grad, torch=torch,
               inputs=[t for t in args if t is not None and t.requires_grad])
    if mode == "backward":
        glb["y"] = fn(*args)
    return glb


def best_time(stmt, glb, threads, min_run_time, device="cpu"):
    if device == "cuda":
        return cuda_time(stmt, glb, min_run_time)
    timer = benchmark.Timer(stmt, globals=glb, num_threads=threads)
    m = timer.blocked_autorange(min_run_time=min_run_time)
    return min(m.times)  # the best block: steadier than the mean on shared machines


def cuda_time(stmt, glb, min_run_time):
    """Seconds per run, from CUDA events around a batch of launches sized to
    take about min_run_time; the best of three batches."""
    code = compile(stmt, "<bench>", "exec")
    for _ in range(3):  # warm-up: allocator, lazy init
        exec(code, glb)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    exec(code, glb)
    end.record()
    end.synchronize()
    runs = max(1, int(min_run_time / max(start.elapsed_time(end) / 1e3, 1e-6)))
    best = float("inf")
    for _ in range(3):
        start.record()
        for _ in range(runs):
            exec(code, glb)
        end.record()
        end.synchronize()
        best = min(best, start.elapsed_time(end) / 1e3 / runs)
    return best


def measure(case, dtype, mode, threads, rounds, min_run_time, device="cpu"):
    entry = ACTIVATIONS[case.name]
    x, grad, w = make_inputs(case, dtype, device)
    # Threshold's arguments have no defaults: every contender gets required_kwargs.
    contenders = {k: functools.partial(fn, **entry.required_kwargs, **case.kwargs) for k, fn in
                  (("torch_act", entry.function), ("torch.nn", entry.torch_function), ("naive", entry.naive))}
    glbs = {k: contender_globals(fn, x, grad, w, mode) for k, fn in contenders.items()}
    times = {k: [] for k in contenders}
    for _ in range(rounds):
        for k in contenders:
            times[k].append(best_time(statement(mode), glbs[k], threads, min_run_time, device))
    ratio = statistics.median(a / b for a, b in zip(times["torch_act"], times["torch.nn"]))
    naive_ratio = statistics.median(a / b for a, b in zip(times["torch_act"], times["naive"]))
    return {k: statistics.median(v) for k, v in times.items()}, ratio, naive_ratio


def copy_time(numel, dtype, threads, rounds, min_run_time, device="cpu"):
    src = torch.randn(numel, device=device).to(dtype)
    dst = torch.empty_like(src)
    return statistics.median(best_time("dst.copy_(src)", dict(dst=dst, src=src), threads, min_run_time, device)
                             for _ in range(rounds))


def bytes_moved(case, dtype, mode):
    """Bytes a kernel must move at the least (reads + writes of full tensors;
    masks and alphas are small). Counted for torch_act's own kernels."""
    n = 1
    for s in case.shape:
        n *= s
    e = torch.empty((), dtype=dtype).element_size()
    fwd, bwd = 2 * n * e, 3 * n * e  # x -> y ; (grad, saved) -> grad_input
    if ACTIVATIONS[case.name].family == "mask":
        bwd = 2 * n * e + n // 8     # grad -> grad_input, plus the bit mask
        fwd += n // 8
    return {"forward": fwd, "backward": bwd, "train": fwd + bwd}[mode]


def machine(device="cpu"):
    if device == "cuda":
        return (f"{torch.cuda.get_device_name()}; torch {torch.__version__} (CUDA {torch.version.cuda}); "
                f"torch_act {torch_act.__version__}; Python {platform.python_version()}")
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent).stdout.strip()
    except OSError:
        commit = "?"
    return (f"{cpu_info.summary()}; torch {torch.__version__}; torch_act {torch_act.__version__} ({commit}); "
            f"Python {platform.python_version()}; {torch.get_num_threads()} threads available")


def run(modes, dtypes, thread_counts, rounds, min_run_time, names=None, sizes=None, progress=True, device="cpu"):
    rows = []
    todo = [(c, d, m, t) for c in cases(names, sizes) for d in dtypes for m in modes for t in thread_counts]
    try:
        from tqdm import tqdm
        todo_iter = tqdm(todo, unit="case", disable=not progress)
    except ImportError:
        todo_iter = todo
    copies = {}
    for case, dtype, mode, threads in todo_iter:
        numel = 1
        for s in case.shape:
            numel *= s
        key = (numel, dtype, threads)
        if key not in copies:
            copies[key] = copy_time(numel, dtype, threads, rounds, min_run_time, device)
        times, ratio, naive_ratio = measure(case, dtype, mode, threads, rounds, min_run_time, device)
        moved = bytes_moved(case, dtype, mode)
        gbps = moved / times["torch_act"] / 1e9
        copy_gbps = 2 * numel * torch.empty((), dtype=dtype).element_size() / copies[key] / 1e9
        rows.append(dict(activation=case.name, size=case.label, dtype=str(dtype).replace("torch.", ""),
                         mode=mode, threads=threads, ours_ms=times["torch_act"] * 1e3,
                         torch_ms=times["torch.nn"] * 1e3, naive_ms=times["naive"] * 1e3, ratio=ratio,
                         naive_ratio=naive_ratio, gbps=gbps, copy_gbps=copy_gbps))
    return rows


def table(rows):
    head = ("| activation | size | dtype | mode | threads | torch_act ms | torch.nn ms | naive ms "
            "| ratio vs torch.nn | ratio vs naive | torch_act GB/s | copy GB/s | % of copy |")
    lines = [head, "|" + "---|" * 13]
    for r in rows:
        lines.append(f"| {r['activation']} | {r['size']} | {r['dtype']} | {r['mode']} | {r['threads']} "
                     f"| {r['ours_ms']:.3f} | {r['torch_ms']:.3f} | {r['naive_ms']:.3f} | **{r['ratio']:.2f}** "
                     f"| {r['naive_ratio']:.2f} | {r['gbps']:.1f} | {r['copy_gbps']:.1f} "
                     f"| {100 * r['gbps'] / r['copy_gbps']:.0f}% |")
    return "\n".join(lines)


def under_half_copy(rows):
    """Markdown list of the rows where torch_act moved its bytes at under half
    a plain copy's rate (flagged on the GPU, where element-wise ops should
    stream at close to copy speed)."""
    return "\n".join(f"- {r['activation']} {r['size']} {r['dtype']} {r['mode']}: "
                     f"{100 * r['gbps'] / r['copy_gbps']:.0f}% of copy ({r['gbps']:.1f} of {r['copy_gbps']:.1f} GB/s)"
                     for r in rows if r["gbps"] < 0.5 * r["copy_gbps"])


def slower(rows):
    """Markdown list of the rows where torch_act took longer than torch.nn."""
    return "\n".join(f"- {r['activation']} {r['size']} {r['dtype']} {r['mode']}, {r['threads']} thread(s): "
                     f"**{r['ratio']:.2f}** ({r['ours_ms']:.3f} ms vs {r['torch_ms']:.3f} ms)"
                     for r in rows if r["ratio"] > 1.0)


def chart(rows, path, mode="train"):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = list(dict.fromkeys(r["size"] for r in rows))
    names = list(dict.fromkeys(r["activation"] for r in rows))
    fig, ax = plt.subplots(figsize=(11, 4.5), constrained_layout=True)
    width = 0.8 / len(sizes)
    for i, size in enumerate(sizes):
        vals = [next((r["ratio"] for r in rows if r["activation"] == n and r["size"] == size), float("nan"))
                for n in names]
        ax.bar([j + i * width for j in range(len(names))], vals, width, label=size)
    ax.axhline(1.0, color="0.2", linewidth=1)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(names))], [ACTIVATIONS[n].title for n in names])
    ax.set(ylabel="time ratio torch_act / torch.nn (lower is better)",
           title={"train": "Train step (forward + backward)", "forward": "Forward", "backward": "Backward"}[mode]
           + f", {rows[0]['dtype']}, {rows[0]['threads']} thread(s): median of alternated rounds")
    ax.legend(title="size")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="every mode, float32 and bfloat16, 1 and 2 threads")
    parser.add_argument("--rounds", type=int, default=5, help="alternated rounds per case (default 5)")
    parser.add_argument("--min-run-time", type=float, default=0.1, help="seconds per blocked_autorange")
    parser.add_argument("--dtypes", help="comma-separated, e.g. float32,bfloat16 (default: float32; --full: both)")
    parser.add_argument("--modes", help="comma-separated subset of forward,backward,train (default: train; --full: all)")
    parser.add_argument("--threads", help="comma-separated thread counts, e.g. 1,2 (default: 2 on cpu; --full: 1,2)")
    parser.add_argument("--activations", help="comma-separated subset, e.g. relu,prelu (default: all)")
    parser.add_argument("--sizes", help=f"comma-separated subset of {','.join(SIZES)} (default: 4K to 16M on cpu, 16M and 256M on cuda)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                        help="cpu (default) or cuda: the current GPU, float32 and bfloat16, 16M and 256M")
    parser.add_argument("--out", help="default: benchmarks/RESULTS.md (cpu), benchmarks/RESULTS_CUDA.md (cuda)")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device (torch.cuda.is_available() is False)")
    args.out = args.out or str(Path(__file__).parent / ("RESULTS_CUDA.md" if args.device == "cuda" else "RESULTS.md"))
    names = args.activations.split(",") if args.activations else None
    sizes = args.sizes.split(",") if args.sizes else DEFAULT_SIZES[args.device]
    for n in names or []:
        if n not in ACTIVATIONS:
            parser.error(f"--activations: unknown activation {n!r}; choose from {', '.join(ACTIVATIONS)}")
    for z in sizes or []:
        if z not in SIZES:
            parser.error(f"--sizes: unknown size {z!r}; choose from {', '.join(SIZES)}")
    if args.full:
        modes, dtypes, threads = ["forward", "backward", "train"], [torch.float32, torch.bfloat16], [1, 2]
    elif args.device == "cuda":
        modes, dtypes, threads = ["train"], [torch.float32, torch.bfloat16], [1]
    else:
        modes, dtypes, threads = ["train"], [torch.float32], [2]
    if args.dtypes:
        dtypes = []
        for d in args.dtypes.split(","):
            if not isinstance(getattr(torch, d, None), torch.dtype) or not getattr(torch, d).is_floating_point:
                parser.error(f"--dtypes: {d!r} is not a floating-point torch dtype (e.g. float32, bfloat16)")
            dtypes.append(getattr(torch, d))
    if args.modes:
        modes = args.modes.split(",")
        for m in modes:
            if m not in ("forward", "backward", "train"):
                parser.error(f"--modes: unknown mode {m!r}; choose from forward, backward, train")
    if args.threads:
        try:
            threads = [int(t) for t in args.threads.split(",")]
        except ValueError:
            parser.error(f"--threads: expected comma-separated integers, got {args.threads!r}")
    rows = run(modes, dtypes, threads, args.rounds, args.min_run_time, names, sizes, device=args.device)
    text = table(rows)
    print(f"Machine: {machine(args.device)}\n")
    print(text)
    behind = slower(rows)
    print("\n## Slower than torch.nn\n\n" + (behind or "(none)"))
    out = Path(args.out)
    png = out.with_suffix(".png")
    shown = "train" if "train" in modes else modes[0]
    chart([r for r in rows if r["mode"] == shown and r["dtype"] == str(dtypes[0]).replace("torch.", "")
           and r["threads"] == max(threads)],
          png, shown)
    # What backward keeps matters to a training step only.
    sections = [] if args.device == "cuda" or "train" not in modes else [
        f"## Memory saved for backward\n\n{saved_memory.table(saved_memory.measure())}"]
    if args.device == "cuda":
        slow_layouts = under_half_copy(rows)
        print("\n## Under half of copy bandwidth\n\n" + (slow_layouts or "(none)"))
        sections.append("## Under half of copy bandwidth\n\n" + (slow_layouts or "No row."))
    if args.full and sections:
        print("\nmemory: RSS cross-check, deep-MLP peak; then the compiled MLP")
        sections[0] += "\n\n" + saved_memory.table(saved_memory.rss_rows(), rss=True)
        sections.append("## Peak memory of a training step\n\n" + peak_memory.table(peak_memory.measure()))
        compiled = [compiled_mlp.measure(n, args.rounds, max(threads), args.min_run_time) for n in ACTIVATIONS]
        sections.append("## Under torch.compile\n\n" + compiled_mlp.table(compiled, max(threads)) + "\n\n"
                        + compiled_mlp.WHY)
    out.write_text(
        "# torch_act benchmark results\n\n"
        f"Machine: {machine(args.device)}\n\n"
        + ("" if args.device == "cuda" else "On a GPU: [RESULTS_CUDA.md](RESULTS_CUDA.md) (`make gpu-test`).\n\n") +
        f"Command: `python benchmarks/bench.py {' '.join(sys.argv[1:])}`. "
        "Ratios are torch_act's time over the other contender's (below 1: torch_act is faster), the median "
        "of alternated rounds. GB/s counts the bytes torch_act's kernels must move; copy is `dst.copy_(src)` "
        "on a tensor of the same size (read + write).\n\n"
        f"![ratios]({png.name})\n\n{text}\n\n"
        + "## Slower than torch.nn\n\n" + (behind or "No row: torch_act was at least as fast everywhere.") + "\n\n"
        + "\n\n".join(sections) + "\n")
    print(f"\nwrote {out} and {png}")


if __name__ == "__main__":
    main()
