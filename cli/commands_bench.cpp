// `lowlight bench`: inference and training speed beside Python PyTorch eager; the work is in core (bench.h).
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "lowlight/atomic_file.h"
#include "lowlight/bench.h"
#include "lowlight/error.h"
#include "lowlight/models.h"

namespace fs = std::filesystem;

namespace lowlight::cli {
namespace {

BenchSize parse_size(const std::string& text) {
  const auto x = text.find('x');
  try {
    size_t used = 0;
    if (x != std::string::npos) {
      const int w = std::stoi(text.substr(0, x), &used);
      if (used == x) {
        const int h = std::stoi(text.substr(x + 1), &used);
        if (used == text.size() - x - 1 && w > 0 && h > 0) return {w, h};
      }
    }
  } catch (const std::exception&) {
  }
  throw Error("bad size '" + text + "' (expected WIDTHxHEIGHT, e.g. 600x400)");
}

}  // namespace

CLI::App* add_bench_command(CLI::App& app, BenchOptions& o) {
  CLI::App* cmd = app.add_subcommand("bench", "Inference and training speed, beside Python PyTorch eager");
  cmd->add_option("--weights", o.weights, "Weight file (repeatable)");
  cmd->add_option("--model", o.models, "Model name on the model path (repeatable); none: every shipped model");
  cmd->add_option("--config", o.configs,
                  "Random weights of this config JSON, e.g. '{\"channels\":16,\"rrgs\":1,\"mrbs\":1}' (repeatable)");
  cmd->add_option("--sizes", o.sizes, "Comma-separated WIDTHxHEIGHT list")->default_val(o.sizes);
  cmd->add_option("--repeats", o.repeats, "Timed runs per case and side")->default_val(o.repeats);
  cmd->add_option("--warmup", o.warmup, "Untimed runs per case and side first")->default_val(o.warmup);
  cmd->add_option("--python", o.python, "Python with torch for the eager baseline ('' skips it)")
      ->default_val(o.python);
  cmd->add_option("--python-script", o.python_script, "bench/infer_torch.py (default: the source tree's)");
  cmd->add_flag("--python-nchw", o.python_nchw, "Python side in NCHW instead of channels-last");
  cmd->add_flag("--aten-ops", o.aten_ops,
                "LibTorch's own ops instead of Lowlight's fused CPU kernels (to measure what they gain)");
  cmd->add_flag("--train", o.train, "Also time training steps (batch 4 x 128^2)");
  cmd->add_option("--train-steps", o.train_steps, "Timed training steps per side")->default_val(o.train_steps);
  cmd->add_option("--threads", o.threads, "CPU threads for both sides (0: the physical cores)");
  cmd->add_option("--device", o.device, "auto, cpu or cuda")->default_val(o.device);
  cmd->add_option("--tile", o.tile, "Tile side (0: automatic)");
  add_precision_option(*cmd, o.precision);
  cmd->add_option("--peak-gflops", o.peak_gflops, "fp32 peak of this machine (0: estimate from /proc/cpuinfo)");
  cmd->add_flag("--json", o.json, "Print JSON instead of the table");
  cmd->add_option("--json-out", o.json_out, "Also write the JSON to this file");
  return cmd;
}

int run_bench(const BenchOptions& o) {
  BenchSettings s = default_bench_settings();
  for (const std::string& w : o.weights) s.weights.push_back(w);
  for (const std::string& m : o.models) s.weights.push_back(find_model(m));
  const fs::path scratch = fs::temp_directory_path() / ("lowlight-bench-weights-" + std::to_string(::getpid()));
  struct Cleanup {
    fs::path dir;
    ~Cleanup() { std::error_code ec; fs::remove_all(dir, ec); }
  } cleanup{scratch};
  for (size_t i = 0; i < o.configs.size(); ++i) {
    fs::create_directories(scratch);
    const std::string path = (scratch / ("config" + std::to_string(i) + ".safetensors")).string();
    write_random_weights(path, model_config_from_json(o.configs[i]));
    s.weights.push_back(path);
  }
  if (s.weights.empty())
    for (const ModelEntry& m : list_models(model_search_path())) s.weights.push_back(m.path);
  if (s.weights.empty())
    throw Error("no shipped models found on the model path; give --weights, --model or --config");
  s.sizes.clear();
  std::string rest = o.sizes;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string item = rest.substr(0, comma);
    if (!item.empty()) s.sizes.push_back(parse_size(item));
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
  }
  s.repeats = o.repeats;
  s.warmup = o.warmup;
  s.threads = o.threads;
  s.tile = o.tile;
  s.device = parse_device(o.device);
  s.precision = parse_precision(o.precision);
  s.python = o.python;
  s.python_script = o.python_script;
  s.python_nchw = o.python_nchw;
  s.fused_kernels = !o.aten_ops;
  s.train = o.train;
  s.train_steps = o.train_steps;
  s.peak_gflops = o.peak_gflops;

  const bool tty = isatty(fileno(stderr));
  size_t drawn = 0;
  auto progress = [&](const std::string& line) {
    if (tty) {
      std::fprintf(stderr, "\r%-*s", static_cast<int>(std::max(drawn, line.size())), line.c_str());
      drawn = line.size();
    } else {
      std::fprintf(stderr, "bench: %s\n", line.c_str());
    }
    std::fflush(stderr);
  };
  const BenchReport report = run_bench(s, progress);
  if (tty && drawn) std::fprintf(stderr, "\r%*s\r", static_cast<int>(drawn), "");
  std::cout << (o.json ? bench_json(report) + "\n" : bench_table(report));
  if (!o.json_out.empty()) {
    write_file_atomic(o.json_out, bench_json(report) + "\n", Overwrite::Yes);  // a report is meant to be refreshed
  }
  bool agree = true;
  for (const InferenceResult& r : report.inference) agree = agree && (!r.python || r.agree);
  if (!agree) std::cerr << "lowlight: warning: C++ and Python outputs disagree (PSNR < " << kBenchAgreementPsnr
                        << " dB); the time ratio compares different work\n";
  return agree ? 0 : 3;
}

}  // namespace lowlight::cli
