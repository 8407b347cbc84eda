"""Peak memory of a training step of a deep MLP, torch_act against torch.nn.

    python benchmarks/peak_memory.py [--layers 8] [--width 4096] [--batch 256]

Each configuration runs in a child process whose malloc maps every block of
64 KB or more straight from the kernel (MALLOC_MMAP_THRESHOLD_), so resident
memory (RSS) follows live tensors. After a warm-up step (which allocates the
.grad buffers), the kernel's high-water mark is reset (/proc/self/clear_refs)
and one more step (forward, backward, SGD) runs; the figure is its peak RSS
above the resident memory just before it: saved activations plus backward's
transients. Linux only.
"""
import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, os, torch, torch_act
from torch import nn
torch.manual_seed(0)
layers, width, batch, name, side = {layers}, {width}, {batch}, {name!r}, {side!r}
entry = torch_act.ACTIVATIONS[name]
blocks = []
for _ in range(layers):
    blocks += [nn.Linear(width, width), entry.new_module(width, torch_side=side == "torch.nn")]
model = nn.Sequential(*blocks)
opt = torch.optim.SGD(model.parameters(), lr=1e-3)
x, target = torch.randn(batch, width), torch.randn(batch, width)

def step():
    opt.zero_grad(set_to_none=False)
    nn.functional.mse_loss(model(x), target).backward()
    opt.step()

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

step()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # high-water mark := current RSS
before = status("VmRSS:")
step()
print(json.dumps(dict(peak=status("VmHWM:") - before, before=before)))
"""


def run(name, side, layers, width, batch):
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    code = CHILD.format(layers=layers, width=width, batch=batch, name=name, side=side)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(layers=8, width=4096, batch=256):
    from torch_act import ACTIVATIONS
    rows = []
    for name, entry in ACTIVATIONS.items():
        res = {side: run(name, side, layers, width, batch) for side in ("torch.nn", "torch_act")}
        rows.append(dict(activation=entry.title, torch_mb=res["torch.nn"]["peak"] / 2**20,
                         ours_mb=res["torch_act"]["peak"] / 2**20))
    return rows


def table(rows, layers=8, width=4096, batch=256):
    act_mb = batch * width * 4 / 2**20
    lines = [f"Peak memory of one training step above the memory resident before it (weights and .grad "
             f"buffers), MLP of {layers} x Linear({width}, {width}) + activation, batch {batch}, float32 "
             f"(one activation tensor = {act_mb:g} MB).", "",
             "| activation | torch.nn MB | torch_act MB | torch_act - torch.nn MB | ratio |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['activation']} | {r['torch_mb']:.1f} | {r['ours_mb']:.1f} | "
                     f"{r['ours_mb'] - r['torch_mb']:+.1f} | {r['ours_mb'] / r['torch_mb']:.2f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--width", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=256)
    a = parser.parse_args()
    print(table(measure(a.layers, a.width, a.batch), a.layers, a.width, a.batch))


if __name__ == "__main__":
    main()
