// The training step, the trainer's and `lowlight bench --train`'s alike: forward, objective, backward, Adam.
// Part of lowlight_train_step with the options and the gradient all-reduce: no image files, so the benchmark
// builds without OpenCV too.
#include <cmath>

#include "autocast.h"
#include "distributed.h"
#include "lowlight/error.h"
#include "lowlight/metrics.h"
#include "train_internal.h"

namespace lowlight::detail {
namespace {

// The training objective: the pixel loss plus, when asked, the SSIM term (structure and local contrast,
// which the pixel losses weigh little: washed-out colour costs few dB but shows).
torch::Tensor objective(const TrainOptions& o, const torch::Tensor& out, const torch::Tensor& target) {
  torch::Tensor loss = compute_loss(o, out, target);
  if (o.ssim_weight > 0) loss = loss + o.ssim_weight * (1.0 - ssim(out, target).mean());
  return loss;
}

}  // namespace

torch::Tensor compute_loss(const TrainOptions& o, const torch::Tensor& out, const torch::Tensor& target) {
  const torch::Tensor d = out - target;
  switch (o.loss) {
    case Loss::Charbonnier: return torch::sqrt(d * d + o.charbonnier_eps * o.charbonnier_eps).mean();
    case Loss::RMSE: return torch::sqrt((d * d).mean());
    case Loss::MSE: return (d * d).mean();
    case Loss::L1: return d.abs().mean();
  }
  throw Error("unknown loss");
}

std::unique_ptr<torch::optim::Adam> make_optimizer(torch::nn::Module& model, double lr) {
  return std::make_unique<torch::optim::Adam>(model.parameters(),
                                              torch::optim::AdamOptions(lr).eps(1e-7));  // Keras' Adam epsilon
}

StepResult train_step(MIRNetImpl& model, torch::optim::Optimizer& optimizer, const TrainOptions& options,
                      const torch::Tensor& low, const torch::Tensor& high, bool autocast, GradientAverager* ranks,
                      const std::string& what) {
  const torch::Tensor out = forward_fp32(model, low, autocast);
  const torch::Tensor loss = objective(options, out, high);
  const torch::Tensor batch_psnr = psnr(out.detach().clamp(0, 1), high).mean();
  StepResult r;
  if (ranks) {
    torch::Tensor stats = torch::stack({loss.detach().to(torch::kDouble), batch_psnr.to(torch::kDouble)}).cpu();
    ranks->communicator().average(stats, "sharing the loss of " + what);
    r.loss = stats[0].item<double>();
    r.psnr = stats[1].item<double>();
  } else {
    r.loss = loss.item<double>();
    r.psnr = batch_psnr.item<double>();
  }
  if (!std::isfinite(r.loss)) return r;
  optimizer.zero_grad();
  if (ranks) ranks->begin("averaging the gradients of " + what);
  loss.backward();
  if (ranks) ranks->finish();
  optimizer.step();
  r.stepped = true;
  return r;
}

}  // namespace lowlight::detail
