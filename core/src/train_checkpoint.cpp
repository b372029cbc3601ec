// last.ckpt: model, optimizer, loop state (schedule, counters, history) and the torch RNG, written
// atomically so an interrupted write never replaces a good checkpoint.
#include <ATen/CPUGeneratorImpl.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "lowlight/error.h"
#include "train_internal.h"

namespace lowlight::detail {
namespace {

using nlohmann::json;

json metrics_to_json(const EpochMetrics& m) {
  return {{"epoch", m.epoch},       {"step", m.step},         {"train_loss", m.train_loss},
          {"train_psnr", m.train_psnr}, {"val_loss", m.val_loss}, {"val_psnr", m.val_psnr},
          {"val_psnr_seedcompat", m.val_psnr_seedcompat}, {"val_ssim", m.val_ssim}, {"lr", m.lr},
          {"seconds", m.seconds}};
}

EpochMetrics metrics_from_json(const json& j) {
  EpochMetrics m;
  m.epoch = j.at("epoch").get<int>();
  m.step = j.at("step").get<int64_t>();
  m.train_loss = j.at("train_loss").get<double>();
  m.train_psnr = j.at("train_psnr").get<double>();
  m.val_loss = j.at("val_loss").get<double>();
  m.val_psnr = j.at("val_psnr").get<double>();
  m.val_psnr_seedcompat = j.at("val_psnr_seedcompat").get<double>();
  m.val_ssim = j.at("val_ssim").get<double>();
  m.lr = j.at("lr").get<double>();
  m.seconds = j.at("seconds").get<double>();
  return m;
}

std::string state_to_json(const LoopState& s) {
  json history = json::array();
  for (const auto& m : s.history) history.push_back(metrics_to_json(m));
  return json{{"epochs_done", s.epochs_done},     {"step_in_epoch", s.step_in_epoch},
              {"global_step", s.global_step},     {"epoch_loss_sum", s.epoch_loss_sum},
              {"epoch_psnr_sum", s.epoch_psnr_sum}, {"lr", s.lr},
              {"plateau_best", s.plateau_best},   {"plateau_wait", s.plateau_wait},
              {"best_psnr", s.best_psnr},         {"best_epoch", s.best_epoch},
              {"seconds", s.seconds},             {"history", history}}
      .dump();
}

LoopState state_from_json(const std::string& text) {
  const json j = json::parse(text);
  LoopState s;
  s.epochs_done = j.at("epochs_done").get<int>();
  s.step_in_epoch = j.at("step_in_epoch").get<int>();
  s.global_step = j.at("global_step").get<int64_t>();
  s.epoch_loss_sum = j.at("epoch_loss_sum").get<double>();
  s.epoch_psnr_sum = j.at("epoch_psnr_sum").get<double>();
  s.lr = j.at("lr").get<double>();
  s.plateau_best = j.at("plateau_best").get<double>();
  s.plateau_wait = j.at("plateau_wait").get<int>();
  s.best_psnr = j.at("best_psnr").get<double>();
  s.best_epoch = j.at("best_epoch").get<int>();
  s.seconds = j.at("seconds").get<double>();
  for (const auto& m : j.at("history")) s.history.push_back(metrics_from_json(m));
  return s;
}

}  // namespace

void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                     const LoopState& state) {
  torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
  model.save(model_archive);
  optimizer.save(optimizer_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("state", c10::IValue(state_to_json(state)));
  archive.write("torch_rng", at::detail::getDefaultCPUGenerator().get_state());
  const std::string temp = path + ".tmp";
  try {
    archive.save_to(temp);
  } catch (const c10::Error& e) {
    std::remove(temp.c_str());
    throw Error("cannot write checkpoint " + temp + ": " + e.what_without_backtrace());
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) throw Error("cannot move checkpoint into place at " + path + ": " + ec.message());
}

void load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                     LoopState& state) {
  if (!std::filesystem::exists(path)) throw Error("no checkpoint " + path + " (nothing to resume)");
  try {
    torch::serialize::InputArchive archive, model_archive, optimizer_archive;
    archive.load_from(path, model.parameters().front().device());
    archive.read("model", model_archive);
    archive.read("optimizer", optimizer_archive);
    model.load(model_archive);
    optimizer.load(optimizer_archive);
    c10::IValue text;
    archive.read("state", text);
    state = state_from_json(text.toStringRef());
    torch::Tensor rng;
    archive.read("torch_rng", rng);
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    generator.set_state(rng.to(torch::kCPU));
  } catch (const c10::Error& e) {
    throw Error("cannot read checkpoint " + path + ": " + e.what_without_backtrace());
  } catch (const nlohmann::json::exception& e) {
    throw Error("cannot read checkpoint " + path + ": bad state record: " + e.what());
  }
}

}  // namespace lowlight::detail
