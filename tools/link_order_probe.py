"""Does a TORCH_CHECK that streams a number survive? Link order and load order.

1. Builds two one-function libraries against the installed torch with the
   system's g++: one linked as torch.utils.cpp_extension links by default
   (torch's libraries first, libstdc++ last) and one with libstdc++ first, as
   setup.py does. Each raises TORCH_CHECK errors streaming a string, an int64,
   a double and a SymInt, each in its own process (a crash ends only that
   one), and reports where the dynamic linker bound std::ostringstream's
   constructor.
2. With torch_act built: loads its library as torch.ops.load_library does,
   with and without libstdc++ made global first (what torch_act's import
   does), and raises one of its errors that streams numbers; lists the
   standard-library objects the library holds copies of, and, where it
   crashed and cuda-gdb or gdb exists, the crash's backtrace.

    python tools/link_order_probe.py
"""
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import torch
import torch.utils.cpp_extension

SOURCE = r"""
#include <c10/core/SymInt.h>
#include <c10/util/Exception.h>
#include <cstring>
extern "C" int probe(int kind, char* buf, int n) {
  try {
    switch (kind) {
      case 0: TORCH_CHECK(false, "string ", std::string("text")); break;
      case 1: TORCH_CHECK(false, "int64 ", int64_t{42}); break;
      case 2: TORCH_CHECK(false, "double ", 0.25); break;
      case 3: TORCH_CHECK(false, "SymInt ", c10::SymInt(7)); break;
    }
  } catch (const c10::Error& e) {
    std::strncpy(buf, e.what_without_backtrace(), n - 1);
  }
  return 0;
}
"""
KINDS = ["string", "int64", "double", "SymInt"]
CTOR = "_ZNSt7__cxx1119basic_ostringstreamIcSt11char_traitsIcESaIcEEC1Ev"


def call(library, kind):
    """Child process: load like an extension (after torch), raise, print the message."""
    import ctypes
    lib = ctypes.CDLL(library)
    buf = ctypes.create_string_buffer(512)
    lib.probe(kind, buf, 512)
    print(buf.value.decode())


def build(directory, name, stdcxx_first):
    torch_lib = os.path.join(os.path.dirname(torch.__file__), "lib")
    abi = f"-D_GLIBCXX_USE_CXX11_ABI={int(torch._C._GLIBCXX_USE_CXX11_ABI)}"
    src = os.path.join(directory, "probe.cpp")
    with open(src, "w") as f:
        f.write(SOURCE)
    out = os.path.join(directory, name)
    libs = ["-lstdc++", "-lc10"] if stdcxx_first else ["-lc10"]
    cmd = ["g++", "-std=c++20", "-O2", "-fPIC", "-shared", abi, src, "-o", out,
           *[f"-I{p}" for p in torch.utils.cpp_extension.include_paths()], f"-L{torch_lib}", *libs,
           f"-Wl,-rpath,{torch_lib}"]
    subprocess.run(cmd, check=True)
    return out


TORCH_ACT_LIBRARY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                 "torch_act", "lib", "libtorch_act.so")
TORCH_ACT_CHILD = """
import ctypes, sys, torch
if sys.argv[1] == "global":
    ctypes.CDLL("libstdc++.so.6", mode=ctypes.RTLD_GLOBAL)
torch.ops.load_library(sys.argv[2])
try:
    torch.ops.torch_act.prelu(torch.randn(2, 3), torch.rand(2, 2))
except RuntimeError as e:
    print(str(e).splitlines()[0])
"""


def torch_act_library():
    print(f"== {TORCH_ACT_LIBRARY}")
    out = subprocess.run(f"nm -DC --defined-only {TORCH_ACT_LIBRARY}", shell=True, capture_output=True,
                         text=True).stdout
    copies = [line.split(" ", 2)[2] for line in out.splitlines()
              if line.split(" ")[1:2] and line.split(" ")[1] in "uVvDBR" and "std::" in line
              and "cuda::std" not in line]
    print(f"   standard-library data it defines itself ({len(copies)}): {'; '.join(copies[:12])}")
    for mode in ["local", "global"]:
        cmd = [sys.executable, "-c", TORCH_ACT_CHILD, mode, TORCH_ACT_LIBRARY]
        done = subprocess.run(cmd, capture_output=True, text=True)
        result = done.stdout.strip() if done.returncode == 0 else f"CRASHED (exit {done.returncode})"
        print(f"   libstdc++ {'made global first' if mode == 'global' else 'left local     '}: {result}")
        debugger = shutil.which("cuda-gdb") or shutil.which("gdb")
        if done.returncode != 0 and debugger:
            trace = subprocess.run([debugger, "-batch", "-ex", "run", "-ex", "bt 12", "--args", *cmd],
                                   capture_output=True, text=True, timeout=180)
            print("\n".join("      " + line for line in trace.stdout.splitlines()
                            if line.startswith("#") or "signal" in line.lower())[:3000])


def main():
    if len(sys.argv) == 3:
        return call(sys.argv[1], int(sys.argv[2]))
    gxx = subprocess.run(["g++", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    print(f"torch {torch.__version__} (built with {torch.__config__.show().split('- ')[1].strip()}, "
          f"CXX11 ABI {torch._C._GLIBCXX_USE_CXX11_ABI}); system compiler: {gxx}")
    with tempfile.TemporaryDirectory() as d:
        for name, first in [("torch_first.so", False), ("stdcxx_first.so", True)]:
            lib = build(d, name, first)
            env = dict(os.environ, LD_DEBUG="bindings", LD_DEBUG_OUTPUT=os.path.join(d, "ld"))
            print(f"== {name}: libstdc++ {'before' if first else 'after'} torch's libraries")
            for kind, what in enumerate(KINDS):
                done = subprocess.run([sys.executable, __file__, lib, str(kind)], capture_output=True, text=True,
                                      env=env if kind == 1 else None)
                result = done.stdout.strip() if done.returncode == 0 else \
                    f"CRASHED (exit {done.returncode}) {done.stderr.strip()[-300:]}"
                print(f"   TORCH_CHECK streaming {what:7}: {result}")
            bound = set()
            for log in os.listdir(d):
                if log.startswith("ld."):
                    text = open(os.path.join(d, log), errors="replace").read()
                    bound |= set(re.findall(rf"binding file \S*{name} \[\d+\] to (\S+) \[\d+\]: normal symbol `{CTOR}'",
                                            text))
                    os.remove(os.path.join(d, log))
            print(f"   std::ostringstream() bound to: {', '.join(sorted(bound)) or '(not reported)'}")
    if os.path.exists(TORCH_ACT_LIBRARY):
        torch_act_library()


if __name__ == "__main__":
    main()
