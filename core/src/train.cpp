// The training loop: steps with a prefetching loader thread, per-epoch validation, schedule, outputs,
// checkpoints. Every batch is a pure function of (seed, epoch, step), so a run stopped anywhere and
// resumed from last.ckpt sees the same batches and updates as one that never stopped. Data-parallel runs
// (world_size > 1, distributed.h) add the rank to that function and rank 0 alone validates and writes.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>

#include "autocast.h"
#include "distributed.h"
#include "lowlight/error.h"
#include "lowlight/metrics.h"
#include "lowlight/version.h"
#include "lowlight/weights.h"
#include "train_internal.h"

namespace fs = std::filesystem;

namespace lowlight {
namespace {

using namespace detail;
using Clock = std::chrono::steady_clock;

struct Run {
  TrainOptions options;
  fs::path dir;
  torch::Device device{torch::kCPU};
  bool autocast = false;  // bf16 mixed precision (options.precision resolved)
  MIRNet model{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer;
  Datasets data;
  std::vector<Batch> val;
  LoopState state;
  DistributedOptions dist;
  std::unique_ptr<Communicator> comm;           // world_size > 1
  std::unique_ptr<GradientAverager> gradients;  // with comm; declared after it, so destroyed first
  bool lead() const { return !comm || comm->rank() == 0; }
  int rank() const { return comm ? comm->rank() : 0; }
  int world() const { return comm ? comm->world_size() : 1; }
};

struct ValResult {
  double loss = 0, psnr = 0, psnr_seedcompat = 0, ssim = 0;
  std::vector<std::vector<torch::Tensor>> samples;  // low | enhanced | ground truth
};

double scheduled_lr(const Run& run) {
  const TrainOptions& o = run.options;
  if (o.schedule != Schedule::Cosine) return run.state.lr;
  const double step = static_cast<double>(run.state.global_step);
  if (step < o.warmup_steps) return o.lr * (step + 1) / o.warmup_steps;
  const double total = std::max(1.0, static_cast<double>(o.epochs) * o.steps_per_epoch - o.warmup_steps);
  const double t = std::min(1.0, (step - o.warmup_steps) / total);
  return o.min_lr + 0.5 * (o.lr - o.min_lr) * (1.0 + std::cos(M_PI * t));
}

void set_lr(torch::optim::Adam& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

ValResult run_validation(Run& run) {
  ValResult r;
  torch::NoGradGuard no_grad;
  run.model->eval();
  int64_t count = 0;
  for (const auto& batch : run.val) {
    const torch::Tensor x = batch.low.to(run.device), y = batch.high.to(run.device);
    const torch::Tensor out = forward_fp32(*run.model, x, run.autocast);
    const torch::Tensor clamped = out.clamp(0, 1);
    const int64_t n = x.size(0);
    r.loss += compute_loss(run.options, out, y).item<double>() * n;
    r.psnr += psnr(clamped, y).sum().item<double>();
    r.psnr_seedcompat += psnr(out, y).sum().item<double>();  // the Keras example scored the raw output
    r.ssim += ssim(clamped, y).sum().item<double>();
    for (int64_t i = 0; i < n && static_cast<int>(r.samples.size()) < run.options.data.samples; ++i)
      r.samples.push_back({batch.low[i], clamped[i].cpu(), batch.high[i]});
    count += n;
  }
  run.model->train();
  r.loss /= count;
  r.psnr /= count;
  r.psnr_seedcompat = r.psnr_seedcompat / count + kSeedCompatPsnrOffset;
  r.ssim /= count;
  return r;
}

std::string metrics_json(const EpochMetrics& m) {
  return nlohmann::json{{"epoch", m.epoch},       {"step", m.step},         {"train_loss", m.train_loss},
                        {"val_loss", m.val_loss}, {"val_psnr", m.val_psnr}, {"val_psnr_seedcompat", m.val_psnr_seedcompat},
                        {"val_ssim", m.val_ssim}, {"lr", m.lr}}
      .dump();
}

void save_best(const Run& run, const EpochMetrics& m) {
  const DataOptions& d = run.options.data;
  const nlohmann::json data = {{"train", d.train_dirs},
                               {"val", d.val_dir.empty() ? d.train_dirs.at(0) : d.val_dir},
                               {"split", d.val_dir.empty() ? nlohmann::json(d.split) : nlohmann::json(nullptr)},
                               {"train_pairs", run.data.train.size()},
                               {"val_pairs", run.data.val.size()},
                               {"crop", d.crop},
                               {"validation", d.val_full ? "full images" : "seeded crops " + std::to_string(d.val_crop)}};
  const std::map<std::string, std::string> extra = {
      {"data", data.dump()},
      {"command", nlohmann::json(run.options.command_line).dump()},
      {"metrics", metrics_json(m)},
      {"training", to_json(run.options)},
      {"lowlight_version", nlohmann::json(kVersion).dump()}};  // the trainer that wrote the file
  save_weights((run.dir / "best.safetensors").string(), *run.model, extra);
}

// Plateau on validation PSNR as Keras' ReduceLROnPlateau (mode max, min_delta 1e-4, cooldown 0).
void update_plateau(Run& run, double val_psnr) {
  LoopState& s = run.state;
  if (run.options.schedule != Schedule::Plateau) return;
  if (val_psnr > s.plateau_best + 1e-4) {
    s.plateau_best = val_psnr;
    s.plateau_wait = 0;
  } else if (++s.plateau_wait >= run.options.plateau_patience) {
    s.lr = std::max(s.lr * run.options.plateau_factor, run.options.min_lr);
    s.plateau_wait = 0;
  }
}

void checkpoint(Run& run, double base_seconds, Clock::time_point start) {
  if (!run.lead()) return;
  run.state.seconds = base_seconds + std::chrono::duration<double>(Clock::now() - start).count();
  save_checkpoint((run.dir / "last.ckpt").string(), *run.model, *run.optimizer, run.state);
}

std::string step_name(const Run& run) {
  return "step " + std::to_string(run.state.global_step + 1) + " (epoch " +
         std::to_string(run.state.epochs_done + 1) + ")";
}

// One optimisation step of the run; returns the loss and the batch's training PSNR.
std::pair<double, double> run_step(Run& run, const Batch& batch) {
  const torch::Tensor x = batch.low.to(run.device), y = batch.high.to(run.device);
  const StepResult r =
      train_step(*run.model, *run.optimizer, run.options, x, y, run.autocast, run.gradients.get(), step_name(run));
  if (!r.stepped) {
    const fs::path ckpt = run.dir / "last.ckpt";
    throw Error("training loss is " + std::string(std::isnan(r.loss) ? "NaN" : "infinite") + " at " + step_name(run) +
                "; stopped, " +
                (fs::exists(ckpt) ? ckpt.string() + " keeps the last good state" : "no checkpoint written yet"));
  }
  return {r.loss, r.psnr};
}

EpochMetrics finish_epoch(Run& run, int epoch, double lr, double seconds) {
  const ValResult v = run_validation(run);
  // Nothing of a diverged model is written: not best.safetensors, metrics or last.ckpt (the caller
  // checkpoints after this), which keeps the previous epoch's state.
  if (!std::isfinite(v.loss) || !std::isfinite(v.psnr) || !std::isfinite(v.ssim))
    throw Error("validation of epoch " + std::to_string(epoch) + " at step " + std::to_string(run.state.global_step) +
                " gave a non-finite " + (!std::isfinite(v.loss) ? "loss" : !std::isfinite(v.psnr) ? "PSNR" : "SSIM") +
                " (the model diverged); stopped, " + (run.dir / "last.ckpt").string() +
                " keeps the last good state (end of epoch " + std::to_string(epoch - 1) + ")");
  const int steps = run.options.steps_per_epoch;
  EpochMetrics m;
  m.epoch = epoch;
  m.step = run.state.global_step;
  m.train_loss = run.state.epoch_loss_sum / steps;
  m.train_psnr = run.state.epoch_psnr_sum / steps;
  m.val_loss = v.loss;
  m.val_psnr = v.psnr;
  m.val_psnr_seedcompat = v.psnr_seedcompat;
  m.val_ssim = v.ssim;
  m.lr = lr;
  m.seconds = seconds;
  LoopState& s = run.state;
  s.history.push_back(m);
  s.epochs_done = epoch;
  s.step_in_epoch = 0;
  s.epoch_loss_sum = s.epoch_psnr_sum = 0;
  update_plateau(run, m.val_psnr);
  if (m.val_psnr > s.best_psnr) {
    s.best_psnr = m.val_psnr;
    s.best_epoch = epoch;
    save_best(run, m);
  }
  write_metrics_csv((run.dir / "metrics.csv").string(), s.history);
  write_curves((run.dir / "curves.png").string(), s.history);
  write_samples((run.dir / "samples.png").string(), v.samples);
  return m;
}

// The end of an epoch on every rank: rank 0 validates and writes; the others keep their counters and take
// rank 0's learning rate, which the plateau schedule derives from the validation.
EpochMetrics end_epoch(Run& run, int epoch, double lr, double seconds) {
  if (!run.comm) return finish_epoch(run, epoch, lr, seconds);
  EpochMetrics m;
  LoopState& s = run.state;
  if (run.lead()) {
    m = finish_epoch(run, epoch, lr, seconds);
  } else {
    s.epochs_done = epoch;
    s.step_in_epoch = 0;
    s.epoch_loss_sum = s.epoch_psnr_sum = 0;
  }
  torch::Tensor rate = torch::tensor({s.lr}, torch::kDouble);
  run.comm->broadcast(rate, "waiting for rank 0's validation of epoch " + std::to_string(epoch));
  s.lr = rate.item<double>();
  return m;
}

// Whether to go on after a callback: every rank stops at the same step when any of them is asked to.
bool keep_going(Run& run, const TrainCallback& callback, const TrainProgress& p) {
  const bool go = !callback || callback(p);
  if (!run.comm) return go;
  return !run.comm->any(!go, "agreeing to go on after step " + std::to_string(p.global_step));
}

// The ranks end together, after rank 0 has written its last output: a rank exits 0 only if rank 0 did.
void end_together(Run& run) {
  if (run.comm) run.comm->any(false, "finishing (rank 0 writes the last outputs)");
}

TrainResult result_of(const Run& run, bool finished) {
  TrainResult r;
  r.finished = finished;
  r.epochs_done = run.state.epochs_done;
  r.global_step = run.state.global_step;
  r.best_val_psnr = run.state.best_psnr;
  r.best_epoch = run.state.best_epoch;
  r.history = run.state.history;
  return r;
}

TrainResult run_loop(Run& run, const TrainCallback& callback) {
  const TrainOptions& o = run.options;
  const Clock::time_point start = Clock::now();
  const double base_seconds = run.state.seconds;
  const int64_t first_step = run.state.global_step;
  const int64_t total_steps = static_cast<int64_t>(o.epochs) * o.steps_per_epoch;
  const int pairs = static_cast<int>(run.data.train.size());
  for (int epoch = run.state.epochs_done + 1; epoch <= o.epochs; ++epoch) {
    const std::vector<int> order = epoch_order(pairs, o.seed, epoch, o.data.shuffle);
    auto load = [&run, &order, epoch](int step) {
      return std::async(std::launch::async, [&run, &order, epoch, step] {
        return make_rank_batch(run.data.train, order, run.options, epoch, step, run.rank(), run.world());
      });
    };
    const double epoch_lr = scheduled_lr(run);
    std::future<Batch> next = load(run.state.step_in_epoch);
    const Clock::time_point epoch_start = Clock::now();
    const int epoch_first_step = run.state.step_in_epoch;
    for (int step = run.state.step_in_epoch; step < o.steps_per_epoch; ++step) {
      const Batch batch = next.get();
      if (step + 1 < o.steps_per_epoch) next = load(step + 1);  // the loader works while we compute
      const double lr = scheduled_lr(run);
      set_lr(*run.optimizer, lr);
      const auto [loss, train_psnr] = run_step(run, batch);
      LoopState& s = run.state;
      s.step_in_epoch = step + 1;
      s.global_step += 1;
      s.epoch_loss_sum += loss;
      s.epoch_psnr_sum += train_psnr;
      TrainProgress p;
      p.epoch = epoch;
      p.epochs = o.epochs;
      p.step = step + 1;
      p.steps_per_epoch = o.steps_per_epoch;
      p.global_step = s.global_step;
      p.running_loss = s.epoch_loss_sum / (step + 1);
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      p.steps_per_second = (s.global_step - first_step) / std::max(elapsed, 1e-9);
      p.eta_seconds = (total_steps - s.global_step) / std::max(p.steps_per_second, 1e-9);
      p.lr = lr;
      if (!keep_going(run, callback, p)) {
        if (next.valid()) next.wait();
        checkpoint(run, base_seconds, start);
        end_together(run);
        return result_of(run, false);
      }
    }
    const double seconds = base_seconds + std::chrono::duration<double>(Clock::now() - start).count();
    const double epoch_train_seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    TrainProgress p;
    p.steps_per_second = (o.steps_per_epoch - epoch_first_step) / std::max(epoch_train_seconds, 1e-9);
    p.epoch = epoch;
    p.epochs = o.epochs;
    p.step = p.steps_per_epoch = o.steps_per_epoch;
    p.global_step = run.state.global_step;
    p.epoch_done = true;
    p.metrics = end_epoch(run, epoch, o.schedule == Schedule::Cosine ? scheduled_lr(run) : epoch_lr, seconds);
    p.lr = p.metrics.lr;
    p.running_loss = p.metrics.train_loss;
    checkpoint(run, base_seconds, start);
    if (!keep_going(run, callback, p)) {
      end_together(run);
      return result_of(run, epoch == o.epochs);
    }
  }
  end_together(run);
  return result_of(run, true);
}

// Copies a weight file's parameters into the run's fresh model (same config, checked first). A file without the
// global branch may start a run with one: the body comes from the file, the branch starts as the identity.
void init_from_weights(MIRNetImpl& model, const TrainOptions& o) {
  WeightsInfo info;
  const auto source = load_weights(o.init_weights, &info);
  ModelConfig body = o.model;
  if (info.config.global == 0) body.global = 0;
  if (!(info.config == body))
    throw Error("init weights " + o.init_weights + ": config " + to_json(info.config) + " differs from the run's " +
                to_json(o.model));
  torch::NoGradGuard no_grad;
  auto target = model.named_parameters();
  for (const auto& p : source->named_parameters()) target[p.key()].copy_(p.value());
}

// Everything but the global branch stops learning: no gradients are computed for it and Adam (which skips
// parameters without a gradient) leaves it as loaded. (validate() refuses freeze_body without a branch.)
void freeze_body(MIRNetImpl& model) {
  for (auto& p : model.named_parameters())
    if (p.key().rfind("global.", 0) != 0) p.value().set_requires_grad(false);
}

std::vector<torch::Tensor> trainable_parameters(torch::nn::Module& model) {
  std::vector<torch::Tensor> out;
  for (const auto& p : model.parameters())
    if (p.requires_grad()) out.push_back(p);
  return out;
}

// ---- data parallelism: joining, and what rank 0 decides for all ----

// Joins the other ranks when the launch has several (a no-op for one process).
void join(Run& run) {
  validate(run.dist);
  if (run.dist.world_size > 1) run.comm = Communicator::connect(run.dist);
}

// Runs `work` on rank 0 and sends its result, or its error, to every rank: all stop with rank 0's message
// at once rather than waiting for it until the timeout. With one process: just `work`.
std::string from_lead(Run& run, const std::string& what, const std::function<std::string()>& work) {
  if (!run.comm) return work();
  std::string message;
  if (run.lead()) {
    try {
      message = "ok:" + work();
    } catch (const std::exception& e) {
      message = std::string("error:") + e.what();
      run.comm->broadcast(message, what);
      throw;
    }
  }
  run.comm->broadcast(message, what);
  if (message.rfind("error:", 0) == 0) throw Error("rank 0 stopped the run: " + message.substr(6));
  return message.substr(3);
}

TrainOptions options_from_lead(const std::string& json, const std::string& run_dir) {
  TrainOptions o = train_options_from_json(json, default_train_options());
  o.run_dir = run_dir;  // not part of the JSON; unused off rank 0
  return o;
}

// Every rank must load the same pairs (the data order is computed from their count, independently on each).
void check_same_data(Run& run) {
  torch::Tensor counts = torch::tensor({static_cast<int64_t>(run.data.train.size()),
                                        static_cast<int64_t>(run.data.val.size())}, torch::kInt64);
  const torch::Tensor mine = counts.clone();
  run.comm->broadcast(counts, "comparing the data with rank 0's");
  const bool differs = !torch::equal(counts, mine);
  if (run.comm->any(differs, "comparing the data with rank 0's"))
    throw Error(differs ? "rank " + std::to_string(run.rank()) + " found " + std::to_string(mine[0].item<int64_t>()) +
                              " training and " + std::to_string(mine[1].item<int64_t>()) +
                              " validation pairs, rank 0 " + std::to_string(counts[0].item<int64_t>()) + " and " +
                              std::to_string(counts[1].item<int64_t>()) +
                              ": every machine needs the same data at the same paths"
                        : "another rank found other data than rank 0 (see its message)");
}

// Builds the model (seeded, or from init_weights for a new run), optimizer and validation batches; loads
// the data. A resumed run takes its weights from the checkpoint instead. Every rank does this; rank 0's
// weights are then sent to the others (a resumed run's come with the checkpoint).
void prepare(Run& run, bool resuming, const LogFn& log) {
  const TrainOptions& o = run.options;
  // Processes sharing a machine share its cores (torchrun's LOCAL_WORLD_SIZE, Slurm's tasks per node).
  int threads = o.threads;
  if (threads == 0 && run.dist.local_world_size > 1)
    threads = std::max(1, default_cpu_threads() / run.dist.local_world_size);
  set_cpu_threads(threads);
  const DeviceKind kind = resolve_device(o.device);
  run.device = kind == DeviceKind::CUDA ? torch::Device(torch::kCUDA, run.comm ? run.dist.local_rank : 0)
                                        : torch::Device(torch::kCPU);
  // auto: bf16 on CUDA (no loss scaling needed, unlike fp16) and on CPUs with native bf16.
  run.autocast = o.precision == Precision::BF16 ||
                 (o.precision == Precision::Auto && (kind == DeviceKind::CUDA || cpu_has_native_bf16()));
  run.data = load_datasets(o, log);
  if (run.comm) check_same_data(run);
  run.val = make_val_batches(run.data.val, o);
  torch::manual_seed(o.seed);
  run.model = MIRNet(o.model);
  if (!resuming && !o.init_weights.empty() && run.lead()) init_from_weights(*run.model, o);
  run.model->to(run.device);
  if (o.channels_last && kind == DeviceKind::CPU) set_weight_format(*run.model, torch::MemoryFormat::ChannelsLast);
  run.model->train();
  if (o.freeze_body) freeze_body(*run.model);
  run.optimizer = make_optimizer(*run.model, o.lr);
  run.state.lr = o.lr;
  if (run.comm) {
    if (!resuming) broadcast_module(*run.comm, *run.model);
    run.gradients = std::make_unique<GradientAverager>(*run.comm, trainable_parameters(*run.model));
  }
  if (log) {
    std::ostringstream s;
    s << "training pairs " << run.data.train.size() << ", validation pairs " << run.data.val.size() << ", "
      << count_parameters(*run.model) << " parameters, device " << device_name(kind)
      << (run.autocast ? ", bf16 mixed precision" : ", fp32")
      << (!resuming && !o.init_weights.empty() ? ", starting from " + o.init_weights : std::string());
    log(s.str());
    if (run.comm)
      log("data parallel: " + run.comm->describe() + "; global batch " + std::to_string(o.batch * run.world()) + " (" +
          std::to_string(o.batch) + " per rank)");
  }
}

void write_options(const fs::path& dir, const TrainOptions& options) {
  write_file_atomic((dir / "options.json").string(), nlohmann::json::parse(to_json(options)).dump(2) + "\n", Overwrite::Yes);
}

void check_new_run_folder(const fs::path& dir) {
  if (fs::exists(dir / "last.ckpt"))
    throw Error("run folder " + dir.string() + " already holds a run (last.ckpt); resume it or choose another folder");
  std::error_code ec;
  if (fs::is_directory(dir, ec) && !fs::is_empty(dir, ec))
    throw Error("run folder " + dir.string() + " is not empty and holds no run to resume; choose a new or empty folder");
}

// Reads rank 0's checkpoint from the bytes it sent (through a private temporary file: the checkpoint
// reader takes a path).
void load_sent_checkpoint(Run& run, const std::string& bytes) {
  const fs::path tmp = fs::temp_directory_path() /
                       ("lowlight-rank" + std::to_string(run.rank()) + "-" + std::to_string(::getpid()) + ".ckpt");
  std::error_code ec;
  try {
    write_file_atomic(tmp.string(), bytes, Overwrite::Yes);
    load_checkpoint(tmp.string(), *run.model, *run.optimizer, run.state);
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
  fs::remove(tmp, ec);
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  if (!in) throw Error("cannot read " + path.string());
  return bytes.str();
}

}  // namespace

namespace detail {

Batch make_rank_batch(const std::vector<PairImage>& train, const std::vector<int>& order, const TrainOptions& options,
                      int epoch, int step, int rank, int world) {
  if (world == 1) return make_train_batch(train, order, options, epoch, step);
  // make_train_batch reads order[step * batch + b]: give it just that window of this rank's slice.
  const int n = options.batch;
  std::vector<int> window(static_cast<size_t>(step + 1) * n, 0);
  for (int b = 0; b < n; ++b) {
    const int64_t global = (static_cast<int64_t>(step) * world + rank) * n + b;
    window[static_cast<size_t>(step) * n + b] = order[static_cast<size_t>(global % static_cast<int64_t>(order.size()))];
  }
  TrainOptions mine = options;
  if (rank > 0) mine.seed = mix_seed(options.seed, 0x52414e4bu /* "RANK" */, static_cast<uint64_t>(rank));
  return make_train_batch(train, window, mine, epoch, step);
}

}  // namespace detail

TrainResult train(const TrainOptions& options, const TrainCallback& callback, const LogFn& log,
                  const DistributedOptions& dist) {
  Run run;
  run.dist = dist;
  join(run);
  TrainOptions o = options;
  o.world_size = run.world();
  // Rank 0's settings are the run's: checked there, with its run folder, and sent to every rank.
  const std::string text = from_lead(run, "receiving the run's settings from rank 0", [&] {
    validate(o);
    if (o.run_dir.empty()) throw Error("training: no run folder given");
    check_new_run_folder(o.run_dir);
    return run.comm ? to_json(o) : std::string();
  });
  if (!run.lead()) o = options_from_lead(text, options.run_dir);
  run.options = o;
  run.dir = o.run_dir;
  prepare(run, /*resuming=*/false, run.lead() ? log : LogFn());
  if (run.lead()) {
    std::error_code ec;
    fs::create_directories(run.dir, ec);
    if (ec) throw Error("cannot create run folder " + run.dir.string() + ": " + ec.message());
    write_options(run.dir, run.options);
  }
  return run_loop(run, callback);
}

TrainOptions load_run_options(const std::string& run_dir) {
  const fs::path path = fs::path(run_dir) / "options.json";
  std::ifstream in(path);
  if (!in) throw Error("no run in " + run_dir + " (" + path.string() + " missing)");
  std::stringstream text;
  text << in.rdbuf();
  TrainOptions options = train_options_from_json(text.str(), default_train_options());
  options.run_dir = run_dir;
  return options;
}

TrainResult resume(const std::string& run_dir, int epochs, const TrainCallback& callback, const LogFn& log,
                   const DistributedOptions& dist) {
  Run run;
  run.dist = dist;
  join(run);
  TrainOptions o;
  bool rewrite_options = epochs > 0;
  const std::string text = from_lead(run, "receiving the run's settings from rank 0", [&] {
    o = load_run_options(run_dir);
    if (epochs > 0) o.epochs = epochs;
    validate(o);
    if (o.world_size != run.world()) {
      if (!dist.allow_world_size_change)
        throw Error(run_dir + " was trained by " + std::to_string(o.world_size) + " process(es), this launch has " +
                    std::to_string(run.world()) + ": that would change the global batch from " +
                    std::to_string(o.batch * o.world_size) + " to " + std::to_string(o.batch * run.world()) +
                    " (and the data order); launch " + std::to_string(o.world_size) +
                    ", or pass --allow-world-size-change to go on with " + std::to_string(run.world()));
      o.world_size = run.world();
      rewrite_options = true;
    }
    return run.comm ? to_json(o) : std::string();
  });
  if (!run.lead()) o = options_from_lead(text, run_dir);
  run.options = o;
  run.dir = run_dir;
  prepare(run, /*resuming=*/true, run.lead() ? log : LogFn());
  const std::string checkpoint = from_lead(run, "receiving rank 0's checkpoint", [&] {
    const fs::path path = run.dir / "last.ckpt";
    load_checkpoint(path.string(), *run.model, *run.optimizer, run.state);
    if (epochs > 0 && epochs < run.state.epochs_done)
      throw Error("--epochs " + std::to_string(epochs) + " is fewer than the " + std::to_string(run.state.epochs_done) +
                  " epochs " + run_dir + " has done; options.json is left as it is");
    return run.comm ? read_bytes(path) : std::string();
  });
  if (!run.lead()) load_sent_checkpoint(run, checkpoint);
  if (run.lead() && rewrite_options) write_options(run.dir, run.options);
  if (log && run.lead())
    log("resuming " + run_dir + " at epoch " + std::to_string(run.state.epochs_done + 1) + ", step " +
        std::to_string(run.state.global_step) + (run.comm ? " on " + std::to_string(run.world()) + " ranks" : ""));
  return run_loop(run, callback);
}

}  // namespace lowlight
