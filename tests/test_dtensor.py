"""DTensor over 2 processes (gloo, localhost): every op keeps the placements
torch.nn's activations keep, with torch.nn's values and gradients; a
tensor-parallel MLP and an FSDP2 model with PReLU train like one process."""
import os
import socket
import traceback

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

import torch_act
from torch_act import ACTIVATIONS

from helpers import all_variants

WORLD = 2
STEPS = 3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _entry(rank, port, check, out_dir):
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    try:
        from torch.distributed.device_mesh import init_device_mesh

        globals()[check](init_device_mesh("cpu", (WORLD,)))
        # Both ranks done before either tears gloo down: a rank leaving while
        # the other's last collective is in flight aborted once in CI
        # ("terminate called without an active exception").
        dist.barrier()
    except BaseException:
        with open(os.path.join(out_dir, f"error{rank}.txt"), "w") as f:
            f.write(traceback.format_exc())
        raise
    finally:
        dist.destroy_process_group()


def run_on_two_ranks(check, tmp_path):
    try:
        mp.spawn(_entry, args=(free_port(), check, str(tmp_path)), nprocs=WORLD, join=True)
    except mp.ProcessRaisedException:
        errors = [p.read_text() for p in sorted(tmp_path.glob("error*.txt"))]
        pytest.fail("\n".join(errors))


# --- every op, every placement ----------------------------------------------------


def ops_on_every_placement(mesh):
    from torch.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor

    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 6, generator=g, dtype=torch.float64)
    x[0, :3] = torch.tensor([0.0, -0.0, float("nan")])
    grad_out = torch.randn(4, 6, generator=g, dtype=torch.float64)
    for name, kwargs in all_variants():
        entry = ACTIVATIONS[name]
        w = torch.rand(6, generator=g, dtype=torch.float64) - 0.3 if entry.parameter else None

        def reference(fn):
            leaf = x.clone().requires_grad_()
            wl = w.clone().requires_grad_() if w is not None else None
            y = fn(leaf, wl, **kwargs) if w is not None else fn(leaf, **kwargs)
            grads = torch.autograd.grad(y, [leaf] + ([wl] if w is not None else []), grad_out)
            return y.detach(), grads

        ref_y, ref_grads = reference(entry.torch_function)
        for placement in (Shard(0), Shard(1), Replicate(), Partial()):
            if isinstance(placement, Partial):
                # Each rank holds x / 2: the op must see the sum.
                xd = DTensor.from_local(x / WORLD, mesh, [Partial()]).requires_grad_()
            else:
                xd = distribute_tensor(x, mesh, [placement]).requires_grad_()
            wd = None
            if w is not None:
                wd = distribute_tensor(w, mesh, [Shard(0) if placement == Shard(1) else Replicate()])
                wd.requires_grad_()
            y = entry.function(xd, wd, **kwargs) if w is not None else entry.function(xd, **kwargs)
            assert isinstance(y, DTensor)
            if not isinstance(placement, Partial):
                assert y.placements == (placement,), (name, placement, y.placements)
            # The gradient arrives as the output's placement, and also
            # replicated (a mask must then still meet its own shard).
            for grad_placement in {y.placements[0], Replicate()}:
                gd = distribute_tensor(grad_out, mesh, [grad_placement])
                grads = torch.autograd.grad(y, [xd] + ([wd] if wd is not None else []), gd, retain_graph=True)
                msg = f"{name} {kwargs} {placement} grad {grad_placement}"
                torch.testing.assert_close(y.full_tensor(), ref_y, equal_nan=True, msg=msg)
                for a, b in zip(grads, ref_grads):
                    torch.testing.assert_close(a.full_tensor(), b, equal_nan=True, msg=msg)
        if entry.has_inplace:
            for placement in (Shard(0), Shard(1), Replicate()):
                xd = distribute_tensor(x, mesh, [placement])
                leaf = xd.clone().requires_grad_()
                z = leaf * 1.0
                assert entry.function(z, inplace=True, **kwargs) is z
                (grad,) = torch.autograd.grad(z, leaf, distribute_tensor(grad_out, mesh, [placement]))
                torch.testing.assert_close(z.full_tensor(), ref_y, equal_nan=True)
                torch.testing.assert_close(grad.full_tensor(), ref_grads[0], equal_nan=True)


def test_every_op_keeps_shard_and_replicate_and_reduces_partial(tmp_path):
    run_on_two_ranks("ops_on_every_placement", tmp_path)


# --- tensor parallelism --------------------------------------------------------------


def mlp(activation):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), activation, nn.Linear(8, 4)).double()


def tp_activations():
    """One module per activation and argument set (PReLU with one slope per hidden unit)."""
    out = []
    for name, kwargs in all_variants():
        entry = ACTIVATIONS[name]
        if entry.parameter:
            out.append((name, lambda e=entry: e.module(num_parameters=8, init=0.1)))
        else:
            out.append((name, lambda e=entry, kw=kwargs: e.module(**kw)))
    return out


def tp_mlp_trains_like_one_process(mesh):
    from torch.distributed.tensor import DTensor, Shard, distribute_tensor
    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

    g = torch.Generator().manual_seed(1)
    x, target = torch.randn(5, 6, generator=g, dtype=torch.float64), torch.randn(5, 4, generator=g, dtype=torch.float64)
    for name, make in tp_activations():
        single, parallel = mlp(make()), mlp(make())
        parallelize_module(parallel, mesh, {"0": ColwiseParallel(use_local_output=False),
                                            "2": RowwiseParallel(input_layouts=Shard(-1))})
        if ACTIVATIONS[name].parameter:
            # One slope per hidden unit: sharded like the hidden units.
            parallel[1].alpha = nn.Parameter(distribute_tensor(parallel[1].alpha.detach(), mesh, [Shard(0)]))
        hidden = parallel[1](parallel[0](x))
        assert isinstance(hidden, DTensor) and hidden.placements == (Shard(1),), name
        for model in (single, parallel):
            opt = torch.optim.SGD(model.parameters(), lr=0.05)
            for _ in range(STEPS):
                opt.zero_grad()
                nn.functional.mse_loss(model(x), target).backward()
                opt.step()
        for (k, a), (_, b) in zip(parallel.named_parameters(), single.named_parameters()):
            a = a.full_tensor() if isinstance(a, DTensor) else a
            torch.testing.assert_close(a, b, msg=f"{name}: {k}")
        assert not torch.equal(single[0].weight, mlp(make())[0].weight), "training never moved"


def test_tensor_parallel_mlp_trains_like_one_process(tmp_path):
    run_on_two_ranks("tp_mlp_trains_like_one_process", tmp_path)


# --- FSDP2 ---------------------------------------------------------------------------


def prelu_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 10), torch_act.PReLU(10), nn.Linear(10, 10), torch_act.PReLU(),
                         nn.Linear(10, 1))


def fsdp2_trains_like_one_process(mesh):
    from torch.distributed.fsdp import fully_shard

    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(8, 6, generator=g), torch.randn(8, 1, generator=g)
    rank = dist.get_rank()
    shard = slice(rank * 4, rank * 4 + 4)
    model, single = prelu_model(), prelu_model()
    for layer in model:
        if any(p.requires_grad for p in layer.parameters()):
            fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    for m, (xs, ys) in ((model, (x[shard], y[shard])), (single, (x, y))):
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        for _ in range(STEPS):
            opt.zero_grad()
            nn.functional.mse_loss(m(xs), ys).backward()  # FSDP averages: the full batch's mean loss
            opt.step()
    for (k, a), (_, b) in zip(model.named_parameters(), single.named_parameters()):
        torch.testing.assert_close(a.full_tensor(), b.detach(), msg=k)
    assert not torch.equal(single[1].alpha, prelu_model()[1].alpha), "alpha never moved"


def test_fsdp2_over_prelu_trains_like_one_process(tmp_path):
    run_on_two_ranks("fsdp2_trains_like_one_process", tmp_path)
