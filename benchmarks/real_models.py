"""Real torchvision models, torch.nn's activations vs torch_act's, one training step.

Each model (random weights, train mode) runs one step (forward, loss,
backward) as torch.nn builds it, and once converted: ``torch_act.convert``
swaps its activation modules and ``torch_act.everywhere()`` reaches the
activations its forward calls as functions (GoogLeNet's ``F.relu``). Prints,
per model: activations reached (modules swapped, functional calls routed per
step, activation modules left to torch), whether outputs and gradients are
bitwise equal, the bytes kept for backward (saved-tensor hooks; parameters
and the input, held anyway, not counted; views of one buffer counted once)
and the train-step time ratio (torch.utils.benchmark, alternated rounds).

Needs torchvision: ``make real-models`` runs it in a virtualenv with
torch==2.14.1 and torchvision==0.29.1 (torchvision does not import beside the
CPU torch 2.13 build of ``make test``).

    python benchmarks/real_models.py [--models resnet18,googlenet] [--rounds 3] [--out FILE]
"""
import argparse
import copy
import platform
import statistics
import warnings
from pathlib import Path

import torch
import torch.utils.benchmark as benchmark
from torch import nn
from tqdm import tqdm

import torch_act

MODELS = {
    "resnet18": {},
    "vgg11_bn": {},
    "squeezenet1_1": {},
    "googlenet": {"aux_logits": False, "init_weights": True},
    "mobilenet_v3_small": {},
    "efficientnet_b0": {},
    "convnext_tiny": {},
    "vit_b_16": {},
}
# torch.nn's activation modules: those torch_act has no twin for stay torch's.
TORCH_ACTIVATIONS = tuple(getattr(nn, n) for n in nn.modules.activation.__all__
                          if isinstance(getattr(nn, n), type) and n != "MultiheadAttention")


def train_step(model, x):
    """Outputs and every gradient of one step (loss = mean of squares). The
    generator is reset first: dropout draws the same masks for both contenders."""
    torch.manual_seed(1)
    model.zero_grad(set_to_none=True)
    x = x.detach().clone().requires_grad_()
    y = model(x)
    y.float().square().mean().backward()
    return [y.detach(), x.grad] + [p.grad for p in model.parameters()]


def kept_bytes(model, x):
    """Bytes the autograd graph of one forward keeps for backward."""
    held = {p.untyped_storage().data_ptr() for p in model.parameters()} | {x.untyped_storage().data_ptr()}
    seen = {}

    def pack(t):
        ptr = t.untyped_storage().data_ptr()
        if ptr not in held:
            seen[ptr] = max(seen.get(ptr, 0), t.untyped_storage().nbytes())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(x.detach().clone().requires_grad_())
    return sum(seen.values())


def seconds(stmt, glb, min_run_time):
    return min(benchmark.Timer(stmt, globals=glb).blocked_autorange(min_run_time=min_run_time).times)


def measure(name, kwargs, batch, rounds, min_run_time):
    import torchvision

    torch.manual_seed(0)
    reference = getattr(torchvision.models, name)(weights=None, **kwargs).train()
    with warnings.catch_warnings():  # convert() warns about functional calls: reached below
        warnings.simplefilter("ignore")
        converted, swapped = torch_act.convert(reference, return_counts=True)
    left = sum(isinstance(m, TORCH_ACTIVATIONS) for m in converted.modules())
    x = torch.randn(batch, 3, 224, 224)

    # Each contender from the same state (batch norm's running stats move).
    expected = train_step(copy.deepcopy(reference), x)
    with torch_act.everywhere() as calls:
        got = train_step(copy.deepcopy(converted), x)
    bitwise = all(torch.equal(a, b) for a, b in zip(got, expected))
    worst = max(float((a.double() - b.double()).abs().max()) for a, b in zip(got, expected))
    reference_bytes = kept_bytes(reference, x)
    with torch_act.everywhere():
        ours_bytes = kept_bytes(converted, x)

    glb_ref = {"step": train_step, "model": reference, "x": x}
    mode = torch_act.everywhere()
    glb_ours = {"step": train_step, "model": converted, "x": x, "mode": mode}
    ratios = []
    for _ in range(rounds):  # alternated: torch.nn, torch_act, torch.nn, ...
        t_ref = seconds("step(model, x)", glb_ref, min_run_time)
        t_ours = seconds("with mode:\n    step(model, x)", glb_ours, min_run_time)
        ratios.append(t_ours / t_ref)
    return dict(model=name, swapped=sum(swapped.values()),
                swapped_types=", ".join(f"{k} {v}" for k, v in sorted(swapped.items())) or "-",
                functional=sum(calls.counts.values()),
                functional_types=", ".join(f"{k} {v}" for k, v in sorted(calls.counts.items())) or "-",
                left=left, bitwise=bitwise, worst=worst, ref_mb=reference_bytes / 2**20,
                ours_mb=ours_bytes / 2**20, ratio=statistics.median(ratios))


def table(rows):
    lines = ["| model | modules swapped | functional calls routed (per step) | activation modules left to torch "
             "| outputs & gradients | kept for backward: torch.nn MiB | torch_act MiB | saved | train-step time ratio |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        equal = "bitwise equal" if r["bitwise"] else f"max diff {r['worst']:.1e}"
        saved = 1 - r["ours_mb"] / r["ref_mb"] if r["ref_mb"] else 0.0
        lines.append(f"| {r['model']} | {r['swapped']} ({r['swapped_types']}) | {r['functional']} "
                     f"({r['functional_types']}) | {r['left']} | {equal} | {r['ref_mb']:.1f} | {r['ours_mb']:.1f} "
                     f"| {saved:.0%} | **{r['ratio']:.2f}** |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help=f"comma-separated subset of {','.join(MODELS)} (default: all)")
    parser.add_argument("--batch", type=int, default=2, help="images of 224x224 per step (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="alternated timing rounds (default 3)")
    parser.add_argument("--min-run-time", type=float, default=0.5, help="seconds per blocked_autorange")
    parser.add_argument("--out", help="also write the table, with the machine, to this markdown file")
    args = parser.parse_args()
    try:
        import torchvision
    except ImportError as e:
        parser.error(f"needs torchvision ({e}); `make real-models` sets up torch 2.14.1 with torchvision 0.29.1")
    names = args.models.split(",") if args.models else list(MODELS)
    for n in names:
        if n not in MODELS:
            parser.error(f"--models: unknown model {n!r}; choose from {', '.join(MODELS)}")
    rows = [measure(n, MODELS[n], args.batch, args.rounds, args.min_run_time) for n in tqdm(names, unit="model")]
    text = table(rows)
    print(text)
    if args.out:
        machine = (f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads; torch "
                   f"{torch.__version__}, torchvision {torchvision.__version__}")
        Path(args.out).write_text(
            "# Real models: torch.nn vs torch_act\n\n"
            f"Machine: {machine}. Command: `make real-models` (`python benchmarks/real_models.py`), "
            f"batch {args.batch} of 224x224, train mode, random weights. Ratio: torch_act's train-step time over "
            "torch.nn's (median of alternated rounds; below 1: faster).\n\n" + text + "\n")
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
