// C++ tests of torch_act's LibTorch API, each compared with its torch::
// counterpart. One executable; `test_api NAME` runs one test (CTest runs
// each as its own test), `test_api` runs all.
#include <torch/script.h>
#include <torch/torch.h>
#include <torch_act/torch_act.h>

#include <cstdio>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

#define EXPECT(cond, ...)                                                                \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::ostringstream os_;                                                            \
      os_ << __FILE__ << ":" << __LINE__ << ": expected " #cond " " << __VA_ARGS__;      \
      throw std::runtime_error(os_.str());                                               \
    }                                                                                    \
  } while (0)

// Default tolerances of torch.testing.assert_close per dtype, plus an
// absolute term for the cases that need one (see expect_close's callers).
void expect_close(const torch::Tensor& actual, const torch::Tensor& expected,
                  const std::string& what, double extra_atol = 0.0) {
  double rtol = 1.3e-6, atol = 1e-5;
  if (actual.scalar_type() == torch::kDouble) rtol = 1e-7, atol = 1e-7;
  if (actual.scalar_type() == torch::kBFloat16) rtol = 1.6e-2, atol = 1e-5;
  EXPECT(actual.sizes() == expected.sizes(), what << ": shape " << actual.sizes() << " vs " << expected.sizes());
  EXPECT(actual.scalar_type() == expected.scalar_type(), what << ": dtype");
  auto a = actual.to(torch::kDouble), e = expected.to(torch::kDouble);
  const bool ok = torch::allclose(a, e, rtol, atol + extra_atol, /*equal_nan=*/true);
  EXPECT(ok, what << ": max abs difference " << (a - e).abs().nan_to_num(0).max().item<double>());
}

const std::vector<torch::ScalarType> kDtypes = {torch::kFloat, torch::kDouble, torch::kBFloat16};

// Inputs with NaN, +-inf and +-0 among ordinary values.
torch::Tensor sample(torch::ScalarType dtype) {
  auto x = torch::randn({4, 3, 5}, torch::kDouble) * 3;
  auto flat = x.view({-1});
  const double nan = std::nan(""), inf = INFINITY;
  const double specials[] = {nan, inf, -inf, 0.0, -0.0, 20.0, -20.0};
  for (int i = 0; i < 7; ++i) flat[i] = specials[i];
  return x.to(dtype);
}

using Fn = std::function<torch::Tensor(const torch::Tensor&)>;

// theirs' values and input gradients in double, element by element on
// one-element tensors (torch's scalar path): the float64 value that decides
// where torch's vectorized kernels are off (F.gelu(+inf) is NaN in its
// AVX-512 float kernels; ELU's gradient at NaN is NaN in its vector body,
// grad_output in its scalar path).
std::pair<torch::Tensor, torch::Tensor> one_by_one_in_double(const Fn& theirs, const torch::Tensor& x,
                                                             const torch::Tensor& g) {
  auto xs = x.to(torch::kDouble).reshape({-1}), gs = g.to(torch::kDouble).reshape({-1});
  std::vector<torch::Tensor> ys, grads;
  for (int64_t i = 0; i < xs.numel(); ++i) {
    auto xi = xs[i].reshape({1}).clone().requires_grad_(true);
    auto yi = theirs(xi);
    yi.backward(gs[i].reshape({1}));
    ys.push_back(yi.detach());
    grads.push_back(xi.grad());
  }
  return {torch::cat(ys).view(x.sizes()), torch::cat(grads).view(x.sizes())};
}

// |a - truth|, 0 where both are the same infinity or both NaN, inf where one is NaN.
torch::Tensor distance(const torch::Tensor& a, const torch::Tensor& truth) {
  auto ad = a.to(torch::kDouble), t = truth.to(torch::kDouble);
  auto d = torch::where(ad == t, torch::zeros_like(ad), (ad - t).abs());
  d = torch::where(ad.isnan().logical_xor(t.isnan()), torch::full_like(d, INFINITY), d);
  return torch::where(ad.isnan().logical_and(t.isnan()), torch::zeros_like(d), d);
}

// theirs, except where ours is no farther than it from the float64 value.
torch::Tensor judged(const torch::Tensor& ours, const torch::Tensor& theirs, const torch::Tensor& truth) {
  return torch::where(distance(ours, truth) <= distance(theirs, truth), ours, theirs);
}

// Values and input gradients of ours equal theirs (judged by the float64
// value where the two differ). extra_atol as expect_close.
void compare(const Fn& ours, const Fn& theirs, const torch::Tensor& x, const std::string& what,
             double extra_atol = 0.0) {
  auto x1 = x.detach().clone().requires_grad_(true);
  auto x2 = x.detach().clone().requires_grad_(true);
  auto y1 = ours(x1), y2 = theirs(x2);
  auto g = torch::randn_like(y1);
  const auto [y64, g64] = one_by_one_in_double(theirs, x, g);
  expect_close(y1, judged(y1, y2, y64), what + " values");
  y1.backward(g);
  y2.backward(g);
  expect_close(x1.grad(), judged(x1.grad(), x2.grad(), g64), what + " gradients", extra_atol);
}

void test_functions_match_torch() {
  for (auto dtype : kDtypes) {
    auto x = sample(dtype);
    const std::string d = std::string(" ") + c10::toString(dtype);
    compare([](auto& t) { return torch_act::relu(t); }, [](auto& t) { return torch::relu(t); }, x, "relu" + d);
    compare([](auto& t) { return torch_act::leaky_relu(t); },
            [](auto& t) { return torch::leaky_relu(t, 0.01); }, x, "leaky_relu" + d);
    compare([](auto& t) { return torch_act::leaky_relu(t, -0.3); },
            [](auto& t) { return torch::leaky_relu(t, -0.3); }, x, "leaky_relu(-0.3)" + d);
    // ELU's gradient comes from its rounded output; in bfloat16 that carries
    // an absolute error up to eps * alpha * |grad| (see tests/helpers.py).
    const double elu_atol = dtype == torch::kBFloat16 ? 0.0078125 * 4.0 : 0.0;
    compare([](auto& t) { return torch_act::elu(t); }, [](auto& t) { return torch::elu(t); }, x,
            "elu" + d, elu_atol);
    compare([](auto& t) { return torch_act::elu(t, -0.5); },
            [](auto& t) { return torch::elu(t, -0.5); }, x, "elu(-0.5)" + d);
    compare([](auto& t) { return torch_act::sigmoid(t); }, [](auto& t) { return torch::sigmoid(t); },
            x, "sigmoid" + d);
    compare([](auto& t) { return torch_act::tanh(t); }, [](auto& t) { return torch::tanh(t); }, x,
            "tanh" + d);
    compare([](auto& t) { return torch_act::gelu(t); }, [](auto& t) { return torch::gelu(t); }, x, "gelu" + d);
    compare([](auto& t) { return torch_act::gelu(t, "tanh"); }, [](auto& t) { return torch::gelu(t, "tanh"); },
            x, "gelu(tanh)" + d);
    compare([](auto& t) { return torch_act::silu(t); }, [](auto& t) { return torch::silu(t); }, x, "silu" + d);
    compare([](auto& t) { return torch_act::hardtanh(t, -0.5, 2.0); },
            [](auto& t) { return torch::hardtanh(t, -0.5, 2.0); }, x, "hardtanh(-0.5, 2)" + d);
    compare([](auto& t) { return torch_act::threshold(t, 0.1, 20.0); },
            [](auto& t) { return torch::threshold(t, 0.1, 20.0); }, x, "threshold(0.1, 20)" + d);
    compare([](auto& t) { return torch_act::hardshrink(t); }, [](auto& t) { return torch::hardshrink(t); }, x,
            "hardshrink" + d);
    compare([](auto& t) { return torch_act::softshrink(t, 1.5); }, [](auto& t) { return torch::softshrink(t, 1.5); },
            x, "softshrink(1.5)" + d);
    compare([](auto& t) { return torch_act::selu(t); }, [](auto& t) { return torch::selu(t); }, x, "selu" + d);
    compare([](auto& t) { return torch_act::celu(t, 0.5); }, [](auto& t) { return torch::celu(t, 0.5); }, x,
            "celu(0.5)" + d, elu_atol);
    compare([](auto& t) { return torch_act::softplus(t, 2.0, 10.0); },
            [](auto& t) { return torch::softplus(t, 2.0, 10.0); }, x, "softplus(2, 10)" + d);
    compare([](auto& t) { return torch_act::logsigmoid(t); }, [](auto& t) { return torch::log_sigmoid(t); }, x,
            "logsigmoid" + d);
    compare([](auto& t) { return torch_act::softsign(t); },
            [](auto& t) { return torch::nn::functional::softsign(t); }, x, "softsign" + d);
    compare([](auto& t) { return torch_act::hardswish(t); }, [](auto& t) { return torch::hardswish(t); }, x,
            "hardswish" + d);
    compare([](auto& t) { return torch_act::mish(t); }, [](auto& t) { return torch::mish(t); }, x, "mish" + d);
    compare([](auto& t) { return torch_act::tanhshrink(t); },
            [](auto& t) { return torch::nn::functional::tanhshrink(t); }, x, "tanhshrink" + d);
    compare([](auto& t) { return torch_act::hardsigmoid(t); }, [](auto& t) { return torch::hardsigmoid(t); }, x,
            "hardsigmoid" + d);

    for (int64_t n : {1, 3}) {
      auto w1 = (torch::rand({n}) - 0.3).to(dtype).requires_grad_(true);
      auto w2 = w1.detach().clone().requires_grad_(true);
      auto x1 = x.detach().clone().requires_grad_(true), x2 = x.detach().clone().requires_grad_(true);
      auto y1 = torch_act::prelu(x1, w1), y2 = torch::prelu(x2, w2);
      expect_close(y1, y2, "prelu values" + d);
      auto g = torch::randn_like(y1);
      y1.backward(g);
      y2.backward(g);
      expect_close(x1.grad(), x2.grad(), "prelu input gradient" + d);
      // A sum over many elements: float32/float64 are compared with the sum
      // done in double (torch's float32 reduction drifts on long sums);
      // bfloat16 with torch's, whose per-product rounding torch_act mirrors.
      torch::Tensor expected = w2.grad();
      if (dtype != torch::kBFloat16) {
        auto w64 = w1.detach().to(torch::kDouble).requires_grad_(true);
        auto y64 = torch::prelu(x.detach().to(torch::kDouble), w64);
        y64.backward(g.to(torch::kDouble));
        expected = w64.grad().to(dtype);
      }
      expect_close(w1.grad(), expected, "prelu alpha gradient" + d);
    }
  }
}

void test_inplace_functions() {
  auto leaf = torch::randn({6, 7}, torch::requires_grad());
  auto g = torch::randn({6, 7});
  struct Case { std::string name; Fn inplace; Fn reference; };
  std::vector<Case> cases = {
      {"relu_", [](const torch::Tensor& t) { auto u = t; return torch_act::relu_(u); }, [](const torch::Tensor& t) { return torch::relu(t); }},
      {"leaky_relu_(-0.2)", [](const torch::Tensor& t) { auto u = t; return torch_act::leaky_relu_(u, -0.2); }, [](const torch::Tensor& t) { return torch::leaky_relu(t, -0.2); }},
      {"elu_", [](const torch::Tensor& t) { auto u = t; return torch_act::elu_(u); }, [](const torch::Tensor& t) { return torch::elu(t); }},
      {"elu_(-0.5)", [](const torch::Tensor& t) { auto u = t; return torch_act::elu_(u, -0.5); }, [](const torch::Tensor& t) { return torch::elu(t, -0.5); }},
      {"silu_", [](const torch::Tensor& t) { auto u = t; return torch_act::silu_(u); }, [](const torch::Tensor& t) { return torch::silu(t); }},
  };
  for (auto& c : cases) {
    auto x = leaf * 1.0;
    const auto version = x._version();
    auto y = c.inplace(x);
    EXPECT(y.is_same(x), c.name << " returns its input");
    EXPECT(x._version() > version, c.name << " bumps the version counter");
    auto grad = torch::autograd::grad({y}, {leaf}, {g})[0];
    auto ref = c.reference(leaf * 1.0);
    auto ref_grad = torch::autograd::grad({ref}, {leaf}, {g})[0];
    expect_close(y, ref, c.name + " values");
    expect_close(grad, ref_grad, c.name + " gradients");
  }
  auto before = leaf.detach().clone();
  bool threw = false;
  try {
    torch_act::relu_(leaf);
  } catch (const c10::Error& e) {
    threw = std::string(e.what()).find("a leaf Variable that requires grad") != std::string::npos;
  }
  EXPECT(threw, "relu_ on a leaf requiring grad raises autograd's error");
  EXPECT(torch::equal(leaf.detach(), before), "the refused leaf is unchanged");
}

void expect_error(const std::function<void()>& f, const std::string& fragment) {
  try {
    f();
  } catch (const c10::Error& e) {
    EXPECT(std::string(e.what()).find(fragment) != std::string::npos, "message '" << e.what() << "' names " << fragment);
    return;
  }
  EXPECT(false, "an error mentioning " << fragment);
}

void test_bad_input_errors() {
  expect_error([] { torch_act::relu(torch::arange(4)); }, "expected 'input' to be a floating-point tensor");
  expect_error([] { torch_act::nn::Hardtanh(torch_act::nn::HardtanhOptions().min_val(2)); },
               "torch_act::nn::Hardtanh: max_val (1) must be greater than min_val (2)");
  expect_error([] { torch_act::hardtanh(torch::ones({3}), 2.0, 1.0); },
               "torch_act.hardtanh: min_val cannot be greater than max_val");
  expect_error([] { torch_act::softshrink(torch::ones({3}), -0.5); },
               "torch_act.softshrink: lambda must be in range [0, 3.40282e+38] for input dtype Float, but found -0.5");
  expect_error([] { torch_act::prelu(torch::randn({2, 3}), torch::rand({4})); },
               "expected 'weight' to hold 1 element or one per channel of 'input'");
  expect_error([] { torch_act::nn::PReLU(torch_act::nn::PReLUOptions().num_parameters(0)); },
               "expected 'num_parameters' >= 1");
  expect_error([] { torch_act::gelu(torch::randn({3}), "exact"); },
               "torch_act.gelu: expected 'approximate' to be 'none' or 'tanh', but got 'exact'");
}

std::string printed(const torch::nn::Module& m) {
  std::ostringstream os;
  m.pretty_print(os);
  return os.str();
}

void test_module_options_and_parameters() {
  torch_act::nn::PReLU prelu(torch_act::nn::PReLUOptions().num_parameters(8).init(0.1));
  auto params = prelu->named_parameters();
  EXPECT(params.size() == 1 && params.contains("alpha"), "PReLU registers exactly 'alpha'");
  EXPECT(prelu->alpha.sizes() == torch::IntArrayRef({8}), "alpha has shape [8]");
  EXPECT(torch::allclose(prelu->alpha, torch::full({8}, 0.1)), "alpha starts at init");
  EXPECT(printed(*prelu) == "torch_act::nn::PReLU(num_parameters=8)", printed(*prelu));

  torch_act::nn::LeakyReLU leaky(torch_act::nn::LeakyReLUOptions().negative_slope(0.2).inplace(true));
  EXPECT(leaky->options.negative_slope() == 0.2 && leaky->options.inplace(), "LeakyReLU options");
  EXPECT(printed(*leaky) == "torch_act::nn::LeakyReLU(negative_slope=0.2, inplace=true)", printed(*leaky));
  EXPECT(printed(*torch_act::nn::ReLU()) == "torch_act::nn::ReLU()", printed(*torch_act::nn::ReLU()));
  EXPECT(printed(*torch_act::nn::ReLU(true)) == "torch_act::nn::ReLU(inplace=true)", "ReLU(true)");
  EXPECT(printed(*torch_act::nn::ReLU6(true)) == "torch_act::nn::ReLU6(inplace=true)", "ReLU6(true)");
  EXPECT(printed(*torch_act::nn::Hardtanh(torch_act::nn::HardtanhOptions().min_val(-2).inplace(true))) ==
             "torch_act::nn::Hardtanh(min_val=-2, max_val=1, inplace=true)",
         "Hardtanh");
  torch_act::nn::Threshold threshold(torch_act::nn::ThresholdOptions(0.5, -1.0));
  EXPECT(printed(*threshold) == "torch_act::nn::Threshold(threshold=0.5, value=-1)", printed(*threshold));
  EXPECT(torch::equal(threshold(torch::tensor({0.25, 0.75})), torch::tensor({-1.0, 0.75})), "Threshold");
  EXPECT(printed(*torch_act::nn::Hardshrink()) == "torch_act::nn::Hardshrink(0.5)", "Hardshrink");
  EXPECT(printed(*torch_act::nn::Softshrink(1.5)) == "torch_act::nn::Softshrink(1.5)", "Softshrink");
  EXPECT(printed(*torch_act::nn::Hardsigmoid(true)) == "torch_act::nn::Hardsigmoid(inplace=true)", "Hardsigmoid");
  EXPECT(printed(*torch_act::nn::Hardswish()) == "torch_act::nn::Hardswish()", "Hardswish");
  EXPECT(printed(*torch_act::nn::Softplus(torch_act::nn::SoftplusOptions().beta(2))) ==
             "torch_act::nn::Softplus(beta=2, threshold=20)",
         "Softplus");
  EXPECT(printed(*torch_act::nn::LogSigmoid()) == "torch_act::nn::LogSigmoid()", "LogSigmoid");
  EXPECT(printed(*torch_act::nn::Softsign()) == "torch_act::nn::Softsign()", "Softsign");
  EXPECT(printed(*torch_act::nn::Mish(true)) == "torch_act::nn::Mish(inplace=true)", "Mish");
  EXPECT(printed(*torch_act::nn::Tanhshrink()) == "torch_act::nn::Tanhshrink()", "Tanhshrink");
  EXPECT(printed(*torch_act::nn::SELU(true)) == "torch_act::nn::SELU(inplace=true)", "SELU");
  EXPECT(printed(*torch_act::nn::CELU(torch_act::nn::CELUOptions().alpha(0.5))) == "torch_act::nn::CELU(alpha=0.5)",
         "CELU");
  EXPECT(torch::equal(torch_act::nn::ReLU6()(torch::tensor({-1.0, 0.5, 7.0})), torch::tensor({0.0, 0.5, 6.0})),
         "ReLU6 clamps to [0, 6]");
  EXPECT(printed(*torch_act::nn::ELU(torch_act::nn::ELUOptions().alpha(0.5))) == "torch_act::nn::ELU(alpha=0.5)", "ELU");
  EXPECT(printed(*torch_act::nn::Sigmoid()) == "torch_act::nn::Sigmoid()", "Sigmoid");
  EXPECT(printed(*torch_act::nn::Tanh()) == "torch_act::nn::Tanh()", "Tanh");
  EXPECT(printed(*torch_act::nn::GELU(torch_act::nn::GELUOptions().approximate("tanh"))) ==
             "torch_act::nn::GELU(approximate=tanh)",
         "GELU");
  EXPECT(printed(*torch_act::nn::SiLU(true)) == "torch_act::nn::SiLU(inplace=true)", printed(*torch_act::nn::SiLU(true)));

  // clone() gives an independent copy.
  auto copy = std::dynamic_pointer_cast<torch_act::nn::PReLUImpl>(prelu->clone());
  EXPECT(copy && torch::equal(copy->alpha, prelu->alpha), "clone copies alpha");
  copy->alpha.data().fill_(3.0);
  EXPECT(torch::allclose(prelu->alpha, torch::full({8}, 0.1)), "clone is independent");
}

void test_second_order_gradient() {
  auto x = torch::randn({5, 4}, torch::dtype(torch::kDouble).requires_grad(true));
  auto w = (torch::rand({4}, torch::kDouble) - 0.3).requires_grad_(true);
  auto second = [&](const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>& f) {
    auto y = f(x, w);
    auto grads = torch::autograd::grad({(y * y).sum()}, {x, w}, {}, true, true);
    auto total = (grads[0] * grads[0]).sum() + (grads[1] * grads[1]).sum();
    return torch::autograd::grad({total}, {x, w});
  };
  auto ours = second([](auto& a, auto& b) { return torch_act::prelu(a, b); });
  auto theirs = second([](auto& a, auto& b) { return torch::prelu(a, b); });
  expect_close(ours[0], theirs[0], "prelu second order, input");
  expect_close(ours[1], theirs[1], "prelu second order, alpha");
  auto t1 = torch::autograd::grad({torch::autograd::grad({torch_act::tanh(x).sum()}, {x}, {}, true, true)[0].sum()}, {x})[0];
  auto t2 = torch::autograd::grad({torch::autograd::grad({torch::tanh(x).sum()}, {x}, {}, true, true)[0].sum()}, {x})[0];
  expect_close(t1, t2, "tanh second order");
}

// The same network from torch_act layers and from torch::nn layers.
torch::nn::Sequential make_net(bool ours) {
  torch::manual_seed(0);
  torch::nn::Sequential net;
  net->push_back(torch::nn::Linear(6, 8));
  if (ours) {
    net->push_back(torch_act::nn::PReLU(torch_act::nn::PReLUOptions().num_parameters(8)));
    net->push_back(torch::nn::Linear(8, 8));
    net->push_back(torch_act::nn::LeakyReLU(torch_act::nn::LeakyReLUOptions().negative_slope(0.2)));
    net->push_back(torch_act::nn::ELU());
    net->push_back(torch_act::nn::ReLU());
    net->push_back(torch_act::nn::Tanh());
    net->push_back(torch_act::nn::Sigmoid());
  } else {
    net->push_back(torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(8)));
    net->push_back(torch::nn::Linear(8, 8));
    net->push_back(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)));
    net->push_back(torch::nn::ELU());
    net->push_back(torch::nn::ReLU());
    net->push_back(torch::nn::Tanh());
    net->push_back(torch::nn::Sigmoid());
  }
  net->push_back(torch::nn::Linear(8, 1));
  return net;
}

void test_sequential_trains_like_torch() {
  auto ours = make_net(true), theirs = make_net(false);
  torch::optim::SGD opt1(ours->parameters(), 0.1), opt2(theirs->parameters(), 0.1);
  auto x = torch::randn({32, 6});
  auto target = torch::randn({32, 1});
  for (int step = 0; step < 10; ++step) {
    for (auto [net, opt] : {std::pair{ours, &opt1}, std::pair{theirs, &opt2}}) {
      opt->zero_grad();
      torch::mse_loss(net->forward(x), target).backward();
      opt->step();
    }
  }
  expect_close(ours->forward(x), theirs->forward(x), "Sequential outputs after 10 SGD steps");
  auto alpha = ours[1]->as<torch_act::nn::PReLU>()->alpha;
  auto weight = theirs[1]->as<torch::nn::PReLU>()->weight;
  expect_close(alpha, weight, "learned alpha vs torch::nn::PReLU weight");
}

void test_save_load_round_trip() {
  auto net = make_net(true);
  auto alpha = net[1]->as<torch_act::nn::PReLU>()->alpha;
  torch::NoGradGuard no_grad;
  alpha.uniform_(-1, 1);
  const std::string path = "torch_act_test_model.pt";
  torch::save(net, path);
  auto loaded = make_net(true);
  torch::load(loaded, path);
  std::remove(path.c_str());
  EXPECT(torch::equal(loaded[1]->as<torch_act::nn::PReLU>()->alpha, alpha), "alpha survives save/load");
  auto x = torch::randn({3, 6});
  EXPECT(torch::equal(loaded->forward(x), net->forward(x)), "loaded model gives the same outputs");
}

// A model scripted and saved in Python (make_scripted.py) runs here.
void test_torchscript_model_from_python() {
  const char* dir = std::getenv("TORCH_ACT_SCRIPTED_DIR");
  EXPECT(dir != nullptr, "TORCH_ACT_SCRIPTED_DIR set (CTest's fixture does)");
  auto model = torch::jit::load(std::string(dir) + "/model.pt");
  auto io = torch::jit::load(std::string(dir) + "/io.pt");
  auto input = io.attr("input").toTensor();
  auto expected = io.attr("output").toTensor();
  model.eval();
  auto output = model.forward({input}).toTensor();
  EXPECT(torch::equal(output, expected), "scripted model gives Python's output");
}

}  // namespace

// The gated family from C++: values and both gradients as the composite
// computes them in float64 (gate and up rounded first), GLU as torch::glu,
// the split modules, and the errors.
void test_gated_activations() {
  auto gate = torch::randn({6, 10}) * 3, up = torch::randn({6, 10}), grad = torch::randn({6, 10});
  using Pair = std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>;
  const std::vector<std::tuple<std::string, Pair, Pair>> cases = {
      {"swiglu", [](auto& g, auto& u) { return torch_act::swiglu(g, u); },
       [](auto& g, auto& u) { return torch::silu(g) * u; }},
      {"geglu(tanh)", [](auto& g, auto& u) { return torch_act::geglu(g, u, "tanh"); },
       [](auto& g, auto& u) { return torch::gelu(g, "tanh") * u; }},
      {"reglu", [](auto& g, auto& u) { return torch_act::reglu(g, u); },
       [](auto& g, auto& u) { return torch::relu(g) * u; }},
  };
  for (const auto& [what, ours, theirs] : cases) {
    auto g1 = gate.clone().requires_grad_(true), u1 = up.clone().requires_grad_(true);
    auto g2 = gate.to(torch::kDouble).requires_grad_(true), u2 = up.to(torch::kDouble).requires_grad_(true);
    auto y1 = ours(g1, u1), y2 = theirs(g2, u2);
    y1.backward(grad);
    y2.backward(grad.to(torch::kDouble));
    expect_close(y1, y2.to(torch::kFloat), what + " values");
    expect_close(g1.grad(), g2.grad().to(torch::kFloat), what + " gate gradient");
    expect_close(u1.grad(), u2.grad().to(torch::kFloat), what + " up gradient");
  }
  auto x = torch::randn({4, 6}, torch::kDouble);
  expect_close(torch_act::glu(x, 0), torch::glu(x, 0), "glu(dim=0)");
  expect_close(torch_act::nn::GLU()(x), torch::glu(x, -1), "nn::GLU");
  auto halves = x.chunk(2, -1);
  EXPECT(torch::equal(torch_act::nn::SwiGLU()(x), torch_act::swiglu(halves[0], halves[1])),
         "SwiGLU: the activation on the first half");
  EXPECT(torch::equal(torch_act::nn::GeGLU(torch_act::nn::GeGLUOptions().approximate("tanh"))(x),
                      torch_act::geglu(halves[0], halves[1], "tanh")),
         "GeGLU(tanh)");
  EXPECT(printed(*torch_act::nn::SwiGLU(1)) == "torch_act::nn::SwiGLU(dim=1)", printed(*torch_act::nn::SwiGLU(1)));
  EXPECT(printed(*torch_act::nn::GeGLU()) == "torch_act::nn::GeGLU(dim=-1, approximate=none)", "GeGLU");
  expect_error([] { torch_act::swiglu(torch::randn({3, 4}), torch::randn({4})); },
               "torch_act.swiglu: expected 'up' to have the shape of 'gate'");
  expect_error([] { torch_act::glu(torch::randn({2, 3})); }, "Halving dimension must be even, but dimension 1 is size 3");
  expect_error([] { torch_act::reglu_halves(torch::randn({})); }, "glu does not support scalars");
}

// RReLU: random slopes in training from torch's generator (torch::manual_seed
// repeats them, each call draws anew), the same as the op with that draw as
// its seed; out of training torch::leaky_relu with (lower + upper) / 2.
void test_rrelu_random_slopes() {
  auto x = torch::randn({1000}).requires_grad_(true);
  torch::manual_seed(5);
  auto a = torch_act::rrelu(x, 0.1, 0.3, /*training=*/true);
  auto b = torch_act::rrelu(x, 0.1, 0.3, true);
  torch::manual_seed(5);
  const int64_t seed = at::empty({}, at::kLong).random_().item<int64_t>();
  EXPECT(torch::equal(a, torch_act::ops::rrelu(x, 0.1, 0.3, true, seed)), "rrelu: the drawn seed's slopes");
  EXPECT(!torch::equal(a, b), "rrelu: each call draws new slopes");
  auto negative = x.detach() < 0;
  auto slopes = (a.detach() / x.detach()).masked_select(negative);
  EXPECT(slopes.min().item<double>() >= 0.1 - 1e-6 && slopes.max().item<double>() <= 0.3 + 1e-6, "rrelu: slopes in range");
  auto grad = torch::autograd::grad({a.sum()}, {x})[0];
  EXPECT(torch::equal(grad * x.detach(), a.detach()), "rrelu: the gradient is each element's slope");
  EXPECT(torch::equal(torch_act::rrelu(x.detach(), 0.1, 0.3), torch::leaky_relu(x.detach(), 0.2)), "rrelu in eval");

  torch_act::nn::RReLU module(torch_act::nn::RReLUOptions().lower(0.1).upper(0.3));
  EXPECT(printed(*module) == "torch_act::nn::RReLU(lower=0.1, upper=0.3)", printed(*module));
  torch::manual_seed(5);
  EXPECT(torch::equal(module(x.detach()), a.detach()), "RReLU module in training");
  module->eval();
  EXPECT(torch::equal(module(x.detach()), torch::leaky_relu(x.detach(), 0.2)), "RReLU module in eval");
}

int main(int argc, char** argv) {
  const std::map<std::string, std::function<void()>> tests = {
      {"functions_match_torch", test_functions_match_torch},
      {"inplace_functions", test_inplace_functions},
      {"bad_input_errors", test_bad_input_errors},
      {"module_options_and_parameters", test_module_options_and_parameters},
      {"second_order_gradient", test_second_order_gradient},
      {"sequential_trains_like_torch", test_sequential_trains_like_torch},
      {"save_load_round_trip", test_save_load_round_trip},
      {"torchscript_model_from_python", test_torchscript_model_from_python},
      {"gated_activations", test_gated_activations},
      {"rrelu_random_slopes", test_rrelu_random_slopes},
  };
  torch::manual_seed(0);
  int failed = 0, run = 0;
  for (const auto& [name, test] : tests) {
    if (argc > 1 && name != argv[1]) continue;
    ++run;
    try {
      test();
      std::printf("PASS %s\n", name.c_str());
    } catch (const std::exception& e) {
      ++failed;
      std::printf("FAIL %s: %s\n", name.c_str(), e.what());
    }
  }
  if (run == 0) {
    std::printf("no test named %s\n", argv[1]);
    return 2;
  }
  return failed == 0 ? 0 : 1;
}
