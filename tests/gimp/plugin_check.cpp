// The GIMP 2.10 plug-in inside the real, headless gimp-console. GIMP starts once for the whole file
// (SetUpTestSuite): a temporary profile holds the freshly built plug-in and a tiny random model next to
// it, one Script-Fu session runs every scenario and saves its results, and each test checks one of them.
// The reference result is `lowlight enhance` (the CLI) when it is built, else the engine called directly.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lowlight/engine.h"
#include "lowlight/image.h"
#include "lowlight/metrics.h"
#include "support/gimp_check.h"
#include "support/tiny_weights.h"

namespace fs = std::filesystem;
using namespace lowlight;
using test::crop;
using test::sample;

namespace {

constexpr double kMinPsnr = 45.0;
// The rectangle selected in the selection scenario (x, y, width, height), in the 64x48 test image.
constexpr int kSelX = 10, kSelY = 8, kSelW = 24, kSelH = 20;
// The layer offset in the offset scenario (the same selection then covers other layer pixels).
constexpr int kOffX = 5, kOffY = 3;

class GimpPlugin : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite() { fs::remove_all(root_); }

  static fs::path in(const std::string& name) { return root_ / "in" / name; }
  static fs::path out(const std::string& name) { return root_ / "out" / name; }
  static Image reference(const Image& input, float strength) {
    return test::reference_enhance(root_, weights_, input, strength);
  }

  static fs::path root_, weights_;
  static std::string log_;
  static int exit_code_;
  static double seconds_;
};

fs::path GimpPlugin::root_, GimpPlugin::weights_;
std::string GimpPlugin::log_;
int GimpPlugin::exit_code_ = -1;
double GimpPlugin::seconds_ = 0;

void GimpPlugin::SetUpTestSuite() {
  root_ = test::temp_dir("gimp-plugin");
  const fs::path profile = root_ / "profile", home = root_ / "home";
  const fs::path plugin_dir = profile / "plug-ins" / "lowlight-enhance";
  for (const fs::path& dir : {plugin_dir, home, root_ / "in", root_ / "out", root_ / "batch_in", root_ / "batch_out"})
    fs::create_directories(dir);
  fs::copy_file(LOWLIGHT_GIMP_PLUGIN, plugin_dir / "lowlight-enhance");
  weights_ = plugin_dir / "tiny.safetensors";  // found by name, next to the plug-in binary
  test::make_tiny_weights(weights_.string());

  write_image(in("rgb8.png").string(), test::make_dark_image(64, 48, 3, SampleType::U8, 0).view());
  write_image(in("rgba8.png").string(), test::make_dark_image(48, 40, 4, SampleType::U8, 1).view());
  write_image(in("rgb16.png").string(), test::make_dark_image(48, 40, 3, SampleType::U16, 2).view());
  write_image(in("gray8.png").string(), test::make_dark_image(40, 32, 1, SampleType::U8, 3).view());
  write_image((root_ / "batch_in" / "a.png").string(), test::make_dark_image(32, 24, 3, SampleType::U8, 4).view());
  write_image((root_ / "batch_in" / "b.png").string(), test::make_dark_image(24, 32, 3, SampleType::U8, 5).view());

  const std::string r = root_.string();
  std::ofstream(root_ / "setup.scm")
      << "(define (ll-load path) (car (gimp-file-load RUN-NONINTERACTIVE path path)))\n"
         "(define (ll-layer image) (car (gimp-image-get-active-drawable image)))\n"
         "(define (ll-save image path) (gimp-file-save RUN-NONINTERACTIVE image (ll-layer image) path path))\n"
         "(define (ll-enhance image strength model)\n"
         "  (plug-in-lowlight-enhance RUN-NONINTERACTIVE image (ll-layer image) strength model 1 0))\n"
         "(define (ll-run in out strength)\n"
         "  (let ((image (ll-load in))) (ll-enhance image strength \"tiny\") (ll-save image out) (gimp-image-delete image)))\n"
         "(define (ll-run-selection in out)\n"
         "  (let ((image (ll-load in)))\n"
         "    (gimp-image-select-rectangle image CHANNEL-OP-REPLACE "
      << kSelX << " " << kSelY << " " << kSelW << " " << kSelH
      << ")\n"
         "    (ll-enhance image 1.0 \"tiny\") (ll-save image out) (gimp-image-delete image)))\n"
         "(define (ll-run-offset in out)\n"
         "  (let ((image (ll-load in)))\n"
         "    (gimp-layer-set-offsets (ll-layer image) "
      << kOffX << " " << kOffY
      << ")\n"
         "    (gimp-image-select-rectangle image CHANNEL-OP-REPLACE "
      << kSelX << " " << kSelY << " " << kSelW << " " << kSelH
      << ")\n"
         "    (ll-enhance image 1.0 \"tiny\") (ll-save image out) (gimp-image-delete image)))\n"
         "(define (ll-run-feathered in out)\n"
         "  (let ((image (ll-load in)))\n"
         "    (gimp-context-set-feather TRUE) (gimp-context-set-feather-radius 12 12)\n"
         "    (gimp-image-select-rectangle image CHANNEL-OP-REPLACE 16 12 32 24)\n"
         "    (let ((b (cdr (gimp-selection-bounds image))))\n"
         "      (gimp-message (string-append \"LL-BOUNDS \" (number->string (car b)) \" \" (number->string (cadr b))\n"
         "                                   \" \" (number->string (caddr b)) \" \" (number->string (cadddr b)))))\n"
         "    (ll-enhance image 1.0 \"tiny\") (ll-save image out) (gimp-image-delete image)))\n";

  // Script-Fu forgets definitions between -b commands, so each one loads the helpers first.
  const std::string load = "(load \"" + r + "/setup.scm\") ";
  const std::string rgb8 = "\"" + r + "/in/rgb8.png\"";
  const std::vector<std::string> commands = {
      load + "(ll-run " + rgb8 + " \"" + r + "/out/rgb8.png\" 1.0)",
      load + "(ll-run-selection " + rgb8 + " \"" + r + "/out/selection.png\")",
      load + "(ll-run-offset " + rgb8 + " \"" + r + "/out/offset.png\")",
      load + "(ll-run-feathered " + rgb8 + " \"" + r + "/out/feathered.png\")",
      load + "(ll-run \"" + r + "/in/rgba8.png\" \"" + r + "/out/rgba8.png\" 1.0)",
      load + "(ll-run \"" + r + "/in/rgb16.png\" \"" + r + "/out/rgb16.png\" 0.6)",
      load + "(ll-run \"" + r + "/in/gray8.png\" \"" + r + "/out/gray8.png\" 1.0)",
      // The error as the batch runner reports it (the one failing command) ...
      load + "(ll-enhance (ll-load " + rgb8 + ") 1.0 \"no-such-model\")",
      // ... and, caught in Script-Fu, the layer saved after the failure.
      load + "(let ((image (ll-load " + rgb8 + "))) (catch (gimp-message \"LL-CAUGHT\") " +
          "(ll-enhance image 1.0 \"no-such-model\") (gimp-message \"LL-NOT-FAILED\")) " +
          "(ll-save image \"" + r + "/out/after-failure.png\"))",
      "(begin (load \"" LOWLIGHT_BATCH_SCRIPT "\") (lowlight-batch-enhance \"" + r + "/batch_in\" \"" + r +
          "/batch_out\" 1.0 \"tiny\"))",
      "(gimp-quit 0)"};
  std::string command = "env -u LOWLIGHT_MODEL_PATH -u DISPLAY HOME=" + home.string() +
                        " XDG_CONFIG_HOME=" + (home / ".config").string() +
                        " XDG_CACHE_HOME=" + (home / ".cache").string() + " GIMP2_DIRECTORY=" + profile.string() +
                        " timeout 150 " LOWLIGHT_GIMP_CONSOLE " -i -d -f";
  for (const std::string& c : commands) command += " -b '" + c + "'";
  command += " > " + (root_ / "gimp.log").string() + " 2>&1";
  const auto start = std::chrono::steady_clock::now();
  const int status = std::system(command.c_str());
  seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  log_ = test::slurp(root_ / "gimp.log");
}

TEST_F(GimpPlugin, GimpRanEveryCommand) {
  EXPECT_EQ(exit_code_, 0) << log_;
  EXPECT_LT(seconds_, 120.0);
  EXPECT_EQ(log_.find("crashed"), std::string::npos) << log_;
  // Exactly one batch command fails: the missing model.
  size_t failures = 0;
  for (size_t at = log_.find("execution error"); at != std::string::npos; at = log_.find("execution error", at + 1))
    ++failures;
  EXPECT_EQ(failures, 1u) << log_;
}

TEST_F(GimpPlugin, MatchesTheCommandLineTool) {
  const Image input = read_image(in("rgb8.png").string());
  const Image result = read_image(out("rgb8.png").string());
  ASSERT_EQ(result.width, input.width);
  ASSERT_EQ(result.channels, 3);
  const Image expected = reference(input, 1.0f);
  EXPECT_GE(psnr(result.view(), expected.view()), kMinPsnr);
  EXPECT_LT(psnr(result.view(), input.view()), 30.0);  // it did change the picture
}

TEST_F(GimpPlugin, RectangularSelectionLeavesTheRestBitIdentical) {
  const Image input = read_image(in("rgb8.png").string());
  const Image result = read_image(out("selection.png").string());
  ASSERT_EQ(result.width, input.width);
  ASSERT_EQ(result.height, input.height);
  ASSERT_EQ(result.channels, input.channels);
  int outside_changed = 0, inside_changed = 0;
  for (int y = 0; y < input.height; ++y)
    for (int x = 0; x < input.width; ++x) {
      const bool inside = x >= kSelX && x < kSelX + kSelW && y >= kSelY && y < kSelY + kSelH;
      for (int c = 0; c < 3; ++c)
        if (sample(result, x, y, c) != sample(input, x, y, c)) ++(inside ? inside_changed : outside_changed);
    }
  EXPECT_EQ(outside_changed, 0);
  EXPECT_GT(inside_changed, kSelW * kSelH);
  // Inside, the model saw just the selection's bounds.
  const Image expected = reference(crop(input, kSelX, kSelY, kSelW, kSelH), 1.0f);
  const Image got = crop(result, kSelX, kSelY, kSelW, kSelH);
  EXPECT_GE(psnr(got.view(), expected.view()), kMinPsnr);
}

TEST_F(GimpPlugin, SelectionFollowsLayerOffsets) {
  const Image input = read_image(in("rgb8.png").string());
  const Image result = read_image(out("offset.png").string());  // the layer's own pixels
  ASSERT_EQ(result.bytes.size(), input.bytes.size());
  const int lx = kSelX - kOffX, ly = kSelY - kOffY;  // the selection in layer coordinates
  int outside_changed = 0;
  for (int y = 0; y < input.height; ++y)
    for (int x = 0; x < input.width; ++x)
      if (!(x >= lx && x < lx + kSelW && y >= ly && y < ly + kSelH))
        for (int c = 0; c < 3; ++c) outside_changed += sample(result, x, y, c) != sample(input, x, y, c);
  EXPECT_EQ(outside_changed, 0);
  const Image expected = reference(crop(input, lx, ly, kSelW, kSelH), 1.0f);
  EXPECT_GE(psnr(crop(result, lx, ly, kSelW, kSelH).view(), expected.view()), kMinPsnr);
}

TEST_F(GimpPlugin, FeatheredSelectionBlendsGradually) {
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  const size_t at = log_.find("LL-BOUNDS ");
  ASSERT_NE(at, std::string::npos) << log_;
  ASSERT_EQ(std::sscanf(log_.c_str() + at, "LL-BOUNDS %d %d %d %d", &x1, &y1, &x2, &y2), 4);
  const Image input = read_image(in("rgb8.png").string());
  const Image result = read_image(out("feathered.png").string());
  ASSERT_EQ(result.bytes.size(), input.bytes.size());
  // The engine saw the selection's bounds; each pixel must lie between the original and that result.
  const Image full = reference(crop(input, x1, y1, x2 - x1, y2 - y1), 1.0f);
  int outside_changed = 0, out_of_range = 0, partial = 0;
  for (int y = 0; y < input.height; ++y)
    for (int x = 0; x < input.width; ++x) {
      const bool inside = x >= x1 && x < x2 && y >= y1 && y < y2;
      for (int c = 0; c < 3; ++c) {
        const int o = sample(input, x, y, c), r = sample(result, x, y, c);
        if (!inside) {
          outside_changed += r != o;
          continue;
        }
        const int e = sample(full, x - x1, y - y1, c);
        out_of_range += r < std::min(o, e) - 1 || r > std::max(o, e) + 1;
        partial += std::abs(e - o) > 8 && std::abs(r - o) > 2 && std::abs(r - e) > 2;
      }
    }
  EXPECT_EQ(outside_changed, 0);
  EXPECT_EQ(out_of_range, 0);
  EXPECT_GT(partial, 20) << "no partly enhanced pixels along the feathered edge";
}

TEST_F(GimpPlugin, AlphaIsUntouched) {
  const Image input = read_image(in("rgba8.png").string());
  const Image result = read_image(out("rgba8.png").string());
  ASSERT_EQ(result.channels, 4);
  ASSERT_EQ(result.width, input.width);
  int alpha_changed = 0;
  for (int y = 0; y < input.height; ++y)
    for (int x = 0; x < input.width; ++x) alpha_changed += sample(result, x, y, 3) != sample(input, x, y, 3);
  EXPECT_EQ(alpha_changed, 0);
  EXPECT_GE(psnr(result.view(), reference(input, 1.0f).view()), kMinPsnr);
}

TEST_F(GimpPlugin, SixteenBitImageWorks) {
  const Image input = read_image(in("rgb16.png").string());
  const Image result = read_image(out("rgb16.png").string());
  ASSERT_EQ(result.type, SampleType::U16) << "GIMP saved the 16-bit result with another depth";
  ASSERT_EQ(result.width, input.width);
  EXPECT_GE(psnr(result.view(), reference(input, 0.6f).view()), kMinPsnr);
  EXPECT_LT(psnr(result.view(), input.view()), 40.0);
}

TEST_F(GimpPlugin, GrayLayerWorks) {
  const Image input = read_image(in("gray8.png").string());
  const Image result = read_image(out("gray8.png").string());
  ASSERT_EQ(result.channels, 1);
  EXPECT_GE(psnr(result.view(), reference(input, 1.0f).view()), kMinPsnr);
}

TEST_F(GimpPlugin, MissingModelIsAnErrorNotACrashAndChangesNothing) {
  const size_t at = log_.find("no-such-model");
  ASSERT_NE(at, std::string::npos) << log_;
  EXPECT_NE(log_.find("looked for no-such-model.safetensors in"), std::string::npos) << log_;
  EXPECT_NE(log_.find("plug-ins/lowlight-enhance"), std::string::npos) << log_;  // names where it looked
  EXPECT_NE(log_.find("LL-CAUGHT"), std::string::npos) << log_;
  EXPECT_EQ(log_.find("LL-NOT-FAILED"), std::string::npos) << log_;
  const Image input = read_image(in("rgb8.png").string());
  const Image after = read_image(out("after-failure.png").string());
  ASSERT_EQ(after.bytes.size(), input.bytes.size());
  EXPECT_TRUE(after.bytes == input.bytes);
}

TEST_F(GimpPlugin, BatchScriptEnhancesAFolder) {
  for (const char* name : {"a.png", "b.png"}) {
    SCOPED_TRACE(name);
    const fs::path result_path = root_ / "batch_out" / name;
    ASSERT_TRUE(fs::exists(result_path)) << log_;
    const Image input = read_image((root_ / "batch_in" / name).string());
    const Image result = read_image(result_path.string());
    ASSERT_EQ(result.width, input.width);
    EXPECT_GE(psnr(result.view(), reference(input, 1.0f).view()), kMinPsnr);
  }
  EXPECT_NE(log_.find("2 image(s) written"), std::string::npos) << log_;
}

}  // namespace
