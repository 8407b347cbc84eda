# make test  - create .venv if needed, install pinned torch + test deps, build, run every test
# make demo  - same set-up, then run the main job
# make build - (re)build the extension in place
# make cpp-test - build and run the C++ tests and example (CTest), part of make test
# make bench / bench-full - timings against torch.nn, written to benchmarks/RESULTS.md
# make bench-gated - SwiGLU/GeGLU/ReGLU fused against the composite in a LLaMA MLP block (RESULTS_GATED.md)
# make accuracy - worst ulp error of every smooth activation against mpmath, into README.md
# make mca - predicted cycles per element of every op's loops, torch_act's and ATen's, on
#            Zen 3, Zen 4 and Sapphire Rapids (llvm-mca), written to benchmarks/MCA.md
# make cuda-check - the CUDA build (torch 2.14.1 + nvcc) without a GPU: device code listed, GPU test files run
# make cuda-emulate - the CUDA kernels run on the CPU by an emulator of CUDA grids, the suite and C++ tests over them (in CI)
# make gpu-test - on a GPU machine: build against its torch, GPU tests, GPU benchmark (RESULTS_CUDA.md)
# make gpu-rehearsal - gpu-test without a GPU against the GPU machine's torch 2.11 (in CI), then the suite
# make real-models - torchvision models converted, one train step each (benchmarks/REAL_MODELS.md)
# make sanitize - the whole suite and the C++ tests on an AddressSanitizer + UBSan build (in CI)
# make fuzz - the property tests, 10,000 examples per activation, on the sanitizer build
# make coverage - line and branch coverage of csrc/ by the suite and the C++ tests (gcovr)
# make test-large - tensors past 2^31 elements (needs ~13 GB of RAM)
# make qemu-test - the DEFAULT kernels on an emulated CPU without AVX (in CI)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_VERSION := 2.13.0
export MAX_JOBS ?= 2

SOURCES := $(shell find csrc torch_act/include -name '*.cpp' -o -name '*.h' -o -name '*.cu') setup.py

.PHONY: api test cpp-test qemu-test sanitize fuzz coverage test-large cuda-check cuda-emulate gpu-test gpu-rehearsal real-models demo bench bench-full bench-gated mca accuracy build clean

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
# The suites run on PYTEST_WORKERS processes (pytest-xdist; one per core of
# the 2-core machines), each test in a process of its own choosing.
PYTEST_WORKERS ?= 2
XDIST := -n $(PYTEST_WORKERS)
CAPABILITY_TESTS := tests/test_parity.py tests/test_inplace.py tests/test_gradcheck.py tests/test_vec_math.py tests/test_accuracy.py \
  tests/test_batch_invariance.py tests/test_gated.py tests/test_rrelu.py
# $(1): the Python command (make coverage runs it in its copy of the sources).
define capability_runs
	@for cap in default avx2 avx512; do \
	  if TORCH_ACT_CPU_CAPABILITY=$$cap $(1) -c "import torch, torch_act; torch.ops.torch_act.cpu_capability()" 2>/dev/null; then \
	    echo "== parity tests with TORCH_ACT_CPU_CAPABILITY=$$cap TORCH_ACT_STREAMING_BYTES=0"; \
	    TORCH_ACT_CPU_CAPABILITY=$$cap TORCH_ACT_STREAMING_BYTES=0 $(1) -m pytest $(CAPABILITY_TESTS) -q -p no:cacheprovider $(XDIST) || exit 1; \
	  else \
	    echo "== TORCH_ACT_CPU_CAPABILITY=$$cap: this CPU lacks it, not run"; \
	  fi; \
	done
endef
# The accuracy sweep runs in the capability runs only: one of them is this
# CPU's own table, so a run here would measure the same kernels twice.
# Builds that change no CPU kernel code (sanitize's instrumentation aside,
# cuda-check's library) skip it too: its mpmath reference is most of its time.
NOT_ACCURACY := --ignore=tests/test_accuracy.py
test: build
	$(PY) -m pytest tests -q -ra $(XDIST) $(NOT_ACCURACY)
	$(call capability_runs,$(PY))
	$(MAKE) cpp-test

# The DEFAULT kernels on an emulated CPU without AVX (needs Debian's qemu-user,
# not part of `make test`): any AVX/AVX2/AVX-512 instruction leaking into the
# DEFAULT path would stop this with SIGILL. QEMU_CPU=Haswell runs the AVX2 table.
QEMU_CPU ?= Nehalem
# The capability tests but the accuracy sweep: it runs every kernel on the
# DEFAULT build natively in make test already (capability_runs), and its
# mpmath reference is most of its time, ten times slower emulated. The
# xdist workers are started inside the emulator (--tx ...//python=qemu ...);
# only the controller, which runs no test, is native.
# Of the gated family's tests, the one without an mpmath reference (every
# gated op forward and backward, three dtypes, shifted slices); of RReLU's,
# the one that holds the DEFAULT build's random slopes to the numpy reference.
QEMU_TESTS := $(filter-out tests/test_accuracy.py tests/test_gated.py tests/test_rrelu.py,$(CAPABILITY_TESTS)) \
  tests/test_gated.py::test_batch_invariance tests/test_rrelu.py::test_training_values_and_gradient_equal_the_reference_bit_for_bit
QEMU_PYTHON = qemu-x86_64 -cpu $(QEMU_CPU) $(CURDIR)/$(PY)
# The table the emulated CPU must get, asserted inside the workers (so a worker started natively fails).
QEMU_EXPECT ?= $(if $(filter Haswell,$(QEMU_CPU)),AVX2,DEFAULT)
qemu-test: build
	@command -v qemu-x86_64 >/dev/null || { echo "qemu-test needs qemu-x86_64 (apt-get install qemu-user)"; exit 1; }
	$(QEMU_PYTHON) -c "import torch, torch_act; print('torch_act kernels:', torch.ops.torch_act.cpu_capability(), '| torch kernels:', torch.backends.cpu.get_cpu_capability())"
	TORCH_ACT_EXPECT_CAPABILITY=$(QEMU_EXPECT) $(PY) -m pytest -q -p no:cacheprovider \
	  tests/test_cpu_capability.py::test_runs_the_expected_table $(QEMU_TESTS) -d --tx '$(PYTEST_WORKERS)*popen//python=$(QEMU_PYTHON)'

# Checking builds (sanitize, fuzz, coverage): the op library built with extra
# flags (setup.py's instrumentation_flags) in a copy of the sources, so the
# in-place build stays as it is. cp -p keeps the sources' times and the object
# files live beside the copy: ninja rebuilds only what changed.
# $(1): the folder, $(2): variables for setup.py.
define instrumented_build
	rm -rf $(1)/src && mkdir -p $(1)/src
	git ls-files -z -co --exclude-standard | xargs -0 cp -p --parents -t $(1)/src
	@echo "== building the op library with $(2) in $(1) (log: $(1)/build.log)"
	cd $(1)/src && $(2) $(CURDIR)/$(PY) setup.py build_ext --inplace --build-temp $(CURDIR)/$(1)/temp \
	  > $(CURDIR)/$(1)/build.log 2>&1 || { tail -40 $(CURDIR)/$(1)/build.log; exit 1; }
endef
# The C++ tests and example built against the library in $(1) with compiler
# flags $(2), run by CTest with the environment $(3).
define cpp_tests_against
	$(VENV)/bin/cmake -S $(1)/src -B $(1)/cpp -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DPython3_EXECUTABLE=$(abspath $(PY)) "-DCMAKE_CXX_FLAGS=$(2)" "-DCMAKE_EXE_LINKER_FLAGS=$(2)" \
	  -DCMAKE_PREFIX_PATH="$$($(PY) -c 'import torch; print(torch.utils.cmake_prefix_path)');$(CURDIR)/$(1)/src/torch_act/share/cmake"
	$(VENV)/bin/cmake --build $(1)/cpp -j $(MAX_JOBS)
	cd $(1)/cpp && $(3) $(CURDIR)/$(VENV)/bin/ctest --output-on-failure
endef

# AddressSanitizer + UndefinedBehaviorSanitizer: every report aborts the run
# (halt_on_error; -fno-sanitize-recover for UBSan). Python is not built with
# ASan, so GCC's runtimes are preloaded (ASan must come first in the process).
# allocator_may_return_null: tests that ask for impossible sizes get torch's
# error, as without ASan. pytest --capture=sys: a report is written to file
# descriptor 2 just before the process aborts, and pytest's default capture
# (of the descriptor) would lose it with the process.
# Leaks: LeakSanitizer runs on the C++ tests (no interpreter: they exit clean,
# no suppressions). In the Python process it is off: CPython never frees its
# heap at exit, so LSan reports thousands of blocks (2,131 from
# tests/test_errors.py alone, all CPython/numpy/pybind11), and every child
# process (bash, nm) inherits the preload and reports its own. For a look by
# hand, tools/sanitize/lsan.supp clears the interpreter's direct leaks (add
# detect_leaks=1:fast_unwind_on_malloc=0 to ASAN_OPTIONS and
# LSAN_OPTIONS=suppressions=$(CURDIR)/tools/sanitize/lsan.supp);
# tests/test_leaks.py checks torch_act's own allocations in every run by
# counting allocated bytes.
SANITIZE_DIR := build/sanitize
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -fno-wrapv
SANITIZER_RUNTIMES = $(shell c++ -print-file-name=libasan.so) $(shell c++ -print-file-name=libubsan.so)
SANITIZE_OPTIONS := ASAN_OPTIONS=halt_on_error=1:allocator_may_return_null=1:detect_leaks=0 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
SANITIZE_PYTHON = LD_PRELOAD="$(SANITIZER_RUNTIMES)" $(SANITIZE_OPTIONS) PYTHONPATH=. $(CURDIR)/$(PY)
comma := ,
SANITIZE_BUILD = $(call instrumented_build,$(SANITIZE_DIR),TORCH_ACT_SANITIZE=address$(comma)undefined)

sanitize: build
	$(SANITIZE_BUILD)
	cd $(SANITIZE_DIR)/src && $(SANITIZE_PYTHON) -c "import torch_act, subprocess; \
	  print(subprocess.run(['readelf', '-d', torch_act._library.library_path()], capture_output=True, text=True).stdout.count('libasan'), 'ASan runtime linked')"
	cd $(SANITIZE_DIR)/src && $(SANITIZE_PYTHON) -m pytest tests -q -ra -p no:cacheprovider --capture=sys $(XDIST) $(NOT_ACCURACY)
	$(call cpp_tests_against,$(SANITIZE_DIR),$(SANITIZE_FLAGS),ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1)

# Deep fuzzing (not in CI: ~20 minutes here): the hypothesis property tests
# with the "fuzz" profile, on the sanitizer build.
FUZZ_EXAMPLES ?= 10000
fuzz: build
	$(SANITIZE_BUILD)
	cd $(SANITIZE_DIR)/src && HYPOTHESIS_PROFILE=fuzz TORCH_ACT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(SANITIZE_PYTHON) \
	  -m pytest tests/test_properties.py -q -p no:cacheprovider --capture=sys --hypothesis-show-statistics

# Line and branch coverage of csrc/ (gcovr): the suite, its per-capability
# parity runs (as make test) and the C++ tests on a --coverage build; then
# tools/coverage_report.py merges each header line's copies and lists the
# lines no test ran and each argument check's run count.
COVERAGE_DIR := build/coverage
$(VENV)/.coverage-deps-installed: | $(VENV)/.deps-installed
	$(PY) -m pip install -q gcovr
	touch $@

coverage: build $(VENV)/.coverage-deps-installed
	$(call instrumented_build,$(COVERAGE_DIR),TORCH_ACT_COVERAGE=1)
	find $(COVERAGE_DIR)/temp -name '*.gcda' -delete
	cd $(COVERAGE_DIR)/src && PYTHONPATH=. $(CURDIR)/$(PY) -m pytest tests -q -p no:cacheprovider
	$(call capability_runs,env -C $(COVERAGE_DIR)/src PYTHONPATH=. $(CURDIR)/$(PY))
	$(call cpp_tests_against,$(COVERAGE_DIR),,)
	mkdir -p $(COVERAGE_DIR)/html
	$(VENV)/bin/gcovr --root $(COVERAGE_DIR)/src --filter $(CURDIR)/$(COVERAGE_DIR)/src/csrc/ --exclude-throw-branches \
	  --exclude-unreachable-branches --txt-metric branch --txt $(COVERAGE_DIR)/branches.txt \
	  --json $(COVERAGE_DIR)/coverage.json --html-details $(COVERAGE_DIR)/html/index.html \
	  --print-summary $(COVERAGE_DIR)/temp
	$(PY) tools/coverage_report.py $(COVERAGE_DIR)/coverage.json --sources $(COVERAGE_DIR)/src

# Tensors past 2^31 elements (not in CI: 12.5 GiB peak here, 3 minutes).
test-large: build
	TORCH_ACT_LARGE=1 $(PY) -m pytest tests/test_large.py -q -s -ra -p no:cacheprovider

# The CUDA build checked on a machine without a GPU: a second virtualenv with
# torch $(CUDA_TORCH_VERSION) (a CUDA 13 build), torch_act built with its CUDA kernels
# by the machine's nvcc in a copy of the tracked sources (the in-place CPU
# build stays as it is), the device code it holds listed, and the test files
# of make gpu-test run there (GPU tests skip: no CUDA device). The whole
# suite runs against a CUDA torch in make gpu-rehearsal (the oldest torch,
# the GPU machine's) and against this torch's CPU twin in make test.
CUDA_VENV ?= .venv-cuda
GPU_TEST_FILES := $(shell grep -v '^\#' tools/gpu_test_files.txt)
CUDA_TORCH_VERSION := 2.14.1
# No kernel may keep values in local memory (register spills, arrays indexed
# at run time): local memory lives in device memory, behind the caches, and
# its traffic competes with the tensors' for the bandwidth the kernels are
# meant to saturate. ptxas stops the build naming the kernel. (At
# 84d00cc, kernels.cu's last change, none did: 540 sm_90 kernels, 0 bytes of
# stack, 13 to 62 registers.)
NO_SPILLS := -Xptxas -warn-spills,-warn-lmem-usage,-Werror
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
	cd $(CUDA_SRC) && TORCH_ACT_CUDA=1 NVCC_APPEND_FLAGS="$(NO_SPILLS)" $(CURDIR)/$(CUDA_VENV)/bin/python -m pip install -q --no-build-isolation -e .
	@echo "== device code in $(CUDA_SRC)/torch_act/lib/libtorch_act.so"
	readelf -S --wide $(CUDA_SRC)/torch_act/lib/libtorch_act.so | grep -E 'nv_fatbin|Name'
	$(if $(CUOBJDUMP),$(CUOBJDUMP) --list-elf --list-ptx $(CUDA_SRC)/torch_act/lib/libtorch_act.so)
	cd $(CUDA_SRC) && $(CURDIR)/$(CUDA_VENV)/bin/python -c "import torch, torch_act; print('torch', torch.__version__, '| CUDA kernels registered:', torch._C._dispatch_has_kernel_for_dispatch_key('torch_act::relu', 'CUDA'))"
	cd $(CUDA_SRC) && $(CURDIR)/$(CUDA_VENV)/bin/python -m pytest $(GPU_TEST_FILES) -q -ra -p no:cacheprovider $(XDIST)

# The CUDA kernels run without a GPU: kernels.cu compiled as host code for
# the emulator in csrc/cuda/emulated/ (each GPU thread a fiber; __syncthreads
# and warp shuffles wait for their whole block or warp; a barrier some thread
# never reaches is an error) and registered for CPU tensors in place of the
# CPU kernels, in a copy of the sources. The tests of the kernels' results
# (EMULATE_TESTS: 4416 of them, 2 minutes; the whole suite takes 10, its other
# files test layers above the kernels) and the C++ tests then run every CUDA
# kernel against torch.nn: grid-stride loops sweeping many times
# (one emulated multiprocessor: 32 blocks of 256 threads), 16-byte packs and
# the one-element path of misaligned views, shuffle-packed masks, PReLU's
# per-channel sums in shared memory, grids past 65535 channels. It checks
# how the kernels walk memory, not the device math (activations.h's host
# forms run) nor speed. Left out: the tests of the CPU kernels' own settings
# (table choice, streaming stores), which this build does not have. The C++
# tests' Python step (the scripted model and its expected output) imports
# this build too, not the in-place one (PYTHONPATH).
CUDA_EMULATE_DIR := build/cuda-emulate
EMULATE_TESTS := $(filter-out tests/test_accuracy.py,$(CAPABILITY_TESTS)) tests/test_cuda_paths.py \
  tests/test_layout_queries.py tests/test_opcheck.py tests/test_opinfo.py tests/test_errors.py tests/test_checks.py \
  tests/test_properties.py tests/test_functorch.py tests/test_modules.py
NOT_CPU_SETTINGS := --deselect tests/test_checks.py::test_setting_check_refuses_and_leaves_inputs_alone
cuda-emulate: build
	$(call instrumented_build,$(CUDA_EMULATE_DIR),TORCH_ACT_CUDA_EMULATION=1)
	cd $(CUDA_EMULATE_DIR)/src && $(CURDIR)/$(PY) -c "import torch, torch_act; print('kernels:', torch.ops.torch_act.cpu_capability())"
	cd $(CUDA_EMULATE_DIR)/src && $(CURDIR)/$(PY) -m pytest $(EMULATE_TESTS) -q -ra -p no:cacheprovider $(XDIST) $(NOT_CPU_SETTINGS)
	$(call cpp_tests_against,$(CUDA_EMULATE_DIR),,PYTHONPATH=$(CURDIR)/$(CUDA_EMULATE_DIR)/src)

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

# make gpu-test rehearsed here, without a GPU, against the GPU machine's own
# set-up (DESIGN.md 11: torch $(GPU_MACHINE_TORCH)+cu130 on Python 3.12, the
# oldest torch the code must build against): tools/gpu_test.sh with
# GPU_TEST_REHEARSAL=1 in a copy of the tracked sources (the build for sm_90,
# the link probe, the C++ example, its test files with their GPU cases
# skipped), then the whole suite against that torch. A script or build
# failure found here would otherwise cost the GPU's few minutes.
GPU_MACHINE_TORCH := 2.11.0
# Python 3.12 where one runs (pyenv's shim may name one that does not), else $(PYTHON).
GPU_MACHINE_PYTHON ?= $(firstword $(shell python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null) \
  $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) $(PYTHON))
REHEARSAL_VENV ?= .venv-gpu-rehearsal
REHEARSAL_SRC := build/gpu-rehearsal/src
# One pip call, so that the resolver keeps the setuptools that torch $(GPU_MACHINE_TORCH) accepts.
$(REHEARSAL_VENV)/.deps-installed: requirements-dev.txt
	$(GPU_MACHINE_PYTHON) -m venv $(REHEARSAL_VENV)
	$(REHEARSAL_VENV)/bin/python -m pip install -q torch==$(GPU_MACHINE_TORCH) -r requirements-dev.txt
	touch $@

gpu-rehearsal: export CUDA_HOME := $(CUDA_HOME)
gpu-rehearsal: $(REHEARSAL_VENV)/.deps-installed
	@command -v nvcc >/dev/null || { echo "gpu-rehearsal needs nvcc (CUDA 13) on the PATH"; exit 1; }
	rm -rf $(REHEARSAL_SRC) && mkdir -p $(REHEARSAL_SRC)
	git ls-files -z | xargs -0 cp --parents -t $(REHEARSAL_SRC)
	cd $(REHEARSAL_SRC) && GPU_TEST_REHEARSAL=1 GPU_PYTHON=$(CURDIR)/$(REHEARSAL_VENV)/bin/python tools/gpu_test.sh
	cd $(REHEARSAL_SRC) && PYTHONPATH=. $(CURDIR)/$(REHEARSAL_VENV)/bin/python -m pytest tests -q -ra -p no:cacheprovider $(XDIST) $(NOT_ACCURACY)

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

# The gated activations in a LLaMA-style MLP block, fused against F.silu(gate) * up,
# with this CPU's best kernels and then with the AVX2 builds of both.
bench-gated: build $(VENV)/.demo-deps-installed
	$(PY) benchmarks/gated_mlp.py
	ATEN_CPU_CAPABILITY=avx2 TORCH_ACT_CPU_CAPABILITY=avx2 $(PY) benchmarks/gated_mlp.py --append

# The public functions and modules, written into torch_act/functional.py and
# modules.py from the declarations (tests/test_api_source.py fails while stale).
api: build
	$(PY) tools/generate_api.py

# Worst error of every smooth activation against the exact value (mpmath), torch_act and
# torch.nn, written into README.md's accuracy table.
accuracy: build
	$(PY) tools/accuracy.py

# Judging a CPU you do not have: each op's inner loops, sampled with perf in
# both kernel builds, fed to llvm-mca's models of other CPUs (tools/mca.py).
# Needs Debian's linux-perf and llvm-16 (installed here when run as root).
MCA_TOOLS := perf llvm-mca-16
mca: build $(VENV)/.demo-deps-installed
	@for t in $(MCA_TOOLS); do command -v $$t >/dev/null || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf llvm-16 >/dev/null; \
	  else echo "make mca needs perf and llvm-mca-16: apt-get install linux-perf llvm-16"; exit 1; fi; \
	fi
	$(PY) tools/mca.py

# Build outputs only; the virtualenv stays (rm -rf .venv for a fresh start).
clean:
	rm -rf build *.egg-info torch_act/lib torch_act/_build_info.py $(VENV)/.built
