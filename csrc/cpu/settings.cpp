// Run-time CPU settings: capability choice from cpuid and the environment,
// the streaming-store threshold, page residency (mincore).
#include "settings.h"

#include <c10/util/Exception.h>

#include <cpuid.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <string>

namespace torch_act::cpu {
namespace {

struct Cpuid {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
};

Cpuid cpuid(unsigned leaf, unsigned subleaf = 0) {
  Cpuid r;
  if (!__get_cpuid_count(leaf, subleaf, &r.eax, &r.ebx, &r.ecx, &r.edx)) return Cpuid{};
  return r;
}

bool bit(unsigned reg, int b) { return (reg >> b) & 1u; }

// The register state the OS saves on context switches (XCR0).
uint64_t os_saved_state() {
  if (!bit(cpuid(1).ecx, 27)) return 0;  // no OSXSAVE: no XGETBV
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

// Every feature the AVX2 build is compiled with (capability_avx2.cpp's
// target pragma): AVX, AVX2, FMA, F16C, BMI1, BMI2, LZCNT, POPCNT, and the
// OS saving the YMM registers.
bool runs_avx2_build() {
  const Cpuid l1 = cpuid(1), l7 = cpuid(7), ext = cpuid(0x80000001);
  const bool ymm_saved = (os_saved_state() & 0x6) == 0x6;
  return ymm_saved && bit(l1.ecx, 28) /* avx */ && bit(l1.ecx, 12) /* fma */ &&
         bit(l1.ecx, 29) /* f16c */ && bit(l1.ecx, 23) /* popcnt */ && bit(l7.ebx, 5) /* avx2 */ &&
         bit(l7.ebx, 3) /* bmi1 */ && bit(l7.ebx, 8) /* bmi2 */ && bit(ext.ecx, 5) /* lzcnt */;
}

// And AVX-512 F, DQ, BW, VL, with the OS saving the ZMM and mask registers.
bool runs_avx512_build() {
  const Cpuid l7 = cpuid(7);
  const bool zmm_saved = (os_saved_state() & 0xE6) == 0xE6;
  return runs_avx2_build() && zmm_saved && bit(l7.ebx, 16) /* f */ && bit(l7.ebx, 17) /* dq */ &&
         bit(l7.ebx, 30) /* bw */ && bit(l7.ebx, 31) /* vl */;
}

Capability widest_supported() {
  return runs_avx512_build() ? Capability::AVX512 : runs_avx2_build() ? Capability::AVX2 : Capability::Default;
}

// "default", "avx2", "avx512" in any case; nothing for other values.
std::optional<Capability> parse(const char* value) {
  std::string name(value);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  if (name == "default") return Capability::Default;
  if (name == "avx2") return Capability::AVX2;
  if (name == "avx512") return Capability::AVX512;
  return std::nullopt;
}

// The variable's value, or null where it is unset or empty.
const char* environment_value(const char* variable) {
  const char* value = std::getenv(variable);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

Capability pick() {
  const Capability widest = widest_supported();
  if (const char* forced = environment_value("TORCH_ACT_CPU_CAPABILITY")) {
    const auto c = parse(forced);
    TORCH_CHECK(c.has_value(), "TORCH_ACT_CPU_CAPABILITY must be default, avx2 or avx512, but is '", forced, "'");
    TORCH_CHECK(*c <= widest, "TORCH_ACT_CPU_CAPABILITY=", forced, ", but this CPU lacks ",
                *c == Capability::AVX2 ? "one of AVX2, FMA, F16C, BMI1, BMI2, LZCNT, POPCNT"
                                       : "one of AVX-512 F, DQ, BW, VL (or AVX2 and its companions)");
    return *c;
  }
  // PyTorch's own switch; values it knows that are not ours (zvector, sve...) are ignored.
  if (const char* aten = environment_value("ATEN_CPU_CAPABILITY")) {
    if (const auto c = parse(aten)) return std::min(*c, widest);
  }
  return widest;
}

}  // namespace

Capability capability() {
  static const Capability chosen = pick();
  return chosen;
}

int64_t streaming_threshold_bytes() {
  static const int64_t bytes = [] {
    const char* value = environment_value("TORCH_ACT_STREAMING_BYTES");
    if (value == nullptr) return int64_t{32} << 20;
    char* end = nullptr;
    const long long v = std::strtoll(value, &end, 10);
    TORCH_CHECK(end != value && *end == '\0' && v >= 0,
                "TORCH_ACT_STREAMING_BYTES must be a byte count >= 0, but is '", value, "'");
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

}  // namespace torch_act::cpu
