// `lowlight eval` on two tiny synthetic pairs: its numbers must equal metrics computed here by hand
// (own PSNR and SSIM code, not the core's).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/cli_support.h"
#include "lowlight/image.h"
#include "lowlight/metrics.h"
#include "support/tiny_weights.h"

namespace fs = std::filesystem;

namespace lowlight {
namespace {

// u8 RGB sample as [0,1].
double at(const Image& im, int x, int y, int c) { return im.bytes[(static_cast<size_t>(y) * im.width + x) * 3 + c] / 255.0; }

double hand_psnr(const Image& a, const Image& b) {
  double se = 0;
  for (size_t i = 0; i < a.bytes.size(); ++i) {
    const double d = (a.bytes[i] - b.bytes[i]) / 255.0;
    se += d * d;
  }
  return 10 * std::log10(1.0 / (se / a.bytes.size()));
}

// Wang et al.: 11x11 Gaussian (sigma 1.5), valid windows only, population statistics, per channel, mean.
double hand_ssim(const Image& a, const Image& b) {
  double g[11][11], sum = 0;
  for (int i = 0; i < 11; ++i)
    for (int j = 0; j < 11; ++j) sum += g[i][j] = std::exp(-((i - 5) * (i - 5) + (j - 5) * (j - 5)) / (2 * 1.5 * 1.5));
  const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
  double total = 0;
  for (int c = 0; c < 3; ++c) {
    double channel = 0;
    int windows = 0;
    for (int y0 = 0; y0 + 11 <= a.height; ++y0)
      for (int x0 = 0; x0 + 11 <= a.width; ++x0) {
        double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
        for (int i = 0; i < 11; ++i)
          for (int j = 0; j < 11; ++j) {
            const double w = g[i][j] / sum, u = at(a, x0 + j, y0 + i, c), v = at(b, x0 + j, y0 + i, c);
            mx += w * u, my += w * v, xx += w * u * u, yy += w * v * v, xy += w * u * v;
          }
        const double vx = xx - mx * mx, vy = yy - my * my, cov = xy - mx * my;
        channel += (2 * mx * my + c1) * (2 * cov + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
        ++windows;
      }
    total += channel / windows;
  }
  return total / 3;
}

class EvalCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::temp_dir("cli-eval");
    weights_ = test::make_tiny_weights((dir_ / "tiny.safetensors").string());
    fs::create_directories(dir_ / "low");
    fs::create_directories(dir_ / "high");
    for (int k = 0; k < 2; ++k) {
      Image low(24, 16, 3, SampleType::U8), high(24, 16, 3, SampleType::U8);
      for (size_t i = 0; i < low.bytes.size(); ++i) {
        low.bytes[i] = static_cast<uint8_t>((i * (3 + k)) % 40);
        high.bytes[i] = static_cast<uint8_t>(60 + (i * (5 + k) + i / 7) % 150);
      }
      const std::string name = k == 0 ? "a.png" : "b.png";
      write_image((dir_ / "low" / name).string(), low.view());
      write_image((dir_ / "high" / name).string(), high.view());
    }
  }
  void TearDown() override { fs::remove_all(dir_); }
  nlohmann::json eval_json(const std::string& extra) {
    const auto r = test::run_lowlight("eval --low " + (dir_ / "low").string() + " --high " + (dir_ / "high").string() +
                                      " --json " + extra, dir_);
    EXPECT_EQ(r.code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  }
  fs::path dir_;
  std::string weights_;
};

void expect_scores(const nlohmann::json& doc, const std::vector<Image>& results, const std::vector<Image>& highs) {
  ASSERT_EQ(doc["count"], 2);
  double mean_psnr = 0, mean_ssim = 0, mean_gt_mean = 0;
  for (int k = 0; k < 2; ++k) {
    const auto& s = doc["images"][k];
    EXPECT_EQ(s["name"], k == 0 ? "a.png" : "b.png");
    const double p = hand_psnr(results[k], highs[k]), q = hand_ssim(results[k], highs[k]);
    EXPECT_NEAR(s["psnr"].get<double>(), p, 1e-6);
    EXPECT_NEAR(s["psnr_seed_compat"].get<double>(), p + 20 * std::log10(255.0), 1e-6);
    EXPECT_NEAR(s["ssim"].get<double>(), q, 1e-6);
    const double g = psnr_gt_mean(results[k].view(), highs[k].view());  // core's, checked in metrics_test
    EXPECT_NEAR(s["psnr_gt_mean"].get<double>(), g, 1e-6);
    mean_psnr += p / 2, mean_ssim += q / 2, mean_gt_mean += g / 2;
  }
  EXPECT_NEAR(doc["mean"]["psnr"].get<double>(), mean_psnr, 1e-6);
  EXPECT_NEAR(doc["mean"]["psnr_seed_compat"].get<double>(), mean_psnr + 20 * std::log10(255.0), 1e-6);
  EXPECT_NEAR(doc["mean"]["ssim"].get<double>(), mean_ssim, 1e-6);
  EXPECT_NEAR(doc["mean"]["psnr_gt_mean"].get<double>(), mean_gt_mean, 1e-6);
}

TEST_F(EvalCli, IdentityBaselineMatchesHandComputedMetrics) {
  const nlohmann::json doc = eval_json("--baseline identity");
  EXPECT_EQ(doc["method"], "identity");
  std::vector<Image> lows, highs;
  for (const char* name : {"a.png", "b.png"}) {
    lows.push_back(read_image((dir_ / "low" / name).string()));
    highs.push_back(read_image((dir_ / "high" / name).string()));
  }
  expect_scores(doc, lows, highs);
}

TEST_F(EvalCli, ModelScoresTheImagesItWrites) {
  const nlohmann::json doc = eval_json("--weights " + weights_ + " --out " + (dir_ / "out").string());
  EXPECT_EQ(doc["method"], "model");
  std::vector<Image> outs, highs, lows;
  for (const char* name : {"a.png", "b.png"}) {
    outs.push_back(read_image((dir_ / "out" / name).string()));
    highs.push_back(read_image((dir_ / "high" / name).string()));
    lows.push_back(read_image((dir_ / "low" / name).string()));
  }
  EXPECT_NE(outs[0].bytes, lows[0].bytes);  // it really ran the model
  expect_scores(doc, outs, highs);
}

TEST_F(EvalCli, TableLabelsBothPsnrForms) {
  const auto r = test::run_lowlight("eval --low " + (dir_ / "low").string() + " --high " + (dir_ / "high").string() +
                                    " --baseline autocontrast", dir_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("seed-compat"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mean of 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("a.png"), std::string::npos) << r.out;
}

TEST_F(EvalCli, OutNeverReplacesFilesWithoutOverwrite) {
  const fs::path out = dir_ / "out";
  fs::create_directories(out);
  std::ofstream(out / "a.png") << "keep me";
  const std::string args = "eval --low " + (dir_ / "low").string() + " --high " + (dir_ / "high").string() +
                           " --weights " + weights_ + " --out " + out.string();
  auto r = test::run_lowlight(args, dir_);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--overwrite"), std::string::npos) << r.err;
  EXPECT_EQ(test::slurp(out / "a.png"), "keep me");
  EXPECT_FALSE(fs::exists(out / "b.png"));  // refused before anything was written
  r = test::run_lowlight(args + " --overwrite", dir_);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_image((out / "a.png").string()).width, 24);
}

TEST_F(EvalCli, MissingGroundTruthIsAnError) {
  fs::remove(dir_ / "high" / "b.png");
  const auto r = test::run_lowlight("eval --low " + (dir_ / "low").string() + " --high " + (dir_ / "high").string() +
                                    " --baseline identity", dir_);
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.err.rfind("lowlight: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("b.png"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lowlight
