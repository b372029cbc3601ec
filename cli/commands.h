#pragma once
// The subcommands of `lowlight`. Each registers its options on the app and returns the options it fills;
// run_* does the work once parsing succeeded and returns the exit status. Errors are thrown as
// lowlight::Error and reported by main().
#include <cstdint>
#include <string>
#include <vector>

namespace CLI { class App; }

namespace lowlight::cli {

struct EnhanceOptions {
  std::vector<std::string> paths;  // inputs..., output
  std::string weights;
  std::string model;
  std::string device = "auto";
  int tile = 0;
  int overlap = 0;
  float strength = 1.0f;
  std::string exposure = "auto";
  int threads = 0;
  std::string precision = "auto";
  double max_megapixels = 0;  // 0: lowlight::kDefaultMaxPixels
  bool overwrite = false;
};
CLI::App* add_enhance_command(CLI::App& app, EnhanceOptions& options);
int run_enhance(const EnhanceOptions& options);

struct EvalOptions {
  std::string low;
  std::string high;
  std::string weights;
  std::string model;
  std::string baseline;  // "", "identity", "autocontrast"
  std::string out;
  std::string device = "auto";
  int tile = 0;
  int threads = 0;
  std::string precision = "auto";
  bool json = false;
  bool overwrite = false;  // replace same-named files in `out`
  double max_megapixels = 0;  // 0: lowlight::kDefaultMaxPixels
};
CLI::App* add_eval_command(CLI::App& app, EvalOptions& options);
int run_eval(const EvalOptions& options);

struct InfoOptions {
  std::string weights;
  bool json = false;
};
CLI::App* add_info_command(CLI::App& app, InfoOptions& options);
int run_info(const InfoOptions& options);

struct BenchOptions {
  std::vector<std::string> weights;
  std::vector<std::string> models;
  std::vector<std::string> configs;  // JSON configs benchmarked with random weights
  std::string sizes = "600x400,4000x3000";
  int repeats = 3;
  int warmup = 1;
  std::string python = "/usr/bin/python3";
  std::string python_script;
  bool python_nchw = false;
  bool aten_ops = false;
  bool train = false;
  int train_steps = 3;
  int threads = 0;
  std::string device = "auto";
  std::string precision = "auto";
  int tile = 0;
  double peak_gflops = 0;
  bool json = false;
  std::string json_out;  // also write the JSON here
};
CLI::App* add_bench_command(CLI::App& app, BenchOptions& options);
int run_bench(const BenchOptions& options);

// --precision, shared by the commands that run the model.
void add_precision_option(CLI::App& cmd, std::string& precision);

// --max-megapixels, shared by the commands that read images, and its value in pixels.
void add_max_megapixels_option(CLI::App& cmd, double& megapixels);
int64_t max_pixels(double megapixels);

// --weights W or --model NAME (default model when neither) to a weight file path.
std::string resolve_weights(const std::string& weights, const std::string& model);

// Exit status when the user interrupted (SIGINT) a run.
constexpr int kInterrupted = 130;
// True once SIGINT arrived; long loops poll it and stop cleanly (no partial output).
bool interrupted();
void install_interrupt_handler();

}  // namespace lowlight::cli
