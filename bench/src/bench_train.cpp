// Training-step speed: the trainer's own step (detail::train_step: forward, objective, backward, Adam, with
// lowlight-train's default loss and optimizer) on a random batch, the model set up as lowlight-train sets it
// up (channels-last parameters and data on CPU), timed interleaved with the same step in Python eager.
#include <chrono>

#include "bench_internal.h"
#include "lowlight/bench.h"
#include "lowlight/model.h"
#include "lowlight/train.h"
#include "lowlight/weights.h"
#include "train_internal.h"

namespace lowlight {

TrainBenchResult bench_train_step(const std::string& weights, const BenchSettings& s, DeviceKind device,
                                  bool autocast, bench::PythonSide* py, const BenchProgressFn& progress) {
  TrainBenchResult r;
  r.weights = weights;
  r.batch = s.train_batch;
  r.crop = s.train_crop;
  const bool cuda = device == DeviceKind::CUDA;
  const torch::Device where = cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  const auto format = cuda ? torch::MemoryFormat::Contiguous : torch::MemoryFormat::ChannelsLast;
  WeightsInfo info;
  std::shared_ptr<MIRNetImpl> model = load_weights(weights, &info);
  r.config = info.config;
  model->to(where);
  set_weight_format(*model, format);
  model->train();
  const TrainOptions options = default_train_options();
  const auto optimizer = detail::make_optimizer(*model, options.lr);
  torch::manual_seed(1);
  const torch::Tensor low = torch::rand({s.train_batch, 3, s.train_crop, s.train_crop}).to(where).contiguous(format);
  const torch::Tensor high = (low * 2).clamp(0, 1).contiguous(format);
  if (py) py->call("train " + std::to_string(s.train_batch) + " " + std::to_string(s.train_crop));

  auto step = [&] {
    const auto start = std::chrono::steady_clock::now();
    detail::train_step(*model, *optimizer, options, low, high, autocast);  // reads the loss: waits for the device
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const std::string what = "training step, batch " + std::to_string(s.train_batch) + " x " +
                           std::to_string(s.train_crop) + "^2";
  std::vector<double> cpp_times, py_times;
  for (int i = 0; i < 1 + s.train_steps; ++i) {
    const std::string n = i == 0 ? "warm-up" : std::to_string(i) + "/" + std::to_string(s.train_steps);
    if (progress) progress(what + ": C++ " + n);
    const double a = step();
    if (i > 0) cpp_times.push_back(a);
    if (!py) continue;
    if (progress) progress(what + ": Python " + n);
    const double b = py->call("step").at("seconds").get<double>();
    if (i > 0) py_times.push_back(b);
  }
  r.cpp = make_timing(cpp_times);
  r.steps_per_s = 1.0 / r.cpp.median;
  if (py) {
    r.python = true;
    r.py = make_timing(py_times);
    r.py_steps_per_s = 1.0 / r.py.median;
    r.ratio = r.cpp.median / r.py.median;
    r.speedup = r.py.median / r.cpp.median;
  }
  return r;
}

}  // namespace lowlight
