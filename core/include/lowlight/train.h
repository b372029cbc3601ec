#pragma once
// Training loop: plain settings structs and one entry point. Light header (no LibTorch).
//
// A run folder holds: options.json (what the run was started with), metrics.csv, curves.png, samples.png,
// best.safetensors (by validation PSNR) and last.ckpt (everything needed to continue exactly).
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "lowlight/config.h"
#include "lowlight/device.h"
#include "lowlight/distributed.h"

namespace lowlight {

enum class Augment { None, Flips };             // Flips: the 8 flips / 90-degree rotations
enum class Loss { Charbonnier, RMSE, MSE, L1 };
enum class Schedule { Plateau, Cosine, Constant };

struct DataOptions {
  // Paired folders: low/ and high/ with the same file names. Their pairs are pooled (names may repeat
  // across folders).
  std::vector<std::string> train_dirs;
  std::string val_dir;        // a paired folder; empty: the one train folder is split the paper's way
  int split = 300;            // with no val_dir: the first `split` names (sorted as strings) train
  int crop = 128;             // training crop side, same place in low and high
  Augment augment = Augment::None;
  bool shuffle = true;        // new order every epoch (the Keras example: false)
  bool val_full = false;      // validate on whole images instead of fixed seeded crops
  int val_crop = 128;         // side of the fixed validation crops
  bool skip_bad = false;      // a bad pair is skipped with a warning instead of stopping the run
  // Exposure augmentation, so that photos which are already lit are left alone and input brightness
  // varies: with probability `identity` a sample is a ground-truth (high) crop as its own target; other
  // inputs get a gain exp(U(-exposure, exposure)) and a gamma exp(U(-exposure/2, exposure/2)).
  double identity = 0.0;
  double exposure = 0.0;
  int samples = 4;            // validation images shown in samples.png
};

struct TrainOptions {
  ModelConfig model;
  DataOptions data;
  Loss loss = Loss::Charbonnier;
  double charbonnier_eps = 1e-3;
  double ssim_weight = 0.0;              // adds ssim_weight * (1 - SSIM) to the loss
  double lr = 1e-4;                      // Adam
  int warmup_steps = 0;                  // linear warm-up of the cosine schedule's rate
  Schedule schedule = Schedule::Plateau;
  double plateau_factor = 0.5;           // on validation PSNR
  int plateau_patience = 5;
  double min_lr = 0.0;                   // floor of both schedules
  int epochs = 50;
  int batch = 4;                         // per process: the global batch is batch x world_size
  int steps_per_epoch = 75;
  uint64_t seed = 1;
  // Processes the run trains with (recorded in options.json from the launch; resuming with another is refused
  // unless DistributedOptions::allow_world_size_change). The learning rate applies to the global batch.
  int world_size = 1;
  DeviceKind device = DeviceKind::Auto;
  int threads = 0;                       // CPU intra-op threads (0: default_cpu_threads())
  bool channels_last = true;             // memory format on CPU (much faster convolutions there)
  // fp32, or bf16 mixed precision (autocast: convolutions in bf16, weights, loss and Adam in fp32; about 4x
  // faster steps on a CPU with AMX-BF16). auto: bf16 where the device has native bf16, else fp32.
  Precision precision = Precision::F32;
  // A weight file to start from instead of random weights (fine-tuning, e.g. a converged model on larger
  // crops). Its config must equal `model`; only the weights come from it, the optimizer starts fresh.
  std::string init_weights;
  // Train only the global branch (model.global > 0): the body's weights stay as loaded (init_weights), so a
  // trained network gains the branch without relearning the rest. Steps then cost the body's forward only.
  bool freeze_body = false;
  std::string run_dir;                   // where outputs go
  std::string command_line;              // recorded in metadata
};

// The paper's default (Keras example): C=64 3x2, batch 4, crop 128, 75 steps x 50 epochs, Charbonnier,
// Adam 1e-4, plateau schedule, no augmentation; shuffling on (the Keras code had none: set shuffle false).
TrainOptions default_train_options();

// Throws lowlight::Error naming the first invalid field and its value.
void validate(const TrainOptions& options);

// JSON: {"model": {...}, "data": {...}, "loss": "charbonnier", "lr": 1e-4, ...}. Keys present override
// `base`; unknown keys, wrong types and unknown names are errors naming the key. The model part is
// validated here; call validate() on the whole once command-line flags have been applied.
TrainOptions train_options_from_json(const std::string& json, const TrainOptions& base);
// The same JSON, for options.json and the "training" metadata of the weight files a run writes (model cards).
std::string to_json(const TrainOptions& options);

// Every training option once, in one table: its JSON key, lowlight-train's flag and help text (the front end
// shows the default, from default_train_options()), and its check. to_json, train_options_from_json, validate
// and lowlight-train's flags all read it, so a new option is one row (train_options.cpp).
// A value as JSON and the command line see it; options held as enums (loss, schedule, ...) as their names.
using TrainOptionValue = std::variant<bool, int, double, uint64_t, std::string, std::vector<std::string>>;
struct TrainOptionSpec {
  const char* section;  // the JSON object the key is in: "" (top level), "data" or "model" (ModelConfig's own
                        // JSON, config.h: the table gives model fields their flags only)
  const char* key;      // JSON key, also the name validation messages give
  const char* flag;     // lowlight-train's flag; nullptr: config file and options.json only
  const char* help;
  TrainOptionValue (*get)(const TrainOptions&);
  void (*set)(TrainOptions&, const TrainOptionValue&);  // throws Error for an unknown name
  bool flag_sets = true;  // a bool option's flag takes no value: it sets this (--no-shuffle: false)
  // The message validate() throws when the option is out of range, "" when it is fine.
  std::string (*check)(const TrainOptions&, const char* key) = nullptr;
};
const std::vector<TrainOptionSpec>& train_option_specs();

const char* loss_name(Loss loss);
Loss parse_loss(const std::string& name);            // throws on unknown names
const char* schedule_name(Schedule schedule);
Schedule parse_schedule(const std::string& name);
const char* augment_name(Augment augment);
Augment parse_augment(const std::string& name);

// One row of metrics.csv.
struct EpochMetrics {
  int epoch = 0;                 // 1-based
  int64_t step = 0;              // global steps done
  double train_loss = 0;
  double train_psnr = 0;         // on the training crops, before the step's update
  double val_loss = 0;
  double val_psnr = 0;           // correct (peak 1), on the clamped output
  double val_psnr_seedcompat = 0;  // the Keras example's number (peak 255 on [0,1], unclamped output)
  double val_ssim = 0;
  double lr = 0;                 // during this epoch
  double seconds = 0;            // wall time since the run started (resumed runs continue the count)
};

struct TrainProgress {
  int epoch = 0;                 // 1-based, current
  int epochs = 0;
  int step = 0;                  // steps done in this epoch
  int steps_per_epoch = 0;
  int64_t global_step = 0;
  double running_loss = 0;       // mean training loss of this epoch so far
  double steps_per_second = 0;   // this session so far; with epoch_done: this epoch's training steps only
  double eta_seconds = 0;        // until the last epoch ends (validation excluded)
  double lr = 0;
  bool epoch_done = false;       // true once per epoch, after validation; `metrics` is then set
  EpochMetrics metrics;
};

// Called after every step and after each epoch's validation. Returning false stops the run cleanly
// (as Ctrl-C should): the loop writes last.ckpt at that point and returns.
using TrainCallback = std::function<bool(const TrainProgress&)>;
using LogFn = std::function<void(const std::string& line)>;  // warnings and notes

struct TrainResult {
  bool finished = false;         // all epochs done (false: stopped by the callback)
  int epochs_done = 0;           // completed epochs
  int64_t global_step = 0;
  double best_val_psnr = 0;
  int best_epoch = 0;
  std::vector<EpochMetrics> history;
};

// Starts a new run in options.run_dir (created; refused if it already holds last.ckpt).
// Throws lowlight::Error for bad data, bad options, or a NaN/inf loss (naming the step; last.ckpt then
// still holds the last good state).
//
// With dist.world_size > 1 every rank calls this (one process each) and rank 0's options are the run's (sent
// to all): each rank loads the training data from the same paths and trains on its own crops, gradients are
// averaged, and rank 0 alone validates, calls `log` and writes the run folder (the others need none). A rank
// that fails or disappears makes the others throw, naming it, within dist.timeout_seconds.
TrainResult train(const TrainOptions& options, const TrainCallback& callback = {}, const LogFn& log = {},
                  const DistributedOptions& dist = {});

// Options a run was started with (run_dir/options.json).
TrainOptions load_run_options(const std::string& run_dir);

// Continues the run in run_dir from last.ckpt exactly where it stopped (mid-epoch included).
// `epochs` > 0 extends or shortens the run; anything else comes from the run's options.json.
// Distributed: rank 0 reads the run folder and sends the settings and checkpoint to the others.
TrainResult resume(const std::string& run_dir, int epochs = 0, const TrainCallback& callback = {},
                   const LogFn& log = {}, const DistributedOptions& dist = {});

}  // namespace lowlight
