// `lowlight enhance`: outputs, formats, overwrite rules, and every error case (exit code, one-line
// message, no output file left behind).
#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "cli/cli_support.h"
#include "lowlight/device.h"
#include "lowlight/image.h"
#include "lowlight/safetensors.h"
#include "support/tiny_weights.h"

namespace fs = std::filesystem;

namespace lowlight {
namespace {

class EnhanceCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(test::temp_dir("cli-enhance"));
    weights_ = new std::string(test::make_tiny_weights((*dir_ / "tiny.safetensors").string()));
    write_image(path("in.png"), make_image(40, 30, 3, SampleType::U8).view());
    write_image(path("in2.png"), make_image(24, 20, 3, SampleType::U8).view());
    write_image(path("in16a.png"), make_image(36, 28, 4, SampleType::U16).view());
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
    delete weights_;
  }
  void SetUp() override {
    out_ = *dir_ / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(out_);
  }
  static std::string path(const std::string& name) { return (*dir_ / name).string(); }
  static Image make_image(int w, int h, int c, SampleType type) {
    Image image(w, h, c, type);
    for (size_t i = 0; i < image.bytes.size(); ++i) image.bytes[i] = static_cast<uint8_t>((i * 7 + i / 13) % 97);
    return image;
  }
  test::RunResult run(const std::string& args, const std::string& env = "") {
    return test::run_lowlight(args, *dir_, env);
  }
  // A failed run: non-zero exit, one line "lowlight: error: ..." mentioning `keyword`, and an output
  // folder with nothing in it (no result, no temp file).
  void expect_failure(const test::RunResult& r, const std::string& keyword) {
    EXPECT_NE(r.code, 0);
    EXPECT_EQ(r.err.rfind("lowlight: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(keyword), std::string::npos) << "expected '" << keyword << "' in: " << r.err;
    EXPECT_TRUE(fs::is_empty(out_)) << "output folder is not empty after a failure";
  }
  static fs::path* dir_;
  static std::string* weights_;
  fs::path out_;
};
fs::path* EnhanceCli::dir_ = nullptr;
std::string* EnhanceCli::weights_ = nullptr;

TEST_F(EnhanceCli, EnhancesOneImage) {
  const auto r = run("enhance " + path("in.png") + " " + (out_ / "out.png").string() + " --weights " + *weights_ +
                     " --device cpu --threads 1");
  ASSERT_EQ(r.code, 0) << r.err;
  const Image out = read_image((out_ / "out.png").string());
  const Image in = read_image(path("in.png"));
  EXPECT_EQ(out.width, 40);
  EXPECT_EQ(out.height, 30);
  EXPECT_EQ(out.channels, 3);
  EXPECT_NE(out.bytes, in.bytes);
  EXPECT_TRUE(r.out.empty()) << r.out;  // no progress bar when stderr is not a terminal
}

TEST_F(EnhanceCli, SixteenBitWithAlphaRoundTrips) {
  const auto r = run("enhance " + path("in16a.png") + " " + (out_ / "out.png").string() + " --weights " + *weights_ +
                     " --tile 16 --overlap 4");
  ASSERT_EQ(r.code, 0) << r.err;
  const Image in = read_image(path("in16a.png"));
  const Image out = read_image((out_ / "out.png").string());
  ASSERT_EQ(out.type, SampleType::U16);
  ASSERT_EQ(out.channels, 4);
  const auto* a = reinterpret_cast<const uint16_t*>(in.bytes.data());
  const auto* b = reinterpret_cast<const uint16_t*>(out.bytes.data());
  for (int i = 0; i < in.width * in.height; ++i) ASSERT_EQ(a[4 * i + 3], b[4 * i + 3]) << "alpha at " << i;
}

TEST_F(EnhanceCli, StrengthZeroWritesTheInputPixels) {
  const auto r = run("enhance " + path("in.png") + " " + (out_ / "same.png").string() + " --weights " + *weights_ +
                     " --strength 0");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_image((out_ / "same.png").string()).bytes, read_image(path("in.png")).bytes);
}

TEST_F(EnhanceCli, SeveralInputsGoToAFolder) {
  const fs::path folder = out_ / "results";
  const auto r = run("enhance " + path("in.png") + " " + path("in2.png") + " " + folder.string() + " --weights " +
                     *weights_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_image((folder / "in.png").string()).width, 40);
  EXPECT_EQ(read_image((folder / "in2.png").string()).width, 24);
}

TEST_F(EnhanceCli, ABadInputAmongSeveralLeavesOnlyCompleteFiles) {
  std::ofstream(out_.parent_path() / "text.png") << "not an image";
  const fs::path folder = out_ / "results";
  const auto r = run("enhance " + path("in.png") + " " + path("text.png") + " " + folder.string() + " --weights " +
                     *weights_);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("lowlight: error: " + path("text.png")), std::string::npos) << r.err;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(folder)) names.push_back(e.path().filename().string());
  ASSERT_EQ(names, std::vector<std::string>{"in.png"});  // no half-written or temporary file
  EXPECT_EQ(read_image((folder / "in.png").string()).width, 40);
  fs::remove(out_.parent_path() / "text.png");
}

TEST_F(EnhanceCli, NeverOverwritesWithoutBeingAsked) {
  const std::string input = (out_ / "photo.png").string();
  fs::copy_file(path("in.png"), input);
  const std::string before = test::slurp(input);
  auto r = run("enhance " + input + " " + input + " --weights " + *weights_);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("output is the input file"), std::string::npos) << r.err;
  r = run("enhance " + input + " " + out_.string() + " --weights " + *weights_);  // same name in its own folder
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(test::slurp(input), before);

  const std::string existing = (out_ / "existing.png").string();
  std::ofstream(existing) << "keep me";
  r = run("enhance " + path("in.png") + " " + existing + " --weights " + *weights_);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--overwrite"), std::string::npos) << r.err;
  EXPECT_EQ(test::slurp(existing), "keep me");
  r = run("enhance " + path("in.png") + " " + existing + " --weights " + *weights_ + " --overwrite");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_image(existing).width, 40);
}

TEST_F(EnhanceCli, TwoRunsToOneOutputNeverReplaceEachOther) {
  // Both start before either has written: the existence check at the start cannot decide; the final move
  // (no-replace) does. Exactly one succeeds, and its file is complete.
  const std::string target = (out_ / "race.png").string();
  const std::string one = std::string(LOWLIGHT_EXE) + " enhance " + path("in.png") + " " + target + " --weights " +
                          *weights_ + " 2>/dev/null";
  const std::string both = "(" + one + "; echo $? > " + (*dir_ / "rc1").string() + ") & (" + one + "; echo $? > " +
                           (*dir_ / "rc2").string() + "); wait";
  ASSERT_EQ(std::system(both.c_str()), 0);
  const int rc1 = std::stoi(test::slurp(*dir_ / "rc1")), rc2 = std::stoi(test::slurp(*dir_ / "rc2"));
  EXPECT_TRUE((rc1 == 0) != (rc2 == 0)) << rc1 << " " << rc2;
  EXPECT_EQ(read_image(target).width, 40);
  EXPECT_EQ(std::distance(fs::directory_iterator(out_), fs::directory_iterator()), 1) << "a temporary was left";
}

TEST_F(EnhanceCli, AMissingOutputFolderIsFoundBeforeTheModelLoads) {
  // Corrupt weights would fail the load: the folder's error comes first, so nothing was computed.
  const std::string corrupt = path("corrupt-for-folder.safetensors");
  std::ofstream(corrupt) << "not weights";
  const auto r = run("enhance " + path("in.png") + " " + (out_ / "no" / "such" / "o.png").string() + " --weights " +
                     corrupt);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
}

TEST_F(EnhanceCli, MissingInput) {
  expect_failure(run("enhance " + path("nope.png") + " " + (out_ / "o.png").string() + " --weights " + *weights_),
                 "no such file");
}

TEST_F(EnhanceCli, NonImageInput) {
  const fs::path text = *dir_ / "notes.png";
  std::ofstream(text) << "this is text, not a picture\n";
  expect_failure(run("enhance " + text.string() + " " + (out_ / "o.png").string() + " --weights " + *weights_),
                 "not an image");
}

TEST_F(EnhanceCli, UnsupportedBitDepth) {
  const fs::path tiff = *dir_ / "signed16.tif";
  cv::Mat m(12, 10, CV_16SC1, cv::Scalar(-5));  // signed samples: no 8/16-bit unsigned or float
  ASSERT_TRUE(cv::imwrite(tiff.string(), m));
  expect_failure(run("enhance " + tiff.string() + " " + (out_ / "o.tif").string() + " --weights " + *weights_),
                 "unsupported sample depth");
}

TEST_F(EnhanceCli, CorruptWeights) {
  const fs::path garbage = *dir_ / "garbage.safetensors";
  std::ofstream(garbage) << "\xff\xff\xff\xff\xff\xff\xff\x7f this is no safetensors file";
  expect_failure(run("enhance " + path("in.png") + " " + (out_ / "o.png").string() + " --weights " + garbage.string()),
                 garbage.string());
  const fs::path truncated = *dir_ / "truncated.safetensors";
  const std::string bytes = test::slurp(*weights_);
  std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  expect_failure(
      run("enhance " + path("in.png") + " " + (out_ / "o.png").string() + " --weights " + truncated.string()),
      truncated.string());
}

TEST_F(EnhanceCli, WeightsOfAnotherArchitecture) {
  const fs::path other = *dir_ / "resnet.safetensors";
  write_safetensors(other.string(), {{"layer1.conv.weight", torch::ones({4, 3, 3, 3})}},
                    {{"format", "resnet"}});
  expect_failure(run("enhance " + path("in.png") + " " + (out_ / "o.png").string() + " --weights " + other.string()),
                 other.string());
}

TEST_F(EnhanceCli, CudaRequested) {
  const auto r = run("enhance " + path("in.png") + " " + (out_ / "o.png").string() + " --weights " + *weights_ +
                     " --device cuda");
  if (!cuda_available()) {
    expect_failure(r, "cuda");
  } else {
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(fs::exists(out_ / "o.png"));
  }
}

TEST_F(EnhanceCli, UsageErrors) {
  auto r = run("enhance " + path("in.png"));  // no output
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.err.rfind("lowlight: error: ", 0), 0u) << r.err;
  r = run("enhance " + path("in.png") + " " + (out_ / "o.png").string() + " --strength 2");
  EXPECT_NE(r.code, 0);
  r = run("enhance " + path("in.png") + " " + (out_ / "o.bmpx").string() + " --weights " + *weights_);
  expect_failure(r, "unknown image extension");
  r = run("");
  EXPECT_NE(r.code, 0);
}

TEST_F(EnhanceCli, FindsModelsByNameOnTheModelPath) {
  const fs::path models = *dir_ / "models";
  fs::create_directories(models);
  fs::copy_file(*weights_, models / "tiny.safetensors", fs::copy_options::overwrite_existing);
  auto r = run("enhance " + path("in.png") + " " + (out_ / "o.png").string() + " --model tiny",
               "LOWLIGHT_MODEL_PATH=/nonexistent:" + models.string());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out_ / "o.png"));
  fs::remove(out_ / "o.png");
  r = run("enhance " + path("in.png") + " " + (out_ / "o.png").string() + " --model absent",
          "LOWLIGHT_MODEL_PATH=" + models.string());
  expect_failure(r, models.string());  // the error lists where it looked
}

}  // namespace
}  // namespace lowlight
