"""A torch.compile'd MLP training step with torch_act layers against the same
MLP with torch.nn layers, also compiled (and both eager, for reference).

    python benchmarks/compiled_mlp.py [--activations relu,tanh] [--rounds 5]

Inductor fuses torch.nn's activations into the neighbouring kernels (the
forward into the Linear's bias epilogue, the backward into the next
elementwise pass); a torch_act op is a custom op, opaque to Inductor, so it
stays a separate pass over memory plus a call through the dispatcher.
Timing as bench.py: alternated rounds, best block of a blocked_autorange,
median of per-round ratios.
"""
import argparse
import statistics

import torch
from torch import nn
from torch.utils import benchmark

from torch_act import ACTIVATIONS

WHY = (
    "Why torch_act can lose here, and what would close the gap: Inductor fuses torch.nn's activation into "
    "the Linear's bias-add epilogue in the forward and into the next elementwise kernel in the backward, so "
    "torch.nn's activation costs almost no memory pass of its own; a torch_act op is a custom op, opaque to "
    "Inductor, so it keeps its own pass over memory (and its call through the dispatcher). Closing it means "
    "letting Inductor see through the op under compile only: a decomposition of each torch_act op into ATen "
    "ops (registered for Inductor), keeping the custom kernels for eager; or Inductor lowerings that "
    "generate the same fused code, bit mask included.")

LAYERS, WIDTH, BATCH = 4, 512, 2048  # activations 4 MB each: a visible share next to the GEMMs


def mlp(entry, torch_side):
    torch.manual_seed(0)
    blocks = []
    for _ in range(LAYERS):
        blocks += [nn.Linear(WIDTH, WIDTH), entry.new_module(WIDTH, torch_side)]
    return nn.Sequential(*blocks)


def train_step(model, opt, x):
    def step():
        opt.zero_grad(set_to_none=False)
        model(x).square().mean().backward()
        opt.step()
    return step


def best(step, threads, min_run_time):
    timer = benchmark.Timer("step()", globals={"step": step}, num_threads=threads)
    return min(timer.blocked_autorange(min_run_time=min_run_time).times)


def measure(name, rounds, threads, min_run_time):
    entry = ACTIVATIONS[name]
    # Every model compiles the same Sequential.forward; past Dynamo's
    # recompile limit (8) further models would silently run eagerly.
    torch._dynamo.reset()
    x = torch.randn(BATCH, WIDTH)
    steps = {}
    for side, torch_side in (("torch.nn", True), ("torch_act", False)):
        for compiled in (False, True):
            model = mlp(entry, torch_side)
            run = torch.compile(model) if compiled else model
            steps[(side, compiled)] = train_step(run, torch.optim.SGD(model.parameters(), lr=1e-3), x)
            for _ in range(3):  # compiles forward and backward graphs
                steps[(side, compiled)]()
    times = {k: [] for k in steps}
    for _ in range(rounds):
        for k, step in steps.items():
            times[k].append(best(step, threads, min_run_time))
    med = {k: statistics.median(v) for k, v in times.items()}

    def ratio(a, b):
        return statistics.median(p / q for p, q in zip(times[a], times[b]))
    return dict(activation=entry.title, eager_nn=med[("torch.nn", False)], eager_act=med[("torch_act", False)],
                compiled_nn=med[("torch.nn", True)], compiled_act=med[("torch_act", True)],
                eager_ratio=ratio(("torch_act", False), ("torch.nn", False)),
                compiled_ratio=ratio(("torch_act", True), ("torch.nn", True)),
                act_compiled_vs_nn_eager=ratio(("torch_act", True), ("torch.nn", False)))


def table(rows, threads):
    lines = [f"MLP of {LAYERS} x Linear({WIDTH}, {WIDTH}) + activation, batch {BATCH}, float32, {threads} threads; "
             "train step = forward, mean-square loss, backward, SGD. Ratios are torch_act / torch.nn.", "",
             "| activation | eager torch.nn ms | eager torch_act ms | eager ratio | compiled torch.nn ms "
             "| compiled torch_act ms | **compiled ratio** | compiled torch_act / eager torch.nn |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['activation']} | {r['eager_nn'] * 1e3:.2f} | {r['eager_act'] * 1e3:.2f} | "
                     f"{r['eager_ratio']:.2f} | {r['compiled_nn'] * 1e3:.2f} | {r['compiled_act'] * 1e3:.2f} | "
                     f"**{r['compiled_ratio']:.2f}** | {r['act_compiled_vs_nn_eager']:.2f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activations", help="comma-separated subset (default: all)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--min-run-time", type=float, default=0.2)
    args = parser.parse_args()
    names = args.activations.split(",") if args.activations else list(ACTIVATIONS)
    try:
        from tqdm import tqdm
    except ImportError:
        def tqdm(it, **_):
            return it
    rows = [measure(n, args.rounds, args.threads, args.min_run_time) for n in tqdm(names, unit="activation")]
    print(table(rows, args.threads))


if __name__ == "__main__":
    main()
