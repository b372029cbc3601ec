// The benchmark's logic on a tiny model: fields present, ratios derived from the two measurements, the
// Python-vs-C++ agreement check (it passes for the same weights and fails for different ones). Timings
// themselves are never asserted.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "lowlight/bench.h"
#include "lowlight/error.h"
#include "lowlight/kernels.h"
#include "support/tiny_weights.h"

namespace lowlight {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

class BenchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(test::temp_dir("bench"));
    weights_ = new std::string(test::make_tiny_weights((*dir_ / "tiny.safetensors").string()));
    other_ = new std::string(test::make_tiny_weights((*dir_ / "other.safetensors").string(), test::tiny_config(), 7));
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete weights_;
    delete other_;
  }
  static BenchSettings tiny() {
    BenchSettings s = default_bench_settings();
    s.weights = {*weights_};
    s.sizes = {{40, 28}, {67, 33}};
    s.repeats = 3;
    s.warmup = 0;
    s.threads = 1;
    s.device = DeviceKind::CPU;
    s.precision = Precision::F32;  // both sides compute exactly the same; bf16 has its own test
    s.python = kPython;
    s.python_script = std::string(LOWLIGHT_SOURCE_DIR) + "/bench/infer_torch.py";
    return s;
  }
  static std::filesystem::path* dir_;
  static std::string* weights_;
  static std::string* other_;
};
std::filesystem::path* BenchTest::dir_ = nullptr;
std::string* BenchTest::weights_ = nullptr;
std::string* BenchTest::other_ = nullptr;

TEST(BenchTiming, MedianAndMinimum) {
  const Timing odd = make_timing({3.0, 1.0, 2.0});
  EXPECT_DOUBLE_EQ(odd.median, 2.0);
  EXPECT_DOUBLE_EQ(odd.min, 1.0);
  EXPECT_EQ(odd.samples, (std::vector<double>{3.0, 1.0, 2.0}));  // in run order
  const Timing even = make_timing({4.0, 1.0, 2.0, 8.0});
  EXPECT_DOUBLE_EQ(even.median, 3.0);
}

TEST(BenchPeak, EstimateIsConsistent) {
  const CpuPeak p = estimate_cpu_peak();
  ASSERT_GE(p.cores, 1);
  ASSERT_GE(p.flops_per_cycle, 8);
  EXPECT_NEAR(p.gflops, p.cores * p.ghz * p.flops_per_cycle, 1e-9);
  EXPECT_NE(p.assumption.find("FLOP/cycle"), std::string::npos);
}

TEST_F(BenchTest, InferenceAgainstPython) {
  std::vector<std::string> lines;
  const BenchReport r = run_bench(tiny(), [&](const std::string& line) { lines.push_back(line); });
  ASSERT_EQ(r.inference.size(), 2u);
  EXPECT_FALSE(lines.empty());
  for (const InferenceResult& i : r.inference) {
    ASSERT_EQ(i.cpp.samples.size(), 3u);
    ASSERT_EQ(i.py.samples.size(), 3u);
    EXPECT_TRUE(i.python);
    EXPECT_DOUBLE_EQ(i.ratio, i.cpp.median / i.py.median);
    EXPECT_DOUBLE_EQ(i.speedup, i.py.median / i.cpp.median);
    EXPECT_DOUBLE_EQ(i.mp_per_s, i.megapixels / i.cpp.median);
    EXPECT_NEAR(i.gflops, 2.0 * macs_per_megapixel(i.config) * i.megapixels / i.cpp.median / 1e9, 1e-9 * i.gflops);
    EXPECT_NEAR(i.peak_fraction, i.gflops / r.peak.gflops, 1e-12);
    EXPECT_GE(i.psnr_vs_python, kBenchAgreementPsnr);  // the same weights give the same output
    EXPECT_TRUE(i.agree);
    EXPECT_GT(i.rss_peak_mib, 0.0);
    EXPECT_GT(i.py_rss_peak_mib, 0.0);
  }
  EXPECT_EQ(r.inference[1].size.width, 67);
  EXPECT_NEAR(r.inference[1].megapixels, 67 * 33 / 1e6, 1e-12);

  const nlohmann::json doc = nlohmann::json::parse(bench_json(r));
  EXPECT_EQ(r.cpu_kernels, kernels::instruction_set());
  for (const char* key : {"device", "threads", "cpu_kernels", "torch", "load_average_before", "cpu_peak", "inference",
                          "training"})
    EXPECT_TRUE(doc.contains(key)) << key;
  const nlohmann::json& row = doc["inference"][0];
  for (const char* key : {"model", "width", "height", "megapixels", "seconds", "mp_per_s", "gflops", "peak_fraction",
                          "rss_peak_mib", "rss_above_before_mib", "gpu_peak_mib", "python"})
    EXPECT_TRUE(row.contains(key)) << key;
  EXPECT_TRUE(row["gpu_peak_mib"].is_null());  // CPU run
  EXPECT_DOUBLE_EQ(row["python"]["ratio_cpp_over_python"].get<double>(),
                   row["seconds"]["median"].get<double>() / row["python"]["seconds"]["median"].get<double>());
  EXPECT_TRUE(row["python"]["agree"].get<bool>());
  const std::string table = bench_table(r);
  EXPECT_NE(table.find("40x28"), std::string::npos);
  EXPECT_NE(table.find("C++/Py"), std::string::npos);
  EXPECT_NE(table.find(std::string("fused kernels ") + kernels::instruction_set()), std::string::npos);
}

TEST_F(BenchTest, AtenOpsSwitchTurnsTheFusedKernelsOffForTheRunOnly) {
  BenchSettings s = tiny();
  s.fused_kernels = false;
  s.sizes = {{40, 28}};
  s.repeats = 1;
  const BenchReport r = run_bench(s, {});
  EXPECT_EQ(r.cpu_kernels, "off");
  ASSERT_EQ(r.inference.size(), 1u);
  EXPECT_TRUE(r.inference[0].agree);  // LibTorch's ops compute the same network
  EXPECT_TRUE(kernels::enabled());
}

TEST_F(BenchTest, Bf16SidesAgreeOnTheShippedModel) {
  // In bf16 the two sides round in different places (the C++ model's rewrites change the order of
  // operations), so agreement is checked with the trained model, whose activations are realistic.
  BenchSettings s = tiny();
  s.weights = {std::string(LOWLIGHT_SOURCE_DIR) + "/weights/default.safetensors"};
  s.sizes = {{120, 80}};
  s.repeats = 1;
  s.precision = Precision::BF16;
  const BenchReport r = run_bench(s);
  EXPECT_EQ(r.precision, "bf16");
  ASSERT_EQ(r.inference.size(), 1u);
  std::printf("[bench bf16] C++ vs Python on the shipped model: %.2f dB\n", r.inference[0].psnr_vs_python);
  EXPECT_GE(r.inference[0].psnr_vs_python, kBenchAgreementPsnr);
  EXPECT_LT(r.inference[0].psnr_vs_python, 100.0);  // really bf16: in fp32 the sides agree to about 150 dB
}

TEST_F(BenchTest, DisagreementIsDetected) {
  BenchSettings s = tiny();
  s.sizes = {{40, 28}};
  s.repeats = 1;
  s.python_weights = *other_;  // the Python side computes something else
  const BenchReport r = run_bench(s);
  ASSERT_EQ(r.inference.size(), 1u);
  EXPECT_LT(r.inference[0].psnr_vs_python, kBenchAgreementPsnr);
  EXPECT_FALSE(r.inference[0].agree);
  EXPECT_NE(bench_table(r).find("DISAGREE"), std::string::npos);
}

// A tiled image times its context pass on its own and reports its share of the enhance time; a one-tile image
// has no context pass and reports none.
TEST_F(BenchTest, ContextPassIsTimedForTiledImagesOnly) {
  BenchSettings s = tiny();
  s.python = "";
  s.tile = 32;
  s.sizes = {{96, 64}, {24, 16}};
  const BenchReport r = run_bench(s);
  ASSERT_EQ(r.inference.size(), 2u);
  const InferenceResult& tiled = r.inference[0];
  ASSERT_GT(tiled.tiles, 1);
  ASSERT_EQ(tiled.context.samples.size(), 3u);
  EXPECT_GT(tiled.context.median, 0.0);
  EXPECT_DOUBLE_EQ(tiled.context_share, tiled.context.median / tiled.cpp.median);
  const InferenceResult& whole = r.inference[1];
  EXPECT_EQ(whole.tiles, 1);
  EXPECT_TRUE(whole.context.samples.empty());
  const nlohmann::json doc = nlohmann::json::parse(bench_json(r));
  EXPECT_TRUE(doc["inference"][0].contains("context_pass"));
  EXPECT_FALSE(doc["inference"][1].contains("context_pass"));
  EXPECT_NE(bench_table(r).find("context pass"), std::string::npos);
}

TEST_F(BenchTest, TrainingStepsAndNoPython) {
  BenchSettings s = tiny();
  s.sizes = {};
  s.python = "";
  s.train = true;
  s.train_batch = 2;
  s.train_crop = 16;
  s.train_steps = 2;
  const BenchReport r = run_bench(s);
  EXPECT_TRUE(r.inference.empty());
  ASSERT_EQ(r.training.size(), 1u);
  const TrainBenchResult& t = r.training[0];
  EXPECT_FALSE(t.python);
  ASSERT_EQ(t.cpp.samples.size(), 2u);
  EXPECT_DOUBLE_EQ(t.steps_per_s, 1.0 / t.cpp.median);
  const nlohmann::json doc = nlohmann::json::parse(bench_json(r));
  EXPECT_FALSE(doc["training"][0].contains("python"));
  EXPECT_EQ(doc["training"][0]["batch"].get<int>(), 2);
  EXPECT_EQ(doc["training"][0]["model"].get<std::string>(), "C=4 1x1");
}

TEST_F(BenchTest, TrainingRatioAgainstPython) {
  BenchSettings s = tiny();
  s.sizes = {};
  s.train = true;
  s.train_batch = 1;
  s.train_crop = 16;
  s.train_steps = 1;
  const BenchReport r = run_bench(s);
  ASSERT_EQ(r.training.size(), 1u);
  const TrainBenchResult& t = r.training[0];
  ASSERT_TRUE(t.python);
  EXPECT_DOUBLE_EQ(t.ratio, t.cpp.median / t.py.median);
  EXPECT_DOUBLE_EQ(t.py_steps_per_s, 1.0 / t.py.median);
}

TEST_F(BenchTest, BadSettingsAreErrors) {
  BenchSettings s = tiny();
  s.repeats = 0;
  EXPECT_THROW(run_bench(s), Error);
  s = tiny();
  s.weights.clear();
  EXPECT_THROW(run_bench(s), Error);
  s = tiny();
  s.sizes = {{0, 10}};
  EXPECT_THROW(run_bench(s), Error);
  s = tiny();
  s.python_script = (*dir_ / "missing.py").string();
  EXPECT_THROW(run_bench(s), Error);
  s = tiny();
  s.python = (*dir_ / "no-such-python").string();
  EXPECT_THROW(run_bench(s), Error);
}

}  // namespace
}  // namespace lowlight
