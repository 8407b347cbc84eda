"""Builds torch_act's operator library (csrc/) into torch_act/lib/libtorch_act.so.

The library has no Python in it (py_limited_api, no PyInit): Python loads it
with torch.ops.load_library, and C++ programs link the same file through the
CMake package in torch_act/share/cmake (the public headers are in
torch_act/include).
Build with `pip install --no-build-isolation -e .` in an environment that
already holds torch==2.13.0 (build isolation would fetch another torch).

CUDA kernels (csrc/cuda/) are built when the installed torch has CUDA and nvcc
is found; TORCH_ACT_CUDA=0 or 1 forces them off or on. TORCH_CUDA_ARCH_LIST is
respected; by default Ampere (8.0) and Hopper (9.0) with PTX for newer GPUs.
TORCH_ACT_CUDA_EMULATION=1 makes a test build (`make cuda-emulate`): the CUDA
kernels compiled for the host emulator in csrc/cuda/emulated/ and registered
for CPU tensors in place of csrc/cpu/'s.
"""
import glob
import os

import torch
from setuptools import find_packages, setup
from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CppExtension, CUDAExtension

HERE = os.path.dirname(os.path.abspath(__file__))


def write_build_info():
    # Checked on import: a library built against one torch must not load in another.
    path = os.path.join(HERE, "torch_act", "_build_info.py")
    with open(path, "w") as f:
        f.write("# Written by setup.py at build time.\n")
        f.write(f"TORCH_VERSION = {torch.__version__!r}\n")


write_build_info()
# The library is written to torch_act/lib/, which git does not keep.
os.makedirs(os.path.join(HERE, "torch_act", "lib"), exist_ok=True)



def cuda_toolkit_problem():
    """Why the CUDA kernels cannot be built here, or None."""
    if torch.version.cuda is None:
        return f"torch {torch.__version__} has no CUDA"
    if CUDA_HOME is None:
        return "nvcc was not found (set CUDA_HOME to the CUDA toolkit)"
    # torch takes CUDA_HOME from nvcc's path when it is not set; an nvcc that
    # is a wrapper script (/usr/local/bin/nvcc here) gives /usr/local, whose
    # include/ lacks the toolkit's headers: the build would then fail deep in
    # a C++ file with "crt/host_config.h: No such file or directory".
    if not os.path.exists(os.path.join(CUDA_HOME, "include", "cuda_runtime.h")):
        return (f"CUDA_HOME={CUDA_HOME} has no include/cuda_runtime.h: set CUDA_HOME to the toolkit "
                "(the folder holding bin/nvcc and include/, e.g. /usr/local/cuda)")
    return None


def build_cuda():
    wanted = os.environ.get("TORCH_ACT_CUDA", "")
    problem = cuda_toolkit_problem()
    if wanted == "1" and problem:
        raise SystemExit(f"TORCH_ACT_CUDA=1, but {problem}")
    if wanted == "" and problem and torch.version.cuda is not None:
        print(f"torch_act: building without CUDA kernels: {problem}")
    return problem is None if wanted == "" else wanted == "1"


def nvidia_wheel_dirs(sub):
    """site-packages/nvidia/<package>/<sub> of the CUDA wheels torch depends on."""
    import importlib.util

    spec = importlib.util.find_spec("nvidia")
    roots = list(spec.submodule_search_locations) if spec and spec.submodule_search_locations else []
    return sorted(d for root in roots for d in glob.glob(os.path.join(root, "*", sub)))


def cuda_library_include_flags():
    # CUDA wheels (torch's nvidia-* dependencies) hold the library headers
    # torch's CUDA headers include (cusparse.h, cublas_v2.h) in
    # site-packages/nvidia/<package>/include. Searched after nvcc's own
    # toolkit headers (-isystem): the wheels' cuda_runtime.h lacks the
    # compiler's crt/ headers.
    return [flag for d in nvidia_wheel_dirs("include") for flag in ("-isystem", d)]


def runtime_library_dirs():
    # Where the library's own dependencies live, for C++ programs: Python
    # loads torch first, but a LibTorch program links only what it calls
    # (--as-needed), so libc10_cuda.so, libtorch_cuda.so and libcudart must be
    # found from the library itself.
    dirs = [os.path.join(os.path.dirname(torch.__file__), "lib")]
    if CUDA:
        candidates = nvidia_wheel_dirs("lib") + [os.path.join(CUDA_HOME, "lib64")]
        dirs += [d for d in candidates if glob.glob(os.path.join(d, "libcudart.so*"))]
    return dirs


def instrumentation_flags():
    """(compile, link) flags of the checking builds: `make sanitize` and `make coverage`.

    TORCH_ACT_SANITIZE=address,undefined builds with GCC's sanitizers; every
    report aborts (-fno-sanitize-recover), so one bad access or overflow fails
    the run instead of scrolling by. TORCH_ACT_COVERAGE=1 builds with gcov
    counters; atomic updates because the kernels run on OpenMP threads and
    racing counters would under-count. Both use -O1: the instrumented
    vector kernels stay fast enough for the whole test suite, and source
    lines still map to code for reports.
    """
    compile_flags, link_flags = [], []
    sanitizers = os.environ.get("TORCH_ACT_SANITIZE", "")
    if sanitizers:
        # -fno-wrapv: Python's compiler flags (sysconfig) carry -fwrapv, which defines
        # signed overflow as wrapping, so UBSan would not report an index that overflows.
        compile_flags += [f"-fsanitize={sanitizers}", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer",
                          "-fno-wrapv", "-g", "-O1"]
        link_flags += [f"-fsanitize={sanitizers}"]
    if os.environ.get("TORCH_ACT_COVERAGE") == "1":
        compile_flags += ["--coverage", "-fprofile-update=atomic", "-g", "-O1"]
        link_flags += ["--coverage"]
    return compile_flags, link_flags


def source_files(cuda, emulate_cuda):
    """csrc/'s C++ files for this build: csrc/cuda/ with CUDA, its emulated/
    folder instead of csrc/cpu/ for the emulator, the .cu files with CUDA."""
    def under(path, folder):
        return path.startswith(os.path.join("csrc", *folder.split("/"), ""))
    files = []
    for path in sorted(glob.glob(os.path.join("csrc", "**", "*.cpp"), recursive=True)):
        if under(path, "cuda/emulated"):
            keep = emulate_cuda
        elif under(path, "cuda"):
            keep = cuda
        else:
            keep = not (emulate_cuda and under(path, "cpu"))
        if keep:
            files.append(path)
    return files + (sorted(glob.glob(os.path.join("csrc", "cuda", "*.cu"))) if cuda else [])


INSTRUMENT_COMPILE, INSTRUMENT_LINK = instrumentation_flags()
EMULATE_CUDA = os.environ.get("TORCH_ACT_CUDA_EMULATION") == "1"
if EMULATE_CUDA and os.environ.get("TORCH_ACT_CUDA") == "1":
    raise SystemExit("TORCH_ACT_CUDA_EMULATION=1 and TORCH_ACT_CUDA=1: the emulated build is a CPU-only build")
CUDA = not EMULATE_CUDA and build_cuda()
if CUDA:
    os.environ.setdefault("TORCH_CUDA_ARCH_LIST", "8.0;9.0+PTX")
sources = source_files(CUDA, EMULATE_CUDA)
Extension = CUDAExtension if CUDA else CppExtension
CUDA_INCLUDE_FLAGS = cuda_library_include_flags() if CUDA else []

setup(
    name="torch_act",
    version="0.1.0",
    description="Fused kernels for torch.nn's activations (ReLU to GELU and SiLU) for PyTorch",
    packages=find_packages(include=["torch_act", "torch_act.*"]),
    python_requires=">=3.10",
    install_requires=[f"torch=={torch.__version__.split('+')[0]}"],
    ext_modules=[
        Extension(
            "torch_act.lib.libtorch_act",
            sources,
            include_dirs=[os.path.join(HERE, "csrc"), os.path.join(HERE, "torch_act", "include")],
            # The shared libstdc++, named by file and before torch's libraries
            # (the extension helpers append theirs after these). Named by
            # file: a compiler set up to link libstdc++ statically (the lent
            # GPU machine's g++ did) would otherwise copy it into the library,
            # with its own std::locale facet ids beside the process's.
            # Before torch's: libc10.so exports weak copies of libstdc++
            # template code (std::ostringstream's constructors), and the
            # linker binds each reference to the first library defining it.
            # (docs/ARCHITECTURE.md, "Linking to libstdc++".)
            libraries=[":libstdc++.so.6"],
            # C++ programs record this name and find the file through their rpath.
            extra_link_args=["-Wl,-soname,libtorch_act.so", "-fopenmp"]
            + [f"-Wl,-rpath,{d}" for d in runtime_library_dirs()] + INSTRUMENT_LINK,
            # -fno-trapping-math: lets the compiler turn `x > 0 ? x : x * slope`
            # into vector selects (it may then raise FP exception flags that
            # nothing reads; results are unchanged).
            # -fopenmp: at::parallel_for is a header template that only splits
            # work across threads when compiled with OpenMP (torch's backend);
            # without it every kernel silently runs on one thread. The library
            # then needs libgomp.so.1, the runtime torch itself loads.
            extra_compile_args={"cxx": ["-O3", "-std=c++20", "-fvisibility=hidden",
                                        "-fno-trapping-math", "-fopenmp"] + CUDA_INCLUDE_FLAGS
                                + INSTRUMENT_COMPILE,
                                "nvcc": ["-O3", "-std=c++20", "--expt-relaxed-constexpr"] + CUDA_INCLUDE_FLAGS},
            py_limited_api=True,
        )
    ],
    package_data={"torch_act": ["py.typed", "include/torch_act/*.h", "share/cmake/TorchAct/*.cmake"]},
    # libtorch_act.so, not libtorch_act.abi3.so: a plain shared library for C++ users.
    cmdclass={"build_ext": BuildExtension.with_options(no_python_abi_suffix=True)},
    options={"bdist_wheel": {"py_limited_api": "cp39"}},
)
