// `lowlight enhance IN... OUT`: every input and output is checked before the model is loaded, so a
// typo fails fast; each result is written atomically, so a failure leaves no partial file.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <set>

#include "commands.h"
#include "lowlight/engine.h"
#include "lowlight/error.h"
#include "lowlight/image.h"
#include "progress.h"

namespace fs = std::filesystem;

namespace lowlight::cli {
namespace {

struct Job {
  std::string input;
  std::string output;
};

// The extensions write_image encodes.
bool writable_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  static const std::set<std::string> known{".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"};
  return known.count(ext) > 0;
}

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  if (fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

void check_input(const std::string& input) {
  std::error_code ec;
  const auto status = fs::status(input, ec);
  if (ec || !fs::exists(status)) throw Error(input + ": no such file");
  if (fs::is_directory(status)) throw Error(input + ": is a directory, not an image file");
}

std::vector<Job> plan_jobs(const EnhanceOptions& options) {
  std::vector<std::string> inputs(options.paths.begin(), options.paths.end() - 1);
  const fs::path out = options.paths.back();
  std::error_code ec;
  const bool out_is_dir = fs::is_directory(out, ec);
  const std::string out_text = out.string();
  if (inputs.size() > 1 && fs::exists(out, ec) && !out_is_dir)
    throw Error(out_text + ": several inputs need an output folder, but this is a file");
  const bool into_folder = inputs.size() > 1 || out_is_dir || (!out_text.empty() && out_text.back() == '/');

  std::vector<Job> jobs;
  std::set<std::string> outputs;
  for (const std::string& input : inputs) {
    check_input(input);
    const fs::path target = into_folder ? out / fs::path(input).filename() : out;
    if (!writable_extension(target))
      throw Error(target.string() + ": unknown image extension '" + target.extension().string() +
                  "' (expected .png, .jpg, .jpeg, .tif, .tiff or .webp)");
    if (!outputs.insert(fs::weakly_canonical(target, ec).string()).second)
      throw Error(target.string() + ": two inputs would be written to this same output");
    if (same_file(input, target) && !options.overwrite)
      throw Error(target.string() + ": output is the input file; choose another output or pass --overwrite");
    if (fs::exists(target, ec) && !options.overwrite)
      throw Error(target.string() + ": output exists; pass --overwrite to replace it");
    jobs.push_back(Job{input, target.string()});
  }
  // Where the outputs go is checked before the model is loaded and anything is computed (a folder that is
  // still to be made for several inputs is made later, so its parent is checked).
  if (into_folder && !out_is_dir) {
    fs::path existing = fs::absolute(out, ec).lexically_normal();
    while (existing.has_relative_path() && !fs::exists(existing, ec)) existing = existing.parent_path();
    check_writable_folder((existing / "x").string());
  } else {
    for (const Job& job : jobs) check_writable_folder(job.output);
  }
  return jobs;
}

// "auto" (the model's own exposure, 0) or a target mean brightness.
float parse_exposure(const std::string& text) {
  if (text == "auto") return 0.0f;
  try {
    size_t used = 0;
    const float value = std::stof(text, &used);
    if (used == text.size() && value >= 0.02f && value <= 0.98f) return value;
  } catch (const std::exception&) {
  }
  throw Error("--exposure " + text + ": expected auto or a mean brightness in [0.02, 0.98]");
}

EnhanceSettings settings_from(const EnhanceOptions& options) {
  EnhanceSettings settings = default_enhance_settings();
  settings.device = parse_device(options.device);
  settings.tile = options.tile;
  settings.overlap = options.overlap;
  settings.strength = options.strength;
  settings.exposure = parse_exposure(options.exposure);
  settings.threads = options.threads;
  settings.precision = parse_precision(options.precision);
  return settings;
}

// Returns false when interrupted; nothing is written then.
bool enhance_one(const Enhancer& enhancer, const Job& job, const std::string& label, Overwrite overwrite,
                 int64_t pixel_limit) {
  const Image input = read_image(job.input, pixel_limit);
  Image output(input.width, input.height, input.channels, input.type);
  ProgressBar bar(label);
  if (!enhancer.enhance(input.view(), output.view(), [&](double f) { return bar.update(f); })) return false;
  bar.finish();
  // Never over a file that appeared meanwhile without --overwrite; the input's EXIF and ICC profile go along.
  write_image(job.output, output.view(), overwrite, input.metadata);
  return true;
}

}  // namespace

CLI::App* add_enhance_command(CLI::App& app, EnhanceOptions& o) {
  CLI::App* cmd = app.add_subcommand("enhance", "Enhance images: lowlight enhance IN... OUT");
  cmd->add_option("paths", o.paths, "Input image(s), then the output file (or folder; a folder for several inputs)")
      ->required()
      ->expected(2, -1);
  auto* weights = cmd->add_option("--weights,-w", o.weights, "Weight file (.safetensors)");
  cmd->add_option("--model,-m", o.model, "Model name, found as NAME.safetensors on the model path (default: default)")
      ->excludes(weights);
  cmd->add_option("--device", o.device, "auto (CUDA when available), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  cmd->add_option("--tile", o.tile, "Tile side in pixels (0: chosen from available memory)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--overlap", o.overlap, "Tile overlap in pixels (0: default)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--strength,-s", o.strength, "Blend: 0 keeps the input, 1 is the full enhancement")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--exposure,-e", o.exposure,
                  "auto (the model's own) or the result's mean brightness, 0.02..0.98 (e.g. 0.35 darker, 0.55 brighter)");
  cmd->add_option("--threads,-j", o.threads, "CPU threads (0: the physical cores)")->check(CLI::NonNegativeNumber);
  add_precision_option(*cmd, o.precision);
  add_max_megapixels_option(*cmd, o.max_megapixels);
  cmd->add_flag("--overwrite", o.overwrite, "Replace existing output files (even the input itself)");
  return cmd;
}

int run_enhance(const EnhanceOptions& options) {
  const std::vector<Job> jobs = plan_jobs(options);
  const int64_t pixel_limit = max_pixels(options.max_megapixels);
  // One input: its header is checked before the model loads (with several, a bad one is reported in turn
  // and the others still run).
  if (jobs.size() == 1) check_image_file(jobs.front().input, pixel_limit);
  const EnhanceSettings settings = settings_from(options);
  resolve_device(settings.device);  // a missing CUDA fails before anything is loaded
  const std::string weights = resolve_weights(options.weights, options.model);
  const Enhancer enhancer(weights, settings);
  if (jobs.size() > 1) fs::create_directories(options.paths.back());

  int failures = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Job& job = jobs[i];
    const std::string label = jobs.size() > 1 ? "[" + std::to_string(i + 1) + "/" + std::to_string(jobs.size()) +
                                                    "] " + fs::path(job.input).filename().string()
                                              : fs::path(job.input).filename().string();
    try {
      if (!enhance_one(enhancer, job, label, options.overwrite ? Overwrite::Yes : Overwrite::No, pixel_limit)) {
        std::cerr << "lowlight: interrupted; " << job.output << " not written\n";
        return kInterrupted;
      }
      if (jobs.size() > 1) std::cerr << job.input << " -> " << job.output << "\n";
    } catch (const Error& e) {
      // With several inputs the others still run; each written file is complete (atomic writes).
      if (jobs.size() == 1) throw;
      std::cerr << "lowlight: error: " << e.what() << "\n";
      ++failures;
    }
  }
  if (failures > 0) {
    std::cerr << "lowlight: error: " << failures << " of " << jobs.size() << " images failed\n";
    return 1;
  }
  return 0;
}

}  // namespace lowlight::cli
