"""DTensor over 2 processes (gloo, localhost): every op keeps the placements
torch.nn's activations keep, with torch.nn's values and gradients; a
tensor-parallel MLP and an FSDP2 model with PReLU train like one process."""
import os
import sys
import socket
import traceback

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

import torch_act
from torch_act import ACTIVATIONS

from helpers import EXACT, all_variants, corrected_reference, deterministic, float64_values, judged_reference

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

        mesh = init_device_mesh("cpu", (WORLD,))
        for name in check.split(","):  # several checks in one process group: fewer spawns and teardowns
            globals()[name](mesh)
        # Both ranks done before either tears gloo down: a rank leaving while
        # the other's last collective is in flight aborted once in CI
        # ("terminate called without an active exception").
        dist.barrier()
    except BaseException:
        with open(os.path.join(out_dir, f"error{rank}.txt"), "w") as f:
            f.write(traceback.format_exc())
        dist.destroy_process_group()
        raise
    # Every check has passed on both ranks (the barrier): leave without gloo's
    # teardown, whose background threads still aborted the process now and then
    # on a loaded 2-core machine ("terminate called without an active
    # exception", SIGABRT after the checks had passed), which says nothing
    # about torch_act. The OS closes the sockets.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


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

        def judged(ours, theirs):
            """torch.nn's input gradient, judged by the float64 value where torch_act's differs
            (ELU's at NaN: torch's vector body gives NaN, its scalar path grad_output)."""
            theirs = corrected_reference(name, theirs, x, grad_out)
            if name in EXACT or theirs.shape != x.shape:
                return theirs
            return judged_reference(ours, theirs, lambda i: float64_values(entry.torch_function, x, grad_out,
                                                                           kwargs, i)[1])
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
                    torch.testing.assert_close(a.full_tensor(), judged(a.full_tensor(), b), equal_nan=True, msg=msg)
        if entry.has_inplace:
            for placement in (Shard(0), Shard(1), Replicate()):
                xd = distribute_tensor(x, mesh, [placement])
                leaf = xd.clone().requires_grad_()
                z = leaf * 1.0
                assert entry.function(z, inplace=True, **kwargs) is z
                (grad,) = torch.autograd.grad(z, leaf, distribute_tensor(grad_out, mesh, [placement]))
                torch.testing.assert_close(z.full_tensor(), ref_y, equal_nan=True)
                torch.testing.assert_close(grad.full_tensor(), judged(grad.full_tensor(), ref_grads[0]),
                                           equal_nan=True)


def gated_ops_on_every_placement(mesh):
    """swiglu & co.: gate, up and both gradients keep the placement they share;
    a Partial grad_output gives the same gradients once reduced."""
    from torch.distributed.tensor import DTensor, Partial, Replicate, Shard, distribute_tensor

    g = torch.Generator().manual_seed(4)
    gate, up, grad_out = (torch.randn(4, 6, generator=g, dtype=torch.float64) for _ in range(3))
    for name, entry in torch_act.GATED.items():
        for kwargs in entry.variants:
            leaves = [t.clone().requires_grad_() for t in (gate, up)]
            y = entry.function(*leaves, **kwargs)
            ref = (y.detach(), *torch.autograd.grad(y, leaves, grad_out))
            for placement in (Shard(0), Shard(1), Replicate()):
                gd, ud = (distribute_tensor(t, mesh, [placement]).requires_grad_() for t in (gate, up))
                yd = entry.function(gd, ud, **kwargs)
                assert isinstance(yd, DTensor) and yd.placements == (placement,), (name, placement, yd.placements)
                for grad_d in (distribute_tensor(grad_out, mesh, [placement]),
                               DTensor.from_local(grad_out / WORLD, mesh, [Partial()])):
                    grads = torch.autograd.grad(yd, [gd, ud], grad_d, retain_graph=True)
                    msg = f"{name} {kwargs} {placement} grad {grad_d.placements}"
                    torch.testing.assert_close(yd.full_tensor(), ref[0], msg=msg)
                    for a, b in zip(grads, ref[1:]):
                        torch.testing.assert_close(a.full_tensor(), b, msg=msg)


def test_every_op_keeps_shard_and_replicate_and_reduces_partial(tmp_path):
    # With the bit-for-bit shard check below in the same processes: each
    # spawn and gloo teardown is a chance of the teardown abort noted in _entry.
    run_on_two_ranks("ops_on_every_placement,shards_equal_the_whole_bit_for_bit,gated_ops_on_every_placement,"
                     "random_slopes_differ_between_shards", tmp_path)


def random_slopes_differ_between_shards(mesh):
    """RReLU in training: the two shards of a Shard(0) tensor draw different
    slopes (each shard's indices start at 0: with one seed they would repeat
    each other), replicas the same; with grad or without, in place or not,
    the gradient is each element's own slope."""
    from torch.distributed.tensor import Replicate, Shard, distribute_tensor

    ops = torch.ops.torch_act
    x = -torch.ones(4, 64, dtype=torch.float64)
    for placement in (Shard(0), Shard(1), Replicate()):
        xd = distribute_tensor(x, mesh, [placement]).requires_grad_()
        y = ops.rrelu(xd, 0.1, 0.3, True, 77)
        (grad,) = torch.autograd.grad(y, xd, distribute_tensor(torch.ones_like(x), mesh, [placement]))
        slopes = -y.full_tensor()
        assert slopes.min() >= 0.1 and slopes.max() <= 0.3
        assert torch.equal(grad.full_tensor(), slopes), placement
        with torch.no_grad():
            assert torch.equal(-ops.rrelu(xd, 0.1, 0.3, True, 77).full_tensor(), slopes), placement
        z = xd.detach().clone()
        ops.rrelu_(z, 0.1, 0.3, True, 77)
        assert torch.equal(-z.full_tensor(), slopes), placement
        if placement == Replicate():  # every rank the whole tensor, with the call's own seed
            assert torch.equal(slopes, -ops.rrelu(x, 0.1, 0.3, True, 77))
        else:
            halves = slopes.chunk(2, dim=placement.dim)
            assert not torch.equal(halves[0], halves[1]), placement
            assert torch.equal(halves[0], -ops.rrelu(x.chunk(2, dim=placement.dim)[0], 0.1, 0.3, True, 77))


def shards_equal_the_whole_bit_for_bit(mesh):
    """Batch invariance across shards: each rank computes its rows (Shard(0))
    or columns (Shard(1)) alone, at other offsets and sizes than the whole
    tensor's, and the gathered output and input gradient equal the
    whole-tensor results bit for bit (sign of zero and NaN included)."""
    from torch.distributed.tensor import Replicate, Shard, distribute_tensor

    bits = {torch.float32: torch.int32, torch.bfloat16: torch.int16, torch.float64: torch.int64}
    for dtype in bits:
        g = torch.Generator().manual_seed(3)
        x = (torch.randn(37, 53, generator=g, dtype=torch.float64) * 4).to(dtype)
        x.view(-1)[::97] = torch.tensor([0.0, -0.0, float("nan"), float("inf"), -float("inf"), 5.0, -7.0],
                                        dtype=dtype).repeat(3)[: x.view(-1)[::97].numel()]
        grad_out = torch.randn(37, 53, generator=g, dtype=torch.float64).to(dtype)
        for name, kwargs in all_variants():
            entry = ACTIVATIONS[name]
            w = torch.tensor([0.25], dtype=dtype) if entry.parameter else None

            def forward_backward(inp, weight):
                leaf = inp.detach().requires_grad_()
                y = entry.function(leaf, weight, **kwargs) if weight is not None else entry.function(leaf, **kwargs)
                (gx,) = torch.autograd.grad(y, leaf, grad_out if not hasattr(leaf, "placements")
                                            else distribute_tensor(grad_out, mesh, leaf.placements))
                return y.detach(), gx

            whole = forward_backward(x, w)
            for placement in (Shard(0), Shard(1)):
                wd = distribute_tensor(w, mesh, [Replicate()]) if w is not None else None
                got = forward_backward(distribute_tensor(x, mesh, [placement]), wd)
                for what, a, b in zip(("output", "input gradient"), got, whole):
                    a = a.full_tensor()
                    assert torch.equal(a.view(bits[dtype]), b.view(bits[dtype])), (name, kwargs, dtype, placement, what)


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
            out.append((name, lambda e=entry, kw=kwargs, n=name: deterministic(e.module(**kw), n)))
    return out


def tp_mlp_trains_like_one_process(mesh):
    from torch.distributed.tensor import DTensor, Shard, distribute_tensor
    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

    g = torch.Generator().manual_seed(1)
    # x * 4: hidden values reach past every kink (shrinks at 2, Threshold at 1) so each layer learns.
    x, target = torch.randn(5, 6, generator=g, dtype=torch.float64) * 4, torch.randn(5, 4, generator=g, dtype=torch.float64)
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
        assert not torch.equal(single[0].weight, mlp(make())[0].weight), f"{name}: training never moved"


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
