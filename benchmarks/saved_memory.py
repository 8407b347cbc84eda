"""Memory each activation keeps alive for backward, torch_act against torch.nn.

    python benchmarks/saved_memory.py

For two blocks, counts the unique storages autograd saves (through
torch.autograd.graph.saved_tensors_hooks) and reports the extra bytes over
the same block without the activation, in units of one activation tensor:
  A = Linear -> act -> Linear
  B = Linear -> act -> Dropout -> Linear   (the next layer no longer saves act's output)
"""
import torch
from torch import nn

from torch_act import ACTIVATIONS

BATCH, WIDTH = 256, 1024


def saved_bytes(block, x):
    storages = {}

    def pack(t):
        s = t.untyped_storage()
        storages[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        block(x)
    return sum(storages.values())


def block(act, dropout):
    torch.manual_seed(0)
    layers = [nn.Linear(WIDTH, WIDTH)] + ([act] if act is not None else [])
    layers += ([nn.Dropout(0.5)] if dropout else []) + [nn.Linear(WIDTH, WIDTH)]
    return nn.Sequential(*layers).train()


def make_act(entry, torch_side):
    cls = entry.torch_module if torch_side else entry.module
    return cls(WIDTH) if entry.parameter else cls()


def measure():
    x = torch.randn(BATCH, WIDTH, requires_grad=True)
    unit = BATCH * WIDTH * x.element_size()
    rows = []
    for name, entry in ACTIVATIONS.items():
        row = {"activation": entry.title}
        for label, dropout in (("A", False), ("B", True)):
            base = saved_bytes(block(None, dropout), x)
            for side, torch_side in (("torch.nn", True), ("torch_act", False)):
                extra = saved_bytes(block(make_act(entry, torch_side), dropout), x) - base
                row[f"{label} {side}"] = extra / unit
        rows.append(row)
    return rows


def table(rows):
    cols = ["A torch.nn", "A torch_act", "B torch.nn", "B torch_act"]
    lines = [f"Extra bytes saved for backward, in units of one activation tensor ({BATCH}x{WIDTH} float32); "
             "A = Linear -> act -> Linear, B = Linear -> act -> Dropout -> Linear.", "",
             "| activation | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for r in rows:
        lines.append(f"| {r['activation']} | " + " | ".join(f"{r[c]:.4g}" for c in cols) + " |")
    return "\n".join(lines)


def main():
    print(table(measure()))


if __name__ == "__main__":
    main()
