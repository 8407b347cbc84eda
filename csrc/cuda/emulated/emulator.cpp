// The emulator's scheduler: a block's threads are fibers, resumed in turn
// until each has returned; barriers and shuffles yield until their quorum has
// arrived.
#include "emulator.h"

#include <c10/util/Exception.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#if !defined(__x86_64__)
#error "the CUDA emulator (TORCH_ACT_CUDA_EMULATION=1, a test build) switches stacks in x86-64 assembly"
#endif

// Fibers switch stacks by hand: glibc's swapcontext makes a system call per
// switch (it saves the signal mask), and a block of 256 threads that meets
// __syncthreads ten times switches ~5,000 times. switch_fiber(from, to)
// pushes the callee-saved registers and the floating-point control words,
// stores the stack pointer in *from, and pops them back from `to`.
extern "C" void torch_act_emulator_switch_fiber(void** from, void* to);
asm(R"(
  .pushsection .text
  .p2align 4
  .globl torch_act_emulator_switch_fiber
  .hidden torch_act_emulator_switch_fiber
  .type torch_act_emulator_switch_fiber, @function
torch_act_emulator_switch_fiber:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size torch_act_emulator_switch_fiber, .-torch_act_emulator_switch_fiber
  .popsection
)");

namespace torch_act::cuda::emulated {
namespace {

constexpr int kWarpSize = 32;
// CUDA's launch limits (every compute capability since 3.0).
constexpr uint64_t kMaxThreadsPerBlock = 1024, kMaxGridX = 2147483647, kMaxGridYZ = 65535;
// Kernel frames are small; TORCH_CHECK's message formatting is the deepest call.
constexpr size_t kStackBytes = 256 * 1024;
constexpr const char* kPrefix = "emulated CUDA: ";

struct Barrier {
  int arrived = 0;
  uint64_t generation = 0;
};

struct StackBounds {
  const void* bottom = nullptr;
  size_t size = 0;
};

struct Fiber {
  void* stack_pointer = nullptr;  // where switch_fiber left it
  dim3 index;
  bool done = false;
};

// The launch running on this thread, and the state of its current block.
struct Launch {
  dim3 grid, block, block_index;
  const std::function<void()>* body = nullptr;
  void* scheduler = nullptr;  // the launching thread's stack pointer while a fiber runs
  StackBounds scheduler_stack;  // its extent (AddressSanitizer builds)
  std::vector<Fiber> fibers;
  int current = 0;
  int live = 0;  // threads of the block not yet returned
  std::vector<int> warp_live;
  Barrier block_barrier;
  std::vector<Barrier> warp_barriers;
  std::vector<uint64_t> lane_words;
  // Arrivals, releases and returns: a round of the scheduler without one is a deadlock.
  uint64_t progress = 0;
  std::string error;
};

thread_local Launch* running = nullptr;

Launch& current_launch() {
  TORCH_CHECK(running != nullptr, "emulated CUDA: a device function called outside a kernel launch");
  return *running;
}

char* stack_of(int fiber) {  // reused by every launch on this thread
  thread_local std::vector<std::unique_ptr<char[]>> stacks;
  while (static_cast<int>(stacks.size()) <= fiber) stacks.emplace_back(new char[kStackBytes]);
  return stacks[fiber].get();
}

int warp_size_of(const Launch& l, int warp) {
  const int threads = static_cast<int>(l.fibers.size());
  return std::min(kWarpSize, threads - warp * kWarpSize);
}

// Switches to the stack at `target`. AddressSanitizer keeps a shadow of each
// stack, so in its builds it is told of every switch, and of a fiber leaving
// for good (its fake frames are dropped).
void switch_to(void** save, void* target, StackBounds target_stack, bool leaving_for_good) {
#if defined(__SANITIZE_ADDRESS__)
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(leaving_for_good ? nullptr : &fake_stack, target_stack.bottom, target_stack.size);
  torch_act_emulator_switch_fiber(save, target);
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#else
  (void)target_stack;
  (void)leaving_for_good;
  torch_act_emulator_switch_fiber(save, target);
#endif
}

void yield() {
  Launch& l = *running;
  Fiber& f = l.fibers[l.current];
  switch_to(&f.stack_pointer, l.scheduler, l.scheduler_stack, f.done);
}

// Ends the launch: the scheduler raises the message once this fiber is left.
// (Taken by value and moved from: this frame is never unwound.)
[[noreturn]] void fail(std::string message) {
  Launch& l = *running;
  if (l.error.empty()) l.error = std::move(message);
  l.fibers[l.current].done = true;
  yield();
  std::abort();  // a done fiber is never resumed
}

// Arrives at `barrier` and waits until `quorum()` threads have arrived; a
// thread that returns meanwhile shrinks a block's quorum (__syncthreads
// counts the threads still running) and fails a warp's (a shuffle needs
// every lane it names).
template <typename Quorum>
void arrive_and_wait(Barrier& barrier, const Quorum& quorum) {
  Launch& l = *running;
  const uint64_t generation = barrier.generation;
  ++barrier.arrived;
  ++l.progress;
  while (barrier.generation == generation) {
    if (barrier.arrived >= quorum()) {
      barrier.arrived = 0;
      ++barrier.generation;
      ++l.progress;
    } else {
      yield();
    }
  }
}

// Where a fiber starts (by switch_fiber's return): it never returns, it ends
// by switching back to the scheduler for good.
[[noreturn]] void fiber_main() {
  Launch& l = *running;
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_finish_switch_fiber(nullptr, &l.scheduler_stack.bottom, &l.scheduler_stack.size);
#endif
  std::string thrown;
  try {
    (*l.body)();
  } catch (const c10::Error& e) {
    thrown = e.what_without_backtrace();
  } catch (const std::exception& e) {
    thrown = e.what();
  }
  if (!thrown.empty()) fail(std::move(thrown));
  l.fibers[l.current].done = true;
  --l.live;
  --l.warp_live[l.current / kWarpSize];
  ++l.progress;
  yield();
  std::abort();
}

// A fresh stack that switch_fiber enters at fiber_main, as a call would.
void* start_of_stack(char* stack) {
#if defined(__SANITIZE_ADDRESS__)
  // The frames a fiber left behind when it switched away for good are still poisoned.
  ASAN_UNPOISON_MEMORY_REGION(stack, kStackBytes);
#endif
  auto top = reinterpret_cast<uintptr_t>(stack + kStackBytes) & ~uintptr_t(15);
  auto* slot = reinterpret_cast<uint64_t*>(top);
  *--slot = 0;                                              // fiber_main's return address: none
  *--slot = reinterpret_cast<uint64_t>(&fiber_main);        // switch_fiber's `ret` goes here
  for (int r = 0; r < 6; ++r) *--slot = 0;                  // rbp, rbx, r12-r15
  uint32_t control[2];                                      // this thread's MXCSR and x87 control word
  asm volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(control[0]), "=m"(control[1]));
  *--slot = uint64_t(control[0]) | uint64_t(control[1] & 0xffff) << 32;
  return slot;
}

void run_block(Launch& l) {
  const int threads = static_cast<int>(l.fibers.size());
  l.live = threads;
  for (int w = 0; w * kWarpSize < threads; ++w) l.warp_live[w] = warp_size_of(l, w);
  for (int t = 0; t < threads; ++t) {
    Fiber& f = l.fibers[t];
    f.done = false;
    f.index = dim3(t % l.block.x, t / l.block.x % l.block.y, t / (l.block.x * l.block.y));
    f.stack_pointer = start_of_stack(stack_of(t));
  }
  for (;;) {
    const uint64_t before = l.progress;
    bool any_running = false;
    for (int t = 0; t < threads; ++t) {
      if (l.fibers[t].done) continue;
      any_running = true;
      l.current = t;
      switch_to(&l.scheduler, l.fibers[t].stack_pointer, StackBounds{stack_of(t), kStackBytes}, false);
      TORCH_CHECK(l.error.empty(), l.error.rfind(kPrefix, 0) == 0 ? "" : kPrefix, l.error, " (block (",
                  l.block_index.x, ", ", l.block_index.y, ", ", l.block_index.z, "), thread ", t, ")");
    }
    if (!any_running) return;
    TORCH_CHECK(l.progress != before, "emulated CUDA: deadlock in block (", l.block_index.x, ", ", l.block_index.y,
                ", ", l.block_index.z, "): ", l.live, " threads wait at __syncthreads or __shfl_xor_sync for threads "
                "that returned or wait elsewhere (a GPU would hang or give undefined results)");
  }
}

}  // namespace

const dim3& thread_index() {
  Launch& l = current_launch();
  return l.fibers[l.current].index;
}
const dim3& block_index() { return current_launch().block_index; }
const dim3& block_dim() { return current_launch().block; }
const dim3& grid_dim() { return current_launch().grid; }

void sync_threads() {
  Launch& l = current_launch();
  arrive_and_wait(l.block_barrier, [&l] { return l.live; });
}

uint64_t exchange_in_warp(unsigned lanes, uint64_t word, int offset) {
  Launch& l = current_launch();
  const int t = l.current, warp = t / kWarpSize, lane = t % kWarpSize, size = warp_size_of(l, warp);
  const unsigned all = size == kWarpSize ? ~0u : (1u << size) - 1;
  const int source = lane ^ offset;
  if (lanes != all) fail("__shfl_xor_sync with lane mask " + std::to_string(lanes) + ": the emulator runs whole-warp shuffles only");
  if (offset < 0 || source >= size) fail("__shfl_xor_sync offset " + std::to_string(offset) + " reaches past the warp");
  // A lane returned before all have arrived: on a GPU the others would read an undefined word.
  const auto every_lane = [&l, warp, size] {
    if (l.warp_live[warp] != size) fail("a lane returned before its warp's __shfl_xor_sync (every lane must take part)");
    return size;
  };
  l.lane_words[t] = word;
  arrive_and_wait(l.warp_barriers[warp], every_lane);
  const uint64_t theirs = l.lane_words[warp * kWarpSize + source];
  // No lane writes its next word before every lane has read this one.
  arrive_and_wait(l.warp_barriers[warp], every_lane);
  return theirs;
}

void run_grid(dim3 grid, dim3 block, const std::function<void()>& body) {
  TORCH_CHECK(running == nullptr, "emulated CUDA: a kernel launched from inside a kernel");
  const uint64_t threads = uint64_t(block.x) * block.y * block.z;
  TORCH_CHECK(threads >= 1 && threads <= kMaxThreadsPerBlock, "emulated CUDA: a block of ", threads,
              " threads (CUDA allows 1 to ", kMaxThreadsPerBlock, ")");
  TORCH_CHECK(grid.x >= 1 && grid.x <= kMaxGridX && grid.y >= 1 && grid.y <= kMaxGridYZ && grid.z >= 1 &&
                  grid.z <= kMaxGridYZ,
              "emulated CUDA: grid (", grid.x, ", ", grid.y, ", ", grid.z, ") is outside CUDA's limits (x from 1 to ",
              kMaxGridX, ", y and z from 1 to ", kMaxGridYZ, ")");
  Launch l;
  l.grid = grid;
  l.block = block;
  l.body = &body;
  l.fibers.resize(threads);
  l.warp_live.resize((threads + kWarpSize - 1) / kWarpSize);
  l.warp_barriers.resize(l.warp_live.size());
  l.lane_words.resize(threads);
  struct Finish {
    ~Finish() { running = nullptr; }
  } finish;
  running = &l;
  for (unsigned z = 0; z < grid.z; ++z) {
    for (unsigned y = 0; y < grid.y; ++y) {
      for (unsigned x = 0; x < grid.x; ++x) {
        l.block_index = dim3(x, y, z);
        run_block(l);
      }
    }
  }
}

int multiprocessor_count() {
  static const int count = [] {
    const char* text = std::getenv("TORCH_ACT_EMULATED_SMS");
    if (text == nullptr || *text == '\0') return 1;
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    TORCH_CHECK(*end == '\0' && value >= 1 && value <= 1024, "TORCH_ACT_EMULATED_SMS=", text,
                ": expected a multiprocessor count from 1 to 1024");
    return static_cast<int>(value);
  }();
  return count;
}

}  // namespace torch_act::cuda::emulated
