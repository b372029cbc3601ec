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
#include "support/image_metadata.h"
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
                     " --tile 32 --overlap 4");
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


// Hardening (issue 17): bad files and resource options are refused with one line, and nothing is written.

// A PNG of the given size that is only a header (signature, IHDR, IEND): what a decompression bomb shows
// before its pixel data.
std::string png_header_only(uint32_t width, uint32_t height) {
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
  };
  std::string png = "\x89PNG\r\n\x1a\n";
  png += be32(13) + "IHDR" + be32(width) + be32(height) + std::string("\x08\x02\x00\x00\x00", 5) + be32(0);
  png += be32(0) + "IEND" + be32(0xae426082u);
  return png;
}

TEST_F(EnhanceCli, OutputOnAFullDiskIsOneErrorAndLeavesNothing) {
  // Noise does not compress: the 16-bit PNG result is far above the 16 KiB the shell's limit allows.
  Image noise(96, 96, 3, SampleType::U16);
  for (size_t i = 0; i < noise.bytes.size(); ++i) noise.bytes[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
  write_image((*dir_ / "noise.png").string(), noise.view());
  const auto r = run("enhance " + path("noise.png") + " " + (out_ / "o.png").string() + " --weights " + *weights_,
                     "trap '' XFSZ; ulimit -f 16;");
  expect_failure(r, (out_ / "o.png").string());
  EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;
}

TEST_F(EnhanceCli, TruncatedJpegIsRefused) {
  write_image((*dir_ / "photo.jpg").string(), make_image(64, 48, 3, SampleType::U8).view());
  const std::string jpeg = test::slurp(*dir_ / "photo.jpg");
  std::ofstream(*dir_ / "cut.jpg", std::ios::binary) << jpeg.substr(0, jpeg.size() * 2 / 3);
  expect_failure(run("enhance " + path("cut.jpg") + " " + (out_ / "o.png").string() + " --weights " + *weights_),
                 "truncated JPEG");
}

TEST_F(EnhanceCli, GrayAlphaStaysGrayAlphaWithItsAlpha) {
  Image ga = make_image(40, 30, 2, SampleType::U8);
  write_image((*dir_ / "ga.png").string(), ga.view());
  ASSERT_EQ(test::slurp(*dir_ / "ga.png")[25], 4) << "input is not a gray+alpha PNG (IHDR colour type 4)";
  const auto r = run("enhance " + path("ga.png") + " " + (out_ / "o.png").string() + " --weights " + *weights_);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(test::slurp(out_ / "o.png")[25], 4) << "output is not a gray+alpha PNG";
  const Image out = read_image((out_ / "o.png").string());
  ASSERT_EQ(out.channels, 2);
  bool changed = false;
  for (size_t i = 0; i < ga.bytes.size(); i += 2) {
    ASSERT_EQ(out.bytes[i + 1], ga.bytes[i + 1]) << "alpha at " << i / 2;
    changed |= out.bytes[i] != ga.bytes[i];
  }
  EXPECT_TRUE(changed);
}

// A phone photo: stored sideways with EXIF orientation 6 and an ICC profile. The output is upright, says
// Orientation 1 (a viewer must not turn it again) and keeps the rest of the EXIF block and the profile.
TEST_F(EnhanceCli, ExifOrientationIsAppliedAndExifAndIccAreKept) {
  write_image(path("phone-plain.jpg"), make_image(40, 30, 3, SampleType::U8).view());
  const test::Blob icc = test::fake_icc();
  std::ofstream(path("phone.jpg"), std::ios::binary)
      << test::with_jpeg_metadata(test::slurp(path("phone-plain.jpg")), test::exif_block(6, true), icc);
  for (const std::string ext : {"png", "jpg", "webp", "tif"}) {
    SCOPED_TRACE(ext);
    const fs::path out = out_ / ("upright." + ext);
    const auto r = run("enhance " + path("phone.jpg") + " " + out.string() + " --weights " + *weights_ + " --strength 0");
    ASSERT_EQ(r.code, 0) << r.err;
    const Image image = read_image(out.string());
    EXPECT_EQ(image.width, 30);
    EXPECT_EQ(image.height, 40);
    EXPECT_EQ(image.metadata.icc, icc);
    const std::string exif(image.metadata.exif.begin(), image.metadata.exif.end());
    if (ext != "tif")  // TIFF keeps the tags in its own directory; the block is rebuilt from it
      EXPECT_EQ(image.metadata.exif, test::exif_block(1, true));
    EXPECT_NE(exif.find("2024:01:02 03:04:05"), std::string::npos);
  }
  // --strength 0 writes the input's pixels: those of the JPEG turned upright.
  const Image stored = read_image(path("phone-plain.jpg")), shown = read_image((out_ / "upright.png").string());
  EXPECT_EQ(shown.bytes[0], stored.bytes[(29 * 40) * 3]) << "the stored bottom-left pixel is shown top-left";
}

TEST_F(EnhanceCli, MultiPageTiffIsRefused) {
  const std::vector<cv::Mat> pages = {cv::Mat(20, 24, CV_8UC3, cv::Scalar(10, 20, 30)),
                                      cv::Mat(20, 24, CV_8UC3, cv::Scalar(40, 50, 60))};
  ASSERT_TRUE(cv::imwritemulti((*dir_ / "pages.tif").string(), pages));
  expect_failure(run("enhance " + path("pages.tif") + " " + (out_ / "o.tif").string() + " --weights " + *weights_),
                 "multi-page TIFF (2 pages)");
}

TEST_F(EnhanceCli, OversizedImagesAreRefusedFromTheHeader) {
  // 16000x16000 declared in 57 bytes: refused before any pixel (or the model) is loaded.
  std::ofstream(*dir_ / "bomb.png", std::ios::binary) << png_header_only(16000, 16000);
  auto r = run("enhance " + path("bomb.png") + " " + (out_ / "o.png").string() + " --weights /no/weights");
  expect_failure(r, "16000x16000 is 256.0 megapixels, more than the limit of 220.0");
  // OpenCV's own width limit gets the same one line instead of its assertion text.
  std::ofstream(*dir_ / "wide.png", std::ios::binary) << png_header_only(2000000, 1);
  r = run("enhance " + path("wide.png") + " " + (out_ / "o.png").string() + " --weights /no/weights");
  expect_failure(r, "above 1048576");
  // The limit is the user's to set.
  r = run("enhance " + path("in.png") + " " + (out_ / "o.png").string() + " --weights " + *weights_ +
          " --max-megapixels 0.001");
  expect_failure(r, "more than the limit of 0.001");
  r = run("enhance " + path("in.png") + " " + (out_ / "o.png").string() + " --weights " + *weights_ +
          " --max-megapixels 0.0012");
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(EnhanceCli, ResourceOptionsAreBounded) {
  auto r = run("enhance " + path("in.png") + " " + (out_ / "o.png").string() + " --weights " + *weights_ +
               " --threads 100000");
  expect_failure(r, "thread count 100000");
  r = run("enhance " + path("in.png") + " " + (out_ / "o.png").string() + " --weights " + *weights_ + " --tile 1");
  expect_failure(r, "below the minimum of 32");
  // A tile larger than the image is the whole image.
  r = run("enhance " + path("in.png") + " " + (out_ / "o.png").string() + " --weights " + *weights_ +
          " --tile 100000");
  EXPECT_EQ(r.code, 0) << r.err;
}

}  // namespace
}  // namespace lowlight
