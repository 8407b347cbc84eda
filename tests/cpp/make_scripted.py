"""Scripts a model of torch_act modules and saves it, with an input and the
output Python computed, for the C++ TorchScript test (test_api.cpp).

    python make_scripted.py OUT_DIR
"""
import sys
from pathlib import Path

import torch
from torch import nn

import torch_act


class InputOutput(nn.Module):
    """Carries two tensors to C++ as attributes of a scripted module."""

    def __init__(self, input, output):
        super().__init__()
        self.input = input
        self.output = output

    def forward(self):
        return self.output


def main(out_dir: Path) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3), torch_act.PReLU(8), torch_act.LeakyReLU(0.2),
        nn.Conv2d(8, 8, 3), torch_act.ELU(0.5), torch_act.ReLU(inplace=True),
        nn.Flatten(), nn.Linear(8 * 4 * 4, 10), torch_act.GELU("tanh"), nn.Linear(10, 10), torch_act.SiLU(),
        torch_act.GELU(), torch_act.Tanh(), torch_act.Sigmoid(),
    ).eval()
    with torch.no_grad():
        model[1].alpha.uniform_(-0.5, 0.5)
    scripted = torch.jit.script(model)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        y = scripted(x)
        assert torch.equal(y, model(x)), "scripted and eager outputs differ"
    out_dir.mkdir(parents=True, exist_ok=True)
    scripted.save(str(out_dir / "model.pt"))
    torch.jit.script(InputOutput(x, y)).save(str(out_dir / "io.pt"))
    print(f"wrote {out_dir / 'model.pt'} and {out_dir / 'io.pt'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
