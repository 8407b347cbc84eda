#!/usr/bin/env bash
# make gpu-test: on a machine with a GPU (the lent H100/H200, no internet),
# build torch_act with its CUDA kernels against that machine's own python and
# torch (for its own GPU's architecture, on every core: the default
# architectures are make cuda-check's job), show how the library links to
# libstdc++, run the GPU tests with the linking and error tests, and the GPU
# benchmark. GPU_PYTHON picks the interpreter (python3); GPU_OUT receives
# RESULTS_CUDA.md and its chart (build/gpu-test).
# GPU_TEST_REHEARSAL=1 (make gpu-rehearsal) runs it where there is no GPU, so
# that a mistake in it or a build failure against the GPU machine's torch is
# found before the GPU's minutes are spent: the same build for sm_90, the link
# probe, the C++ example and the test files (their GPU cases skip); the
# steps that need a device say that they were left out.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${GPU_PYTHON:-python3}
OUT_DIR=${GPU_OUT:-build/gpu-test}
mkdir -p "$OUT_DIR"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
export MAX_JOBS=${MAX_JOBS:-$(nproc)}
if [ -z "${CUDA_HOME:-}" ] && [ -d /usr/local/cuda ]; then export CUDA_HOME=/usr/local/cuda; fi

step() { echo; echo "== $* ($(date +%T))"; }

REHEARSAL=${GPU_TEST_REHEARSAL:-0}
needs_gpu() { echo "rehearsal: left out, it needs a GPU ($*)"; }

step "device"
if [ "$REHEARSAL" = 1 ]; then
  "$PY" -c "import sys, torch; print('rehearsal without a GPU: torch', torch.__version__, '| CUDA', torch.version.cuda, '| Python', sys.version.split()[0])"
  arch=${TORCH_CUDA_ARCH_LIST:-9.0}  # the lent H100 / H200
else
  "$PY" -c "import torch; assert torch.cuda.is_available(), 'gpu-test needs a CUDA device'; print('torch', torch.__version__, '|', torch.cuda.get_device_name(), '| sm_%d%d' % torch.cuda.get_device_capability())"
  arch=${TORCH_CUDA_ARCH_LIST:-$("$PY" -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")}
fi
nvcc --version | tail -n 2
g++ --version | head -n 1

step "build"
SECONDS=0
if ! TORCH_ACT_CUDA=1 TORCH_CUDA_ARCH_LIST=$arch "$PY" setup.py build_ext --inplace >"$OUT_DIR/build.log" 2>&1; then
  grep -E -B2 -A6 "error" "$OUT_DIR/build.log" | head -n 80
  echo "build failed: the whole log is $OUT_DIR/build.log"
  exit 1
fi
echo "built for TORCH_CUDA_ARCH_LIST=$arch in ${SECONDS} s with MAX_JOBS=$MAX_JOBS"

step "TORCH_CHECK with numbers by link and load order (tools/link_order_probe.py)"
"$PY" tools/link_order_probe.py

# The C++ example (LibTorch, no Python) builds on the side while the tests run.
prefixes="$("$PY" -c "import torch, torch_act; print(torch.utils.cmake_prefix_path + ';' + torch_act.cmake_prefix_path)")"
# torch's CMake config links NVRTC, which a toolkit of nvcc alone lacks (the
# build machines here: "cannot find -lCUDA_nvrtc_LIBRARY-NOTFOUND"); torch's
# own CUDA wheels hold one.
nvrtc=()
if [ -n "${CUDA_HOME:-}" ] && ! compgen -G "$CUDA_HOME/lib64/libnvrtc.so*" >/dev/null; then
  wheel_nvrtc=$("$PY" -c "import glob, os, nvidia; print(min(glob.glob(os.path.join(nvidia.__path__[0], '*', 'lib', 'libnvrtc.so*')), default=''))" 2>/dev/null || true)
  if [ -n "$wheel_nvrtc" ]; then nvrtc=(-DCUDA_nvrtc_LIBRARY="$wheel_nvrtc"); fi
fi
(cmake -S examples/cpp -B build/gpu-example -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefixes" \
     ${CUDA_HOME:+-DCUDA_TOOLKIT_ROOT_DIR=$CUDA_HOME} "${nvrtc[@]}" &&
   cmake --build build/gpu-example -j) >"$OUT_DIR/example-build.log" 2>&1 &
example_build=$!

step "tests"
workers=$("$PY" -c "import xdist; print('-n 4')" 2>/dev/null || true)
status=0
mapfile -t test_files < <(grep -v '^#' tools/gpu_test_files.txt)
"$PY" -m pytest -q -ra -p no:cacheprovider $workers "${test_files[@]}" -k "not test_sign_of_zero or cuda" ||
  status=$?  # the benchmark and the C++ example run all the same
step "tensors past 2^31 elements on the GPU (tests/test_large.py, 4.3 GB each)"
if [ "$REHEARSAL" = 1 ]; then
  needs_gpu "tests/test_large.py collects its CUDA cases only where a device is present"
else
  TORCH_ACT_LARGE=1 "$PY" -m pytest -q -s -ra -p no:cacheprovider tests/test_large.py -k cuda || status=$?
fi

step "benchmark"
if [ "$REHEARSAL" = 1 ]; then
  needs_gpu "bench.py --device cuda; its CPU path once, small, instead"
  "$PY" benchmarks/bench.py --activations relu,prelu,gelu --sizes 4K --rounds 1 --min-run-time 0.01 \
    --out "$OUT_DIR/RESULTS_REHEARSAL.md" || status=$?
else
  "$PY" benchmarks/bench.py --device cuda --rounds 3 --min-run-time 0.05 --out "$OUT_DIR/RESULTS_CUDA.md"
fi
step "C++ example on the GPU (examples/cpp/train.cpp)"
if wait $example_build; then
  build/gpu-example/train
else
  tail -n 30 "$OUT_DIR/example-build.log"
  echo "the C++ example did not build"
  status=1
fi
step "done: exit status $status"
exit $status
