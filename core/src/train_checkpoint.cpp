// last.ckpt: model, optimizer, loop state (schedule, counters, history) and the torch RNG, written
// atomically so an interrupted write never replaces a good checkpoint.
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <nlohmann/json.hpp>

#include "lowlight/error.h"
#include "train_internal.h"

namespace lowlight::detail {
namespace {

using nlohmann::json;

// JSON has no NaN or infinity (nlohmann writes null, which does not read back as a number): non-finite
// values are written as the strings "nan", "inf" and "-inf", so the history always round-trips.
json number(double v) {
  if (std::isfinite(v)) return v;
  return std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
}

double number(const json& j) {
  if (!j.is_string()) return j.get<double>();
  const std::string text = j.get<std::string>();
  if (text == "nan") return std::nan("");
  if (text == "inf") return INFINITY;
  if (text == "-inf") return -INFINITY;
  throw Error("checkpoint state: '" + text + "' is not a number");
}

json metrics_to_json(const EpochMetrics& m) {
  return {{"epoch", m.epoch},       {"step", m.step},         {"train_loss", number(m.train_loss)},
          {"train_psnr", number(m.train_psnr)}, {"val_loss", number(m.val_loss)}, {"val_psnr", number(m.val_psnr)},
          {"val_psnr_seedcompat", number(m.val_psnr_seedcompat)}, {"val_ssim", number(m.val_ssim)}, {"lr", number(m.lr)},
          {"seconds", number(m.seconds)}};
}

EpochMetrics metrics_from_json(const json& j) {
  EpochMetrics m;
  m.epoch = j.at("epoch").get<int>();
  m.step = j.at("step").get<int64_t>();
  m.train_loss = number(j.at("train_loss"));
  m.train_psnr = number(j.at("train_psnr"));
  m.val_loss = number(j.at("val_loss"));
  m.val_psnr = number(j.at("val_psnr"));
  m.val_psnr_seedcompat = number(j.at("val_psnr_seedcompat"));
  m.val_ssim = number(j.at("val_ssim"));
  m.lr = number(j.at("lr"));
  m.seconds = number(j.at("seconds"));
  return m;
}

std::string state_to_json(const LoopState& s) {
  json history = json::array();
  for (const auto& m : s.history) history.push_back(metrics_to_json(m));
  return json{{"epochs_done", s.epochs_done},     {"step_in_epoch", s.step_in_epoch},
              {"global_step", s.global_step},     {"epoch_loss_sum", number(s.epoch_loss_sum)},
              {"epoch_psnr_sum", number(s.epoch_psnr_sum)}, {"lr", number(s.lr)},
              {"plateau_best", number(s.plateau_best)},   {"plateau_wait", s.plateau_wait},
              {"best_psnr", number(s.best_psnr)},         {"best_epoch", s.best_epoch},
              {"seconds", number(s.seconds)},             {"history", history}}
      .dump();
}

LoopState state_from_json(const std::string& text) {
  const json j = json::parse(text);
  LoopState s;
  s.epochs_done = j.at("epochs_done").get<int>();
  s.step_in_epoch = j.at("step_in_epoch").get<int>();
  s.global_step = j.at("global_step").get<int64_t>();
  s.epoch_loss_sum = number(j.at("epoch_loss_sum"));
  s.epoch_psnr_sum = number(j.at("epoch_psnr_sum"));
  s.lr = number(j.at("lr"));
  s.plateau_best = number(j.at("plateau_best"));
  s.plateau_wait = j.at("plateau_wait").get<int>();
  s.best_psnr = number(j.at("best_psnr"));
  s.best_epoch = j.at("best_epoch").get<int>();
  s.seconds = number(j.at("seconds"));
  for (const auto& m : j.at("history")) s.history.push_back(metrics_from_json(m));
  return s;
}

// Every parameter of `module` must be in `archive` with its shape: Module::load takes the file's tensors
// whatever their shape, so a checkpoint of another config (an edited options.json) would train on silently.
void check_archive(torch::nn::Module& module, torch::serialize::InputArchive& archive, const std::string& prefix,
                   const std::string& path) {
  for (const auto& p : module.named_parameters(/*recurse=*/false)) {
    torch::Tensor t;
    if (!archive.try_read(p.key(), t))
      throw Error("checkpoint " + path + " has no tensor '" + prefix + p.key() + "' that the run's config needs");
    if (t.sizes() != p.value().sizes())
      throw Error("checkpoint " + path + ": tensor '" + prefix + p.key() + "' has shape " + c10::str(t.sizes()) +
                  ", the run's config (options.json) expects " + c10::str(p.value().sizes()));
  }
  for (const auto& child : module.named_children()) {
    torch::serialize::InputArchive sub;
    if (!archive.try_read(child.key(), sub))
      throw Error("checkpoint " + path + " has no module '" + prefix + child.key() + "' that the run's config needs");
    check_archive(*child.value(), sub, prefix + child.key() + ".", path);
  }
}

}  // namespace

void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                     const LoopState& state) {
  // A non-finite weight is never checkpointed: last.ckpt keeps the last finite state.
  {
    torch::NoGradGuard no_grad;
    for (const auto& p : model.named_parameters())
      if (!torch::isfinite(p.value()).all().item<bool>())
        throw Error("training diverged: weight '" + p.key() + "' is NaN or infinite at step " +
                    std::to_string(state.global_step) + "; stopped, " + path + " keeps the last good state");
  }
  torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
  model.save(model_archive);
  optimizer.save(optimizer_archive);
  archive.write("model", model_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("state", c10::IValue(state_to_json(state)));
  archive.write("torch_rng", at::detail::getDefaultCPUGenerator().get_state());
  // Serialised in memory, then written by the atomic writer: a full disk is one clean error, no temporary
  // is left behind, and the previous checkpoint stays as it was.
  std::ostringstream bytes;
  try {
    archive.save_to(bytes);
  } catch (const c10::Error& e) {
    throw Error("cannot serialise checkpoint " + path + ": " + e.what_without_backtrace());
  }
  try {
    write_file_atomic(path, bytes.str(), Overwrite::Yes);
  } catch (const Error& e) {
    throw Error(std::string("checkpoint not written, the previous one is kept: ") + e.what());
  }
}

void load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                     LoopState& state) {
  if (!std::filesystem::exists(path)) throw Error("no checkpoint " + path + " (nothing to resume)");
  try {
    torch::serialize::InputArchive archive, model_archive, optimizer_archive;
    archive.load_from(path, model.parameters().front().device());
    archive.read("model", model_archive);
    archive.read("optimizer", optimizer_archive);
    check_archive(model, model_archive, "", path);
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
