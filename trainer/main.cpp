// lowlight-train: parses options, calls lowlight::train / lowlight::resume, reports progress.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>

#include "lowlight/device.h"
#include "lowlight/distributed.h"
#include "lowlight/error.h"
#include "lowlight/train.h"
#include "lowlight/weights.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;

// SIGINT (Ctrl-C) and SIGTERM (kill, a batch system's time limit): finish the step, checkpoint, stop.
void on_stop_signal(int signal) {
  g_stop = signal;
  std::signal(signal, SIG_DFL);  // a second one ends the process at once
}

std::string quote(const std::string& arg) {
  if (!arg.empty() && arg.find_first_of(" \t\n'\"\\$`*?") == std::string::npos) return arg;
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string format_time(double seconds) {
  if (!(seconds >= 0) || seconds > 1e8) return "--:--";
  const long s = static_cast<long>(seconds);
  char text[32];
  if (s >= 3600) std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(text, sizeof text, "%02ld:%02ld", s / 60, s % 60);
  return text;
}

void print_epoch(const lowlight::EpochMetrics& m, int epochs, double steps_per_second) {
  std::fprintf(stderr,
               "epoch %d/%d  step %lld  train loss %.5f  val loss %.5f  val PSNR %.3f dB (seed-compatible %.4f)  "
               "SSIM %.4f  lr %.3g  %.4f steps/s  %s\n",
               m.epoch, epochs, static_cast<long long>(m.step), m.train_loss, m.val_loss, m.val_psnr,
               m.val_psnr_seedcompat, m.val_ssim, m.lr, steps_per_second, format_time(m.seconds).c_str());
}

bool report(const lowlight::TrainProgress& p, bool terminal) {
  if (p.epoch_done) {
    if (terminal) std::fputc('\n', stderr);
    print_epoch(p.metrics, p.epochs, p.steps_per_second);
  } else if (terminal) {
    const int width = 24, filled = width * p.step / std::max(1, p.steps_per_epoch);
    std::fprintf(stderr, "\repoch %d/%d [%s%s] %d/%d  %.2f steps/s  ETA %s  loss %.5f ", p.epoch, p.epochs,
                 std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), p.step,
                 p.steps_per_epoch, p.steps_per_second, format_time(p.eta_seconds).c_str(), p.running_loss);
  }
  std::fflush(stderr);
  return g_stop == 0;
}

// Flags override the config file, which overrides the defaults: each flag remembers whether it was given.
struct Overrides {
  CLI::App& app;
  std::vector<std::function<void(lowlight::TrainOptions&)>> setters;
  std::vector<const CLI::Option*> options;

  template <typename T, typename Set>
  void option(const std::string& name, const std::string& help, Set set) {
    auto value = std::make_shared<T>();
    CLI::Option* opt = app.add_option(name, *value, help);
    options.push_back(opt);
    setters.push_back([opt, value, set](lowlight::TrainOptions& o) {
      if (opt->count()) set(o, *value);
    });
  }
  template <typename Set>
  void flag(const std::string& name, const std::string& help, Set set) {
    CLI::Option* opt = app.add_flag(name, help);
    options.push_back(opt);
    setters.push_back([opt, set](lowlight::TrainOptions& o) {
      if (opt->count()) set(o);
    });
  }
  // Names of the flags given other than `except`.
  std::vector<std::string> given(const std::string& except) const {
    std::vector<std::string> names;
    for (const CLI::Option* opt : options)
      if (opt->count() && opt->get_name() != except) names.push_back(opt->get_name());
    return names;
  }
  void apply(lowlight::TrainOptions& o) const {
    for (const auto& set : setters) set(o);
  }
};

void add_options(Overrides& f) {
  using O = lowlight::TrainOptions;
  f.option<std::vector<std::string>>("--train", "paired folders (low/, high/) to train on, pooled",
                                     [](O& o, const std::vector<std::string>& v) { o.data.train_dirs = v; });
  f.option<std::string>("--val", "paired folder to validate on (default: split --train)",
                        [](O& o, const std::string& v) { o.data.val_dir = v; });
  f.option<int>("--split", "without --val: first N names (sorted as strings) train, the rest validate [300]",
                [](O& o, int v) { o.data.split = v; });
  f.option<int>("--channels", "model width C [64]", [](O& o, int v) { o.model.channels = v; });
  f.option<int>("--rrgs", "recursive residual groups [3]", [](O& o, int v) { o.model.rrgs = v; });
  f.option<int>("--mrbs", "multi-scale residual blocks per RRG [2]", [](O& o, int v) { o.model.mrbs = v; });
  f.option<int>("--streams", "parallel resolutions, 2..4 [3]", [](O& o, int v) { o.model.streams = v; });
  f.option<int>("--sa-kernel", "spatial-attention kernel [1]", [](O& o, int v) { o.model.sa_kernel = v; });
  f.option<int>("--reduction", "attention squeeze ratio [8]", [](O& o, int v) { o.model.reduction = v; });
  f.flag("--keras-last-skff", "seed-compat: final SKFF fed the lowest stream twice",
         [](O& o) { o.model.keras_last_skff = true; });
  f.flag("--keras-softmax-channels", "seed-compat: SKFF softmax over channels",
         [](O& o) { o.model.keras_softmax_channels = true; });
  f.option<std::string>("--loss", "charbonnier, rmse, mse or l1 [charbonnier]",
                        [](O& o, const std::string& v) { o.loss = lowlight::parse_loss(v); });
  f.option<double>("--lr", "Adam learning rate [1e-4]", [](O& o, double v) { o.lr = v; });
  f.option<std::string>("--schedule", "plateau (val PSNR, x0.5 after 5 epochs), cosine or constant [plateau]",
                        [](O& o, const std::string& v) { o.schedule = lowlight::parse_schedule(v); });
  f.option<double>("--min-lr", "floor of the schedule [0]", [](O& o, double v) { o.min_lr = v; });
  f.option<int>("--epochs", "epochs [50]", [](O& o, int v) { o.epochs = v; });
  f.option<int>("--batch", "batch size [4]", [](O& o, int v) { o.batch = v; });
  f.option<int>("--crop", "training crop side [128]", [](O& o, int v) { o.data.crop = v; });
  f.option<int>("--steps", "steps per epoch [75]", [](O& o, int v) { o.steps_per_epoch = v; });
  f.option<uint64_t>("--seed", "seed for init, crops, order, augmentation [1]", [](O& o, uint64_t v) { o.seed = v; });
  f.option<std::string>("--augment", "none or flips (flips and 90-degree rotations) [none]",
                        [](O& o, const std::string& v) { o.data.augment = lowlight::parse_augment(v); });
  f.flag("--no-shuffle", "keep the file order every epoch (as the Keras example)",
         [](O& o) { o.data.shuffle = false; });
  f.flag("--val-full", "validate on whole images instead of fixed seeded crops", [](O& o) { o.data.val_full = true; });
  f.option<int>("--val-crop", "side of the fixed validation crops [128]", [](O& o, int v) { o.data.val_crop = v; });
  f.option<double>("--identity", "probability that a sample is a lit (high) image as its own target [0]",
                   [](O& o, double v) { o.data.identity = v; });
  f.option<double>("--exposure", "input exposure jitter: gain exp(U(-e,e)), gamma exp(U(-e/2,e/2)) [0]",
                   [](O& o, double v) { o.data.exposure = v; });
  f.option<double>("--ssim-weight", "weight of (1 - SSIM) added to the loss [0]", [](O& o, double v) { o.ssim_weight = v; });
  f.option<int>("--warmup", "linear warm-up steps of the cosine schedule [0]", [](O& o, int v) { o.warmup_steps = v; });
  f.flag("--skip-bad", "skip bad pairs with a warning instead of stopping", [](O& o) { o.data.skip_bad = true; });
  f.option<int>("--samples", "validation images in samples.png [4]", [](O& o, int v) { o.data.samples = v; });
  f.option<std::string>("--device", "auto, cpu or cuda [auto]",
                        [](O& o, const std::string& v) { o.device = lowlight::parse_device(v); });
  f.option<int>("--threads", "CPU threads (0: the physical cores) [0]", [](O& o, int v) { o.threads = v; });
  f.option<std::string>("--precision", "fp32, bf16 (mixed precision) or auto (bf16 where native) [fp32]",
                        [](O& o, const std::string& v) { o.precision = lowlight::parse_precision(v); });
  f.flag("--nchw", "plain NCHW memory format on CPU (default: channels-last)", [](O& o) { o.channels_last = false; });
}

// Data-parallel launch flags; each defaults to the launcher's environment (distributed.h).
struct DistFlags {
  int rank = -1, world_size = -1, local_rank = -1, master_port = -1;
  std::string master_addr, backend = "auto";
  double timeout = 1800;
  bool allow_world_size_change = false;

  void add(CLI::App& app) {
    auto* g = app.add_option_group("data parallel",
                                   "several processes, one per rank (default: RANK, WORLD_SIZE, LOCAL_RANK, "
                                   "MASTER_ADDR, MASTER_PORT or Slurm's SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID)");
    g->add_option("--rank", rank, "this process's rank, 0..world size - 1");
    g->add_option("--world-size", world_size, "processes in the run [1]");
    g->add_option("--local-rank", local_rank, "this process's index on its machine (its CUDA device) [0]");
    g->add_option("--master-addr", master_addr, "rank 0's host name or address [127.0.0.1]");
    g->add_option("--master-port", master_port, "rank 0's rendezvous port [29500]");
    g->add_option("--dist-backend", backend, "auto (NCCL on CUDA, else Gloo), gloo or nccl [auto]");
    g->add_option("--dist-timeout", timeout, "seconds to wait for a missing or silent rank [1800]");
    g->add_flag("--allow-world-size-change", allow_world_size_change,
                "resume with another number of processes (changes the global batch)");
  }

  lowlight::DistributedOptions resolve() const {
    lowlight::DistributedOptions o = lowlight::distributed_options_from_environment();
    if (rank >= 0) o.rank = rank;
    if (world_size >= 0) o.world_size = world_size;
    if (local_rank >= 0) o.local_rank = local_rank;
    if (master_port >= 0) o.master_port = master_port;
    if (!master_addr.empty()) o.master_addr = master_addr;
    o.backend = lowlight::parse_dist_backend(backend);
    o.timeout_seconds = timeout;
    o.allow_world_size_change = allow_world_size_change;
    lowlight::validate(o);
    return o;
  }
};

// What CLI11's ExistingFile / ExistingDirectory checks said, for the paths only rank 0 reads (the other ranks
// get the run's settings from it and may run where these files are not). Empty: fine.
std::string missing_path(const std::string& flag, const std::string& path, bool directory) {
  if (path.empty()) return "";
  const std::string problem = directory ? CLI::ExistingDirectory(path) : CLI::ExistingFile(path);
  return problem.empty() ? "" : flag + ": " + problem;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw lowlight::Error("cannot read config file " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  lowlight::prefer_passive_openmp(argv);  // may re-execute this program once, before anything else runs
  lowlight::keep_freed_memory();
  CLI::App app{"lowlight-train: train MIRNet for low-light enhancement (outputs in a run folder)"};
  std::string config_path, out_dir, resume_dir, init_path;
  app.add_option("--config", config_path, "JSON training config (flags override it)");
  app.add_option("-o,--out", out_dir, "run folder for a new run");
  app.add_option("--init", init_path,
                 "start from this weight file, e.g. to fine-tune on larger crops (its config is the default one)");
  app.add_option("--resume", resume_dir, "continue the run in this folder from last.ckpt");
  Overrides overrides{app, {}, {}};
  add_options(overrides);
  DistFlags dist_flags;
  dist_flags.add(app);
  lowlight::DistributedOptions dist;
  try {
    app.parse(argc, argv);
    dist = dist_flags.resolve();
    if (dist.rank == 0)
      for (const std::string& problem : {missing_path("--config", config_path, false),
                                         missing_path("--init", init_path, false),
                                         missing_path("--resume", resume_dir, true)})
        if (!problem.empty()) throw CLI::ValidationError(problem);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "lowlight-train: error: %s (see lowlight-train --help)\n", e.what());
    return 2;
  } catch (const lowlight::Error& e) {
    std::fprintf(stderr, "lowlight-train: error: %s (see lowlight-train --help)\n", e.what());
    return 2;
  }
  const bool lead = dist.rank == 0;
  const std::string who = dist.world_size > 1 ? "rank " + std::to_string(dist.rank) + ": " : "";

  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + quote(argv[i]);
  const bool terminal = ::isatty(STDERR_FILENO);
  auto log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  // Rank 0 reports; the others only watch for the stop signals.
  auto progress = [terminal, lead](const lowlight::TrainProgress& p) { return lead ? report(p, terminal) : g_stop == 0; };
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  try {
    lowlight::TrainResult result;
    if (!resume_dir.empty()) {
      const auto extra = overrides.given("--epochs");
      if (!out_dir.empty() || !config_path.empty() || !init_path.empty() || !extra.empty())
        throw lowlight::Error("--resume takes its settings from the run folder; only --epochs may change" +
                              (extra.empty() ? std::string() : " (given: " + extra.front() + ")"));
      lowlight::TrainOptions probe;
      overrides.apply(probe);
      result = lowlight::resume(resume_dir, app.get_option("--epochs")->count() ? probe.epochs : 0, progress, log, dist);
      out_dir = resume_dir;
    } else {
      if (out_dir.empty()) throw lowlight::Error("give a run folder with --out (or --resume RUN)");
      lowlight::TrainOptions options = lowlight::default_train_options();
      if (!init_path.empty() && lead) {  // the other ranks take rank 0's settings
        options.model = lowlight::read_weights_info(init_path).config;
        options.init_weights = init_path;
      }
      if (!config_path.empty() && lead) options = lowlight::train_options_from_json(read_text(config_path), options);
      overrides.apply(options);
      options.run_dir = out_dir;
      options.command_line = command;
      result = lowlight::train(options, progress, log, dist);
    }
    if (!result.finished) {
      if (!lead) return g_stop == SIGTERM ? 143 : 130;
      std::fprintf(stderr, "\nstopped after step %lld; continue with: lowlight-train --resume %s\n",
                   static_cast<long long>(result.global_step), quote(out_dir).c_str());
      return g_stop == SIGTERM ? 143 : 130;  // the shell's codes for the two signals
    }
    if (!lead) return 0;
    std::fprintf(stderr, "done: best validation PSNR %.3f dB at epoch %d; weights in %s/best.safetensors\n",
                 result.best_val_psnr, result.best_epoch, out_dir.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%slowlight-train: error: %s%s\n", terminal && lead ? "\n" : "", who.c_str(), e.what());
    return 1;
  }
}
