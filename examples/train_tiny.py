"""The main job (for now): train the same tiny MLP with each torch_act
activation on a synthetic two-spirals task and report how each did.

    make demo            # or: python examples/train_tiny.py [--steps N]

Prints, per activation, the loss before and after training and the test
accuracy; for PReLU also how its learned alphas moved from their init 0.25.
"""
import argparse
import math
import time

import torch
from torch import nn

import torch_act


def two_spirals(n, noise=0.15, seed=0):
    """n points on two interleaved spirals, labelled 0 and 1."""
    g = torch.Generator().manual_seed(seed)
    t = torch.rand(n, generator=g) * 3 * math.pi + 0.5
    label = torch.randint(0, 2, (n,), generator=g)
    angle = t + label * math.pi
    x = torch.stack([t * torch.cos(angle), t * torch.sin(angle)], dim=1) / 5
    return x + noise * torch.randn(x.shape, generator=g), label


def make_model(entry, width=32):
    def act():
        return entry.module(width) if entry.parameter else entry.module()
    return nn.Sequential(nn.Linear(2, width), act(), nn.Linear(width, width), act(),
                         nn.Linear(width, 2))


def train(entry, data, steps, seed=0):
    torch.manual_seed(seed)
    model = make_model(entry)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    (x, y), (x_test, y_test) = data
    loss_fn = nn.CrossEntropyLoss()
    with torch.no_grad():
        first = loss_fn(model(x), y).item()
    start = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        last = loss_fn(model(x), y).item()
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    alphas = [m.alpha.detach() for m in model if isinstance(m, torch_act.PReLU)]
    return first, last, accuracy, seconds, alphas


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="optimizer steps per activation")
    args = parser.parse_args()
    data = two_spirals(2000, seed=0), two_spirals(1000, seed=1)
    print(f"two spirals, 2000 train / 1000 test points, MLP 2-32-32-2, Adam, {args.steps} steps\n")
    print(f"{'activation':<12} {'loss start':>10} {'loss end':>9} {'test acc':>9} {'time s':>7}")
    for name, entry in torch_act.ACTIVATIONS.items():
        first, last, accuracy, seconds, alphas = train(entry, data, args.steps)
        print(f"{name:<12} {first:>10.4f} {last:>9.4f} {accuracy:>9.3f} {seconds:>7.2f}")
        for i, alpha in enumerate(alphas):
            print(f"{'':<12} PReLU layer {i + 1}: alpha from 0.25 to mean {alpha.mean():.3f} "
                  f"(min {alpha.min():.3f}, max {alpha.max():.3f}) over {alpha.numel()} channels")


if __name__ == "__main__":
    main()
