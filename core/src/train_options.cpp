// Training options: the table of every option (train.h), and the defaults, validation, names and JSON form,
// which all go through it.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <type_traits>
#include <nlohmann/json.hpp>

#include "lowlight/error.h"
#include "lowlight/train.h"

namespace lowlight {
namespace {

using nlohmann::json;
using O = TrainOptions;
using V = TrainOptionValue;
using Check = std::string (*)(const O&, const char* key);

// validate()'s message for an option out of range, "" when `ok`.
template <typename T>
std::string expect(const char* key, bool ok, const T& value, const std::string& expected) {
  if (ok) return "";
  std::ostringstream s;
  s << "invalid training option " << key << " = " << value << ": expected " << expected;
  return s.str();
}

// Where a field lives in TrainOptions, and the JSON object that holds its key.
struct AtTop {
  static constexpr const char* section = "";
  template <typename T> static auto& of(T& o) { return o; }
};
struct InData {
  static constexpr const char* section = "data";
  template <typename T> static auto& of(T& o) { return o.data; }
};
struct InModel {
  static constexpr const char* section = "model";
  template <typename T> static auto& of(T& o) { return o.model; }
};

// A field stored as its JSON type.
template <typename Where, auto Member>
struct Plain {
  static constexpr const char* section = Where::section;
  static V get(const O& o) { return Where::of(o).*Member; }
  static void set(O& o, const V& v) {
    auto& field = Where::of(o).*Member;
    field = std::get<std::decay_t<decltype(field)>>(v);
  }
};

// A field stored as an enum, named in JSON and on the command line.
template <typename Where, auto Member, auto name, auto parse>
struct Named {
  static constexpr const char* section = Where::section;
  static V get(const O& o) { return std::string(name(Where::of(o).*Member)); }
  static void set(O& o, const V& v) { Where::of(o).*Member = parse(std::get<std::string>(v)); }
};

template <typename Field>
TrainOptionSpec option(const char* key, const char* flag, const char* help, Check check = nullptr,
                       bool flag_sets = true) {
  return {Field::section, key, flag, help, Field::get, Field::set, flag_sets, check};
}

template <auto M> using Top = Plain<AtTop, M>;
template <auto M> using Data = Plain<InData, M>;
template <auto M> using Model = Plain<InModel, M>;
using D = DataOptions;
using M = ModelConfig;

std::string crop_check(const char* key, int crop, const ModelConfig& model) {
  const int multiple = size_multiple(model);
  return expect(key, crop >= multiple && crop <= 8192, crop, std::to_string(multiple) + "..8192");
}

// Flag order is the help's order; checks run in this order too.
std::vector<TrainOptionSpec> make_specs() {
  return {
      option<Data<&D::train_dirs>>(
          "train", "--train", "paired folders (low/, high/) to train on, pooled",
          [](const O& o, const char* k) {
            const auto& dirs = o.data.train_dirs;
            const bool blank = std::any_of(dirs.begin(), dirs.end(), [](const std::string& d) { return d.empty(); });
            return expect(k, !dirs.empty() && !blank, dirs.empty() ? "(none)" : "\"\"", "a folder with low/ and high/");
          }),
      option<Data<&D::val_dir>>("val", "--val", "paired folder to validate on (default: split --train)",
                                [](const O& o, const char* k) {
                                  return expect(k, !o.data.val_dir.empty() || o.data.train_dirs.size() == 1, "\"\"",
                                                "a validation folder when training on several folders (the split "
                                                "applies to one)");
                                }),
      option<Data<&D::split>>("split", "--split",
                              "without --val: first N names (sorted as strings) train, the rest validate",
                              [](const O& o, const char* k) {
                                return expect(k, o.data.split >= 1, o.data.split, ">= 1");
                              }),
      option<Model<&M::channels>>("channels", "--channels", "model width C"),
      option<Model<&M::rrgs>>("rrgs", "--rrgs", "recursive residual groups"),
      option<Model<&M::mrbs>>("mrbs", "--mrbs", "multi-scale residual blocks per RRG"),
      option<Model<&M::streams>>("streams", "--streams", "parallel resolutions, 2..4"),
      option<Model<&M::sa_kernel>>("sa_kernel", "--sa-kernel", "spatial-attention kernel"),
      option<Model<&M::reduction>>("reduction", "--reduction", "attention squeeze ratio"),
      option<Model<&M::keras_last_skff>>("keras_last_skff", "--keras-last-skff",
                                         "seed-compat: final SKFF fed the lowest stream twice"),
      option<Model<&M::keras_softmax_channels>>("keras_softmax_channels", "--keras-softmax-channels",
                                                "seed-compat: SKFF softmax over channels"),
      option<Model<&M::global>>("global", "--global", "width of the global exposure and colour branch (0: none)"),
      option<Named<AtTop, &O::loss, loss_name, parse_loss>>("loss", "--loss", "charbonnier, rmse, mse or l1"),
      option<Top<&O::lr>>("lr", "--lr", "Adam learning rate",
                          [](const O& o, const char* k) {
                            return expect(k, std::isfinite(o.lr) && o.lr > 0 && o.lr < 10, o.lr, "> 0 and < 10");
                          }),
      option<Named<AtTop, &O::schedule, schedule_name, parse_schedule>>(
          "schedule", "--schedule",
          "plateau (on validation PSNR: plateau_factor, plateau_patience in --config), cosine or constant"),
      option<Top<&O::min_lr>>("min_lr", "--min-lr", "floor of the schedule",
                              [](const O& o, const char* k) {
                                return expect(k, std::isfinite(o.min_lr) && o.min_lr >= 0 && o.min_lr <= o.lr, o.min_lr,
                                              "0..lr");
                              }),
      option<Top<&O::epochs>>("epochs", "--epochs", "epochs",
                              [](const O& o, const char* k) { return expect(k, o.epochs >= 1, o.epochs, ">= 1"); }),
      option<Top<&O::batch>>("batch", "--batch", "batch size",
                             [](const O& o, const char* k) {
                               return expect(k, o.batch >= 1 && o.batch <= 4096, o.batch, "1..4096");
                             }),
      option<Data<&D::crop>>("crop", "--crop", "training crop side",
                             [](const O& o, const char* k) { return crop_check(k, o.data.crop, o.model); }),
      option<Top<&O::steps_per_epoch>>("steps_per_epoch", "--steps", "steps per epoch",
                                       [](const O& o, const char* k) {
                                         return expect(k, o.steps_per_epoch >= 1, o.steps_per_epoch, ">= 1");
                                       }),
      option<Top<&O::seed>>("seed", "--seed", "seed for init, crops, order, augmentation"),
      option<Named<InData, &D::augment, augment_name, parse_augment>>(
          "augment", "--augment", "none or flips (flips and 90-degree rotations)"),
      option<Data<&D::shuffle>>("shuffle", "--no-shuffle", "keep the file order every epoch (as the Keras example)",
                                nullptr, false),
      option<Data<&D::val_full>>("val_full", "--val-full", "validate on whole images instead of fixed seeded crops"),
      option<Data<&D::val_crop>>("val_crop", "--val-crop", "side of the fixed validation crops",
                                 [](const O& o, const char* k) { return crop_check(k, o.data.val_crop, o.model); }),
      option<Data<&D::identity>>("identity", "--identity",
                                 "probability that a sample is a lit (high) image as its own target",
                                 [](const O& o, const char* k) {
                                   return expect(k, o.data.identity >= 0 && o.data.identity <= 1, o.data.identity,
                                                 "0..1");
                                 }),
      option<Data<&D::exposure>>("exposure", "--exposure",
                                 "input exposure jitter: gain exp(U(-e,e)), gamma exp(U(-e/2,e/2))",
                                 [](const O& o, const char* k) {
                                   const double e = o.data.exposure;
                                   return expect(k, std::isfinite(e) && e >= 0 && e <= 3, e, "0..3");
                                 }),
      option<Top<&O::ssim_weight>>("ssim_weight", "--ssim-weight", "weight of (1 - SSIM) added to the loss",
                                   [](const O& o, const char* k) {
                                     const double w = o.ssim_weight;
                                     return expect(k, std::isfinite(w) && w >= 0 && w <= 10, w, "0..10");
                                   }),
      option<Top<&O::warmup_steps>>("warmup_steps", "--warmup", "linear warm-up steps of the cosine schedule",
                                    [](const O& o, const char* k) {
                                      return expect(k, o.warmup_steps >= 0, o.warmup_steps, ">= 0");
                                    }),
      option<Data<&D::skip_bad>>("skip_bad", "--skip-bad", "skip bad pairs with a warning instead of stopping"),
      option<Data<&D::samples>>("samples", "--samples", "validation images in samples.png",
                                [](const O& o, const char* k) {
                                  const int n = o.data.samples;
                                  return expect(k, n >= 0 && n <= 16, n, "0..16");
                                }),
      option<Named<AtTop, &O::device, device_name, parse_device>>("device", "--device", "auto, cpu or cuda"),
      option<Top<&O::threads>>("threads", "--threads", "CPU threads (0: the physical cores)",
                               [](const O& o, const char* k) { return expect(k, o.threads >= 0, o.threads, ">= 0"); }),
      option<Named<AtTop, &O::precision, precision_name, parse_precision>>(
          "precision", "--precision", "fp32, bf16 (mixed precision) or auto (bf16 where native)",
          [](const O& o, const char*) {
            return std::string(o.precision != Precision::F16
                                   ? ""
                                   : "invalid precision fp16: training in fp16 needs loss scaling, which "
                                     "lowlight-train does not do; use bf16 or fp32");
          }),
      option<Top<&O::channels_last>>("channels_last", "--nchw",
                                     "plain NCHW memory format on CPU (default: channels-last)", nullptr, false),
      option<Top<&O::freeze_body>>("freeze_body", "--freeze-body",
                                   "train only the global branch (--global > 0): the body keeps the weights it starts "
                                   "from (--init)",
                                   [](const O& o, const char* k) {
                                     return expect(k, !o.freeze_body || o.model.global > 0, o.freeze_body,
                                                   "false for a model without the global branch (model.global 0)");
                                   }),
      // Config file and options.json only: rarely changed, or set by the launch (world_size) or by lowlight-train
      // itself (init from --init, which also takes the model config from the file; command).
      option<Top<&O::charbonnier_eps>>("charbonnier_eps", nullptr, "epsilon of the Charbonnier loss",
                                       [](const O& o, const char* k) {
                                         const double e = o.charbonnier_eps;
                                         return expect(k, std::isfinite(e) && e > 0, e, "> 0");
                                       }),
      option<Top<&O::plateau_factor>>("plateau_factor", nullptr, "plateau schedule: the rate's factor on a plateau",
                                      [](const O& o, const char* k) {
                                        const double f = o.plateau_factor;
                                        return expect(k, f > 0 && f < 1, f, "in (0, 1)");
                                      }),
      option<Top<&O::plateau_patience>>("plateau_patience", nullptr,
                                        "plateau schedule: epochs without a better validation PSNR before it acts",
                                        [](const O& o, const char* k) {
                                          return expect(k, o.plateau_patience >= 0, o.plateau_patience, ">= 0");
                                        }),
      option<Top<&O::world_size>>("world_size", nullptr, "processes the run trains with",
                                  [](const O& o, const char* k) {
                                    return expect(k, o.world_size >= 1, o.world_size, ">= 1");
                                  }),
      option<Top<&O::init_weights>>("init", nullptr, "weight file the run started from"),
      option<Top<&O::command_line>>("command", nullptr, "the command line that started the run"),
  };
}

// Keys a JSON object in `section` may hold.
std::vector<std::string> keys_in(const std::string& section) {
  std::vector<std::string> keys;
  for (const TrainOptionSpec& spec : train_option_specs())
    if (spec.section == section) keys.push_back(spec.key);
  return keys;
}

void check_keys(const json& object, const std::vector<std::string>& known, const std::string& where) {
  if (!object.is_object())
    throw Error("training config: " + (where.empty() ? "top level" : where) + " must be an object");
  for (auto it = object.begin(); it != object.end(); ++it)
    if (std::find(known.begin(), known.end(), it.key()) == known.end())
      throw Error("training config: unknown key " + where + it.key());
}

// Reads `value` from JSON as the type it already holds, naming the key on a type mismatch. A list may be
// given as one string (one training folder).
void read_value(const json& from, V& value, const std::string& name) {
  std::visit(
      [&](auto& out) {
        using T = std::decay_t<decltype(out)>;
        try {
          if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            if (from.is_string()) {
              out = {from.get<std::string>()};
              return;
            }
          }
          out = from.get<T>();
        } catch (const json::exception&) {
          throw Error("training config: " + name + " has the wrong type (" + from.type_name() + ")");
        }
      },
      value);
}

// The model part: the file may give only some fields, merged over the base config (ModelConfig's JSON).
ModelConfig merged_model(const json& given, const ModelConfig& base) {
  json model = json::parse(to_json(base));
  if (!given.is_object()) throw Error("training config: model must be an object");
  for (auto it = given.begin(); it != given.end(); ++it) model[it.key()] = it.value();
  try {
    return model_config_from_json(model.dump());
  } catch (const Error& e) {
    throw Error(std::string("training config: model: ") + e.what());
  }
}

}  // namespace

const std::vector<TrainOptionSpec>& train_option_specs() {
  static const std::vector<TrainOptionSpec> specs = make_specs();
  return specs;
}

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
  for (const TrainOptionSpec& spec : train_option_specs()) {
    if (!spec.check) continue;
    const std::string problem = spec.check(o, spec.key);
    if (!problem.empty()) throw Error(problem);
  }
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
  std::vector<std::string> top = keys_in("");
  top.insert(top.end(), {"comment", "model", "data"});
  check_keys(j, top, "");
  if (j.contains("data")) check_keys(j["data"], keys_in("data"), "data.");
  TrainOptions o = base;
  if (j.contains("model")) o.model = merged_model(j["model"], base.model);
  for (const TrainOptionSpec& spec : train_option_specs()) {
    const std::string section = spec.section;
    if (section == "model" || (!section.empty() && !j.contains(section))) continue;
    const json& object = section.empty() ? j : j[section];
    const auto it = object.find(spec.key);
    if (it == object.end()) continue;
    V value = spec.get(o);
    read_value(*it, value, (section.empty() ? "" : section + ".") + spec.key);
    spec.set(o, value);
  }
  return o;
}

std::string to_json(const TrainOptions& o) {
  json j = {{"model", json::parse(to_json(o.model))}, {"data", json::object()}};
  for (const TrainOptionSpec& spec : train_option_specs()) {
    const std::string section = spec.section;
    if (section == "model") continue;
    json& object = section.empty() ? j : j[section];
    std::visit([&](const auto& value) { object[spec.key] = value; }, spec.get(o));
  }
  return j.dump();
}

}  // namespace lowlight
