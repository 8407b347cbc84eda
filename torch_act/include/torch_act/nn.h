// torch_act's LibTorch modules, with the conventions of torch::nn: FooOptions
// with TORCH_ARG, FooImpl : torch::nn::Cloneable<FooImpl>, TORCH_MODULE(Foo).
//   torch_act::nn::LeakyReLU act(torch_act::nn::LeakyReLUOptions().negative_slope(0.2));
//   torch_act::nn::PReLU prelu(torch_act::nn::PReLUOptions().num_parameters(64));  // prelu->alpha
#pragma once

#include <torch_act/functional.h>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <ios>
#include <ostream>
#include <string>

namespace torch_act::nn {

// Most modules share one of four shapes, each written once below (LibTorch
// writes its own modules out; these are the same classes, made by a macro):
//   TORCH_ACT_PLAIN_MODULE(Name, fn)                 no options (Sigmoid)
//   TORCH_ACT_INPLACE_MODULE(Name, fn)               NameOptions(bool inplace = false) (ReLU)
//   TORCH_ACT_PARAM_MODULE(Name, fn, param, value)   NameOptions().param(v).inplace(b) (ELU)
//   TORCH_ACT_SHRINK_MODULE(Name, fn)                NameOptions(double lambda = 0.5), as torch::nn's
// Each makes NameOptions (where it has options), NameImpl with forward(),
// reset() and pretty_print() as torch::nn's modules, and TORCH_MODULE(Name).
#define TORCH_ACT_PLAIN_MODULE(Name, fn)                                                     \
  class Name##Impl : public torch::nn::Cloneable<Name##Impl> {                               \
   public:                                                                                   \
    torch::Tensor forward(const torch::Tensor& input) { return torch_act::fn(input); }       \
    void reset() override {}                                                                 \
    void pretty_print(std::ostream& stream) const override { stream << "torch_act::nn::" #Name "()"; } \
  };                                                                                         \
  TORCH_MODULE(Name)

#define TORCH_ACT_INPLACE_MODULE(Name, fn)                                                   \
  struct Name##Options {                                                                     \
    /* implicit */ Name##Options(bool inplace = false) : inplace_(inplace) {}                \
    TORCH_ARG(bool, inplace);                                                                \
  };                                                                                         \
  class Name##Impl : public torch::nn::Cloneable<Name##Impl> {                               \
   public:                                                                                   \
    explicit Name##Impl(const Name##Options& options_ = {}) : options(options_) {}           \
    torch::Tensor forward(torch::Tensor input) {                                             \
      return options.inplace() ? torch_act::fn##_(input) : torch_act::fn(input);             \
    }                                                                                        \
    void reset() override {}                                                                 \
    void pretty_print(std::ostream& stream) const override {                                 \
      stream << "torch_act::nn::" #Name "(" << (options.inplace() ? "inplace=true" : "") << ")"; \
    }                                                                                        \
    Name##Options options;                                                                   \
  };                                                                                         \
  TORCH_MODULE(Name)

#define TORCH_ACT_PARAM_MODULE(Name, fn, param, value)                                       \
  struct Name##Options {                                                                     \
    Name##Options() {}                                                                       \
    TORCH_ARG(double, param) = value;                                                        \
    TORCH_ARG(bool, inplace) = false;                                                        \
  };                                                                                         \
  class Name##Impl : public torch::nn::Cloneable<Name##Impl> {                               \
   public:                                                                                   \
    explicit Name##Impl(const Name##Options& options_ = {}) : options(options_) {}           \
    torch::Tensor forward(torch::Tensor input) {                                             \
      return options.inplace() ? torch_act::fn##_(input, options.param())                    \
                               : torch_act::fn(input, options.param());                      \
    }                                                                                        \
    void reset() override {}                                                                 \
    void pretty_print(std::ostream& stream) const override {                                 \
      stream << std::boolalpha << "torch_act::nn::" #Name "(" #param "=" << options.param(); \
      if (options.inplace()) stream << ", inplace=" << options.inplace();                    \
      stream << ")";                                                                         \
    }                                                                                        \
    Name##Options options;                                                                   \
  };                                                                                         \
  TORCH_MODULE(Name)

#define TORCH_ACT_SHRINK_MODULE(Name, fn)                                                    \
  struct Name##Options {                                                                     \
    /* implicit */ Name##Options(double lambda = 0.5) : lambda_(lambda) {}                   \
    TORCH_ARG(double, lambda);                                                               \
  };                                                                                         \
  class Name##Impl : public torch::nn::Cloneable<Name##Impl> {                               \
   public:                                                                                   \
    explicit Name##Impl(const Name##Options& options_ = {}) : options(options_) {}           \
    torch::Tensor forward(const torch::Tensor& input) { return torch_act::fn(input, options.lambda()); } \
    void reset() override {}                                                                 \
    void pretty_print(std::ostream& stream) const override {                                 \
      stream << "torch_act::nn::" #Name "(" << options.lambda() << ")";                      \
    }                                                                                        \
    Name##Options options;                                                                   \
  };                                                                                         \
  TORCH_MODULE(Name)

TORCH_ACT_INPLACE_MODULE(ReLU, relu);
TORCH_ACT_INPLACE_MODULE(ReLU6, relu6);

struct HardtanhOptions {
  HardtanhOptions() {}
  TORCH_ARG(double, min_val) = -1.0;
  TORCH_ARG(double, max_val) = 1.0;
  TORCH_ARG(bool, inplace) = false;
};

class HardtanhImpl : public torch::nn::Cloneable<HardtanhImpl> {
 public:
  explicit HardtanhImpl(const HardtanhOptions& options_ = {}) : options(options_) { reset(); }
  torch::Tensor forward(torch::Tensor input) {
    return options.inplace() ? torch_act::hardtanh_(input, options.min_val(), options.max_val())
                             : torch_act::hardtanh(input, options.min_val(), options.max_val());
  }
  // As torch::nn::Hardtanh: the bounds are checked when the module is made.
  void reset() override {
    TORCH_CHECK(options.max_val() > options.min_val(), "torch_act::nn::Hardtanh: max_val (", options.max_val(),
                ") must be greater than min_val (", options.min_val(), ")");
  }
  void pretty_print(std::ostream& stream) const override {
    stream << std::boolalpha << "torch_act::nn::Hardtanh(min_val=" << options.min_val()
           << ", max_val=" << options.max_val();
    if (options.inplace()) stream << ", inplace=" << options.inplace();
    stream << ")";
  }
  HardtanhOptions options;
};
TORCH_MODULE(Hardtanh);

// Both required, as torch::nn::ThresholdOptions.
struct ThresholdOptions {
  ThresholdOptions(double threshold, double value) : threshold_(threshold), value_(value) {}
  TORCH_ARG(double, threshold);
  TORCH_ARG(double, value);
  TORCH_ARG(bool, inplace) = false;
};

class ThresholdImpl : public torch::nn::Cloneable<ThresholdImpl> {
 public:
  explicit ThresholdImpl(const ThresholdOptions& options_) : options(options_) {}
  torch::Tensor forward(torch::Tensor input) {
    return options.inplace() ? torch_act::threshold_(input, options.threshold(), options.value())
                             : torch_act::threshold(input, options.threshold(), options.value());
  }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override {
    stream << std::boolalpha << "torch_act::nn::Threshold(threshold=" << options.threshold()
           << ", value=" << options.value();
    if (options.inplace()) stream << ", inplace=" << options.inplace();
    stream << ")";
  }
  ThresholdOptions options;
};
TORCH_MODULE(Threshold);

// The shrinks' option is `lambda`, as torch::nn's (`lambd` in Python).
TORCH_ACT_SHRINK_MODULE(Hardshrink, hardshrink);
TORCH_ACT_SHRINK_MODULE(Softshrink, softshrink);
TORCH_ACT_INPLACE_MODULE(Hardsigmoid, hardsigmoid);
TORCH_ACT_PARAM_MODULE(LeakyReLU, leaky_relu, negative_slope, 0.01);

// As torch::nn::RReLU: random slopes in [lower, upper] while the module is
// training (is_training()), (lower + upper) / 2 in eval.
struct RReLUOptions {
  RReLUOptions() {}
  TORCH_ARG(double, lower) = 1.0 / 8.0;
  TORCH_ARG(double, upper) = 1.0 / 3.0;
  TORCH_ARG(bool, inplace) = false;
};

class RReLUImpl : public torch::nn::Cloneable<RReLUImpl> {
 public:
  explicit RReLUImpl(const RReLUOptions& options_ = {}) : options(options_) {}
  torch::Tensor forward(torch::Tensor input) {
    return options.inplace() ? torch_act::rrelu_(input, options.lower(), options.upper(), is_training())
                             : torch_act::rrelu(input, options.lower(), options.upper(), is_training());
  }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override {
    stream << std::boolalpha << "torch_act::nn::RReLU(lower=" << options.lower() << ", upper=" << options.upper();
    if (options.inplace()) stream << ", inplace=" << options.inplace();
    stream << ")";
  }
  RReLUOptions options;
};
TORCH_MODULE(RReLU);

struct PReLUOptions {
  PReLUOptions() {}
  // 1 (one slope for every channel) or the number of channels (dim 1).
  TORCH_ARG(int64_t, num_parameters) = 1;
  TORCH_ARG(double, init) = 0.25;
};

class PReLUImpl : public torch::nn::Cloneable<PReLUImpl> {
 public:
  explicit PReLUImpl(const PReLUOptions& options_ = {}) : options(options_) { reset(); }
  torch::Tensor forward(const torch::Tensor& input) { return torch_act::prelu(input, alpha); }
  void reset() override {
    TORCH_CHECK(options.num_parameters() >= 1,
                "torch_act::nn::PReLU: expected 'num_parameters' >= 1, but got ",
                options.num_parameters());
    alpha = register_parameter("alpha", torch::full({options.num_parameters()}, options.init()));
  }
  void pretty_print(std::ostream& stream) const override {
    stream << "torch_act::nn::PReLU(num_parameters=" << options.num_parameters() << ")";
  }
  PReLUOptions options;
  // The learned slopes, shape [num_parameters]; registered as "alpha".
  torch::Tensor alpha;
};
TORCH_MODULE(PReLU);

TORCH_ACT_PARAM_MODULE(ELU, elu, alpha, 1.0);
TORCH_ACT_INPLACE_MODULE(SELU, selu);
TORCH_ACT_PARAM_MODULE(CELU, celu, alpha, 1.0);
TORCH_ACT_PLAIN_MODULE(Sigmoid, sigmoid);
TORCH_ACT_PLAIN_MODULE(Tanh, tanh);

struct GELUOptions {
  GELUOptions() {}
  // "none" (x * Phi(x)) or "tanh" (its tanh approximation).
  TORCH_ARG(std::string, approximate) = "none";
};

class GELUImpl : public torch::nn::Cloneable<GELUImpl> {
 public:
  explicit GELUImpl(const GELUOptions& options_ = {}) : options(options_) {}
  torch::Tensor forward(const torch::Tensor& input) { return torch_act::gelu(input, options.approximate()); }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override {
    stream << "torch_act::nn::GELU(approximate=" << options.approximate() << ")";
  }
  GELUOptions options;
};
TORCH_MODULE(GELU);

TORCH_ACT_INPLACE_MODULE(SiLU, silu);
TORCH_ACT_INPLACE_MODULE(Hardswish, hardswish);
TORCH_ACT_INPLACE_MODULE(Mish, mish);

struct SoftplusOptions {
  SoftplusOptions() {}
  TORCH_ARG(double, beta) = 1.0;
  TORCH_ARG(double, threshold) = 20.0;
};

class SoftplusImpl : public torch::nn::Cloneable<SoftplusImpl> {
 public:
  explicit SoftplusImpl(const SoftplusOptions& options_ = {}) : options(options_) {}
  torch::Tensor forward(const torch::Tensor& input) {
    return torch_act::softplus(input, options.beta(), options.threshold());
  }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override {
    stream << "torch_act::nn::Softplus(beta=" << options.beta() << ", threshold=" << options.threshold() << ")";
  }
  SoftplusOptions options;
};
TORCH_MODULE(Softplus);

TORCH_ACT_PLAIN_MODULE(LogSigmoid, logsigmoid);
TORCH_ACT_PLAIN_MODULE(Softsign, softsign);
TORCH_ACT_PLAIN_MODULE(Tanhshrink, tanhshrink);

// The gated activations on the halves of their input along `dim` (their
// options: NameOptions(int64_t dim = -1)). GLU is torch::nn::GLU (the gate is
// the second half); SwiGLU, GeGLU and ReGLU put the activation on the first.
#define TORCH_ACT_HALVES_MODULE(Name, fn)                                                    \
  struct Name##Options {                                                                     \
    /* implicit */ Name##Options(int64_t dim = -1) : dim_(dim) {}                            \
    TORCH_ARG(int64_t, dim);                                                                 \
  };                                                                                         \
  class Name##Impl : public torch::nn::Cloneable<Name##Impl> {                               \
   public:                                                                                   \
    explicit Name##Impl(const Name##Options& options_ = {}) : options(options_) {}           \
    torch::Tensor forward(const torch::Tensor& input) { return torch_act::fn(input, options.dim()); } \
    void reset() override {}                                                                 \
    void pretty_print(std::ostream& stream) const override {                                 \
      stream << "torch_act::nn::" #Name "(dim=" << options.dim() << ")";                     \
    }                                                                                        \
    Name##Options options;                                                                   \
  };                                                                                         \
  TORCH_MODULE(Name)

TORCH_ACT_HALVES_MODULE(GLU, glu);
TORCH_ACT_HALVES_MODULE(SwiGLU, swiglu_halves);
TORCH_ACT_HALVES_MODULE(ReGLU, reglu_halves);

struct GeGLUOptions {
  GeGLUOptions() {}
  TORCH_ARG(int64_t, dim) = -1;
  // "none" or "tanh", as GELUOptions.
  TORCH_ARG(std::string, approximate) = "none";
};

class GeGLUImpl : public torch::nn::Cloneable<GeGLUImpl> {
 public:
  explicit GeGLUImpl(const GeGLUOptions& options_ = {}) : options(options_) {}
  torch::Tensor forward(const torch::Tensor& input) {
    return torch_act::geglu_halves(input, options.dim(), options.approximate());
  }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override {
    stream << "torch_act::nn::GeGLU(dim=" << options.dim() << ", approximate=" << options.approximate() << ")";
  }
  GeGLUOptions options;
};
TORCH_MODULE(GeGLU);

#undef TORCH_ACT_HALVES_MODULE
#undef TORCH_ACT_PLAIN_MODULE
#undef TORCH_ACT_INPLACE_MODULE
#undef TORCH_ACT_PARAM_MODULE
#undef TORCH_ACT_SHRINK_MODULE
}  // namespace torch_act::nn
