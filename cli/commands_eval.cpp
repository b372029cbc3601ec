// `lowlight eval`: scores the model (or a baseline) on low/high pairs the way the paper's table does:
// PSNR per image (peak 1 on [0,1] data) and its seed-compatible form (+20 log10 255, the Keras number),
// SSIM per image, then the means over images.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "lowlight/engine.h"
#include "lowlight/error.h"
#include "lowlight/image.h"
#include "lowlight/metrics.h"
#include "progress.h"

namespace fs = std::filesystem;

namespace lowlight::cli {
namespace {

struct Pair {
  std::string name;
  fs::path low;
  fs::path high;
};

struct Score {
  std::string name;
  double psnr = 0;
  double psnr_seed = 0;
  double ssim = 0;
  double psnr_gt_mean = 0;
};

std::vector<fs::path> files_in(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(dir + ": not a folder");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && !name.empty() && name[0] != '.') files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());  // by name as strings, like the paper's split
  return files;
}

// Pairs each low image with the high image of the same file name, else of the same stem.
std::vector<Pair> find_pairs(const std::string& low_dir, const std::string& high_dir) {
  const std::vector<fs::path> lows = files_in(low_dir);
  const std::vector<fs::path> highs = files_in(high_dir);
  if (lows.empty()) throw Error(low_dir + ": no images");
  std::vector<Pair> pairs;
  for (const fs::path& low : lows) {
    const fs::path* match = nullptr;
    for (const fs::path& high : highs)
      if (high.filename() == low.filename()) match = &high;
    if (!match)
      for (const fs::path& high : highs)
        if (high.stem() == low.stem()) match = &high;
    if (!match) throw Error(low.string() + ": no image of the same name in " + high_dir);
    pairs.push_back(Pair{low.filename().string(), low, *match});
  }
  return pairs;
}

Image baseline_image(const std::string& baseline, const Image& low) {
  if (baseline == "autocontrast") return autocontrast(low.view());
  return low;  // identity
}

// JSON has no infinity: identical images (infinite PSNR) are written as null.
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

void print_table(const std::vector<Score>& scores, const Score& mean, const std::string& method) {
  std::printf("method: %s\n", method.c_str());
  std::printf("%-24s %10s %22s %8s %14s\n", "image", "PSNR (dB)", "PSNR seed-compat (dB)", "SSIM", "GT-mean PSNR");
  for (const Score& s : scores)
    std::printf("%-24s %10.4f %22.4f %8.4f %14.4f\n", s.name.c_str(), s.psnr, s.psnr_seed, s.ssim, s.psnr_gt_mean);
  std::printf("%-24s %10.4f %22.4f %8.4f %14.4f\n", ("mean of " + std::to_string(scores.size())).c_str(), mean.psnr,
              mean.psnr_seed, mean.ssim, mean.psnr_gt_mean);
  std::printf("PSNR: peak 1 on [0,1] data (the true value). PSNR seed-compat: the Keras example's number,\n"
              "PSNR + 20*log10(255) = PSNR + %.4f dB, comparable to the paper's printed values.\n"
              "GT-mean PSNR: after scaling the result to the ground truth's mean brightness (diagnostic only).\n",
              kSeedCompatPsnrOffset);
}

void print_json(const std::vector<Score>& scores, const Score& mean, const EvalOptions& o,
                const std::string& method, const std::string& weights) {
  nlohmann::json images = nlohmann::json::array();
  for (const Score& s : scores)
    images.push_back({{"name", s.name}, {"psnr", number(s.psnr)}, {"psnr_seed_compat", number(s.psnr_seed)},
                      {"ssim", number(s.ssim)}, {"psnr_gt_mean", number(s.psnr_gt_mean)}});
  nlohmann::json doc = {
      {"method", method},
      {"low", o.low},
      {"high", o.high},
      {"count", scores.size()},
      {"images", images},
      {"mean",
       {{"psnr", number(mean.psnr)}, {"psnr_seed_compat", number(mean.psnr_seed)}, {"ssim", number(mean.ssim)},
        {"psnr_gt_mean", number(mean.psnr_gt_mean)}}},
      {"notes",
       {{"psnr", "dB, peak 1 on [0,1] data, per image; mean over images"},
        {"psnr_seed_compat", "psnr + 20*log10(255): the Keras example's number (max_val 255 on [0,1] data)"},
        {"ssim", "11x11 Gaussian window, sigma 1.5, per RGB channel, averaged"},
        {"psnr_gt_mean", "psnr after one gain, mean(ground truth) / mean(result), and clamping: the error left once "
                         "global brightness is forgiven (a diagnostic that uses the ground truth)"}}}};
  if (!weights.empty()) doc["weights"] = weights;
  std::cout << doc.dump(2) << "\n";
}

}  // namespace

CLI::App* add_eval_command(CLI::App& app, EvalOptions& o) {
  CLI::App* cmd = app.add_subcommand("eval", "Score the model or a baseline on low/high image pairs");
  cmd->add_option("--low", o.low, "Folder of low-light inputs")->required();
  cmd->add_option("--high", o.high, "Folder of ground-truth images (same file names)")->required();
  auto* weights = cmd->add_option("--weights,-w", o.weights, "Weight file (.safetensors)");
  auto* model = cmd->add_option("--model,-m", o.model, "Model name (default: default)")->excludes(weights);
  cmd->add_option("--baseline", o.baseline, "Score a baseline instead of a model: identity or autocontrast")
      ->check(CLI::IsMember({"identity", "autocontrast"}))
      ->excludes(weights)
      ->excludes(model);
  cmd->add_option("--out", o.out, "Write the enhanced images into this folder");
  cmd->add_option("--device", o.device, "auto, cpu or cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  add_precision_option(*cmd, o.precision);
  cmd->add_option("--tile", o.tile, "Tile side in pixels (0: chosen from available memory)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--threads,-j", o.threads, "CPU threads (0: the physical cores)")->check(CLI::NonNegativeNumber);
  add_max_megapixels_option(*cmd, o.max_megapixels);
  cmd->add_flag("--json", o.json, "Print JSON instead of a table");
  cmd->add_flag("--overwrite", o.overwrite, "Replace files of the same names in --out");
  return cmd;
}

int run_eval(const EvalOptions& o) {
  const std::vector<Pair> pairs = find_pairs(o.low, o.high);
  if (!o.out.empty()) {
    std::error_code ec;
    for (const std::string& dir : {o.low, o.high})
      if (fs::exists(o.out, ec) && fs::equivalent(o.out, dir, ec))
        throw Error(o.out + ": --out must not be the --low or --high folder");
    fs::create_directories(o.out);
    // Before any model is loaded: a file of the same name in --out would be lost otherwise.
    for (const Pair& pair : pairs) {
      const fs::path target = fs::path(o.out) / pair.name;
      if (!o.overwrite && fs::exists(fs::symlink_status(target, ec)))
        throw Error(target.string() + ": exists; pass --overwrite to replace files in --out");
    }
    check_writable_folder((fs::path(o.out) / "x").string());
  }
  std::unique_ptr<Enhancer> enhancer;
  std::string weights, method = o.baseline;
  if (o.baseline.empty()) {
    EnhanceSettings settings = default_enhance_settings();
    settings.device = parse_device(o.device);
    settings.tile = o.tile;
    settings.threads = o.threads;
    settings.precision = parse_precision(o.precision);
    resolve_device(settings.device);
    weights = resolve_weights(o.weights, o.model);
    enhancer = std::make_unique<Enhancer>(weights, settings);
    method = "model " + weights;
  }

  std::vector<Score> scores;
  Score mean;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const Pair& pair = pairs[i];
    const Image low = read_image(pair.low.string(), max_pixels(o.max_megapixels));
    const Image high = read_image(pair.high.string(), max_pixels(o.max_megapixels));
    if (low.width != high.width || low.height != high.height)
      throw Error(pair.high.string() + ": size " + std::to_string(high.width) + "x" + std::to_string(high.height) +
                  " differs from " + pair.low.string() + " (" + std::to_string(low.width) + "x" +
                  std::to_string(low.height) + ")");
    Image result;
    if (enhancer) {
      result = Image(low.width, low.height, low.channels, low.type);
      ProgressBar bar("[" + std::to_string(i + 1) + "/" + std::to_string(pairs.size()) + "] " + pair.name);
      if (!enhancer->enhance(low.view(), result.view(), [&](double f) { return bar.update(f); })) {
        std::cerr << "lowlight: interrupted\n";
        return kInterrupted;
      }
    } else {
      result = baseline_image(o.baseline, low);
    }
    Score s{pair.name, psnr(result.view(), high.view()), 0, ssim(result.view(), high.view()),
            psnr_gt_mean(result.view(), high.view())};
    s.psnr_seed = s.psnr + kSeedCompatPsnrOffset;
    scores.push_back(s);
    mean.psnr += s.psnr / pairs.size();
    mean.psnr_seed += s.psnr_seed / pairs.size();
    mean.ssim += s.ssim / pairs.size();
    mean.psnr_gt_mean += s.psnr_gt_mean / pairs.size();
    if (!o.out.empty())
      write_image((fs::path(o.out) / pair.name).string(), result.view(), o.overwrite ? Overwrite::Yes : Overwrite::No,
                  low.metadata);
  }
  if (o.json)
    print_json(scores, mean, o, o.baseline.empty() ? "model" : o.baseline, weights);
  else
    print_table(scores, mean, method);
  return 0;
}

}  // namespace lowlight::cli
