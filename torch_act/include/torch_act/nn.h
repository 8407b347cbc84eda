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

struct ReLUOptions {
  /* implicit */ ReLUOptions(bool inplace = false) : inplace_(inplace) {}
  TORCH_ARG(bool, inplace);
};

class ReLUImpl : public torch::nn::Cloneable<ReLUImpl> {
 public:
  explicit ReLUImpl(const ReLUOptions& options_ = {}) : options(options_) {}
  torch::Tensor forward(torch::Tensor input) {
    return options.inplace() ? torch_act::relu_(input) : torch_act::relu(input);
  }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override {
    stream << "torch_act::nn::ReLU(";
    if (options.inplace()) stream << std::boolalpha << "inplace=" << options.inplace();
    stream << ")";
  }
  ReLUOptions options;
};
TORCH_MODULE(ReLU);

struct ReLU6Options {
  /* implicit */ ReLU6Options(bool inplace = false) : inplace_(inplace) {}
  TORCH_ARG(bool, inplace);
};

class ReLU6Impl : public torch::nn::Cloneable<ReLU6Impl> {
 public:
  explicit ReLU6Impl(const ReLU6Options& options_ = {}) : options(options_) {}
  torch::Tensor forward(torch::Tensor input) {
    return options.inplace() ? torch_act::relu6_(input) : torch_act::relu6(input);
  }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override {
    stream << "torch_act::nn::ReLU6(";
    if (options.inplace()) stream << std::boolalpha << "inplace=" << options.inplace();
    stream << ")";
  }
  ReLU6Options options;
};
TORCH_MODULE(ReLU6);

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
struct HardshrinkOptions {
  /* implicit */ HardshrinkOptions(double lambda = 0.5) : lambda_(lambda) {}
  TORCH_ARG(double, lambda);
};

class HardshrinkImpl : public torch::nn::Cloneable<HardshrinkImpl> {
 public:
  explicit HardshrinkImpl(const HardshrinkOptions& options_ = {}) : options(options_) {}
  torch::Tensor forward(const torch::Tensor& input) { return torch_act::hardshrink(input, options.lambda()); }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override {
    stream << "torch_act::nn::Hardshrink(" << options.lambda() << ")";
  }
  HardshrinkOptions options;
};
TORCH_MODULE(Hardshrink);

struct SoftshrinkOptions {
  /* implicit */ SoftshrinkOptions(double lambda = 0.5) : lambda_(lambda) {}
  TORCH_ARG(double, lambda);
};

class SoftshrinkImpl : public torch::nn::Cloneable<SoftshrinkImpl> {
 public:
  explicit SoftshrinkImpl(const SoftshrinkOptions& options_ = {}) : options(options_) {}
  torch::Tensor forward(const torch::Tensor& input) { return torch_act::softshrink(input, options.lambda()); }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override {
    stream << "torch_act::nn::Softshrink(" << options.lambda() << ")";
  }
  SoftshrinkOptions options;
};
TORCH_MODULE(Softshrink);

struct HardsigmoidOptions {
  /* implicit */ HardsigmoidOptions(bool inplace = false) : inplace_(inplace) {}
  TORCH_ARG(bool, inplace);
};

class HardsigmoidImpl : public torch::nn::Cloneable<HardsigmoidImpl> {
 public:
  explicit HardsigmoidImpl(const HardsigmoidOptions& options_ = {}) : options(options_) {}
  torch::Tensor forward(torch::Tensor input) {
    return options.inplace() ? torch_act::hardsigmoid_(input) : torch_act::hardsigmoid(input);
  }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override {
    stream << "torch_act::nn::Hardsigmoid(" << (options.inplace() ? "inplace=true" : "") << ")";
  }
  HardsigmoidOptions options;
};
TORCH_MODULE(Hardsigmoid);

struct LeakyReLUOptions {
  LeakyReLUOptions() {}
  TORCH_ARG(double, negative_slope) = 0.01;
  TORCH_ARG(bool, inplace) = false;
};

class LeakyReLUImpl : public torch::nn::Cloneable<LeakyReLUImpl> {
 public:
  explicit LeakyReLUImpl(const LeakyReLUOptions& options_ = {}) : options(options_) {}
  torch::Tensor forward(torch::Tensor input) {
    return options.inplace() ? torch_act::leaky_relu_(input, options.negative_slope())
                             : torch_act::leaky_relu(input, options.negative_slope());
  }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override {
    stream << std::boolalpha << "torch_act::nn::LeakyReLU(negative_slope=" << options.negative_slope();
    if (options.inplace()) stream << ", inplace=" << options.inplace();
    stream << ")";
  }
  LeakyReLUOptions options;
};
TORCH_MODULE(LeakyReLU);

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

struct ELUOptions {
  ELUOptions() {}
  TORCH_ARG(double, alpha) = 1.0;
  TORCH_ARG(bool, inplace) = false;
};

class ELUImpl : public torch::nn::Cloneable<ELUImpl> {
 public:
  explicit ELUImpl(const ELUOptions& options_ = {}) : options(options_) {}
  torch::Tensor forward(torch::Tensor input) {
    return options.inplace() ? torch_act::elu_(input, options.alpha())
                             : torch_act::elu(input, options.alpha());
  }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override {
    stream << std::boolalpha << "torch_act::nn::ELU(alpha=" << options.alpha();
    if (options.inplace()) stream << ", inplace=" << options.inplace();
    stream << ")";
  }
  ELUOptions options;
};
TORCH_MODULE(ELU);

struct SELUOptions {
  /* implicit */ SELUOptions(bool inplace = false) : inplace_(inplace) {}
  TORCH_ARG(bool, inplace);
};

class SELUImpl : public torch::nn::Cloneable<SELUImpl> {
 public:
  explicit SELUImpl(const SELUOptions& options_ = {}) : options(options_) {}
  torch::Tensor forward(torch::Tensor input) {
    return options.inplace() ? torch_act::selu_(input) : torch_act::selu(input);
  }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override {
    stream << "torch_act::nn::SELU(" << (options.inplace() ? "inplace=true" : "") << ")";
  }
  SELUOptions options;
};
TORCH_MODULE(SELU);

struct CELUOptions {
  CELUOptions() {}
  TORCH_ARG(double, alpha) = 1.0;
  TORCH_ARG(bool, inplace) = false;
};

class CELUImpl : public torch::nn::Cloneable<CELUImpl> {
 public:
  explicit CELUImpl(const CELUOptions& options_ = {}) : options(options_) {}
  torch::Tensor forward(torch::Tensor input) {
    return options.inplace() ? torch_act::celu_(input, options.alpha()) : torch_act::celu(input, options.alpha());
  }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override {
    stream << std::boolalpha << "torch_act::nn::CELU(alpha=" << options.alpha();
    if (options.inplace()) stream << ", inplace=" << options.inplace();
    stream << ")";
  }
  CELUOptions options;
};
TORCH_MODULE(CELU);

class SigmoidImpl : public torch::nn::Cloneable<SigmoidImpl> {
 public:
  torch::Tensor forward(const torch::Tensor& input) { return torch_act::sigmoid(input); }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override { stream << "torch_act::nn::Sigmoid()"; }
};
TORCH_MODULE(Sigmoid);

class TanhImpl : public torch::nn::Cloneable<TanhImpl> {
 public:
  torch::Tensor forward(const torch::Tensor& input) { return torch_act::tanh(input); }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override { stream << "torch_act::nn::Tanh()"; }
};
TORCH_MODULE(Tanh);

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

struct SiLUOptions {
  /* implicit */ SiLUOptions(bool inplace = false) : inplace_(inplace) {}
  TORCH_ARG(bool, inplace);
};

class SiLUImpl : public torch::nn::Cloneable<SiLUImpl> {
 public:
  explicit SiLUImpl(const SiLUOptions& options_ = {}) : options(options_) {}
  torch::Tensor forward(torch::Tensor input) {
    return options.inplace() ? torch_act::silu_(input) : torch_act::silu(input);
  }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override {
    stream << "torch_act::nn::SiLU(" << (options.inplace() ? "inplace=true" : "") << ")";
  }
  SiLUOptions options;
};
TORCH_MODULE(SiLU);

struct HardswishOptions {
  /* implicit */ HardswishOptions(bool inplace = false) : inplace_(inplace) {}
  TORCH_ARG(bool, inplace);
};

class HardswishImpl : public torch::nn::Cloneable<HardswishImpl> {
 public:
  explicit HardswishImpl(const HardswishOptions& options_ = {}) : options(options_) {}
  torch::Tensor forward(torch::Tensor input) {
    return options.inplace() ? torch_act::hardswish_(input) : torch_act::hardswish(input);
  }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override {
    stream << "torch_act::nn::Hardswish(" << (options.inplace() ? "inplace=true" : "") << ")";
  }
  HardswishOptions options;
};
TORCH_MODULE(Hardswish);

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

class LogSigmoidImpl : public torch::nn::Cloneable<LogSigmoidImpl> {
 public:
  torch::Tensor forward(const torch::Tensor& input) { return torch_act::logsigmoid(input); }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override { stream << "torch_act::nn::LogSigmoid()"; }
};
TORCH_MODULE(LogSigmoid);

class SoftsignImpl : public torch::nn::Cloneable<SoftsignImpl> {
 public:
  torch::Tensor forward(const torch::Tensor& input) { return torch_act::softsign(input); }
  void reset() override {}
  void pretty_print(std::ostream& stream) const override { stream << "torch_act::nn::Softsign()"; }
};
TORCH_MODULE(Softsign);

}  // namespace torch_act::nn
