// The host emulator of CUDA grids (csrc/cuda/emulated/emulator.h), which
// `make cuda-emulate` runs kernels.cu on: it must give kernels what a GPU
// gives them (indices, shared memory across __syncthreads, warp shuffles),
// and refuse what would hang or be undefined on a GPU. Run by CTest:
// test_cuda_emulator <case>.
#include "cuda/emulated/emulator.h"

#include <c10/util/Exception.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

using torch_act::cuda::emulated::dim3;
using torch_act::cuda::emulated::run_grid;

#define EXPECT(condition)                                                   \
  do {                                                                      \
    if (!(condition)) {                                                     \
      std::fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #condition); \
      return false;                                                         \
    }                                                                       \
  } while (0)

// Runs a launch that must be refused with words containing `words`.
bool refused(const std::function<void()>& launch, const char* words) {
  try {
    launch();
  } catch (const c10::Error& e) {
    const std::string message = e.what_without_backtrace();
    if (message.find(words) != std::string::npos) return true;
    std::fprintf(stderr, "refused, but with: %s\n(expected the words: %s)\n", message.c_str(), words);
    return false;
  }
  std::fprintf(stderr, "not refused (expected: %s)\n", words);
  return false;
}

// Every thread sees its own indices and the launch's dimensions.
bool indices() {
  const dim3 grid(3, 2, 2), block(8, 4, 2);
  std::vector<int> seen(3 * 2 * 2 * 8 * 4 * 2, 0);
  bool dims_right = true;
  run_grid(grid, block, [&] {
    dims_right &= gridDim.x == 3 && gridDim.y == 2 && gridDim.z == 2 && blockDim.x == 8 && blockDim.y == 4 &&
                  blockDim.z == 2;
    const unsigned block_id = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
    const unsigned thread_id = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
    ++seen[block_id * 64 + thread_id];
  });
  EXPECT(dims_right);
  for (int count : seen) EXPECT(count == 1);
  return true;
}

// A tree sum in shared memory: every level reads what other threads wrote
// before the __syncthreads between them. Blocks run one at a time, so shared
// memory left by one block must not leak into the next: each writes first.
bool shared_memory_tree_sum() {
  constexpr int kThreads = 256;
  std::vector<double> sums(6, -1);
  run_grid(dim3(3, 2), dim3(kThreads), [&] {
    __shared__ double partial[kThreads];
    const int block = blockIdx.y * gridDim.x + blockIdx.x;
    partial[threadIdx.x] = double(threadIdx.x) * (block + 1);
    __syncthreads();
    for (int half = kThreads / 2; half > 0; half /= 2) {
      if (int(threadIdx.x) < half) partial[threadIdx.x] += partial[threadIdx.x + half];
      __syncthreads();
    }
    if (threadIdx.x == 0) sums[block] = partial[0];
  });
  for (int b = 0; b < 6; ++b) EXPECT(sums[b] == 255.0 * 256 / 2 * (b + 1));
  return true;
}

// __syncthreads counts the threads still running, as on Volta and later:
// threads that return early do not hang the rest.
bool early_return_before_syncthreads() {
  std::vector<int> after(128, 0);
  run_grid(dim3(1), dim3(128), [&] {
    if (threadIdx.x % 3 == 0) return;
    __syncthreads();
    ++after[threadIdx.x];
  });
  for (int t = 0; t < 128; ++t) EXPECT(after[t] == (t % 3 == 0 ? 0 : 1));
  return true;
}

// Lane l receives lane l ^ offset's value, for 32- and 64-bit types; a
// butterfly of them gives every lane the warp's sum; a block of 48 threads
// has a second warp of 16 lanes.
bool warp_shuffles() {
  std::vector<uint32_t> words(64, 0);
  std::vector<double> totals(64, 0);
  run_grid(dim3(1), dim3(64), [&] {
    const unsigned lane = threadIdx.x % 32;
    words[threadIdx.x] = __shfl_xor_sync(0xffffffffu, uint32_t(1000 + threadIdx.x), 5);
    double v = lane + 0.5;
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
    totals[threadIdx.x] = v;
  });
  for (unsigned t = 0; t < 64; ++t) {
    EXPECT(words[t] == 1000 + ((t & ~31u) | ((t % 32) ^ 5)));
    EXPECT(totals[t] == 31.0 * 32 / 2 + 16);
  }
  std::vector<int> partial_warp(48, 0);
  run_grid(dim3(1), dim3(48), [&] {
    const unsigned lanes = threadIdx.x < 32 ? 0xffffffffu : 0xffffu;
    partial_warp[threadIdx.x] = __shfl_xor_sync(lanes, int(threadIdx.x), 1);
  });
  for (int t = 0; t < 48; ++t) EXPECT(partial_warp[t] == (t ^ 1));
  return true;
}

bool deadlock_is_reported() {
  // Lane 0 waits at __syncthreads while its warp's other lanes wait for it in a shuffle.
  return refused([] {
    run_grid(dim3(1), dim3(64), [] {
      if (threadIdx.x == 0) __syncthreads();
      else if (threadIdx.x < 32) (void)__shfl_xor_sync(0xffffffffu, 1, 1);
      else __syncthreads();
    });
  }, "deadlock in block (0, 0, 0)");
}

// Lanes 0-6 wait in the shuffle, lane 7 returns, lane 8 finds it gone.
bool lane_missing_from_shuffle_is_reported() {
  return refused([] {
    run_grid(dim3(1), dim3(32), [] {
      if (threadIdx.x == 7) return;
      (void)__shfl_xor_sync(0xffffffffu, 1.0f, 1);
    });
  }, "a lane returned before its warp's __shfl_xor_sync (every lane must take part) (block (0, 0, 0), thread 8)");
}

bool partial_lane_masks_are_refused() {
  return refused([] { run_grid(dim3(1), dim3(32), [] { (void)__shfl_xor_sync(0xffffu, 1, 1); }); },
                 "whole-warp shuffles only");
}

bool launch_limits_are_cuda_s() {
  const auto nothing = [] {};
  return refused([&] { run_grid(dim3(1, 65536), dim3(32), nothing); }, "outside CUDA's limits") &&
         refused([&] { run_grid(dim3(0), dim3(32), nothing); }, "outside CUDA's limits") &&
         refused([&] { run_grid(dim3(1), dim3(1025), nothing); }, "a block of 1025 threads");
}

bool misuse_is_refused() {
  return refused([] { (void)threadIdx.x; }, "called outside a kernel launch") &&
         refused([] { run_grid(dim3(1), dim3(1), [] { run_grid(dim3(1), dim3(1), [] {}); }); },
                 "a kernel launched from inside a kernel");
}

// With TORCH_ACT_EMULATED_SMS set by CTest: prints the count, or the refusal.
bool multiprocessor_count() {
  try {
    std::printf("emulated multiprocessors: %d\n", torch_act::cuda::emulated::multiprocessor_count());
  } catch (const c10::Error& e) {
    std::printf("refused: %s\n", e.what_without_backtrace());
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const std::map<std::string, bool (*)()> cases = {
      {"indices", indices},
      {"shared_memory_tree_sum", shared_memory_tree_sum},
      {"early_return_before_syncthreads", early_return_before_syncthreads},
      {"warp_shuffles", warp_shuffles},
      {"deadlock_is_reported", deadlock_is_reported},
      {"lane_missing_from_shuffle_is_reported", lane_missing_from_shuffle_is_reported},
      {"partial_lane_masks_are_refused", partial_lane_masks_are_refused},
      {"launch_limits_are_cuda_s", launch_limits_are_cuda_s},
      {"misuse_is_refused", misuse_is_refused},
      {"multiprocessor_count", multiprocessor_count},
  };
  if (argc != 2 || !cases.count(argv[1])) {
    std::fprintf(stderr, "usage: %s <case>; cases:", argv[0]);
    for (const auto& [name, _] : cases) std::fprintf(stderr, " %s", name.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  return cases.at(argv[1])() ? 0 : 1;
}
