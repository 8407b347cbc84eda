// Everything the per-capability kernel builds include, except the vector
// headers. capability_*.cpp include this first, with the default target, so
// that no inline function they share with other translation units is
// compiled for AVX2/AVX-512 (the linker keeps one copy of each, and an
// AVX-512 copy reaching the DEFAULT path would crash older CPUs). Only
// code in capability namespaces is compiled after the target switch.
#pragma once

#include "kernel_table.h"

#include <ATen/Dispatch.h>
#include <ATen/NumericUtils.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <ATen/native/Math.h>
#include <ATen/native/cpu/zmath.h>
#include <c10/macros/Macros.h>
#include <c10/util/BFloat16-math.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Exception.h>
#include <c10/util/Half.h>
#include <c10/util/Load.h>
#include <c10/util/TypeCast.h>
#include <c10/util/bit_cast.h>
#include <c10/util/complex.h>
#include <c10/util/copysign.h>
#include <c10/util/irange.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <ostream>
#include <type_traits>
#include <utility>
#include <vector>
