"""What CPU a figure was measured on: model, vendor, microarchitecture (from
cpuid's family and model, where known), the vector ISA flags that decide
which kernels run, and the kernel builds torch and torch_act picked.

    python benchmarks/cpu_info.py

Speed differs between CPU families (AMD Zen with AVX2 or AVX-512, Intel with
AVX-512): every benchmark result names the CPU it came from.
"""
import platform
from pathlib import Path

# (vendor, family, model range) -> microarchitecture, for the server CPUs users train on.
MICROARCHITECTURES = [
    ("AuthenticAMD", 23, range(0x00, 0x30), "Zen / Zen+"),
    ("AuthenticAMD", 23, range(0x30, 0x100), "Zen 2"),
    ("AuthenticAMD", 25, range(0x00, 0x10), "Zen 3"),
    ("AuthenticAMD", 25, range(0x10, 0x20), "Zen 4"),
    ("AuthenticAMD", 25, range(0x20, 0x60), "Zen 3"),
    ("AuthenticAMD", 25, range(0x60, 0x80), "Zen 4"),
    ("AuthenticAMD", 25, range(0xA0, 0xB0), "Zen 4c"),
    ("AuthenticAMD", 26, range(0x00, 0x100), "Zen 5"),
    ("GenuineIntel", 6, range(0x55, 0x56), "Skylake-SP / Cascade Lake"),
    ("GenuineIntel", 6, range(0x6A, 0x6B), "Ice Lake-SP"),
    ("GenuineIntel", 6, range(0x8F, 0x90), "Sapphire Rapids"),
    ("GenuineIntel", 6, range(0xCF, 0xD0), "Emerald Rapids"),
    ("GenuineIntel", 6, range(0xAD, 0xAE), "Granite Rapids"),
]
ISA_FLAGS = ["avx", "avx2", "fma", "f16c", "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_bf16",
             "avx512_fp16", "amx_tile"]


def cpuinfo():
    """The first processor's fields of /proc/cpuinfo ({} where there is none)."""
    fields = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if not line.strip():
                break
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
    except OSError:
        pass
    return fields


def describe():
    """A dict: model, vendor, family, model_number, microarchitecture, isa (flags present), isa_family."""
    info = cpuinfo()
    vendor = info.get("vendor_id", "unknown")
    family = int(info.get("cpu family", "-1"))
    model = int(info.get("model", "-1"))
    uarch = next((name for v, f, models, name in MICROARCHITECTURES if v == vendor and f == family and model in models),
                 None)
    flags = set(info.get("flags", "").split())
    isa = [f for f in ISA_FLAGS if f in flags]
    return dict(model=info.get("model name", platform.processor() or "unknown CPU"), vendor=vendor, family=family,
                model_number=model, microarchitecture=uarch, isa=isa,
                isa_family="AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2")


def kernel_builds():
    """Which kernel build torch and torch_act run in this process (their environment switches apply)."""
    import torch

    import torch_act  # noqa: F401

    return torch.backends.cpu.get_cpu_capability(), torch.ops.torch_act.cpu_capability()


def summary(with_kernels=True):
    """One line: 'AMD EPYC (AuthenticAMD, family 25 model 17: Zen 4; AVX-512: avx ... )' and the builds."""
    d = describe()
    uarch = f": {d['microarchitecture']}" if d["microarchitecture"] else ""
    line = (f"{d['model']} ({d['vendor']}, family {d['family']} model {d['model_number']}{uarch}; "
            f"{d['isa_family']}: {' '.join(d['isa'])})")
    if with_kernels:
        aten, ours = kernel_builds()
        line += f"; kernel builds: torch {aten}, torch_act {ours}"
    return line


if __name__ == "__main__":
    print(summary())
