"""Concurrent use: 8 Python threads run forward + backward of every
activation on different shapes at once, each op also splitting its work over
intra-op threads, and every result equals the serial one bit for bit; then
the same with each call made under a different torch.set_num_threads."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from torch_act import ACTIVATIONS

from helpers import all_variants

VARIANTS = all_variants()

# Large enough to be split across intra-op threads (the parallel grain is
# 32768 elements) and across PReLU's reduction chunks; shapes differ per job.
SHAPES = [(4, 16, 4096), (3, 7, 20001), (2, 64, 33, 17)]
JOBS = [(name, kwargs, shape, seed) for seed, (name, kwargs) in enumerate(VARIANTS)
        for shape in SHAPES]


def forward_backward(name, kwargs, shape, seed, threads=None):
    if threads is not None:
        torch.set_num_threads(threads)  # OpenMP keeps it per calling thread
    entry = ACTIVATIONS[name]
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(shape, generator=g) * 3).requires_grad_()
    inputs = [x]
    if entry.parameter:
        inputs.append((torch.rand(shape[1], generator=g) - 0.3).requires_grad_())
    y = entry.function(*inputs, **kwargs)
    grad = torch.randn(shape, generator=g)
    return [y.detach(), *torch.autograd.grad(y, inputs, grad)]


def assert_bitwise(results, expected):
    for job, got, want in zip(JOBS, results, expected):
        for a, b in zip(got, want):
            assert torch.equal(a, b), f"{job[:3]}: differs from the serial run"


@pytest.fixture(scope="module")
def serial():
    return [forward_backward(*job) for job in JOBS]


def test_eight_threads_at_once_equal_serial(serial):
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            assert_bitwise(list(pool.map(lambda job: forward_backward(*job), JOBS)), serial)


def test_thread_counts_changing_between_calls_equal_serial(serial):
    before = torch.get_num_threads()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda ij: forward_backward(*ij[1], threads=1 + ij[0] % 3), enumerate(JOBS)))
        assert_bitwise(results, serial)
        results = [forward_backward(*job, threads=1 + i % 3) for i, job in enumerate(JOBS)]
        assert_bitwise(results, serial)
    finally:
        torch.set_num_threads(before)
