// Every activation torch_act ships, one line each: the single list from which
// the schemas, kernels of every backend, autograd, the typed dispatcher calls
// (ops.h) and the C++ functions (functional.h) are generated. The math of
// each lives in csrc/activations.h, in the struct named in the second column.
//
// Elementwise activations: X(name, Struct, family, inplace, PARAMS)
//   name     the op and function name (torch.nn.functional's)
//   Struct   the math struct in csrc/activations.h (and the node name)
//   family   what backward keeps, which picks the kernels, Meta functions,
//            autograd and ops the activation gets (docs/ARCHITECTURE.md):
//            MASK (one bit per element), OUTPUT, INPUT, or OUTPUT_OR_INPUT
//            (either, picked from the hyper-parameters by the math struct)
//   inplace  INPLACE (also name_(input, ...)) or OUT_OF_PLACE
//   PARAMS   NO_PARAMS; PARAM(C++ type, name, default): torch.nn's name
//            and default of the hyper-parameter; PARAM2(type, name, default,
//            type, name, default) for two; REQUIRED2(type, name, type, name)
//            for two without defaults (Threshold's, as torch.nn's);
//            RANDOM_SLOPES(lower, upper): RReLU's float lower, float upper
//            with these defaults, bool training = false and int seed = 0:
//            the op is a pure function of its seed, which the public
//            function draws from torch's default generator (training only)
// Each line gives, for users,
//   at::Tensor torch_act::name(const at::Tensor& input, type param = default);
//   at::Tensor& torch_act::name_(at::Tensor& input, type param = default);  // INPLACE
//
// Activations with a learned weight per channel (dim 1), family INPUT_AND_WEIGHT
// (backward keeps the input and the weight): X(name, Struct)
//   at::Tensor torch_act::name(const at::Tensor& input, const at::Tensor& weight);
//
// Gated activations, act(gate) * up on two tensors of one shape, family
// GATE_AND_UP (backward keeps both), with the PARAMS of their activation
// (csrc/activations.h names it): X(name, Struct, PARAMS)
//   at::Tensor torch_act::name(const at::Tensor& gate, const at::Tensor& up, type param = default);
// sigmoid_glu is F.glu's: glu(input) = sigmoid_glu(second half, first half).
#pragma once

#define TORCH_ACT_ELEMENTWISE_ACTIVATIONS(X)                                                        \
  X(relu, ReLU, MASK, INPLACE, NO_PARAMS)                                                           \
  X(relu6, ReLU6, MASK, INPLACE, NO_PARAMS)                                                         \
  X(hardtanh, Hardtanh, MASK, INPLACE, PARAM2(double, min_val, -1.0, double, max_val, 1.0))         \
  X(threshold, Threshold, MASK, INPLACE, REQUIRED2(double, threshold, double, value))               \
  X(hardshrink, Hardshrink, MASK, OUT_OF_PLACE, PARAM(double, lambd, 0.5))                          \
  X(softshrink, Softshrink, MASK, OUT_OF_PLACE, PARAM(double, lambd, 0.5))                          \
  X(hardsigmoid, Hardsigmoid, MASK, INPLACE, NO_PARAMS)                                             \
  X(leaky_relu, LeakyReLU, MASK, INPLACE, PARAM(double, negative_slope, 0.01))                      \
  X(rrelu, RReLU, MASK, INPLACE, RANDOM_SLOPES(0.125, 0.3333333333333333))                          \
  X(elu, ELU, OUTPUT_OR_INPUT, INPLACE, PARAM(double, alpha, 1.0))                                  \
  X(selu, SELU, INPUT, INPLACE, NO_PARAMS)                                                          \
  X(celu, CELU, OUTPUT, INPLACE, PARAM(double, alpha, 1.0))                                         \
  X(sigmoid, Sigmoid, OUTPUT, OUT_OF_PLACE, NO_PARAMS)                                              \
  X(tanh, Tanh, OUTPUT, OUT_OF_PLACE, NO_PARAMS)                                                    \
  X(gelu, GELU, INPUT, OUT_OF_PLACE, PARAM(std::string_view, approximate, "none"))                  \
  X(silu, SiLU, INPUT, INPLACE, NO_PARAMS)                                                          \
  X(hardswish, Hardswish, INPUT, INPLACE, NO_PARAMS)                                                \
  X(mish, Mish, INPUT, INPLACE, NO_PARAMS)                                                          \
  X(softplus, Softplus, INPUT, OUT_OF_PLACE, PARAM2(double, beta, 1.0, double, threshold, 20.0))    \
  X(logsigmoid, LogSigmoid, INPUT, OUT_OF_PLACE, NO_PARAMS)                                         \
  X(softsign, Softsign, INPUT, OUT_OF_PLACE, NO_PARAMS)                                             \
  X(tanhshrink, Tanhshrink, INPUT, OUT_OF_PLACE, NO_PARAMS)

#define TORCH_ACT_WEIGHTED_ACTIVATIONS(X) X(prelu, PReLU)

#define TORCH_ACT_GATED_ACTIVATIONS(X)                                  \
  X(swiglu, SwiGLU, NO_PARAMS)                                          \
  X(geglu, GeGLU, PARAM(std::string_view, approximate, "none"))         \
  X(reglu, ReGLU, NO_PARAMS)                                            \
  X(sigmoid_glu, SigmoidGLU, NO_PARAMS)

// --- the forms a PARAMS entry expands to ------------------------------------
// TORCH_ACT_PARAMS(FORM, PARAMS) pastes FORM onto the entry's first token, so
// each form is one macro per kind of entry. The forms used inside the
// library only are in csrc/declarations.h.
#define TORCH_ACT_PARAMS(form, params) TORCH_ACT_##form##_##params
// ", type name = default": parameters of a declaration.
#define TORCH_ACT_DECL_NO_PARAMS
#define TORCH_ACT_DECL_PARAM(type, name, value) , type name = value
#define TORCH_ACT_DECL_PARAM2(t1, n1, v1, t2, n2, v2) , t1 n1 = v1, t2 n2 = v2
#define TORCH_ACT_DECL_REQUIRED2(t1, n1, t2, n2) , t1 n1, t2 n2
#define TORCH_ACT_DECL_RANDOM_SLOPES(lo, hi) , double lower = lo, double upper = hi, bool training = false, int64_t seed = 0
// ", name": arguments of a call.
#define TORCH_ACT_ARGS_NO_PARAMS
#define TORCH_ACT_ARGS_PARAM(type, name, value) , name
#define TORCH_ACT_ARGS_PARAM2(t1, n1, v1, t2, n2, v2) , n1, n2
#define TORCH_ACT_ARGS_REQUIRED2(t1, n1, t2, n2) , n1, n2
#define TORCH_ACT_ARGS_RANDOM_SLOPES(lo, hi) , lower, upper, training, seed
// The public functions' forms (functional.h): as DECL and ARGS, except that
// a random activation's seed is drawn, not passed (detail::draw_seed).
#define TORCH_ACT_PUBLIC_DECL_NO_PARAMS
#define TORCH_ACT_PUBLIC_DECL_PARAM TORCH_ACT_DECL_PARAM
#define TORCH_ACT_PUBLIC_DECL_PARAM2 TORCH_ACT_DECL_PARAM2
#define TORCH_ACT_PUBLIC_DECL_REQUIRED2 TORCH_ACT_DECL_REQUIRED2
#define TORCH_ACT_PUBLIC_DECL_RANDOM_SLOPES(lo, hi) , double lower = lo, double upper = hi, bool training = false
#define TORCH_ACT_PUBLIC_ARGS_NO_PARAMS
#define TORCH_ACT_PUBLIC_ARGS_PARAM TORCH_ACT_ARGS_PARAM
#define TORCH_ACT_PUBLIC_ARGS_PARAM2 TORCH_ACT_ARGS_PARAM2
#define TORCH_ACT_PUBLIC_ARGS_REQUIRED2 TORCH_ACT_ARGS_REQUIRED2
#define TORCH_ACT_PUBLIC_ARGS_RANDOM_SLOPES(lo, hi) , lower, upper, training, ::torch_act::detail::draw_seed(training)

// TORCH_ACT_IF(inplace, code...): the code where inplace is INPLACE.
#define TORCH_ACT_IF(inplace, ...) TORCH_ACT_IF_##inplace(__VA_ARGS__)
#define TORCH_ACT_IF_INPLACE(...) __VA_ARGS__
#define TORCH_ACT_IF_OUT_OF_PLACE(...)
