# make test  - create .venv if needed, install pinned torch + test deps, build, run every test
# make demo  - same set-up, then run the main job
# make build - (re)build the extension in place
# make cpp-test - build and run the C++ tests and example (CTest), part of make test
# make bench / bench-full - timings against torch.nn, written to benchmarks/RESULTS.md
# make cuda-check - the CUDA build (torch 2.14.1 + nvcc) without a GPU: device code listed, CPU suite run
# make gpu-test - on a GPU machine: build against its torch, GPU tests, GPU benchmark (RESULTS_CUDA.md)
# make real-models - torchvision models converted, one train step each (benchmarks/REAL_MODELS.md)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_VERSION := 2.13.0
export MAX_JOBS ?= 2

SOURCES := $(shell find csrc torch_act/include -name '*.cpp' -o -name '*.h' -o -name '*.cu') setup.py

.PHONY: test cpp-test qemu-test cuda-check gpu-test real-models demo bench bench-full build clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.deps-installed: requirements-dev.txt | $(PY)
	$(PY) -m pip install -q torch==$(TORCH_VERSION)
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

$(VENV)/.built: $(VENV)/.deps-installed $(SOURCES)
	$(PY) -m pip install -q --no-build-isolation -e .
	touch $@

build: $(VENV)/.built

# The kernels are built for DEFAULT, AVX2 and AVX-512 and picked at run time;
# the parity tests also run with each table this CPU supports forced, and with
# streaming stores forced on (TORCH_ACT_STREAMING_BYTES=0: the tests' tensors
# are smaller than the size where they switch on by themselves).
CAPABILITY_TESTS := tests/test_parity.py tests/test_inplace.py tests/test_gradcheck.py tests/test_vec_math.py
test: build
	$(PY) -m pytest tests -q -ra
	@for cap in default avx2 avx512; do \
	  if TORCH_ACT_CPU_CAPABILITY=$$cap $(PY) -c "import torch, torch_act; torch.ops.torch_act.cpu_capability()" 2>/dev/null; then \
	    echo "== parity tests with TORCH_ACT_CPU_CAPABILITY=$$cap TORCH_ACT_STREAMING_BYTES=0"; \
	    TORCH_ACT_CPU_CAPABILITY=$$cap TORCH_ACT_STREAMING_BYTES=0 $(PY) -m pytest $(CAPABILITY_TESTS) -q || exit 1; \
	  else \
	    echo "== TORCH_ACT_CPU_CAPABILITY=$$cap: this CPU lacks it, not run"; \
	  fi; \
	done
	$(MAKE) cpp-test

# The DEFAULT kernels on an emulated CPU without AVX (needs Debian's qemu-user,
# not part of `make test`): any AVX/AVX2/AVX-512 instruction leaking into the
# DEFAULT path would stop this with SIGILL. QEMU_CPU=Haswell runs the AVX2 table.
QEMU_CPU ?= Nehalem
qemu-test: build
	@command -v qemu-x86_64 >/dev/null || { echo "qemu-test needs qemu-x86_64 (apt-get install qemu-user)"; exit 1; }
	qemu-x86_64 -cpu $(QEMU_CPU) $(PY) -c "import torch, torch_act; print('torch_act kernels:', torch.ops.torch_act.cpu_capability(), '| torch kernels:', torch.backends.cpu.get_cpu_capability())"
	qemu-x86_64 -cpu $(QEMU_CPU) $(PY) -m pytest -q -p no:cacheprovider $(CAPABILITY_TESTS)

# The CUDA build checked on a machine without a GPU: a second virtualenv with
# torch $(CUDA_TORCH_VERSION) (a CUDA 13 build), torch_act built with its CUDA kernels
# by the machine's nvcc in a copy of the tracked sources (the in-place CPU
# build stays as it is), the device code it holds listed, and the whole test
# suite run there (GPU tests skip: no CUDA device).
CUDA_VENV ?= .venv-cuda
CUDA_TORCH_VERSION := 2.14.1
CUDA_SRC := build/cuda-check/src
CUOBJDUMP = $(firstword $(wildcard $(CUDA_VENV)/lib/python3*/site-packages/triton/backends/nvidia/bin/cuobjdump))
$(CUDA_VENV)/.deps-installed: requirements-dev.txt
	$(PYTHON) -m venv $(CUDA_VENV)
	$(CUDA_VENV)/bin/python -m pip install -q torch==$(CUDA_TORCH_VERSION)
	$(CUDA_VENV)/bin/python -m pip install -q -r requirements-dev.txt
	touch $@

# The toolkit nvcc belongs to (torch guesses it from nvcc's path, which may be a wrapper).
CUDA_HOME ?= $(firstword $(wildcard /usr/local/cuda) $(patsubst %/bin/nvcc,%,$(shell command -v nvcc)))
cuda-check: export CUDA_HOME := $(CUDA_HOME)
cuda-check: $(CUDA_VENV)/.deps-installed
	@command -v nvcc >/dev/null || { echo "cuda-check needs nvcc (CUDA 13) on the PATH"; exit 1; }
	rm -rf $(CUDA_SRC) && mkdir -p $(CUDA_SRC)
	git ls-files -z | xargs -0 cp --parents -t $(CUDA_SRC)
	cd $(CUDA_SRC) && TORCH_ACT_CUDA=1 $(CURDIR)/$(CUDA_VENV)/bin/python -m pip install -q --no-build-isolation -e .
	@echo "== device code in $(CUDA_SRC)/torch_act/lib/libtorch_act.so"
	readelf -S --wide $(CUDA_SRC)/torch_act/lib/libtorch_act.so | grep -E 'nv_fatbin|Name'
	$(if $(CUOBJDUMP),$(CUOBJDUMP) --list-elf --list-ptx $(CUDA_SRC)/torch_act/lib/libtorch_act.so)
	cd $(CUDA_SRC) && $(CURDIR)/$(CUDA_VENV)/bin/python -c "import torch, torch_act; print('torch', torch.__version__, '| CUDA kernels registered:', torch._C._dispatch_has_kernel_for_dispatch_key('torch_act::relu', 'CUDA'))"
	cd $(CUDA_SRC) && $(CURDIR)/$(CUDA_VENV)/bin/python -m pytest tests -q -ra -p no:cacheprovider

# Real torchvision models, torch.nn vs torch_act (benchmarks/real_models.py):
# torchvision $(TORCHVISION_VERSION) in the torch $(CUDA_TORCH_VERSION) virtualenv of
# cuda-check (torchvision does not import beside the CPU torch of make test),
# torch_act built there for the CPU in a copy of the sources. Not part of make test.
TORCHVISION_VERSION := 0.29.1
REAL_SRC := build/real-models/src
$(CUDA_VENV)/.torchvision-installed: $(CUDA_VENV)/.deps-installed
	$(CUDA_VENV)/bin/python -m pip install -q torchvision==$(TORCHVISION_VERSION) tqdm
	touch $@

real-models: $(CUDA_VENV)/.torchvision-installed
	rm -rf $(REAL_SRC) && mkdir -p $(REAL_SRC)
	git ls-files -z -co --exclude-standard | xargs -0 cp --parents -t $(REAL_SRC)
	cd $(REAL_SRC) && TORCH_ACT_CUDA=0 $(CURDIR)/$(CUDA_VENV)/bin/python setup.py -q build_ext --inplace
	cd $(REAL_SRC) && PYTHONPATH=. $(CURDIR)/$(CUDA_VENV)/bin/python benchmarks/real_models.py --out $(CURDIR)/benchmarks/REAL_MODELS.md

# On a machine with a GPU (the lent H100/H200, no internet): build against
# its own torch, the GPU tests, the GPU benchmark (tools/gpu_test.sh).
gpu-test:
	tools/gpu_test.sh

# The C++ API tests and the example program, built against the package
# exactly as an outside CMake project would (find_package(Torch), find_package(TorchAct)).
CPP_BUILD := build/cpp
cpp-test: build
	$(VENV)/bin/cmake -S . -B $(CPP_BUILD) -DCMAKE_BUILD_TYPE=Release \
	  -DPython3_EXECUTABLE=$(abspath $(PY)) \
	  -DCMAKE_PREFIX_PATH="$$($(PY) -c 'import torch, torch_act; print(torch.utils.cmake_prefix_path + ";" + torch_act.cmake_prefix_path)')"
	$(VENV)/bin/cmake --build $(CPP_BUILD) -j $(MAX_JOBS)
	cd $(CPP_BUILD) && ../../$(VENV)/bin/ctest --output-on-failure

$(VENV)/.demo-deps-installed: requirements-demo.txt | $(VENV)/.deps-installed
	$(PY) -m pip install -q -r requirements-demo.txt
	touch $@

demo: build $(VENV)/.demo-deps-installed
	$(PY) examples/demo.py --out demo_output

# Timings: torch_act vs torch.nn vs a hand-written composite (benchmarks/RESULTS.md).
bench: build $(VENV)/.demo-deps-installed
	$(PY) benchmarks/bench.py

bench-full: build $(VENV)/.demo-deps-installed
	$(PY) benchmarks/bench.py --full

# Build outputs only; the virtualenv stays (rm -rf .venv for a fresh start).
clean:
	rm -rf build *.egg-info torch_act/lib torch_act/_build_info.py $(VENV)/.built
