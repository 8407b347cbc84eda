// The torch_act operator library: the schema of every op (op_set.h, from
// activation_list.h), and of the library's queries: cpu_capability(),
// declarations(), dim_order() and mask_bit_order(). Kernels are registered by each
// backend: cpu/register.cpp, ops/meta.cpp, autograd/register.cpp,
// ops/autocast.cpp.
#include "../layout.h"
#include "op_set.h"

#include <torch_act/ops.h>

#include <string>

namespace {

// Each activation's declaration as JSON, for the Python package (registry.py):
// [{"name": "relu", "module": "ReLU", "family": "mask", "inplace": true,
//   "random": false}, ...], in the order of activation_list.h. Names and
// families are identifiers and fixed words: nothing to escape.
std::string declarations_json() {
  std::string json = "[";
  const auto add = [&json]<typename P>() {
    if (json.size() > 1) json += ", ";
    json += "{\"name\": \"" + std::string(P::name) + "\", \"module\": \"" + std::string(P::struct_name) +
            "\", \"family\": \"" + std::string(torch_act::family_name(P::family)) +
            "\", \"inplace\": " + (P::has_inplace ? "true" : "false") +
            ", \"random\": " + (P::random ? "true" : "false") + "}";
  };
  torch_act::for_each_type(torch_act::params::Elementwise{}, add);
  torch_act::for_each_type(torch_act::params::Weighted{}, add);
  torch_act::for_each_type(torch_act::params::Gated{}, add);
  return json + "]";
}

}  // namespace

TORCH_LIBRARY(torch_act, m) {
  torch_act::ops::define_all(m);
  // Which CPU kernel build this process uses: "DEFAULT", "AVX2" or "AVX512".
  m.def("cpu_capability() -> str");
  // What activation_list.h declares, as data (see declarations_json).
  m.def("declarations() -> str", [] { return declarations_json(); });
  // layout.h's orders, for Python code that must agree with them (DTensor's
  // mask handlers, distributed.py): the dims of `input` from outermost to
  // innermost in memory, and the order of the bits a mask op writes for it.
  // They read sizes and strides only, so a meta tensor will do.
  m.def("dim_order(Tensor input) -> int[]", [](const at::Tensor& t) { return torch_act::dim_order_of(t); });
  m.def("mask_bit_order(Tensor input) -> int[]", [](const at::Tensor& t) { return torch_act::mask_bit_order(t); });
}

// Referenced by every program including <torch_act/ops.h>: keeps this
// library linked (see there).
int torch_act::detail::link_anchor() { return 0; }
