// CPU kernels of every torch_act op: checks, layouts and allocation here;
// the loops run in the kernel table built for this CPU (kernel_table.h,
// capability_*.cpp), picked once at run time.
#include "../checks.h"
#include "../layout.h"
#include "../ops/op_list.h"
#include "kernel_table.h"

#include <ATen/ops/zeros.h>
#include <torch/library.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>
#include <vector>

namespace torch_act::cpu {

namespace {

bool cpu_has_avx2() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("bmi2");
}

bool cpu_has_avx512() {
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

const KernelTable& pick_kernels() {
  const char* forced = std::getenv("TORCH_ACT_CPU_CAPABILITY");
  if (forced == nullptr || *forced == '\0') {
    return cpu_has_avx512() ? avx512_kernels() : cpu_has_avx2() ? avx2_kernels() : default_kernels();
  }
  std::string name(forced);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  if (name == "default") return default_kernels();
  if (name == "avx2") {
    TORCH_CHECK(cpu_has_avx2(), "TORCH_ACT_CPU_CAPABILITY=avx2, but this CPU lacks AVX2/FMA/BMI2");
    return avx2_kernels();
  }
  if (name == "avx512") {
    TORCH_CHECK(cpu_has_avx512(), "TORCH_ACT_CPU_CAPABILITY=avx512, but this CPU lacks AVX-512 (F/BW/VL/DQ)");
    return avx512_kernels();
  }
  TORCH_CHECK(false, "TORCH_ACT_CPU_CAPABILITY must be default, avx2 or avx512, but is '", forced, "'");
}

}  // namespace

const KernelTable& kernels() {
  static const KernelTable& table = pick_kernels();
  return table;
}

int64_t streaming_threshold_bytes() {
  static const int64_t bytes = [] {
    const char* set = std::getenv("TORCH_ACT_STREAMING_BYTES");
    if (set == nullptr || *set == '\0') return int64_t{32} << 20;
    char* end = nullptr;
    const long long v = std::strtoll(set, &end, 10);
    TORCH_CHECK(end != set && *end == '\0' && v >= 0,
                "TORCH_ACT_STREAMING_BYTES must be a byte count >= 0, but is '", set, "'");
    return static_cast<int64_t>(v);
  }();
  return bytes;
}

bool pages_resident(const void* p, int64_t bytes) {
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto first = reinterpret_cast<uintptr_t>(p) & ~(page - 1);
  const auto last = (reinterpret_cast<uintptr_t>(p) + bytes - 1) & ~(page - 1);
  for (uintptr_t at : {first, last}) {
    unsigned char resident = 0;
    if (mincore(reinterpret_cast<void*>(at), page, &resident) != 0 || (resident & 1) == 0) return false;
  }
  return true;
}

namespace {

using at::Tensor;
using TensorPair = std::tuple<Tensor, Tensor>;

// --- layout: every tensor a loop reads or writes shares one dense layout ----

Tensor dense(const Tensor& t) {
  return t.is_non_overlapping_and_dense() ? t : empty_output_like(t).copy_(t);
}

bool same_strides(const Tensor& a, const Tensor& b) {
  for (int64_t d = 0; d < a.dim(); ++d) {
    if (a.size(d) != 1 && a.stride(d) != b.stride(d)) return false;
  }
  return true;
}

// t's values laid out as `ref` (dense), copying only when they differ.
Tensor in_layout_of(const Tensor& t, const Tensor& ref) {
  if (t.is_non_overlapping_and_dense() && same_strides(t, ref)) return t;
  return at::empty_like(ref).copy_(t);
}

// Runs fill(dense_view) on the input itself when it is dense, else on a
// contiguous copy written back afterwards.
template <typename Fill>
void in_place(const Tensor& input, const Fill& fill) {
  if (input.is_non_overlapping_and_dense()) {
    fill(input);
  } else {
    Tensor work = input.contiguous();
    fill(work);
    input.copy_(work);
  }
}

uint64_t* mask_words(const Tensor& mask) {
  return reinterpret_cast<uint64_t*>(mask.data_ptr<uint8_t>());
}

Tensor aligned_mask(const Tensor& mask) {
  // Words are read as uint64_t: a mask view at an odd offset is copied.
  Tensor m = mask.contiguous();
  if (reinterpret_cast<uintptr_t>(m.const_data_ptr()) % alignof(uint64_t) != 0) m = m.clone();
  return m;
}

// The activation a kernel applies: its kind and hyper-parameter.
struct Activation {
  Kind kind;
  double param = 0.0;
};

Tensor mask_backward(Activation act, const Tensor& grad_output, const Tensor& mask,
                     at::IntArrayRef dim_order, std::string_view op) {
  check_floating(grad_output, op, "grad_output");
  check_mask(mask, grad_output, op);
  check_dim_order(dim_order, grad_output.dim(), op);
  Tensor grad_input = empty_in_dim_order(grad_output, dim_order);
  // Memory of both now runs in the mask's bit order.
  Tensor g = (is_identity_order(dim_order) ? grad_output : grad_output.permute(dim_order)).contiguous();
  Tensor words = aligned_mask(mask);
  kernels().mask_backward(act.kind, act.param, g.scalar_type(), g.const_data_ptr(),
                          mask_words(words), grad_input.data_ptr(), g.numel());
  return grad_input;
}

Tensor forward(Activation act, const Tensor& input, std::string_view op) {
  check_floating(input, op, "input");
  Tensor x = dense(input);
  Tensor y = empty_output_like(x);
  kernels().forward(act.kind, act.param, x.scalar_type(), x.const_data_ptr(), y.data_ptr(), x.numel());
  return y;
}

void forward_(Activation act, const Tensor& input, std::string_view op) {
  check_floating(input, op, "input");
  in_place(input, [&](const Tensor& x) {
    kernels().forward(act.kind, act.param, x.scalar_type(), x.const_data_ptr(), x.data_ptr(), x.numel());
  });
}

TensorPair forward_with_mask(Activation act, const Tensor& input, std::string_view op) {
  check_floating(input, op, "input");
  Tensor x = dense(input);
  Tensor y = empty_output_like(x);
  Tensor mask = empty_mask_for(x);
  kernels().forward_with_mask(act.kind, act.param, x.scalar_type(), x.const_data_ptr(), y.data_ptr(),
                              mask_words(mask), x.numel());
  return {y, mask};
}

// In place; bits follow the input's memory order when it is dense, else
// row-major order (autograd/functions.cpp picks the matching dim order).
Tensor forward_with_mask_(Activation act, const Tensor& input, std::string_view op) {
  check_floating(input, op, "input");
  Tensor mask = empty_mask_for(input);
  in_place(input, [&](const Tensor& x) {
    kernels().forward_with_mask(act.kind, act.param, x.scalar_type(), x.const_data_ptr(),
                                x.data_ptr(), mask_words(mask), x.numel());
  });
  return mask;
}

Tensor saved_backward(Activation act, Saved saved_kind, const Tensor& grad_output,
                      const Tensor& saved, std::string_view op, std::string_view saved_arg) {
  check_floating(saved, op, saved_arg);
  check_like(grad_output, saved, op, "grad_output", saved_arg);
  Tensor s = dense(saved);
  Tensor g = in_layout_of(grad_output, s);
  Tensor grad_input = empty_output_like(s);
  kernels().saved_backward(act.kind, act.param, saved_kind, s.scalar_type(), g.const_data_ptr(),
                           s.const_data_ptr(), grad_input.data_ptr(), s.numel());
  return grad_input;
}

// --- the ops -----------------------------------------------------------------

constexpr Activation kRelu{Kind::Relu};
constexpr Activation kSigmoid{Kind::Sigmoid};
constexpr Activation kTanh{Kind::Tanh};
Activation leaky(double slope) { return {Kind::LeakyRelu, slope}; }
Activation elu_of(double alpha) { return {Kind::Elu, alpha}; }

Tensor relu(const Tensor& input) { return forward(kRelu, input, "relu"); }
void relu_(const Tensor& input) { forward_(kRelu, input, "relu_"); }
TensorPair relu_forward(const Tensor& input) { return forward_with_mask(kRelu, input, "relu_forward"); }
Tensor relu_forward_(const Tensor& input) { return forward_with_mask_(kRelu, input, "relu_forward_"); }
Tensor relu_backward(const Tensor& grad_output, const Tensor& mask, at::IntArrayRef dim_order) {
  return mask_backward(kRelu, grad_output, mask, dim_order, "relu_backward");
}

Tensor leaky_relu(const Tensor& input, double slope) { return forward(leaky(slope), input, "leaky_relu"); }
void leaky_relu_(const Tensor& input, double slope) { forward_(leaky(slope), input, "leaky_relu_"); }
TensorPair leaky_relu_forward(const Tensor& input, double slope) {
  return forward_with_mask(leaky(slope), input, "leaky_relu_forward");
}
Tensor leaky_relu_forward_(const Tensor& input, double slope) {
  return forward_with_mask_(leaky(slope), input, "leaky_relu_forward_");
}
Tensor leaky_relu_backward(const Tensor& grad_output, const Tensor& mask,
                           at::IntArrayRef dim_order, double slope) {
  return mask_backward(leaky(slope), grad_output, mask, dim_order, "leaky_relu_backward");
}

Tensor elu(const Tensor& input, double alpha) { return forward(elu_of(alpha), input, "elu"); }
void elu_(const Tensor& input, double alpha) { forward_(elu_of(alpha), input, "elu_"); }
Tensor elu_backward(const Tensor& grad_output, const Tensor& saved, double alpha,
                    bool saved_is_output) {
  return saved_backward(elu_of(alpha), saved_is_output ? Saved::Output : Saved::Input, grad_output,
                        saved, "elu_backward", "saved");
}

Tensor sigmoid(const Tensor& input) { return forward(kSigmoid, input, "sigmoid"); }
Tensor sigmoid_backward(const Tensor& grad_output, const Tensor& output) {
  return saved_backward(kSigmoid, Saved::Output, grad_output, output, "sigmoid_backward", "output");
}

Tensor tanh(const Tensor& input) { return forward(kTanh, input, "tanh"); }
Tensor tanh_backward(const Tensor& grad_output, const Tensor& output) {
  return saved_backward(kTanh, Saved::Output, grad_output, output, "tanh_backward", "output");
}

// --- PReLU: the slope varies along dim 1 ---------------------------------------

ChannelView channel_view(const Tensor& dense_input, const Tensor& weight) {
  const int64_t n = dense_input.numel();
  if (weight.numel() == 1) return {1, 1, std::max<int64_t>(n, 1)};
  if (n == 0) return {0, weight.numel(), 1};
  const int64_t channels = dense_input.size(1);
  const int64_t inner = dense_input.stride(1);
  return {n / (channels * inner), channels, inner};
}

Tensor prelu(const Tensor& input, const Tensor& weight) {
  check_prelu_args(input, weight, "prelu");
  Tensor x = dense(input);
  Tensor w = weight.contiguous();
  Tensor y = empty_output_like(x);
  if (x.numel() > 0) {
    kernels().prelu_forward(x.scalar_type(), channel_view(x, w), x.const_data_ptr(),
                            w.const_data_ptr(), y.data_ptr());
  }
  return y;
}

// grad_input and grad_weight in one pass; the kernel leaves per-chunk channel
// sums, added here in chunk order (bitwise the same on every run).
TensorPair prelu_backward(const Tensor& grad_output, const Tensor& input, const Tensor& weight) {
  check_prelu_args(input, weight, "prelu_backward");
  check_like(grad_output, input, "prelu_backward", "grad_output", "input");
  Tensor x = dense(input);
  Tensor g = in_layout_of(grad_output, x);
  Tensor w = weight.contiguous();
  Tensor grad_input = empty_output_like(x);
  Tensor grad_weight = at::empty(weight.sizes(), weight.options());
  const ChannelView view = channel_view(x, w);
  const int64_t n = x.numel();
  // Chunks of at least 16 elements per channel bound `partial` to 1/8 of an
  // fp32 input even with thousands of channels; whole 64-element words keep
  // every chunk's start aligned for streaming stores.
  const int64_t chunk = std::max<int64_t>(kGrainSize, (16 * view.channels + 63) / 64 * 64);
  const int64_t chunks = std::max<int64_t>(1, (n + chunk - 1) / chunk);
  Tensor partial = at::zeros({chunks, view.channels}, x.options().dtype(at::kDouble));
  double* pp = partial.data_ptr<double>();
  if (n > 0) {
    kernels().prelu_backward(x.scalar_type(), view, g.const_data_ptr(), x.const_data_ptr(),
                             w.const_data_ptr(), grad_input.data_ptr(), pp, chunk);
  }
  // Column sums in chunk order, in double, then rounded once to weight's dtype.
  Tensor totals = at::zeros({view.channels}, partial.options());
  double* tp = totals.data_ptr<double>();
  for (int64_t k = 0; k < chunks; ++k) {
    for (int64_t c = 0; c < view.channels; ++c) tp[c] += pp[k * view.channels + c];
  }
  grad_weight.copy_(totals.reshape(weight.sizes()));
  return {grad_input, grad_weight};
}

}  // namespace
}  // namespace torch_act::cpu

// Which kernel table this process uses: "DEFAULT", "AVX2" or "AVX512".
static std::string cpu_capability() { return torch_act::cpu::kernels().capability; }

TORCH_LIBRARY_FRAGMENT(torch_act, m) { m.def("cpu_capability() -> str", &cpu_capability); }

TORCH_LIBRARY_IMPL(torch_act, CPU, m) {
  TORCH_ACT_REGISTER_ALL(m, torch_act::cpu);
}
