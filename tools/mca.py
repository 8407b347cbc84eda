"""Predicted cycles per element of every activation's inner loops, torch_act's
and the ATen loops they replace (for the gated ones, the loops of the
composite, e.g. F.silu(gate) * up), on CPUs this machine may not be: llvm-mca's
models of AMD Zen 3 (AVX2), Zen 4 and Intel Sapphire Rapids (AVX-512).

    make mca                      # every activation -> benchmarks/MCA.md
    python tools/mca.py --activations sigmoid,gelu --builds avx512

How a loop is found, the same way for both contenders: a child process runs
one op (forward, or backward through autograd) on 256K float32 elements in
one thread with a kernel build forced (TORCH_ACT_CPU_CAPABILITY and
ATEN_CPU_CAPABILITY), under `perf record -e cpu-clock`. The hottest functions
of torch_act's or torch's libraries are disassembled (objdump); in each, the
smallest loop (a backward branch) holding most of its samples is the inner
loop, without its closing branch, with the body of any hot function it calls
put in place of the call (ATen calls Sleef's exp out of line). Basic blocks of
the loop that no sample landed in (a rare path inside the loop's range) are
left out. Elements per iteration come from the loop's vector stores to the
output (or, in a reduction, its loads). llvm-mca then predicts cycles per
iteration on each CPU model. An op whose work is spread over several loops
(PReLU's backward: the gradient pass and the per-channel sum) is the sum of
its loops.

This is a model, not a clock: it ignores memory (the data are in L2 here) and
the costs outside the loop. It judges a CPU family nobody has at hand; the
benchmarks (benchmarks/bench.py) judge the one you run on.
"""
import argparse
import bisect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = {"avx2": ["znver3"], "avx512": ["znver4", "sapphirerapids"]}
ALL_MODELS = ["znver3", "znver4", "sapphirerapids"]
ELEMENTS = 262_144
SECONDS = 1.5

# The child: spins one op so that its loops are where the samples land.
CHILD = r"""
import sys, time, torch, torch_act
from torch_act import ACTIVATIONS, GATED
name, kwargs, contender, direction, seconds = sys.argv[1], eval(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
torch.set_num_threads(1)
g = torch.Generator().manual_seed(0)
x = (torch.randn(int(sys.argv[6]), generator=g) * 3).requires_grad_(direction == "backward")
if name in GATED:  # (gate, up); torch.nn's side is the composite people write
    entry = GATED[name]
    fn = entry.function if contender == "torch_act" else entry.composite
    args = [x, torch.randn(x.shape, generator=g).requires_grad_(direction == "backward")]
else:
    entry = ACTIVATIONS[name]
    fn = entry.function if contender == "torch_act" else entry.torch_function
    args = [x] + ([torch.full((1,), 0.25, requires_grad=direction == "backward")] if entry.parameter else [])
grad = torch.randn(x.shape, generator=g)
if direction == "backward":
    y = fn(*args, **kwargs)
    step = lambda: torch.autograd.grad(y, args, grad, retain_graph=True)
else:
    step = lambda: fn(*args, **kwargs)
with torch.no_grad() if direction == "forward" else torch.enable_grad():
    for _ in range(20):
        step()
    end = time.time() + seconds
    while time.time() < end:
        for _ in range(20):
            step()
"""

LIBRARIES = ("libtorch_act.so", "libtorch_cpu.so", "libmkl", "libsleef")
# oneDNN (torch's GELU) picks its own ISA: held to the build's.
ONEDNN_ISA = {"avx2": "AVX2", "avx512": "AVX512_CORE"}


@dataclass
class Instruction:
    address: int
    text: str  # AT&T, as objdump prints it, without comments

    @property
    def mnemonic(self):
        return self.text.split()[0] if self.text else ""


@dataclass
class Loop:
    symbol: str
    body: list  # of Instruction, the closing branch left out
    elements: float  # per iteration
    share: float  # of the case's samples in the loop (callees included)
    cycles: dict = field(default_factory=dict)  # model -> cycles per iteration


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


class Library:
    """Symbols (mangled name -> address, size) and disassembly of one shared library."""

    _cache = {}

    def __init__(self, path):
        self.path = path
        self.symbols = {}
        for line in run(["nm", "-S", "--defined-only", path]).splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[2].lower() in ("t", "w"):
                self.symbols.setdefault(parts[3], (int(parts[0], 16), int(parts[1], 16)))

    @classmethod
    def get(cls, path):
        if path not in cls._cache:
            cls._cache[path] = cls(path)
        return cls._cache[path]

    def disassemble(self, symbol):
        start, size = self.symbols[symbol]
        out = run(["objdump", "-d", "-w", "--no-show-raw-insn",
                   f"--start-address={start}", f"--stop-address={start + size}", self.path])
        code = []
        for line in out.splitlines():
            m = re.match(r"\s*([0-9a-f]+):\s+(.*)$", line)
            if m and m.group(2).strip() and not m.group(2).startswith("("):
                code.append(Instruction(int(m.group(1), 16), m.group(2).split("#")[0].strip()))
        return code


def sample(name, kwargs, contender, direction, build, tmp):
    """({(library path, mangled symbol): [offsets of samples]}, share of samples
    in JIT-compiled code, the JIT code dumped) of a spinning child."""
    data = Path(tmp) / "perf.data"
    jit_dir = Path(tmp) / "jit"
    shutil.rmtree(jit_dir, ignore_errors=True)
    jit_dir.mkdir()
    env = dict(os.environ, TORCH_ACT_CPU_CAPABILITY=build, ATEN_CPU_CAPABILITY=build, OMP_NUM_THREADS="1",
               ONEDNN_MAX_CPU_ISA=ONEDNN_ISA[build], ONEDNN_JIT_DUMP="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "4000", "-o", str(data), sys.executable, "-c", CHILD,
         name, repr(kwargs), contender, direction, str(SECONDS), str(ELEMENTS)], env=env, cwd=jit_dir)
    script = run(["perf", "script", "-i", str(data), "-F", "ip,sym,symoff,dso", "--no-demangle"])
    samples, jit = defaultdict(list), 0
    for line in script.splitlines():
        m = re.match(r"\s*[0-9a-f]+\s+(\S+)\+0x([0-9a-f]+)\s+\((.*)\)\s*$", line)
        if m and any(lib in m.group(3) for lib in LIBRARIES):
            samples[(m.group(3), m.group(1))].append(int(m.group(2), 16))
        elif "[unknown]" in line and "(/tmp/perf-" in line:  # code oneDNN generated at run time
            jit += 1
    total = jit + sum(len(v) for v in samples.values())
    dumps = sorted(p for p in jit_dir.glob("dnnl_dump_*.bin") if "reorder" not in p.name)
    return samples, (jit / total if total else 0.0), dumps


def branch_target(ins):
    """Where a direct jump goes; None for indirect jumps and other instructions."""
    m = re.match(r"j\w*\s+(?:0x)?([0-9a-f]+)\s", ins.text + " ")
    return int(m.group(1), 16) if m else None


def callee_name(ins):
    """The function a direct call calls (through the PLT or not), or None."""
    m = re.match(r"call\w*\s+[0-9a-f]+\s+<([^>+@]+)(@plt)?>", ins.text)
    return m.group(1) if m else None


def inner_loop(code, hits):
    """The smallest [target, branch) range closed by a backward branch that
    holds at least half of the samples `hits` (addresses)."""
    best = None
    total = sum(hits.values())
    for ins in code:
        target = branch_target(ins)
        if target is None or target > ins.address or target < code[0].address:
            continue
        inside = sum(c for a, c in hits.items() if target <= a <= ins.address)
        if inside >= total / 2 and (best is None or ins.address - target < best[1] - best[0]):
            best = (target, ins.address)
    return best


def sampled_blocks(body, hits):
    """The body without the basic blocks no sample landed in (a rare path
    inside the loop's range); a block starts at a branch target or after a
    branch. A sample is often taken on the instruction after the one that ran
    (skid): it counts for that instruction's block and the one before."""
    starts = {body[0].address}
    for i, ins in enumerate(body):
        if ins.mnemonic.startswith("j"):
            t = branch_target(ins)
            if t is not None:
                starts.add(t)
            if i + 1 < len(body):
                starts.add(body[i + 1].address)
    block_of, block = [], -1
    for ins in body:
        block += ins.address in starts
        block_of.append(block)
    addresses = [ins.address for ins in body]
    sampled = set()
    for a in hits:
        i = bisect.bisect_right(addresses, a) - 1
        if i >= 0 and a <= addresses[-1] + 16:
            # On an instruction: it, or the one before it, ran. Past the last: the last ran.
            sampled.update(block_of[j] for j in ((i, i - 1) if a == addresses[i] else (i,)) if j >= 0)
    return [ins for ins, b in zip(body, block_of) if b in sampled]


def straight_line(code):
    """A called function's instructions from its entry to its first return."""
    out = []
    for ins in code:
        if ins.mnemonic.startswith("ret"):
            break
        out.append(ins)
    return out


VECTOR_BYTES = {"xmm": 16, "ymm": 32, "zmm": 64}
SCALAR_MOVES = {"vmovss": 4, "movss": 4, "vmovsd": 8, "movsd": 8, "vmovd": 4, "vmovq": 8}


def memory_bytes(ins, store):
    """Bytes a move (or load-op) moves to (store) or from memory, 0 if none."""
    ops = ins.text.split(None, 1)[1] if " " in ins.text else ""
    parts = re.split(r",(?![^(]*\))", ops)
    if not parts or not any("(" in p for p in parts):
        return 0
    mem_last = "(" in parts[-1]
    if store != mem_last or (store and not ins.mnemonic.startswith(("vmov", "mov"))):
        return 0
    if not store and ins.mnemonic.startswith(("lea", "nop", "prefetch")):
        return 0
    if ins.mnemonic in SCALAR_MOVES:
        return SCALAR_MOVES[ins.mnemonic]
    regs = re.findall(r"%([xyz]mm)\d+", ops)
    if not regs:
        return 0
    if ins.mnemonic.startswith(("vcvtph2ps", "vpmovzx", "vcvtps2pd")) and not store:
        return VECTOR_BYTES[regs[-1]] // 2
    return VECTOR_BYTES[regs[0] if store else regs[-1]]


def elements_per_iteration(body):
    """Output elements per iteration: vector bytes stored outside the stack
    over 4 (float32); a loop that stores nothing counts its loads instead,
    over the number of memory streams it reads."""
    stored = sum(memory_bytes(i, True) for i in body if not re.search(r"\(%r[sb]p", i.text))
    if stored:
        return stored / 4
    streams = set()
    loaded = 0
    for i in body:
        b = memory_bytes(i, False)
        if b and "(%rip)" not in i.text:
            loaded += b
            streams.add(re.search(r"\(([^)]*)\)", i.text).group(1))
    return loaded / 4 / max(1, len(streams))


def calls(callee, function):
    """Whether a call to `callee` runs `function`: the same name, or a hot
    function whose name holds every part of it (a call through the PLT to
    Sleef_expf16_u10, a dispatcher, runs Sleef_finz_expf16_u10avx512f)."""
    return callee == function or all(part in function for part in callee.split("_") if part)


def loops_of(samples):
    """The inner loops of a case, hottest first, with the hot functions they call spliced in."""
    total = sum(len(v) for v in samples.values())
    # A loop may hold few samples itself and call a hot function (one not inlined).
    hot = {k: v for k, v in samples.items() if len(v) >= 0.005 * total}
    found = {}  # (path, symbol) -> (code, hits, span)
    for (path, symbol), offsets in hot.items():
        lib = Library.get(path)
        if symbol in lib.symbols:
            start = lib.symbols[symbol][0]
            code = lib.disassemble(symbol)
            hits = Counter(start + o for o in offsets)
            found[(path, symbol)] = (code, hits, inner_loop(code, hits))
    leaves = [k for k, (_, _, span) in found.items() if span is None]
    # An indirect call (a function pointer: ATen passes its vector lambda so)
    # runs the hottest leaf no other leaf calls by name.
    called = {leaf for caller in leaves for ins in found[caller][0] if callee_name(ins)
              for leaf in leaves if leaf[0] == caller[0] and calls(callee_name(ins), leaf[1])}
    roots = sorted((k for k in leaves if k not in called), key=lambda k: -len(hot[k]))
    loops = []
    for (path, symbol), (code, hits, span) in sorted(found.items(), key=lambda kv: -len(hot[kv[0]])):
        if span is None:
            continue
        body = sampled_blocks([i for i in code if span[0] <= i.address < span[1]], hits)
        share = sum(c for a, c in hits.items() if span[0] <= a <= span[1])
        spliced = set()

        def expand(code, depth=0):
            """The instructions, with each call to a hot leaf function replaced by its body (recursively)."""
            out = []
            for ins in code:
                callee = callee_name(ins)
                if callee:
                    leaf = next((k for k in leaves if k[0] == path and calls(callee, k[1])), None)
                elif ins.mnemonic.startswith("call") and "*" in ins.text and roots:
                    leaf = roots[0]
                else:
                    leaf = None
                if leaf is not None and depth < 4:
                    spliced.add(leaf)
                    out += expand(straight_line(found[leaf][0]), depth + 1)
                elif not ins.mnemonic.startswith(("call", "nop")):
                    out.append(ins)
            return out

        expanded = expand(body)
        share += sum(len(hot[k]) for k in spliced)
        if share >= 0.1 * total:
            loops.append(Loop(symbol, expanded, elements_per_iteration(expanded), share / total))
    return loops


def jit_loops(dumps, share):
    """The main loop of each kernel oneDNN generated (ONEDNN_JIT_DUMP): no
    symbols or sample addresses reach its code, so the loop with the most
    vector instructions that stores to memory stands for it."""
    loops = []
    for dump in dumps:
        out = run(["objdump", "-D", "-w", "-b", "binary", "-m", "i386:x86-64", "--no-show-raw-insn", str(dump)])
        code = [Instruction(int(m.group(1), 16), m.group(2).split("#")[0].strip())
                for m in (re.match(r"\s*([0-9a-f]+):\s+(.*)$", line) for line in out.splitlines()) if m]
        best = None
        for ins in code:
            target = branch_target(ins)
            if target is None or target > ins.address:
                continue
            body = [i for i in code if target <= i.address < ins.address]
            vector = sum("mm" in i.text for i in body)
            if elements_per_iteration(body) and (best is None or vector > best[0]):
                best = (vector, body)
        if best:
            loops.append(Loop(f"oneDNN JIT kernel ({dump.name})", best[1], elements_per_iteration(best[1]),
                              share / len(dumps)))
    return loops


def mca_cycles(body, model):
    """llvm-mca's cycles per iteration of `body` (its steady state over 200
    iterations), or None where the model has not the loop's instructions: on
    an Intel machine MKL runs its AVX-512 code (ATen's tanh) whatever kernel
    build torch was told to use, and Zen 3 has no AVX-512."""
    asm = "\n".join(i.text for i in body if not i.mnemonic.startswith(("j", "call", "ret", "nop", "cs", "ds")))
    try:
        out = run(["llvm-mca-16", f"-mcpu={model}", "-iterations=200", "-json"], input=asm + "\n")
    except subprocess.CalledProcessError as e:
        first = next((line for line in e.stderr.splitlines() if "error" in line), e.stderr.strip()[:200])
        print(f"llvm-mca -mcpu={model} refused a loop: {first}", file=sys.stderr)
        return None
    report = json.loads(out)
    summary = report["CodeRegions"][0]["SummaryView"]
    return summary["TotalCycles"] / summary["Iterations"]


def cases(names):
    from torch_act import ACTIVATIONS, GATED

    for name in names or [*ACTIVATIONS, *GATED]:
        # Default arguments, plus every variant that picks another formula (GELU's approximate).
        for kwargs in (GATED[name] if name in GATED else ACTIVATIONS[name]).variants:
            if not kwargs or any(isinstance(v, str) for v in kwargs.values()):
                yield name, kwargs


def gated_names():
    from torch_act import GATED

    return set(GATED)


def label(name, kwargs):
    return name + "".join(f"({v})" for v in kwargs.values())


def measure(names, builds, contenders, progress=True):
    rows = []
    todo = [(n, kw, d, b, c) for n, kw in cases(names) for d in ("forward", "backward") for b in builds
            for c in contenders]
    try:
        from tqdm import tqdm
        todo = tqdm(todo, unit="loop", disable=not progress)
    except ImportError:
        pass
    with tempfile.TemporaryDirectory() as tmp:
        for name, kwargs, direction, build, contender in todo:
            samples, jit_share, dumps = sample(name, kwargs, contender, direction, build, tmp)
            loops = loops_of(samples)
            if jit_share >= 0.1 and dumps:
                loops += jit_loops(dumps, jit_share)
            # torch_act's gated backward writes both gradients in one loop: two
            # stores per element (the composite's loops write one each).
            outputs = 2 if name in gated_names() and direction == "backward" and contender == "torch_act" else 1
            per_element = {}
            for model in MODELS[build]:
                if loops and all(lp.elements for lp in loops):
                    cycles = [mca_cycles(lp.body, model) for lp in loops]
                    if None not in cycles:
                        per_element[model] = sum(c * outputs / lp.elements for c, lp in zip(cycles, loops))
            rows.append(dict(activation=label(name, kwargs), direction=direction, build=build,
                             contender=contender, per_element=per_element,
                             loops=[(lp.symbol, lp.elements, lp.share, len(lp.body)) for lp in loops]))
    return rows


def table(rows):
    models = [m for m in ALL_MODELS if any(m in r["per_element"] for r in rows)]
    head = "| activation | direction | build | " + " | ".join(
        f"{m} torch_act | {m} ATen | {m} ratio" for m in models) + " |"
    lines = [head, "|" + "---|" * (3 + 3 * len(models))]
    keyed = {(r["activation"], r["direction"], r["build"], r["contender"]): r for r in rows}
    worse = []
    for (act, direction, build, contender), r in keyed.items():
        if contender != "torch_act":
            continue
        aten = keyed.get((act, direction, build, "torch.nn"), {"per_element": {}})
        cells = []
        for m in models:
            ours, theirs = r["per_element"].get(m), aten["per_element"].get(m)
            if ours is None:
                cells += ["—", "—", "—"]
                continue
            ratio = ours / theirs if theirs else None
            if ratio is not None and ratio > 1:
                worse.append(f"{act} {direction} {build} on {m}: {ours:.2f} vs {theirs:.2f} cycles per element")
            cells += [f"{ours:.2f}", f"{theirs:.2f}" if theirs else "?",
                      f"**{ratio:.2f}**" if ratio is not None else "?"]
        lines.append(f"| {act} | {direction} | {build} | " + " | ".join(cells) + " |")
    return "\n".join(lines), worse


def loops_table(rows):
    lines = ["| activation | direction | build | contender | loop (function) | elements/iteration | share of samples | instructions |",
             "|" + "---|" * 8]
    for r in rows:
        for symbol, elements, share, n in r["loops"]:
            short = run(["c++filt"], input=symbol).strip()
            short = (short[:90] + "…") if len(short) > 90 else short
            lines.append(f"| {r['activation']} | {r['direction']} | {r['build']} | {r['contender']} | `{short}` "
                         f"| {elements:g} | {100 * share:.0f}% | {n} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activations", help="comma-separated subset (default: all)")
    parser.add_argument("--builds", default="avx2,avx512", help="kernel builds: avx2,avx512")
    parser.add_argument("--contenders", default="torch_act,torch.nn", help="torch_act,torch.nn")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "MCA.md"))
    args = parser.parse_args()
    for tool in ("perf", "llvm-mca-16", "objdump", "nm"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} not found (apt-get install linux-perf llvm-16 binutils)")
    sys.path.insert(0, str(ROOT))
    import platform

    import torch

    names = args.activations.split(",") if args.activations else None
    builds = args.builds.split(",")
    for b in builds:
        if b not in MODELS:
            parser.error(f"--builds: unknown build {b!r}; choose from {', '.join(MODELS)}")
    rows = measure(names, builds, args.contenders.split(","))
    text, worse = table(rows)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    report = (
        "# Predicted cycles per element (llvm-mca)\n\n"
        f"Loops sampled on: {cpu}; torch {torch.__version__}; `python tools/mca.py {' '.join(sys.argv[1:])}` "
        "(`make mca`). Cycles per float32 element of each op's inner loop(s), llvm-mca 16's steady state, "
        "for torch_act's and ATen's loop in the same kernel build; ratio = torch_act / ATen (below 1: "
        "torch_act's loop is cheaper). The AVX2 build is modelled on Zen 3, the AVX-512 build on Zen 4 and "
        "Sapphire Rapids. How loops are found: tools/mca.py's docstring.\n\n"
        + text + "\n\n"
        + ("## Rows where torch_act's loop is predicted slower\n\n" + "\n".join(f"- {w}" for w in worse)
           if worse else "No row where torch_act's loop is predicted slower than ATen's.") + "\n\n"
        "## The loops\n\n" + loops_table(rows) + "\n")
    Path(args.out).write_text(report)
    print(text)
    if worse:
        print("\npredicted slower than ATen:\n" + "\n".join(worse))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
