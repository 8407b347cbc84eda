"""Nothing torch_act allocates outlives its use.

Each activation runs forward and backward (and double backward, where the
saved state and the autograd nodes could hold each other in a cycle) fifty
times after ten to settle; the bytes the process holds from malloc must not
grow. A tensor kept per call would grow them by 100 KB a call here, 5 MB in
all, so the bound (2 MB over 50 calls) leaves room for allocator noise and
nothing else.

The count comes from the C library (glibc's mallinfo2), or from
AddressSanitizer's own when `make sanitize` preloads it (it replaces malloc,
and mallinfo2 then reads zero). LeakSanitizer is not used in the Python
process: the interpreter never frees its heap at exit, so it reports
thousands of blocks that are not leaks, and it calls a reference cycle
"indirect" (Makefile, `sanitize`). This test sees cycles as growth.
"""
import ctypes
import gc

import pytest
import torch

from helpers import all_variants, variant_id
from torch_act import ACTIVATIONS

ITERATIONS = 50
BOUND_BYTES = 2 << 20
SHAPE = (4, 8, 800)  # 25,600 float32 elements: 100 KB a tensor (a leak of one a call: 5 MB)


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


def allocated_bytes_counter():
    process = ctypes.CDLL(None)
    if hasattr(process, "__sanitizer_get_current_allocated_bytes"):
        counter = process.__sanitizer_get_current_allocated_bytes
        counter.restype = ctypes.c_size_t
        return counter
    if hasattr(process, "mallinfo2"):
        process.mallinfo2.restype = _Mallinfo2

        def counter():
            info = process.mallinfo2()
            return info.uordblks + info.hblkhd  # in use in the arenas + mmap'd blocks
        return counter
    return None


COUNTER = allocated_bytes_counter()


def held_after(step, iterations):
    for _ in range(iterations):
        step()
    gc.collect()
    return COUNTER()


@pytest.mark.skipif(COUNTER is None, reason="needs glibc's mallinfo2 or a sanitizer runtime to count allocations")
@pytest.mark.parametrize("create_graph", [False, True], ids=["backward", "double_backward"])
@pytest.mark.parametrize("name,kwargs", all_variants(), ids=[variant_id(n, k) for n, k in all_variants()])
def test_repeated_calls_hold_no_memory(name, kwargs, create_graph):
    entry = ACTIVATIONS[name]
    x = torch.randn(SHAPE, requires_grad=True)
    weight = torch.full((SHAPE[1],), 0.25, requires_grad=True) if entry.parameter else None
    leaves = [x] + ([weight] if weight is not None else [])
    grad = torch.randn(SHAPE, requires_grad=create_graph)  # so the gradient has a graph for every activation

    def step():
        y = entry.function(x, weight, **kwargs) if weight is not None else entry.function(x * 1.0, **kwargs)
        grads = torch.autograd.grad(y, leaves, grad, create_graph=create_graph)
        if create_graph:
            torch.autograd.grad(sum(g.sum() for g in grads), leaves + [grad], allow_unused=True)
        if entry.has_inplace:
            entry.function(x.detach().clone(), **kwargs, inplace=True)

    before = held_after(step, 10)  # allocator caches and lazy initialisation settle
    after = held_after(step, ITERATIONS)
    assert after - before < BOUND_BYTES, (f"{name}: {(after - before) / 2**20:.1f} MiB more held after "
                                          f"{ITERATIONS} calls (one tensor is {x.numel() * 4 / 2**20:.2f} MiB)")
