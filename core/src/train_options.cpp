// Training options: defaults, validation, names, JSON form.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <nlohmann/json.hpp>

#include "lowlight/error.h"
#include "lowlight/train.h"

namespace lowlight {
namespace {

using nlohmann::json;

template <typename T>
void require(bool ok, const std::string& field, const T& value, const std::string& expected) {
  if (ok) return;
  std::ostringstream s;
  s << "invalid training option " << field << " = " << value << ": expected " << expected;
  throw Error(s.str());
}

// Reads `key` from `object` into `out` when present, naming the key on a type mismatch.
template <typename T>
void read(const json& object, const std::string& key, T& out, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end()) return;
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    throw Error("training config: " + where + key + " has the wrong type (" + it->type_name() + ")");
  }
}

void check_keys(const json& object, const std::vector<std::string>& known, const std::string& where) {
  if (!object.is_object()) throw Error("training config: " + (where.empty() ? "top level" : where) + " must be an object");
  for (auto it = object.begin(); it != object.end(); ++it)
    if (std::find(known.begin(), known.end(), it.key()) == known.end())
      throw Error("training config: unknown key " + where + it.key());
}

DeviceKind device_from(const std::string& name) { return parse_device(name); }

void read_data(const json& j, DataOptions& data) {
  check_keys(j, {"train", "val", "split", "crop", "augment", "shuffle", "val_full", "val_crop", "skip_bad", "samples",
                 "identity", "exposure"},
             "data.");
  // One folder as a string, or several as an array.
  if (j.contains("train") && j["train"].is_string()) data.train_dirs = {j["train"].get<std::string>()};
  else read(j, "train", data.train_dirs, "data.");
  read(j, "val", data.val_dir, "data.");
  read(j, "split", data.split, "data.");
  read(j, "crop", data.crop, "data.");
  std::string augment = augment_name(data.augment);
  read(j, "augment", augment, "data.");
  data.augment = parse_augment(augment);
  read(j, "shuffle", data.shuffle, "data.");
  read(j, "val_full", data.val_full, "data.");
  read(j, "val_crop", data.val_crop, "data.");
  read(j, "skip_bad", data.skip_bad, "data.");
  read(j, "samples", data.samples, "data.");
  read(j, "identity", data.identity, "data.");
  read(j, "exposure", data.exposure, "data.");
}

}  // namespace

TrainOptions default_train_options() {
  TrainOptions options;
  options.model = default_model_config();
  return options;
}

void validate(const TrainOptions& o) {
  try {
    validate(o.model);
  } catch (const Error& e) {
    throw Error(std::string("invalid model config: ") + e.what());
  }
  require(o.epochs >= 1, "epochs", o.epochs, ">= 1");
  require(o.batch >= 1 && o.batch <= 4096, "batch", o.batch, "1..4096");
  require(o.steps_per_epoch >= 1, "steps_per_epoch", o.steps_per_epoch, ">= 1");
  require(std::isfinite(o.lr) && o.lr > 0 && o.lr < 10, "lr", o.lr, "> 0 and < 10");
  require(std::isfinite(o.min_lr) && o.min_lr >= 0 && o.min_lr <= o.lr, "min_lr", o.min_lr, "0..lr");
  require(std::isfinite(o.charbonnier_eps) && o.charbonnier_eps > 0, "charbonnier_eps", o.charbonnier_eps, "> 0");
  require(o.plateau_factor > 0 && o.plateau_factor < 1, "plateau_factor", o.plateau_factor, "in (0, 1)");
  require(o.plateau_patience >= 0, "plateau_patience", o.plateau_patience, ">= 0");
  require(o.threads >= 0, "threads", o.threads, ">= 0");
  require(o.world_size >= 1, "world_size", o.world_size, ">= 1");
  if (o.precision == Precision::F16)
    throw Error("invalid precision fp16: training in fp16 needs loss scaling, which lowlight-train does not do; "
                "use bf16 or fp32");
  const DataOptions& d = o.data;
  const int multiple = size_multiple(o.model);
  require(d.crop >= multiple && d.crop <= 8192, "crop", d.crop, std::to_string(multiple) + "..8192");
  require(d.val_crop >= multiple && d.val_crop <= 8192, "val_crop", d.val_crop, std::to_string(multiple) + "..8192");
  require(d.split >= 1, "split", d.split, ">= 1");
  require(d.samples >= 0 && d.samples <= 16, "samples", d.samples, "0..16");
  require(!d.train_dirs.empty(), "train", "(none)", "a folder with low/ and high/");
  for (const auto& dir : d.train_dirs) require(!dir.empty(), "train", "\"\"", "a folder with low/ and high/");
  require(!d.val_dir.empty() || d.train_dirs.size() == 1, "val", "\"\"",
          "a validation folder when training on several folders (the split applies to one)");
  require(d.identity >= 0 && d.identity <= 1, "identity", d.identity, "0..1");
  require(std::isfinite(d.exposure) && d.exposure >= 0 && d.exposure <= 3, "exposure", d.exposure, "0..3");
  require(std::isfinite(o.ssim_weight) && o.ssim_weight >= 0 && o.ssim_weight <= 10, "ssim_weight", o.ssim_weight,
          "0..10");
  require(o.warmup_steps >= 0, "warmup_steps", o.warmup_steps, ">= 0");
}

const char* loss_name(Loss loss) {
  switch (loss) {
    case Loss::Charbonnier: return "charbonnier";
    case Loss::RMSE: return "rmse";
    case Loss::MSE: return "mse";
    case Loss::L1: return "l1";
  }
  return "?";
}

Loss parse_loss(const std::string& name) {
  for (Loss l : {Loss::Charbonnier, Loss::RMSE, Loss::MSE, Loss::L1})
    if (name == loss_name(l)) return l;
  throw Error("unknown loss '" + name + "': expected charbonnier, rmse, mse or l1");
}

const char* schedule_name(Schedule schedule) {
  switch (schedule) {
    case Schedule::Plateau: return "plateau";
    case Schedule::Cosine: return "cosine";
    case Schedule::Constant: return "constant";
  }
  return "?";
}

Schedule parse_schedule(const std::string& name) {
  for (Schedule s : {Schedule::Plateau, Schedule::Cosine, Schedule::Constant})
    if (name == schedule_name(s)) return s;
  throw Error("unknown schedule '" + name + "': expected plateau, cosine or constant");
}

const char* augment_name(Augment augment) { return augment == Augment::Flips ? "flips" : "none"; }

Augment parse_augment(const std::string& name) {
  if (name == "none") return Augment::None;
  if (name == "flips") return Augment::Flips;
  throw Error("unknown augmentation '" + name + "': expected none or flips");
}

TrainOptions train_options_from_json(const std::string& text, const TrainOptions& base) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(std::string("training config: not valid JSON: ") + e.what());
  }
  check_keys(j, {"comment", "model", "data", "loss", "charbonnier_eps", "ssim_weight", "warmup_steps", "lr", "schedule", "plateau_factor",
                 "plateau_patience", "min_lr", "epochs", "batch", "steps_per_epoch", "seed", "world_size", "device", "threads",
                 "channels_last", "precision", "init", "command"},
             "");
  TrainOptions o = base;
  if (j.contains("model")) {
    // The file may give only some model fields: merge them over the base config.
    json model = json::parse(to_json(base.model));
    if (!j["model"].is_object()) throw Error("training config: model must be an object");
    for (auto it = j["model"].begin(); it != j["model"].end(); ++it) model[it.key()] = it.value();
    try {
      o.model = model_config_from_json(model.dump());
    } catch (const Error& e) {
      throw Error(std::string("training config: model: ") + e.what());
    }
  }
  if (j.contains("data")) read_data(j["data"], o.data);
  std::string loss = loss_name(o.loss), schedule = schedule_name(o.schedule), device = device_name(o.device);
  read(j, "loss", loss, "");
  o.loss = parse_loss(loss);
  read(j, "schedule", schedule, "");
  o.schedule = parse_schedule(schedule);
  read(j, "device", device, "");
  o.device = device_from(device);
  read(j, "charbonnier_eps", o.charbonnier_eps, "");
  read(j, "ssim_weight", o.ssim_weight, "");
  read(j, "warmup_steps", o.warmup_steps, "");
  read(j, "lr", o.lr, "");
  read(j, "plateau_factor", o.plateau_factor, "");
  read(j, "plateau_patience", o.plateau_patience, "");
  read(j, "min_lr", o.min_lr, "");
  read(j, "epochs", o.epochs, "");
  read(j, "batch", o.batch, "");
  read(j, "steps_per_epoch", o.steps_per_epoch, "");
  read(j, "seed", o.seed, "");
  read(j, "world_size", o.world_size, "");
  read(j, "threads", o.threads, "");
  read(j, "channels_last", o.channels_last, "");
  std::string precision = precision_name(o.precision);
  read(j, "precision", precision, "");
  o.precision = parse_precision(precision);
  read(j, "init", o.init_weights, "");
  read(j, "command", o.command_line, "");
  return o;
}

std::string to_json(const TrainOptions& o) {
  const DataOptions& d = o.data;
  json j = {
      {"model", json::parse(to_json(o.model))},
      {"data",
       {{"train", d.train_dirs}, {"val", d.val_dir}, {"split", d.split}, {"crop", d.crop},
        {"augment", augment_name(d.augment)}, {"shuffle", d.shuffle}, {"val_full", d.val_full},
        {"val_crop", d.val_crop}, {"skip_bad", d.skip_bad}, {"samples", d.samples},
        {"identity", d.identity}, {"exposure", d.exposure}}},
      {"loss", loss_name(o.loss)},
      {"charbonnier_eps", o.charbonnier_eps},
      {"ssim_weight", o.ssim_weight},
      {"warmup_steps", o.warmup_steps},
      {"lr", o.lr},
      {"schedule", schedule_name(o.schedule)},
      {"plateau_factor", o.plateau_factor},
      {"plateau_patience", o.plateau_patience},
      {"min_lr", o.min_lr},
      {"epochs", o.epochs},
      {"batch", o.batch},
      {"steps_per_epoch", o.steps_per_epoch},
      {"seed", o.seed},
      {"world_size", o.world_size},
      {"device", device_name(o.device)},
      {"threads", o.threads},
      {"channels_last", o.channels_last},
      {"precision", precision_name(o.precision)},
      {"init", o.init_weights},
      {"command", o.command_line},
  };
  return j.dump();
}

}  // namespace lowlight
