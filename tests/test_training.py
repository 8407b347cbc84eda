"""SGD learns torch_act.PReLU's alpha along the same trajectory as
torch.nn.PReLU's weight, step for step; every activation trains like its twin."""
import pytest
import torch
from torch import nn

from torch_act import ACTIVATIONS
from helpers import deterministic


def make_model(act):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), act, nn.Linear(16, 16), nn.Linear(16, 1))


def make_act(entry, torch_side, **kwargs):
    return deterministic((entry.torch_module if torch_side else entry.module)(**{**entry.required_kwargs, **kwargs}),
                         entry.name)


def parameter_of(act):
    return act.weight if isinstance(act, nn.PReLU) else act.alpha


@pytest.mark.parametrize("num_parameters", [1, 16])
def test_prelu_alpha_follows_torch_trajectory(num_parameters):
    entry = ACTIVATIONS["prelu"]
    models = [make_model(make_act(entry, side, num_parameters=num_parameters)) for side in (False, True)]
    opts = [torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9) for m in models]
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, 6, generator=g)
    target = torch.randn(64, 1, generator=g)
    start = parameter_of(models[0][1]).detach().clone()
    for step in range(25):
        for model, opt in zip(models, opts):
            opt.zero_grad()
            nn.functional.mse_loss(model(x), target).backward()
            opt.step()
        ours, theirs = parameter_of(models[0][1]), parameter_of(models[1][1])
        torch.testing.assert_close(ours, theirs, msg=f"alpha diverged at step {step}")
    assert not torch.equal(parameter_of(models[0][1]), start), "alpha never moved"


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_training_matches_torch(name):
    entry = ACTIVATIONS[name]
    models = [make_model(make_act(entry, side)) for side in (False, True)]
    opts = [torch.optim.Adam(m.parameters(), lr=1e-2) for m in models]
    x = torch.randn(32, 6, generator=torch.Generator().manual_seed(2))
    y = x.sum(1, keepdim=True).sin()
    for _ in range(10):
        losses = []
        for model, opt in zip(models, opts):
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss)
        torch.testing.assert_close(losses[0], losses[1])
