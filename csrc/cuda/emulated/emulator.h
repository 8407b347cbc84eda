// A CUDA grid on the host, so that the memory walks of kernels.cu (grid-stride
// sweeps, 16-byte packs, shuffle-packed masks, per-channel sums in shared
// memory) can be tested where there is no GPU (`make cuda-emulate`).
//
// Each thread of a block is a fiber on the calling thread. __syncthreads()
// and __shfl_xor_sync() switch fibers until every thread of the block (every
// lane of the warp) has arrived, so shared memory and shuffles see what they
// would see on a GPU; a barrier some thread never reaches, which would hang a
// GPU, is an error naming the kernel's launch. Blocks run one after another,
// and launches are checked against CUDA's limits on grid and block sizes.
//
// What it cannot check: the device math (this is host code, so activations.h
// takes its host forms: __CUDA_ARCH__ is not defined), speed, and races
// between blocks (they never overlap here).
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <type_traits>

namespace torch_act::cuda::emulated {

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

// The running fiber's place in its grid.
const dim3& thread_index();
const dim3& block_index();
const dim3& block_dim();
const dim3& grid_dim();

void sync_threads();
// Lane l gets the word lane l ^ offset passed; every lane of the warp must call.
uint64_t exchange_in_warp(unsigned lanes, uint64_t word, int offset);

template <typename T>
T shfl_xor(unsigned lanes, T value, int offset) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= sizeof(uint64_t));
  uint64_t word = 0;
  std::memcpy(&word, &value, sizeof(T));
  word = exchange_in_warp(lanes, word, offset);
  std::memcpy(&value, &word, sizeof(T));
  return value;
}

// Runs body() as every thread of every block of the grid, blocks in order.
void run_grid(dim3 grid, dim3 block, const std::function<void()>& body);

// The multiprocessor count the emulated GPU reports, which launches size their
// grids by: TORCH_ACT_EMULATED_SMS, else 1, so that every grid-stride loop
// sweeps its range several times on tensors of a few hundred thousand elements.
int multiprocessor_count();

}  // namespace torch_act::cuda::emulated

// CUDA's words for kernels.cu, compiled as host C++. A block's shared memory is
// a function-local static: blocks run one at a time on their launching thread.
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __shared__ static thread_local
#define threadIdx (::torch_act::cuda::emulated::thread_index())
#define blockIdx (::torch_act::cuda::emulated::block_index())
#define blockDim (::torch_act::cuda::emulated::block_dim())
#define gridDim (::torch_act::cuda::emulated::grid_dim())
#define __syncthreads() ::torch_act::cuda::emulated::sync_threads()
#define __shfl_xor_sync(lanes, value, offset) ::torch_act::cuda::emulated::shfl_xor(lanes, value, offset)
