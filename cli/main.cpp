// lowlight: command-line front end. Parses options, calls the core, reports; no image logic here.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <exception>
#include <iostream>

#include "commands.h"
#include "lowlight/device.h"
#include "lowlight/error.h"
#include "lowlight/image.h"
#include "lowlight/models.h"
#include "lowlight/version.h"

namespace lowlight::cli {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_interrupt(int) { g_interrupted = 1; }

}  // namespace

bool interrupted() { return g_interrupted != 0; }

void install_interrupt_handler() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

void add_precision_option(CLI::App& cmd, std::string& precision) {
  cmd.add_option("--precision", precision,
                 "auto (fp16 on CUDA, bf16 on CPUs with native bf16, else fp32), fp32, bf16 or fp16 (CUDA)")
      ->check(CLI::IsMember({"auto", "fp32", "bf16", "fp16"}))
      ->default_val(precision);
}

void add_max_megapixels_option(CLI::App& cmd, double& megapixels) {
  cmd.add_option("--max-megapixels", megapixels,
                 "Refuse images larger than this, from their header before decoding (default " +
                     std::to_string(lowlight::kDefaultMaxPixels / 1000000) + ", at most " +
                     std::to_string(lowlight::kMaxPixelLimit / 1000000) + ")")
      ->check(CLI::Range(0.000001, static_cast<double>(lowlight::kMaxPixelLimit) / 1e6));
}

int64_t max_pixels(double megapixels) {
  if (megapixels <= 0) return kDefaultMaxPixels;
  return std::min<int64_t>(kMaxPixelLimit, std::max<int64_t>(1, std::llround(megapixels * 1e6)));
}

std::string resolve_weights(const std::string& weights, const std::string& model) {
  if (!weights.empty()) return weights;
  return find_model(model.empty() ? kDefaultModelName : model);
}

}  // namespace lowlight::cli

int main(int argc, char** argv) {
  lowlight::init_process(argc, argv);  // may re-execute this program once, before anything else runs
  using namespace lowlight::cli;
  CLI::App app{"lowlight: low-light image enhancement with MIRNet"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("lowlight ") + lowlight::kVersion);

#if LOWLIGHT_CLI_IMAGE_FILES  // builds without OpenCV have no image files (cli/CMakeLists.txt)
  EnhanceOptions enhance;
  EvalOptions eval;
  CLI::App* enhance_cmd = add_enhance_command(app, enhance);
  CLI::App* eval_cmd = add_eval_command(app, eval);
#endif
  InfoOptions info;
  CLI::App* info_cmd = add_info_command(app, info);
  BenchOptions bench;
  CLI::App* bench_cmd = add_bench_command(app, bench);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "lowlight: error: " << e.what() << " (see lowlight --help)\n";
    return 2;
  }

  install_interrupt_handler();
  try {
#if LOWLIGHT_CLI_IMAGE_FILES
    if (*enhance_cmd) return run_enhance(enhance);
    if (*eval_cmd) return run_eval(eval);
#endif
    if (*info_cmd) return run_info(info);
    if (*bench_cmd) return run_bench(bench);
  } catch (const lowlight::Error& e) {
    std::cerr << "lowlight: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "lowlight: error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
