"""The main job: train the same MLP on scikit-learn's bundled digits data set
once per activation and show how they differ.

    make demo                      # or: python examples/demo.py [--out DIR] [--epochs N]

Writes into the output folder (named at the end):
  results.md           test accuracy, training time, dead / saturated units
  learning_curves.png  training loss and test accuracy per epoch
  prelu_alphas.png     histogram of PReLU's learned alphas per channel
  activations.png      every activation and its derivative (torch_act.plot)

A hidden unit "never fires" when its pre-activation is never positive on any
test sample: for ReLU its output is then always 0 and no gradient reaches it
(the "dying ReLU" problem); LeakyReLU, PReLU and ELU still pass a gradient
there. "No gradient" counts the units whose derivative stays below 0.01 on
every test sample: dead ReLUs, and saturated Sigmoid/Tanh units.
"""
import argparse
import time
from pathlib import Path

import torch
from torch import nn

import torch_act

WIDTH = 128


def load_data(seed):
    """Digits (8x8 images, 10 classes), standardized, split 70/30."""
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32)
    y = torch.tensor(digits.target, dtype=torch.long)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    x, y = x[order], y[order]
    split = int(0.7 * len(x))
    mean, std = x[:split].mean(0), x[:split].std(0).clamp_min(1e-3)
    x = (x - mean) / std
    return (x[:split], y[:split]), (x[split:], y[split:])


def make_model(entry):
    def act():
        return entry.module(WIDTH) if entry.parameter else entry.module()
    return nn.Sequential(nn.Linear(64, WIDTH), act(), nn.Linear(WIDTH, WIDTH), act(), nn.Linear(WIDTH, 10))


def unit_stats(model, x):
    """Over every hidden unit of the model on inputs x: the share whose
    pre-activation is never positive ("never fire") and the share whose
    derivative stays below 0.01 on every sample ("no gradient")."""
    acts = [m for m in model if type(m).__module__.startswith("torch_act")]
    pre = []
    hooks = [m.register_forward_hook(lambda m, inp, out: pre.append(inp[0].detach())) for m in acts]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    units = sum(p.shape[1] for p in pre)
    never_fire = sum(int((p <= 0).all(0).sum()) for p in pre) / units
    no_gradient = 0
    for m, p in zip(acts, pre):
        p = p.clone().requires_grad_()
        (d,) = torch.autograd.grad(m(p).sum(), p)  # elementwise: f'(p)
        no_gradient += int((d.abs() < 0.01).all(0).sum())
    return never_fire, no_gradient / units


def train(entry, data, epochs, lr, seed, progress):
    torch.manual_seed(seed)
    model = make_model(entry)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    (x, y), (x_test, y_test) = data
    g = torch.Generator().manual_seed(seed)
    curve = {"loss": [], "accuracy": []}
    seconds = 0.0
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        total = 0.0
        for idx in torch.randperm(len(x), generator=g).split(64):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        seconds += time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
        curve["loss"].append(total / len(x))
        curve["accuracy"].append(accuracy)
        progress.set_postfix(activation=entry.name, acc=f"{accuracy:.3f}")
        progress.update()
    never_fire, no_gradient = unit_stats(model, x_test)
    alphas = [m.alpha.detach() for m in model if isinstance(m, torch_act.PReLU)]
    alphas = torch.cat(alphas) if alphas else None
    return dict(curve=curve, seconds=seconds, never_fire=never_fire, no_gradient=no_gradient, alphas=alphas,
                accuracy=curve["accuracy"][-1])


def write_table(results, path):
    lines = ["| activation | test accuracy | training time (s) | units that never fire | units with no gradient |",
             "|---|---|---|---|---|"]
    for name, r in results.items():
        entry = torch_act.ACTIVATIONS[name]
        # "Firing" means nothing for a bounded activation: it saturates instead.
        fire = "–" if entry.saturating else f"{100 * r['never_fire']:.1f}%"
        lines.append(f"| {entry.title} | {r['accuracy']:.3f} | {r['seconds']:.1f} | {fire} "
                     f"| {100 * r['no_gradient']:.1f}% |")
    path.write_text("\n".join(lines) + "\n")
    return "\n".join(lines)


def plot_curves(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_l, ax_a) = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    for name, r in results.items():
        epochs = range(1, len(r["curve"]["loss"]) + 1)
        label = torch_act.ACTIVATIONS[name].title
        ax_l.plot(epochs, r["curve"]["loss"], label=label)
        ax_a.plot(epochs, r["curve"]["accuracy"], label=label)
    ax_l.set(title="Training loss", xlabel="epoch", ylabel="cross-entropy", yscale="log")
    ax_a.set(title="Test accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0.8, 1.0))
    for ax in (ax_l, ax_a):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_alphas(alphas, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4), constrained_layout=True)
    ax.hist(alphas.numpy(), bins=40, color="tab:green")
    ax.axvline(0.25, color="0.3", linestyle="--", label="init 0.25")
    ax.set(title=f"PReLU: learned alpha per channel ({alphas.numel()} channels, 2 layers)",
           xlabel="alpha", ylabel="channels")
    ax.legend()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo_output", help="output folder (default: demo_output)")
    parser.add_argument("--epochs", type=int, default=40)
    # A brisk rate: high enough that ReLU units die, as they do in practice.
    parser.add_argument("--lr", type=float, default=0.03, help="Adam's learning rate (default 0.03)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from tqdm import tqdm

    from torch_act.plot import plot_activations

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_data(args.seed)
    results = {}
    with tqdm(total=args.epochs * len(torch_act.ACTIVATIONS), unit="epoch") as progress:
        for name, entry in torch_act.ACTIVATIONS.items():
            results[name] = train(entry, data, args.epochs, args.lr, args.seed, progress)
    table = write_table(results, out / "results.md")
    plot_curves(results, out / "learning_curves.png")
    plot_alphas(results["prelu"]["alphas"], out / "prelu_alphas.png")
    plot_activations(str(out / "activations.png"))
    print(f"\ndigits: {len(data[0][0])} train / {len(data[1][0])} test, MLP 64-{WIDTH}-{WIDTH}-10, "
          f"Adam lr {args.lr}, {args.epochs} epochs, seed {args.seed}\n")
    print(table)
    print(f"\nwrote {out.resolve()}/: results.md, learning_curves.png, prelu_alphas.png, activations.png")


if __name__ == "__main__":
    main()
