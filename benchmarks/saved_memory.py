"""Memory each activation keeps alive for backward, torch_act against torch.nn.

    python benchmarks/saved_memory.py          # saved-tensor hooks
    python benchmarks/saved_memory.py --rss    # also the process-memory cross-check

For two blocks, counts the unique storages autograd saves (through
torch.autograd.graph.saved_tensors_hooks) and reports the extra bytes over
the same block without the activation, in units of one activation tensor:
  A = Linear -> act -> Linear
  B = Linear -> act -> Dropout -> Linear   (the next layer no longer saves act's output)

The cross-check measures the same thing as growth of the process's resident
memory (RSS) across a forward pass that keeps its graph, with 64 MB
activations, in a child process whose malloc maps every block of 64 KB or
more straight from the kernel (MALLOC_MMAP_THRESHOLD_), so freed memory
leaves the RSS at once and what stays resident is what autograd keeps.
"""
import json
import os
import subprocess
import sys

import torch
from torch import nn

from torch_act import ACTIVATIONS

BATCH, WIDTH = 256, 1024
RSS_BATCH, RSS_WIDTH = 4096, 4096  # 64 MB per float32 activation tensor


def saved_bytes(block, x):
    storages = {}

    def pack(t):
        s = t.untyped_storage()
        storages[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        block(x)
    return sum(storages.values())


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rss_growth(block, x):
    """Resident bytes a forward adds while its graph (and output) stay alive."""
    before = resident_bytes()
    out = block(x)
    grown = resident_bytes() - before
    del out
    return grown


def block(act, dropout, width=WIDTH):
    torch.manual_seed(0)
    layers = [nn.Linear(width, width)] + ([act] if act is not None else [])
    layers += ([nn.Dropout(0.5)] if dropout else []) + [nn.Linear(width, width)]
    return nn.Sequential(*layers).train()


def measure(rss=False):
    """Rows of extra saved bytes per activation; rss=True measures resident
    memory instead of hooked storages (call it in a process set up by rss_rows)."""
    batch, width = (RSS_BATCH, RSS_WIDTH) if rss else (BATCH, WIDTH)
    x = torch.randn(batch, width, requires_grad=True)
    unit = batch * width * x.element_size()
    count = rss_growth if rss else saved_bytes
    for entry in ACTIVATIONS.values():  # one-time allocations (thread pools, GEMM buffers) first
        count(block(entry.new_module(width), True, width), x)
    rows = []
    for name, entry in ACTIVATIONS.items():
        row = {"activation": entry.title}
        for label, dropout in (("A", False), ("B", True)):
            base = count(block(None, dropout, width), x)
            for side, torch_side in (("torch.nn", True), ("torch_act", False)):
                extra = count(block(entry.new_module(width, torch_side), dropout, width), x) - base
                row[f"{label} {side}"] = extra / unit
        rows.append(row)
    return rows


def rss_rows():
    """measure(rss=True) in a child process whose malloc returns freed memory at once."""
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    code = "import json, saved_memory; print(json.dumps(saved_memory.measure(rss=True)))"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.abspath(__file__)), check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(rows, rss=False):
    cols = ["A torch.nn", "A torch_act", "B torch.nn", "B torch_act"]
    if rss:
        head = (f"Cross-check: growth of resident memory (RSS) over the block without the activation, "
                f"in units of one activation tensor ({RSS_BATCH}x{RSS_WIDTH} float32, 64 MB).")
    else:
        head = (f"Extra bytes saved for backward, in units of one activation tensor ({BATCH}x{WIDTH} float32); "
                "A = Linear -> act -> Linear, B = Linear -> act -> Dropout -> Linear.")
    lines = [head, "", "| activation | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for r in rows:
        lines.append(f"| {r['activation']} | " + " | ".join(f"{r[c]:.4g}" for c in cols) + " |")
    return "\n".join(lines)


def main():
    print(table(measure()))
    if "--rss" in sys.argv[1:]:
        print()
        print(table(rss_rows(), rss=True))


if __name__ == "__main__":
    main()
