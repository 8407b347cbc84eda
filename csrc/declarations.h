// What every layer knows of an activation before its math: its name, its
// hyper-parameters and what its backward keeps, generated from the one list
// in torch_act/include/torch_act/activation_list.h. Nothing here depends on a
// CPU capability, so the op layer, the kernels of every capability and
// autograd share these types.
#pragma once

#include <torch_act/activation_list.h>

#include <c10/util/string_view.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

namespace torch_act {

// An activation's family: what its backward keeps (docs/ARCHITECTURE.md).
// Kernels, Meta functions, autograd and the op set are written once per
// family; the list line names the family, and the math struct provides the
// forms its family calls (checked at compile time in activations.h).
enum class Family {
  Mask,            // one bit per element: where the derivative is the identity
  Output,          // the forward result
  Input,           // the forward input
  OutputOrInput,   // either, chosen from the hyper-parameters (the math struct's saves_output())
  InputAndWeight,  // the input and a learned per-channel weight
  GateAndUp,       // both inputs of a gated activation act(gate) * up
};

// The family's name for people and for Python (torch.ops.torch_act.declarations()).
constexpr std::string_view family_name(Family family) {
  switch (family) {
    case Family::Mask: return "mask";
    case Family::Output: return "output";
    case Family::Input: return "input";
    case Family::OutputOrInput: return "output or input";
    case Family::InputAndWeight: return "input and weight";
    case Family::GateAndUp: return "gate and up";
  }
  return "";
}

template <typename... Ts>
struct List {};

namespace detail {

// How a hyper-parameter of C++ type T is spelled in a schema and stored.
template <typename T>
struct schema_type;
template <>
struct schema_type<double> {
  static constexpr const char* spelling = "float";
  using stored = double;
};
template <>
struct schema_type<bool> {
  static constexpr const char* spelling = "bool";
  using stored = bool;
};
template <>
struct schema_type<int64_t> {
  static constexpr const char* spelling = "int";
  using stored = int64_t;
};
template <>
struct schema_type<c10::string_view> {
  static constexpr const char* spelling = "str";
  using stored = std::string;  // owned: autograd nodes outlive the call
};
template <typename T>
using stored_t = typename schema_type<T>::stored;

template <typename First, typename... Rest>
struct DropFirst {
  using type = List<Rest...>;
};

}  // namespace detail

// The library-internal forms of a PARAMS entry (see activation_list.h).
#define TORCH_ACT_TYPES_NO_PARAMS
#define TORCH_ACT_TYPES_PARAM(type, name, value) type
#define TORCH_ACT_NAMES_NO_PARAMS
#define TORCH_ACT_NAMES_PARAM(type, name, value) name
#define TORCH_ACT_MEMBERS_NO_PARAMS
#define TORCH_ACT_MEMBERS_PARAM(type, name, value) ::torch_act::detail::stored_t<type> name = value;
#define TORCH_ACT_TYPES_PARAM2(t1, n1, v1, t2, n2, v2) t1, t2
#define TORCH_ACT_NAMES_PARAM2(t1, n1, v1, t2, n2, v2) n1, n2
#define TORCH_ACT_MEMBERS_PARAM2(t1, n1, v1, t2, n2, v2) TORCH_ACT_MEMBERS_PARAM(t1, n1, v1) TORCH_ACT_MEMBERS_PARAM(t2, n2, v2)
#define TORCH_ACT_TYPES_REQUIRED2(t1, n1, t2, n2) t1, t2
#define TORCH_ACT_NAMES_REQUIRED2(t1, n1, t2, n2) n1, n2
#define TORCH_ACT_MEMBERS_REQUIRED2(t1, n1, t2, n2) \
  ::torch_act::detail::stored_t<t1> n1{}; ::torch_act::detail::stored_t<t2> n2{};
#define TORCH_ACT_SCHEMA_NO_PARAMS
#define TORCH_ACT_SCHEMA_PARAM(type, name, value) \
  +", " + ::torch_act::detail::schema_type<type>::spelling + " " #name "=" #value
#define TORCH_ACT_SCHEMA_PARAM2(t1, n1, v1, t2, n2, v2) TORCH_ACT_SCHEMA_PARAM(t1, n1, v1) TORCH_ACT_SCHEMA_PARAM(t2, n2, v2)
#define TORCH_ACT_SCHEMA_REQUIRED2(t1, n1, t2, n2)                         \
  +", " + ::torch_act::detail::schema_type<t1>::spelling + " " #n1 ", " + \
  ::torch_act::detail::schema_type<t2>::spelling + " " #n2
#define TORCH_ACT_TYPES_RANDOM_SLOPES(lo, hi) double, double, bool, int64_t
#define TORCH_ACT_NAMES_RANDOM_SLOPES(lo, hi) lower, upper, training, seed
#define TORCH_ACT_MEMBERS_RANDOM_SLOPES(lo, hi) double lower = lo; double upper = hi; bool training = false; int64_t seed = 0;
#define TORCH_ACT_SCHEMA_RANDOM_SLOPES(lo, hi) \
  +", float lower=" #lo ", float upper=" #hi ", bool training=False, int seed=0"
#define TORCH_ACT_RANDOM_NO_PARAMS false
#define TORCH_ACT_RANDOM_PARAM(...) false
#define TORCH_ACT_RANDOM_PARAM2(...) false
#define TORCH_ACT_RANDOM_REQUIRED2(...) false
#define TORCH_ACT_RANDOM_RANDOM_SLOPES(...) true
#define TORCH_ACT_HAS_INPLACE_INPLACE true
#define TORCH_ACT_HAS_INPLACE_OUT_OF_PLACE false
#define TORCH_ACT_FAMILY_MASK ::torch_act::Family::Mask
#define TORCH_ACT_FAMILY_OUTPUT ::torch_act::Family::Output
#define TORCH_ACT_FAMILY_INPUT ::torch_act::Family::Input
#define TORCH_ACT_FAMILY_OUTPUT_OR_INPUT ::torch_act::Family::OutputOrInput

// params::<name>: an activation's identity (name, family) and
// hyper-parameters. The math struct of the activation (csrc/activations.h)
// derives from it.
namespace params {

#define TORCH_ACT_PARAMS_STRUCT(op, Struct, family_, inplace, params)                     \
  struct op {                                                                             \
    using params_type = op;                                                               \
    static constexpr std::string_view name = #op;                                        \
    static constexpr std::string_view struct_name = #Struct;                             \
    static constexpr Family family = TORCH_ACT_FAMILY_##family_;                         \
    static constexpr bool has_inplace = TORCH_ACT_HAS_INPLACE_##inplace;                 \
    /* Random in training: the op takes a seed (RReLU's slopes). */                      \
    static constexpr bool random = TORCH_ACT_PARAMS(RANDOM, params);                     \
    /* The C++ types of the op's hyper-parameter arguments, in schema order. */          \
    using Args = std::tuple<TORCH_ACT_PARAMS(TYPES, params)>;                            \
    TORCH_ACT_PARAMS(MEMBERS, params)                                                    \
    auto tie() const { return std::tie(TORCH_ACT_PARAMS(NAMES, params)); }               \
    auto tie() { return std::tie(TORCH_ACT_PARAMS(NAMES, params)); }                     \
    /* ", float alpha=1.0": the hyper-parameters' part of every schema. */               \
    static std::string schema() { return std::string() TORCH_ACT_PARAMS(SCHEMA, params); } \
  };
TORCH_ACT_ELEMENTWISE_ACTIVATIONS(TORCH_ACT_PARAMS_STRUCT)
#define TORCH_ACT_FAMILY_GATE_AND_UP ::torch_act::Family::GateAndUp
#define TORCH_ACT_GATED_PARAMS_STRUCT(op, Struct, params) \
  TORCH_ACT_PARAMS_STRUCT(op, Struct, GATE_AND_UP, OUT_OF_PLACE, params)
TORCH_ACT_GATED_ACTIVATIONS(TORCH_ACT_GATED_PARAMS_STRUCT)
#undef TORCH_ACT_GATED_PARAMS_STRUCT
#undef TORCH_ACT_PARAMS_STRUCT

#define TORCH_ACT_PARAMS_STRUCT(op, Struct)                          \
  struct op {                                                         \
    using params_type = op;                                           \
    static constexpr std::string_view name = #op;                    \
    static constexpr std::string_view struct_name = #Struct;         \
    static constexpr Family family = Family::InputAndWeight;          \
    static constexpr bool has_inplace = false;                        \
    static constexpr bool random = false;                             \
    using Args = std::tuple<>;                                        \
    auto tie() const { return std::tie(); }                           \
    auto tie() { return std::tie(); }                                 \
    static std::string schema() { return std::string(); }             \
  };
TORCH_ACT_WEIGHTED_ACTIVATIONS(TORCH_ACT_PARAMS_STRUCT)
#undef TORCH_ACT_PARAMS_STRUCT

#define TORCH_ACT_COMMA_NAME(op, ...) , op
using Elementwise = detail::DropFirst<void TORCH_ACT_ELEMENTWISE_ACTIVATIONS(TORCH_ACT_COMMA_NAME)>::type;
using Weighted = detail::DropFirst<void TORCH_ACT_WEIGHTED_ACTIVATIONS(TORCH_ACT_COMMA_NAME)>::type;
using Gated = detail::DropFirst<void TORCH_ACT_GATED_ACTIVATIONS(TORCH_ACT_COMMA_NAME)>::type;
#undef TORCH_ACT_COMMA_NAME

}  // namespace params

// Params from the op's arguments (a str argument is stored as std::string).
template <typename Params, typename... A>
Params make_params(const A&... args) {
  return Params{detail::stored_t<A>(args)...};
}

// Calls f.template operator()<T>() for each type T of a List, in order.
template <typename F, typename... Ts>
void for_each_type(List<Ts...>, const F& f) {
  (f.template operator()<Ts>(), ...);
}

}  // namespace torch_act
