"""DistributedDataParallel over 2 processes (gloo, localhost) trains a model
holding PReLU exactly like one process on the whole batch."""
import gc
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

import torch_act

STEPS = 5


def make_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 12), torch_act.PReLU(12), nn.Linear(12, 12),
                         torch_act.LeakyReLU(0.1), nn.Linear(12, 1))


def data():
    g = torch.Generator().manual_seed(1)
    return torch.randn(16, 6, generator=g), torch.randn(16, 1, generator=g)


def train(model, x, y):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(STEPS):
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()


def worker(rank, world_size, port, out_dir):
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        model = nn.parallel.DistributedDataParallel(make_model())
        x, y = data()
        shard = slice(rank * len(x) // world_size, (rank + 1) * len(x) // world_size)
        train(model, x[shard], y[shard])  # DDP averages gradients: the full batch's mean loss
        torch.save(model.module[1].alpha.detach(), os.path.join(out_dir, f"alpha{rank}.pt"))
        # DDP's reducer goes first, while the process group still has its
        # Python owner. Freed last, the reducer destroys the group itself,
        # holding the GIL, and joins gloo's run loop thread, which may still be
        # freeing its last work and wait for the GIL: a deadlock in torch's
        # teardown (a blocking destructor bound without releasing the GIL,
        # pytorch/pytorch#56297), seen twice on this 2-core VM (gdb:
        # ~Reducer -> ~ProcessGroupGloo -> thread::join; the run loop in
        # ~AsyncAllreduceWork -> gil_scoped_acquire).
        del model
        gc.collect()
    finally:
        dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_two_processes_match_single_process(tmp_path):
    mp.spawn(worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    alphas = [torch.load(tmp_path / f"alpha{r}.pt") for r in range(2)]
    assert torch.equal(alphas[0], alphas[1]), "ranks disagree"
    single = make_model()
    train(single, *data())
    start = make_model()[1].alpha.detach()
    assert not torch.equal(single[1].alpha.detach(), start), "alpha never moved"
    torch.testing.assert_close(alphas[0], single[1].alpha.detach())
