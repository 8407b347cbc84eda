// Trains an MLP built from torch_act layers on two interleaved spirals with
// torch::optim::Adam, in C++ only, on the GPU when one is available (and
// torch_act was built with its CUDA kernels), else on the CPU. Prints the
// device, the loss every epoch and how
// PReLU's alphas moved; exits with 1 if the loss does not fall below a third
// of where it started.
#include <torch/torch.h>
#include <torch_act/torch_act.h>

#include <cmath>
#include <cstdio>
#include <utility>

namespace {

// n points on two spirals, labels 0 and 1.
std::pair<torch::Tensor, torch::Tensor> two_spirals(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  auto t = torch::rand({n}) * 3 * M_PI + 0.5;
  auto label = torch::randint(0, 2, {n}, torch::kLong);
  auto angle = t + label.to(torch::kFloat) * M_PI;
  auto x = torch::stack({t * torch::cos(angle), t * torch::sin(angle)}, 1) / 5;
  return {x + 0.1 * torch::randn_like(x), label};
}

}  // namespace

struct NetImpl : torch::nn::Module {
  explicit NetImpl(int64_t width)
      : body(torch::nn::Linear(2, width),
             torch_act::nn::PReLU(torch_act::nn::PReLUOptions().num_parameters(width)),
             torch::nn::Linear(width, width),
             torch_act::nn::LeakyReLU(torch_act::nn::LeakyReLUOptions().negative_slope(0.1)),
             torch::nn::Linear(width, width),
             torch_act::nn::ELU(),
             torch::nn::Linear(width, 2)) {
    register_module("body", body);
  }
  torch::Tensor forward(const torch::Tensor& x) { return body->forward(x); }
  torch::nn::Sequential body;
};
TORCH_MODULE(Net);

int main() {
  torch::manual_seed(0);
  const torch::Device device = torch::cuda::is_available() ? torch::kCUDA : torch::kCPU;
  std::cout << "device: " << device << "\n";
  auto [x_cpu, y_cpu] = two_spirals(2000, 1);
  const auto x = x_cpu.to(device), y = y_cpu.to(device);
  Net net(64);
  net->to(device);
  std::cout << net << "\n";
  auto prelu = net->body[1]->as<torch_act::nn::PReLU>();
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-2));

  auto report = [&](int epoch) {
    torch::NoGradGuard no_grad;
    auto logits = net->forward(x);
    const double loss = torch::nn::functional::cross_entropy(logits, y).item<double>();
    const double acc = (logits.argmax(1) == y).to(torch::kFloat).mean().item<double>();
    std::printf("epoch %2d  loss %.4f  accuracy %.3f  alpha mean %.4f min %.4f max %.4f\n", epoch,
                loss, acc, prelu->alpha.mean().item<double>(), prelu->alpha.min().item<double>(),
                prelu->alpha.max().item<double>());
    return loss;
  };

  const int epochs = 60;
  const double first = report(0);
  double last = first;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    // 8 mini-batches per epoch.
    auto order = torch::randperm(x.size(0), torch::TensorOptions().device(device).dtype(torch::kLong));
    for (auto idx : order.chunk(8)) {
      opt.zero_grad();
      auto loss = torch::nn::functional::cross_entropy(net->forward(x.index({idx})), y.index({idx}));
      loss.backward();
      opt.step();
    }
    last = report(epoch);
  }
  std::printf("loss %.4f -> %.4f\n", first, last);
  if (!(last < first / 3)) {
    std::fprintf(stderr, "training failed: the loss did not fall below a third of its start\n");
    return 1;
  }
  return 0;
}
