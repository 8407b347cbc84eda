"""The library uses the process's one shared libstdc++, nothing else.

A copy of libstdc++ code beside the shared one breaks std::ostream: on the
lent GPU machine (torch 2.11, a g++ that linked libstdc++ statically) a
TORCH_CHECK streaming a number crashed inside the copy's
ostream::_M_insert<long>, whose locale facet ids index other facets than the
process's locale holds. torch's libc10.so also exports weak copies of
libstdc++ template code. setup.py links the shared libstdc++ by file name
before torch's libraries, and torch_act's import makes it global before
loading the library (docs/ARCHITECTURE.md, "Linking to libstdc++"). These
tests load the library as Python does, every symbol bound at once
(LD_BIND_NOW), and read the dynamic linker's own record of where each
reference went, and the library's symbol table.
"""
import os
import re
import subprocess
import sys

import pytest

import torch_act

LIBRARY = os.path.realpath(torch_act._library.library_path())
BINDING = re.compile(r"binding file (\S+) \[\d+\] to (\S+) \[\d+\]: normal symbol `([^']+)'")


def bindings():
    """(target library, symbol) for every reference of libtorch_act.so."""
    env = dict(os.environ, LD_DEBUG="bindings", LD_BIND_NOW="1")
    done = subprocess.run([sys.executable, "-c", "import torch_act"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    found = [(os.path.realpath(to), symbol) for source, to, symbol in BINDING.findall(done.stderr)
             if os.path.realpath(source) == LIBRARY]
    assert found, "the dynamic linker reported no bindings of libtorch_act.so (LD_DEBUG unsupported?)"
    return found


def defined_symbols(library):
    out = subprocess.run(["nm", "-D", "--defined-only", library], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF dynamic linking (glibc's LD_DEBUG)")
def test_standard_library_references_bind_to_libstdcxx():
    found = bindings()
    libstdcxx = {to for to, _ in found if os.path.basename(to).startswith("libstdc++.so")}
    assert len(libstdcxx) == 1, f"expected libtorch_act.so to bind to one libstdc++, got {libstdcxx}"
    provided = defined_symbols(libstdcxx.pop())
    # Copies the library holds itself count too: its own copy of libstdc++
    # code or data next to libstdc++'s is what broke the stream.
    # Under `make sanitize` the preloaded sanitizer runtime takes operator new/delete and
    # __cxa_throw for itself: that interposition is what preloading it is for.
    preloaded = {os.path.realpath(p) for p in os.environ.get("LD_PRELOAD", "").replace(":", " ").split()}
    elsewhere = sorted({f"{symbol} -> {to}" for to, symbol in found
                        if symbol in provided and not os.path.basename(to).startswith("libstdc++.so")
                        and to not in preloaded})
    assert not elsewhere, "libstdc++ symbols bound to another library:\n" + "\n".join(elsewhere)


def test_libstdcxx_is_linked_not_copied():
    """The shared libstdc++ is a dependency, and none of it is copied in: a
    copy (a compiler that links libstdc++ statically) brings its own
    std::locale facet ids, which index another facet than the process's
    locale holds (the crash inside std::ostream::_M_insert<long>)."""
    needed = subprocess.run(["readelf", "-d", LIBRARY], capture_output=True, text=True, check=True).stdout
    assert "[libstdc++.so.6]" in needed
    copied = sorted(s for s in defined_symbols(LIBRARY)
                    if s.startswith("_ZNSt6locale") or re.fullmatch(r"_ZN(St|St7__cxx11)\d+\w+2idE", s))
    assert not copied, "libstdc++ copied into the library: " + ", ".join(copied[:10])
