"""The main job: train the same MLP on scikit-learn's bundled digits data set
once per activation, several seeds each, and show how the activations differ.

    make demo                      # or: python examples/demo.py [--out DIR] [--seeds N] [--epochs N]

Three experiments, all on digits (8x8 images, 10 classes, 70/30 split):

1. Comparison: an MLP 64-128-128-10 per activation, Adam at a learning rate
   where every activation trains smoothly, over several seeds: test accuracy
   as mean and standard deviation, dead and saturated units.
2. Dying ReLU: the same MLP at a learning rate far too high (0.1), one seed:
   ReLU units die (never fire again, get no gradient); LeakyReLU, PReLU, ELU,
   GELU and SiLU still pass a gradient where their input is negative.
3. Vanishing gradients: a 16-layer MLP per activation (He initialisation),
   the norm of the gradient reaching each layer's weights at initialisation
   and after a few epochs of training.

Writes into the output folder (named at the end):
  results.md           the tables and one sentence per activation on experiment 3
  learning_curves.png  training loss and test accuracy per epoch (experiment 1, mean over seeds)
  gradient_norms.png   experiment 3
  prelu_alphas.png     histogram of PReLU's learned alphas per channel
  activations.png      every activation and its derivative (torch_act.plot)

A hidden unit "never fires" when its pre-activation is never positive on any
test sample: for ReLU its output is then always 0 and no gradient reaches it.
"No gradient" counts the units whose derivative stays below 0.01 on every
test sample: dead ReLUs, and saturated Sigmoid/Tanh units.
"""
import argparse
import math
import statistics
import time
from pathlib import Path

import torch
from torch import nn

import torch_act

WIDTH = 128
DEEP_LAYERS, DEEP_WIDTH = 16, 64


def load_data(seed=0):
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


def make_mlp(entry, hidden_layers=2, width=WIDTH):
    layers, fan_in = [], 64
    for _ in range(hidden_layers):
        layers += [nn.Linear(fan_in, width), entry.new_module(width)]
        fan_in = width
    return nn.Sequential(*layers, nn.Linear(fan_in, 10))


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


def train(model, data, epochs, lr, seed, progress=None, on_epoch=None):
    """Adam on mini-batches of 64; returns per-epoch loss and test accuracy and the time spent training."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    (x, y), (x_test, y_test) = data
    g = torch.Generator().manual_seed(seed)
    curve = {"loss": [], "accuracy": []}
    seconds = 0.0
    for epoch in range(epochs):
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
        if on_epoch is not None:
            on_epoch(epoch, model)
        if progress is not None:
            progress.update()
    return curve, seconds


def run(entry, data, epochs, lr, seed, progress):
    torch.manual_seed(seed)
    model = make_mlp(entry)
    curve, seconds = train(model, data, epochs, lr, seed, progress)
    never_fire, no_gradient = unit_stats(model, data[1][0])
    alphas = [m.alpha.detach() for m in model if isinstance(m, torch_act.PReLU)]
    return dict(curve=curve, seconds=seconds, never_fire=never_fire, no_gradient=no_gradient,
                alphas=torch.cat(alphas) if alphas else None, accuracy=curve["accuracy"][-1])


def layer_gradient_norms(model, x, y):
    """The norm of the loss gradient of each Linear layer's weight, input side first."""
    model.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    return [m.weight.grad.norm().item() for m in model if isinstance(m, nn.Linear)]


def deep_run(entry, data, epochs, lr, seed, progress):
    """Experiment 3: gradient norms per layer of a 16-layer MLP, at init and after training.
    He initialisation (what deep ReLU networks use; PyTorch's default keeps a
    third of the variance per layer, which starves any activation at depth 16)."""
    torch.manual_seed(seed)
    model = make_mlp(entry, DEEP_LAYERS, DEEP_WIDTH)
    for m in model:
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    (x, y), (x_test, _) = data
    at_init = layer_gradient_norms(model, x, y)
    curve, _ = train(model, data, epochs, lr, seed, progress)
    trained = layer_gradient_norms(model, x, y)
    never_fire, no_gradient = unit_stats(model, x_test)
    return dict(at_init=at_init, trained=trained, accuracy=curve["accuracy"][-1], never_fire=never_fire,
                no_gradient=no_gradient)


def describe_deep(entry, r):
    """One sentence on what experiment 3 shows for this activation."""
    first, last = r["at_init"][0], r["at_init"][-1]
    ratio = first / last if last > 0 else math.inf
    trained_ratio = r["trained"][0] / r["trained"][-1] if r["trained"][-1] > 0 else math.inf
    if ratio < 1e-2:
        shape = f"its gradient vanishes toward the input: layer 1 gets {ratio:.0e} of the last layer's at init"
    elif ratio < 0.3:
        shape = f"its gradient shrinks toward the input (layer 1 gets {ratio:.2f} of the last layer's at init)"
    else:
        shape = f"its gradient reaches the input layers ({ratio:.2f} of the last layer's at init)"
    after = f"{trained_ratio:.0e}" if trained_ratio < 1e-2 else f"{trained_ratio:.2f}"
    dead = ""
    if not entry.saturating and r["never_fire"] > 0.01:
        dead = f"; {100 * r['never_fire']:.0f}% of its units never fire after training"
        if r["no_gradient"] > 0.01:
            dead += f" and {100 * r['no_gradient']:.0f}% get no gradient at all"
        else:
            dead += ", yet they still get a gradient"
    elif entry.saturating and r["no_gradient"] > 0.01:
        dead = f"; {100 * r['no_gradient']:.0f}% of its units are saturated after training"
    return (f"**{entry.title}**: {shape}; after training {after}{dead} "
            f"(test accuracy {r['accuracy']:.3f}).")


def mean_std(values, fmt="{:.3f}"):
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.mean(values))} ± {fmt.format(statistics.stdev(values))}"


def comparison_table(results):
    lines = ["| activation | test accuracy | training time (s) | units that never fire | units with no gradient |",
             "|---|---|---|---|---|"]
    for name, runs in results.items():
        entry = torch_act.ACTIVATIONS[name]
        # "Firing" means nothing for a bounded activation: it saturates instead.
        fire = "–" if entry.saturating else mean_std([100 * r["never_fire"] for r in runs], "{:.1f}") + "%"
        lines.append(f"| {entry.title} | {mean_std([r['accuracy'] for r in runs])} "
                     f"| {statistics.mean(r['seconds'] for r in runs):.1f} | {fire} "
                     f"| {mean_std([100 * r['no_gradient'] for r in runs], '{:.1f}')}% |")
    return "\n".join(lines)


def dying_table(results):
    lines = ["| activation | test accuracy | units that never fire | units with no gradient |", "|---|---|---|---|"]
    for name, r in results.items():
        entry = torch_act.ACTIVATIONS[name]
        fire = "–" if entry.saturating else f"{100 * r['never_fire']:.1f}%"
        lines.append(f"| {entry.title} | {r['accuracy']:.3f} | {fire} | {100 * r['no_gradient']:.1f}% |")
    return "\n".join(lines)


def plot_curves(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_l, ax_a) = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    for name, runs in results.items():
        label = torch_act.ACTIVATIONS[name].title
        for ax, key in ((ax_l, "loss"), (ax_a, "accuracy")):
            curves = torch.tensor([r["curve"][key] for r in runs])
            mean, lo, hi = curves.mean(0), curves.min(0).values, curves.max(0).values
            epochs = range(1, len(mean) + 1)
            line, = ax.plot(epochs, mean, label=label)
            ax.fill_between(epochs, lo, hi, color=line.get_color(), alpha=0.15)
    ax_l.set(title="Training loss (mean over seeds, band: min-max)", xlabel="epoch", ylabel="cross-entropy",
             yscale="log")
    ax_a.set(title="Test accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0.85, 1.0))
    for ax in (ax_l, ax_a):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_gradient_norms(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True, sharey=True)
    for name, r in results.items():
        label = torch_act.ACTIVATIONS[name].title
        for ax, key in zip(axes, ("at_init", "trained")):
            ax.plot(range(1, len(r[key]) + 1), r[key], marker="o", markersize=3, label=label)
    axes[0].set(title=f"At initialisation ({DEEP_LAYERS} hidden layers of {DEEP_WIDTH}, He init)",
                ylabel="‖∂loss/∂W‖")
    axes[1].set(title="After training")
    for ax in axes:
        ax.set(xlabel="layer (1 = input side)", yscale="log")
        ax.grid(alpha=0.3, which="both")
    axes[1].legend(fontsize=8, ncol=2)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_alphas(alphas, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4), constrained_layout=True)
    ax.hist(alphas.numpy(), bins=40, color="tab:green")
    ax.axvline(0.25, color="0.3", linestyle="--", label="init 0.25")
    ax.set(title=f"PReLU: learned alpha per channel ({alphas.numel()} channels, 2 layers, all seeds)",
           xlabel="alpha", ylabel="channels")
    ax.legend()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo_output", help="output folder (default: demo_output)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per activation in the comparison (default 3)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs of the comparison (default 20)")
    # Where every activation's loss falls smoothly (Adam's own default, 1e-3,
    # is as stable and slower); far higher, ReLU units die.
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam's learning rate (default 3e-3)")
    parser.add_argument("--dying-lr", type=float, default=0.1, help="the too-high rate of experiment 2 (default 0.1)")
    parser.add_argument("--deep-epochs", type=int, default=5, help="epochs of the 16-layer MLP (default 5)")
    parser.add_argument("--activations", default="all",
                        help="comma-separated names to compare, or 'all' (default: all, under a minute on 2 cores)")
    args = parser.parse_args()
    if args.seeds < 1 or args.epochs < 1 or args.deep_epochs < 0:
        parser.error("--seeds and --epochs must be at least 1, --deep-epochs at least 0")
    names = list(torch_act.ACTIVATIONS) if args.activations == "all" else args.activations.split(",")
    unknown = [n for n in names if n not in torch_act.ACTIVATIONS]
    if unknown:
        parser.error(f"--activations: unknown {unknown}; choose from {', '.join(torch_act.ACTIVATIONS)} or 'all'")
    from tqdm import tqdm

    from torch_act.plot import plot_activations

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_data()
    total = len(names) * (args.seeds * args.epochs + args.epochs + args.deep_epochs)
    comparison, dying, deep = {}, {}, {}
    with tqdm(total=total, unit="epoch") as progress:
        for name in names:
            entry = torch_act.ACTIVATIONS[name]
            progress.set_postfix(activation=name)
            comparison[name] = [run(entry, data, args.epochs, args.lr, seed, progress) for seed in range(args.seeds)]
            dying[name] = run(entry, data, args.epochs, args.dying_lr, 0, progress)
            deep[name] = deep_run(entry, data, args.deep_epochs, args.lr, 0, progress)

    setup = (f"digits: {len(data[0][0])} train / {len(data[1][0])} test, MLP 64-{WIDTH}-{WIDTH}-10, Adam, "
             f"{args.epochs} epochs")
    sentences = "\n".join(f"- {describe_deep(torch_act.ACTIVATIONS[n], r)}" for n, r in deep.items())
    report = (f"## 1. Comparison: {setup}, lr {args.lr}, mean ± std over {args.seeds} seeds\n\n"
              f"{comparison_table(comparison)}\n\n"
              f"## 2. Dying ReLU: the same at lr {args.dying_lr}, seed 0\n\n{dying_table(dying)}\n\n"
              f"## 3. Gradients through {DEEP_LAYERS} hidden layers of {DEEP_WIDTH} (gradient_norms.png), "
              f"lr {args.lr}, {args.deep_epochs} epochs\n\n{sentences}\n")
    (out / "results.md").write_text(report)
    plot_curves(comparison, out / "learning_curves.png")
    plot_gradient_norms(deep, out / "gradient_norms.png")
    if "prelu" in comparison:
        plot_alphas(torch.cat([r["alphas"] for r in comparison["prelu"]]), out / "prelu_alphas.png")
    plot_activations(str(out / "activations.png"))
    print("\n" + report)
    print(f"wrote {out.resolve()}/: results.md, learning_curves.png, gradient_norms.png, prelu_alphas.png, "
          "activations.png")


if __name__ == "__main__":
    main()
