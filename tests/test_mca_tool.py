"""tools/mca.py's reading of machine code (no perf or llvm-mca needed here):
which range is the inner loop, how many elements one iteration handles, and
how a call inside the loop is replaced by the called function's body."""
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import mca  # noqa: E402
from mca import Instruction  # noqa: E402


def code(lines, start=0x1000):
    """Instructions 4 bytes apart from `start`."""
    return [Instruction(start + 4 * i, text) for i, text in enumerate(lines)]


# Two nested loops: the outer one from 0x1000, the inner one from 0x1008.
NESTED = code([
    "mov    %rdi,%rax",
    "xor    %ecx,%ecx",
    "vmovups (%rsi,%rcx,4),%zmm0",        # 0x1008: inner loop
    "vmulps %zmm1,%zmm0,%zmm0",
    "vmovups %zmm0,(%rdx,%rcx,4)",
    "add    $0x10,%rcx",
    "cmp    %r8,%rcx",
    "jne    1008 <kernel+0x8>",            # 0x101c
    "add    $0x1,%rax",
    "jne    1000 <kernel>",                # 0x1024
])


def test_the_smallest_loop_holding_most_samples_is_the_inner_loop():
    hits = Counter({0x100c: 40, 0x1010: 30, 0x1020: 5})
    assert mca.inner_loop(NESTED, hits) == (0x1008, 0x101c)
    # Samples mostly outside the inner loop: the outer one holds them.
    assert mca.inner_loop(NESTED, Counter({0x1020: 50, 0x100c: 10})) == (0x1000, 0x1024)


def test_elements_per_iteration_from_vector_stores():
    body = [i for i in NESTED if 0x1008 <= i.address < 0x101c]
    assert mca.elements_per_iteration(body) == 16  # one zmm store of floats
    two = code(["vmovups %ymm0,(%rdx)", "vmovups %ymm1,0x20(%rdx)", "vmovaps %ymm2,-0x40(%rsp)"])
    assert mca.elements_per_iteration(two) == 16  # 2 ymm stores; the spill to the stack does not count
    scalar = code(["vmovss 0x0(%r13),%xmm0", "vmovss %xmm0,(%r15)"])
    assert mca.elements_per_iteration(scalar) == 1


def test_a_reduction_counts_its_loads_per_stream():
    body = code(["vaddps (%rsi,%rax,4),%zmm0,%zmm0", "vaddps 0x40(%rsi,%rax,4),%zmm1,%zmm1",
                 "add    $0x20,%rax"])
    assert mca.elements_per_iteration(body) == 32  # two zmm loads of floats from one stream


def test_unsampled_blocks_inside_a_loop_are_left_out():
    body = code([
        "vmovups (%rsi),%zmm0",
        "kortestw %k1,%k1",
        "jne    1014 <f+0x14>",                # skips the rare path
        "vmulps %zmm0,%zmm0,%zmm0",           # 0x100c: rare, never sampled
        "vaddps %zmm0,%zmm0,%zmm0",
        "vmovups %zmm0,(%rdx)",               # 0x1014
    ])
    kept = mca.sampled_blocks(body, Counter({0x1004: 3, 0x1018: 2}))
    assert [i.address for i in kept] == [0x1000, 0x1004, 0x1008, 0x1014]


def test_calls_through_the_plt_reach_the_sampled_function():
    assert mca.callee_name(Instruction(0, "call   10076a0 <Sleef_expf16_u10@plt>")) == "Sleef_expf16_u10"
    assert mca.calls("Sleef_expf16_u10", "Sleef_finz_expf16_u10avx512f")
    assert not mca.calls("Sleef_expf16_u10", "Sleef_finz_tanhf16_u10avx512f")
    assert mca.callee_name(Instruction(0, "call   *%r14")) is None
    assert mca.straight_line(code(["vaddps %zmm0,%zmm0,%zmm0", "ret", "nop"]))[-1].text.startswith("vaddps")
