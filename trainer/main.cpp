// lowlight-train: parses options, calls lowlight::train / lowlight::resume, reports progress.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <type_traits>
#include <variant>

#include "lowlight/device.h"
#include "lowlight/distributed.h"
#include "lowlight/duration.h"
#include "lowlight/error.h"
#include "lowlight/train.h"
#include "lowlight/version.h"
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

std::string clock_text(double seconds) { return lowlight::format_duration(seconds, lowlight::DurationStyle::Clock); }

void print_epoch(const lowlight::EpochMetrics& m, int epochs, double steps_per_second) {
  std::fprintf(stderr,
               "epoch %d/%d  step %lld  train loss %.5f  val loss %.5f  val PSNR %.3f dB (seed-compatible %.4f)  "
               "SSIM %.4f  lr %.3g  %.4f steps/s  %s\n",
               m.epoch, epochs, static_cast<long long>(m.step), m.train_loss, m.val_loss, m.val_psnr,
               m.val_psnr_seedcompat, m.val_ssim, m.lr, steps_per_second, clock_text(m.seconds).c_str());
}

bool report(const lowlight::TrainProgress& p, bool terminal) {
  if (p.epoch_done) {
    if (terminal) std::fputc('\n', stderr);
    print_epoch(p.metrics, p.epochs, p.steps_per_second);
  } else if (terminal) {
    const int width = 24, filled = width * p.step / std::max(1, p.steps_per_epoch);
    std::fprintf(stderr, "\repoch %d/%d [%s%s] %d/%d  %.2f steps/s  ETA %s  loss %.5f ", p.epoch, p.epochs,
                 std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), p.step,
                 p.steps_per_epoch, p.steps_per_second, clock_text(p.eta_seconds).c_str(), p.running_loss);
  }
  std::fflush(stderr);
  return g_stop == 0;
}

// An empty text or list has no default to show (the help says what none means).
template <typename T>
bool shows_default(const T& value) {
  if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::vector<std::string>>) return !value.empty();
  else return true;
}

// Flags override the config file, which overrides the defaults: each flag remembers whether it was given.
// There is one flag per option of the table in train.h, its default shown by CLI11 from the default options.
struct Overrides {
  CLI::App& app;
  std::vector<std::function<void(lowlight::TrainOptions&)>> setters;
  std::vector<const CLI::Option*> options;

  void add_all(const lowlight::TrainOptions& defaults) {
    for (const lowlight::TrainOptionSpec& spec : lowlight::train_option_specs())
      if (spec.flag) std::visit([&](const auto& initial) { add(spec, initial); }, spec.get(defaults));
  }
  template <typename T>
  void add(const lowlight::TrainOptionSpec& spec, const T& initial) {
    CLI::Option* opt = nullptr;
    if constexpr (std::is_same_v<T, bool>) {  // a flag without a value sets the option to flag_sets
      opt = app.add_flag(spec.flag, spec.help);
      setters.push_back([opt, &spec](lowlight::TrainOptions& o) {
        if (opt->count()) spec.set(o, spec.flag_sets);
      });
    } else {
      auto value = std::make_shared<T>(initial);
      opt = app.add_option(spec.flag, *value, spec.help);
      if (shows_default(initial)) opt->capture_default_str();
      setters.push_back([opt, &spec, value](lowlight::TrainOptions& o) {
        if (opt->count()) spec.set(o, *value);
      });
    }
    options.push_back(opt);
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
    g->add_option("--dist-backend", backend, "auto (NCCL on CUDA, else Gloo), gloo or nccl")->capture_default_str();
    g->add_option("--dist-timeout", timeout, "seconds to wait for a missing or silent rank")->capture_default_str();
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
  lowlight::init_process(argc, argv);  // may re-execute this program once, before anything else runs
  CLI::App app{"lowlight-train: train MIRNet for low-light enhancement (outputs in a run folder)"};
  app.set_version_flag("--version", std::string("lowlight-train ") + lowlight::kVersion);
  std::string config_path, out_dir, resume_dir, init_path;
  app.add_option("--config", config_path, "JSON training config (flags override it)");
  app.add_option("-o,--out", out_dir, "run folder for a new run");
  app.add_option("--init", init_path,
                 "start from this weight file, e.g. to fine-tune on larger crops (its config is the default one)");
  app.add_option("--resume", resume_dir, "continue the run in this folder from last.ckpt");
  Overrides overrides{app, {}, {}};
  overrides.add_all(lowlight::default_train_options());
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
  } catch (const CLI::CallForVersion& e) {
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
