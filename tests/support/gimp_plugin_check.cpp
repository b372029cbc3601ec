// The fixture and the tests every GIMP front end shares (see gimp_plugin_check.h). Compiled into each
// version's check, so LOWLIGHT_EXE there chooses the reference (gimp_check.h).
#include "support/gimp_plugin_check.h"

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "lowlight/metrics.h"
#include "lowlight/safetensors.h"
#include "support/gimp_check.h"
#include "support/tiny_weights.h"

namespace fs = std::filesystem;

namespace lowlight::test {
namespace {

constexpr double kMinPsnr = 45.0;
// The rectangle selected in the selection scenario (x, y, width, height), in the 64x48 test image.
constexpr int kSelX = 10, kSelY = 8, kSelW = 24, kSelH = 20;
// The layer offset in the offset scenario (the same selection then covers other layer pixels).
constexpr int kOffX = 5, kOffY = 3;

// The scenarios, over the version's prelude. GIMP 3 saves the image, not one layer, so the offset scenario
// moves the layer back to the origin before saving (the same pixels as saving the layer in GIMP 2.10).
constexpr const char* kScenarios = R"scm(
(define (ll-run in out strength)
  (let ((image (ll-load in))) (ll-enhance image strength "tiny") (ll-save image out) (gimp-image-delete image)))
(define (ll-run-selection in out)
  (let ((image (ll-load in)))
    (ll-select image) (ll-enhance image 1.0 "tiny") (ll-save image out) (gimp-image-delete image)))
(define (ll-run-offset in out)
  (let* ((image (ll-load in)) (layer (ll-layer image)))
    (gimp-layer-set-offsets layer ll-offset-x ll-offset-y)
    (ll-select image) (ll-enhance image 1.0 "tiny")
    (gimp-layer-set-offsets layer 0 0) (ll-save image out) (gimp-image-delete image)))
; Runs (thunk); on an error logs "<tag>: <message>" (Script-Fu's catch would drop the message).
(define (ll-report-error tag thunk)
  (let* ((outer *error-hook*)
         (result (call-with-current-continuation
                  (lambda (escape)
                    (set! *error-hook* (lambda args (escape (if (string? (car args)) (car args) "error"))))
                    (thunk)
                    #f))))
    (set! *error-hook* outer)
    (gimp-message (string-append tag ": " (if result result "NOT-FAILED")))))
; The model `model` must fail: its message is logged and the layer saved as it is afterwards.
(define (ll-run-bad-model in out model tag)
  (let ((image (ll-load in)))
    (ll-report-error tag (lambda () (ll-enhance image 1.0 model)))
    (ll-save image out) (gimp-image-delete image)))
(define (ll-run-feathered in out)
  (let ((image (ll-load in)))
    (gimp-context-set-feather TRUE) (gimp-context-set-feather-radius 12 12)
    (gimp-image-select-rectangle image CHANNEL-OP-REPLACE 16 12 32 24)
    (let ((b (cdr (gimp-selection-bounds image))))
      (gimp-message (string-append "LL-BOUNDS " (number->string (car b)) " " (number->string (cadr b))
                                   " " (number->string (caddr b)) " " (number->string (cadddr b)))))
    (ll-enhance image 1.0 "tiny") (ll-save image out) (gimp-image-delete image)))
)scm";

// Uncompressed 24-bit BMP, bottom-up rows padded to 4 bytes: core reads and writes no BMP, GIMP does.
void write_bmp(const fs::path& path, const Image& rgb) {
  const uint32_t row = (rgb.width * 3 + 3) / 4 * 4, data = row * rgb.height;
  std::string file(54 + data, '\0');
  const auto put = [&file](size_t at, uint32_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) file[at + i] = static_cast<char>((value >> (8 * i)) & 0xff);
  };
  file[0] = 'B', file[1] = 'M';
  put(2, 54 + data, 4), put(10, 54, 4), put(14, 40, 4), put(18, rgb.width, 4), put(22, rgb.height, 4);
  put(26, 1, 2), put(28, 24, 2), put(34, data, 4);
  for (int y = 0; y < rgb.height; ++y)
    for (int x = 0; x < rgb.width; ++x)
      for (int c = 0; c < 3; ++c)
        file[54 + (rgb.height - 1 - y) * row + x * 3 + c] = static_cast<char>(sample(rgb, x, y, 2 - c));
  std::ofstream(path, std::ios::binary) << file;
}

// Reads the uncompressed BMP GIMP exports for an RGB image: 24 or 32 bits per pixel, plain (BI_RGB) or with
// channel masks (BI_BITFIELDS, any header version), rows bottom-up or top-down; RGB out, empty on other kinds.
Image read_bmp(const fs::path& path) {
  const std::string file = slurp(path);
  const auto get = [&file](size_t at, int bytes) {
    uint32_t value = 0;
    for (int i = 0; i < bytes && at + i < file.size(); ++i)
      value |= static_cast<uint32_t>(static_cast<uint8_t>(file[at + i])) << (8 * i);
    return value;
  };
  if (file.size() < 54 || file[0] != 'B' || file[1] != 'M') return Image();
  const uint32_t bpp = get(28, 2), compression = get(30, 4), offset = get(10, 4);
  const int width = static_cast<int>(get(18, 4)), stored_height = static_cast<int32_t>(get(22, 4));
  const int height = std::abs(stored_height);
  if ((bpp != 24 && bpp != 32) || (compression != 0 && compression != 3) || width <= 0 || height == 0) return Image();
  uint32_t masks[3] = {0xff0000u, 0xff00u, 0xffu};
  if (compression == 3)
    for (int c = 0; c < 3; ++c) masks[c] = get(54 + 4 * c, 4);
  const uint32_t row = (width * (bpp / 8) + 3) / 4 * 4;
  if (file.size() < offset + static_cast<size_t>(row) * height) return Image();
  Image rgb(width, height, 3, SampleType::U8);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const size_t at = offset + static_cast<size_t>(stored_height > 0 ? height - 1 - y : y) * row + x * (bpp / 8);
      const uint32_t pixel = get(at, bpp / 8);
      for (int c = 0; c < 3; ++c) {
        int shift = 0;
        while (masks[c] && !((masks[c] >> shift) & 1u)) ++shift;
        rgb.bytes[(static_cast<size_t>(y) * width + x) * 3 + c] = static_cast<uint8_t>((pixel & masks[c]) >> shift);
      }
    }
  return rgb;
}

}  // namespace

fs::path GimpPluginCheck::root_, GimpPluginCheck::weights_;
std::string GimpPluginCheck::log_;
int GimpPluginCheck::exit_code_ = -1;
double GimpPluginCheck::seconds_ = 0;
size_t GimpPluginCheck::commands_ = 0;

void GimpPluginCheck::SetUpTestSuite() {
  root_ = temp_dir("gimp-check");
  const GimpUnderTest gimp = gimp_under_test();
  const fs::path plugin_dir = root_ / "profile" / "plug-ins" / "lowlight-enhance";
  for (const fs::path& dir : {plugin_dir, root_ / "home", root_ / "in", root_ / "out", root_ / "batch_in",
                              root_ / "batch_out"})
    fs::create_directories(dir);
  fs::copy_file(LOWLIGHT_GIMP_PLUGIN, plugin_dir / "lowlight-enhance");
  weights_ = plugin_dir / "tiny.safetensors";  // found by name, next to the plug-in binary
  // Sharp attention: the result depends on what the network pools over, so a selection enhanced as an
  // image of its own would differ from the whole layer's result (see the selection checks).
  make_sharp_weights(weights_.string());
  write_bad_models(plugin_dir);
  write_inputs();
  write_helpers(gimp.prelude);
  run_gimp(gimp);
}

void GimpPluginCheck::TearDownTestSuite() { fs::remove_all(root_); }

// Beside the good model: a truncated copy (a broken download) and one whose tensors belong to another
// network shape than its config says (a model for another architecture).
void GimpPluginCheck::write_bad_models(const fs::path& dir) {
  const std::string good = slurp(weights_);
  std::ofstream(dir / "corrupt.safetensors", std::ios::binary) << good.substr(0, good.size() / 2);
  const fs::path small = root_ / "small.safetensors", large = root_ / "large.safetensors";
  make_tiny_weights(small.string(), tiny_config(4));
  make_tiny_weights(large.string(), tiny_config(8));
  write_safetensors((dir / "wrongarch.safetensors").string(), read_safetensors(small.string()).tensors,
                    read_safetensors(large.string()).metadata);
}

void GimpPluginCheck::write_inputs() {
  write_image(in("rgb8.png").string(), make_dark_image(64, 48, 3, SampleType::U8, 0).view());
  write_image(in("rgba8.png").string(), make_dark_image(48, 40, 4, SampleType::U8, 1).view());
  write_image(in("rgb16.png").string(), make_dark_image(48, 40, 3, SampleType::U16, 2).view());
  write_image(in("gray8.png").string(), make_dark_image(40, 32, 1, SampleType::U8, 3).view());
  write_image((root_ / "batch_in" / "a.png").string(), make_dark_image(32, 24, 3, SampleType::U8, 4).view());
  // Every other format GIMP loads and saves, a file that is not an image (skipped, named) and one that no
  // format matches (ignored).
  write_bmp(root_ / "batch_in" / "c.bmp", make_dark_image(30, 20, 3, SampleType::U8, 6));
  write_image((root_ / "batch_in" / "d.tif").string(), make_dark_image(20, 30, 3, SampleType::U8, 7).view());
  write_image((root_ / "batch_in" / "e.jpg").string(), make_dark_image(32, 24, 3, SampleType::U8, 8).view());
  write_image((root_ / "batch_in" / "f.webp").string(), make_dark_image(24, 24, 3, SampleType::U8, 9).view());
  std::ofstream(root_ / "batch_in" / "bad.png") << "not an image";
  std::ofstream(root_ / "batch_in" / "notes.txt") << "not an image either";
}

void GimpPluginCheck::write_helpers(const std::string& prelude) {
  std::ofstream(root_ / "setup.scm") << prelude << "\n(define (ll-select image)\n"
                                     << "  (gimp-image-select-rectangle image CHANNEL-OP-REPLACE " << kSelX << " "
                                     << kSelY << " " << kSelW << " " << kSelH << "))\n"
                                     << "(define ll-offset-x " << kOffX << ")\n(define ll-offset-y " << kOffY
                                     << ")\n" << kScenarios;
}

std::string GimpPluginCheck::command(const std::string& body) {
  return "(load " + quoted(root_ / "setup.scm") + ") " + body;
}

// GIMP 3's batch mode stops at the first failing command, so the uncaught failure comes last.
std::vector<std::string> GimpPluginCheck::commands(const GimpUnderTest& gimp) {
  const std::string rgb8 = quoted(in("rgb8.png"));
  std::vector<std::string> list = {
      command("(ll-run " + rgb8 + " " + quoted(out("rgb8.png")) + " 1.0)"),
      command("(ll-run-selection " + rgb8 + " " + quoted(out("selection.png")) + ")"),
      command("(ll-run-offset " + rgb8 + " " + quoted(out("offset.png")) + ")"),
      command("(ll-run-feathered " + rgb8 + " " + quoted(out("feathered.png")) + ")"),
      command("(ll-run " + quoted(in("rgba8.png")) + " " + quoted(out("rgba8.png")) + " 1.0)"),
      command("(ll-run " + quoted(in("rgb16.png")) + " " + quoted(out("rgb16.png")) + " 0.6)"),
      command("(ll-run " + quoted(in("gray8.png")) + " " + quoted(out("gray8.png")) + " 1.0)")};
  for (const char* bad : {"corrupt", "wrongarch"})
    list.push_back(command("(ll-run-bad-model " + rgb8 + " " + quoted(out(std::string("after-") + bad + ".png")) +
                           " \"" + bad + "\" \"LL-" + bad + "\")"));
  list.insert(list.end(), gimp.extra_commands.begin(), gimp.extra_commands.end());
  // A missing model, caught in Script-Fu: the layer saved after the failure.
  list.push_back(command("(let ((image (ll-load " + rgb8 + "))) (catch (gimp-message \"LL-CAUGHT\") " +
                         "(ll-enhance image 1.0 \"no-such-model\") (gimp-message \"LL-NOT-FAILED\")) " +
                         "(ll-save image " + quoted(out("after-failure.png")) + "))"));
  list.push_back("(begin (load " + quoted(LOWLIGHT_BATCH_SCRIPT) + ") (lowlight-batch-enhance " +
                 quoted(root_ / "batch_in") + " " + quoted(root_ / "batch_out") + " 1.0 \"tiny\"))");
  // The error as the batch runner reports it.
  list.push_back(command("(ll-enhance (ll-load " + rgb8 + ") 1.0 \"no-such-model\")"));
  if (!gimp.last_command.empty()) list.push_back(gimp.last_command);
  return list;
}

void GimpPluginCheck::run_gimp(const GimpUnderTest& gimp) {
  const fs::path home = root_ / "home";
  const std::string profile = (root_ / "profile").string();  // each GIMP reads its own variable
  std::string shell = "env -u LOWLIGHT_MODEL_PATH -u DISPLAY HOME=" + home.string() +
                      " XDG_CONFIG_HOME=" + (home / ".config").string() +
                      " XDG_CACHE_HOME=" + (home / ".cache").string() + " GIMP2_DIRECTORY=" + profile +
                      " GIMP3_DIRECTORY=" + profile + " timeout 300 " LOWLIGHT_GIMP_CONSOLE " " + gimp.console_options;
  const std::vector<std::string> list = commands(gimp);
  commands_ = list.size();
  for (const std::string& c : list) shell += " -b '" + c + "'";
  shell += " > " + (root_ / "gimp.log").string() + " 2>&1";
  const auto start = std::chrono::steady_clock::now();
  const int status = std::system(shell.c_str());
  seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  log_ = slurp(root_ / "gimp.log");
}

Image GimpPluginCheck::reference(const Image& input, float strength) {
  return reference_enhance(root_, weights_, input, strength);
}

size_t GimpPluginCheck::count_in_log(const std::string& what) {
  size_t n = 0;
  for (size_t at = log_.find(what); at != std::string::npos; at = log_.find(what, at + 1)) ++n;
  return n;
}

TEST_F(GimpPluginCheck, GimpFinishedInTimeWithoutACrash) {
  EXPECT_NE(exit_code_, 124) << "GIMP timed out\n" << log_;
  EXPECT_NE(exit_code_, -1) << log_;
  EXPECT_LT(seconds_, 290.0);  // catches a hang, not a slow machine: CI shares its 2 cores
  EXPECT_EQ(log_.find("crashed"), std::string::npos) << log_;
}

TEST_F(GimpPluginCheck, MatchesTheCommandLineTool) {
  const Image input = read_image(in("rgb8.png").string());
  const Image result = read_image(out("rgb8.png").string());
  ASSERT_EQ(result.width, input.width);
  ASSERT_EQ(result.channels, 3);
  EXPECT_GE(psnr(result.view(), reference(input, 1.0f).view()), kMinPsnr);
  EXPECT_LT(psnr(result.view(), input.view()), 30.0);  // it did change the picture
}

TEST_F(GimpPluginCheck, RectangularSelectionLeavesTheRestBitIdentical) {
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
  // Inside, the pixels are the whole layer's result there (the layer's context and a margin around the
  // selection), not the selection's bounds enhanced as an image of their own.
  const Image expected = crop(reference(input, 1.0f), kSelX, kSelY, kSelW, kSelH);
  const Image inside = crop(result, kSelX, kSelY, kSelW, kSelH);
  EXPECT_GE(psnr(inside.view(), expected.view()), kMinPsnr);
  const Image alone = reference(crop(input, kSelX, kSelY, kSelW, kSelH), 1.0f);
  EXPECT_LT(psnr(inside.view(), alone.view()), kMinPsnr - 5) << "the check cannot tell the two apart";
}

TEST_F(GimpPluginCheck, SelectionFollowsLayerOffsets) {
  const Image input = read_image(in("rgb8.png").string());
  const Image result = read_image(out("offset.png").string());  // the layer moved back to the origin
  ASSERT_EQ(result.bytes.size(), input.bytes.size());
  const int lx = kSelX - kOffX, ly = kSelY - kOffY;  // the selection in layer coordinates
  int outside_changed = 0;
  for (int y = 0; y < input.height; ++y)
    for (int x = 0; x < input.width; ++x)
      if (!(x >= lx && x < lx + kSelW && y >= ly && y < ly + kSelH))
        for (int c = 0; c < 3; ++c) outside_changed += sample(result, x, y, c) != sample(input, x, y, c);
  EXPECT_EQ(outside_changed, 0);
  const Image expected = crop(reference(input, 1.0f), lx, ly, kSelW, kSelH);
  EXPECT_GE(psnr(crop(result, lx, ly, kSelW, kSelH).view(), expected.view()), kMinPsnr);
}

TEST_F(GimpPluginCheck, FeatheredSelectionBlendsGradually) {
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  const size_t at = log_.find("LL-BOUNDS ");
  ASSERT_NE(at, std::string::npos) << log_;
  ASSERT_EQ(std::sscanf(log_.c_str() + at, "LL-BOUNDS %d %d %d %d", &x1, &y1, &x2, &y2), 4);
  const Image input = read_image(in("rgb8.png").string());
  const Image result = read_image(out("feathered.png").string());
  ASSERT_EQ(result.bytes.size(), input.bytes.size());
  // Each pixel must lie between the original and the whole layer's result there.
  const Image full = crop(reference(input, 1.0f), x1, y1, x2 - x1, y2 - y1);
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

TEST_F(GimpPluginCheck, AlphaIsUntouched) {
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

TEST_F(GimpPluginCheck, SixteenBitImageWorks) {
  const Image input = read_image(in("rgb16.png").string());
  const Image result = read_image(out("rgb16.png").string());
  ASSERT_EQ(result.type, SampleType::U16) << "GIMP saved the 16-bit result with another depth";
  ASSERT_EQ(result.width, input.width);
  EXPECT_GE(psnr(result.view(), reference(input, 0.6f).view()), kMinPsnr);
  EXPECT_LT(psnr(result.view(), input.view()), 40.0);
}

TEST_F(GimpPluginCheck, GrayLayerWorks) {
  const Image input = read_image(in("gray8.png").string());
  const Image result = read_image(out("gray8.png").string());
  ASSERT_EQ(result.channels, 1);
  EXPECT_GE(psnr(result.view(), reference(input, 1.0f).view()), kMinPsnr);
}

TEST_F(GimpPluginCheck, MissingModelIsAnErrorNotACrashAndChangesNothing) {
  EXPECT_NE(log_.find("looked for no-such-model.safetensors in"), std::string::npos) << log_;
  EXPECT_NE(log_.find("plug-ins/lowlight-enhance"), std::string::npos) << log_;  // names where it looked
  EXPECT_NE(log_.find("LL-CAUGHT"), std::string::npos) << log_;
  EXPECT_EQ(log_.find("LL-NOT-FAILED"), std::string::npos) << log_;
  const Image input = read_image(in("rgb8.png").string());
  const Image after = read_image(out("after-failure.png").string());
  ASSERT_EQ(after.bytes.size(), input.bytes.size());
  EXPECT_TRUE(after.bytes == input.bytes);
}

// What each bad model's message must say (the first line of the plug-in's error).
static void expect_bad_model_refused(const std::string& log, const std::string& tag, const std::string& says,
                              const Image& input, const Image& after) {
  const size_t at = log.find(tag + ": ");
  ASSERT_NE(at, std::string::npos) << log;
  const std::string line = log.substr(at, log.find('\n', at) - at);
  EXPECT_EQ(line.find("NOT-FAILED"), std::string::npos) << line;
  EXPECT_NE(line.find("Low-Light Enhance: "), std::string::npos) << line;
  EXPECT_NE(line.find(says), std::string::npos) << line;
  ASSERT_EQ(after.bytes.size(), input.bytes.size());
  EXPECT_TRUE(after.bytes == input.bytes) << tag << ": the layer changed";
}

TEST_F(GimpPluginCheck, CorruptModelIsAMessageAndChangesNothing) {
  expect_bad_model_refused(log_, "LL-corrupt", "corrupt.safetensors", read_image(in("rgb8.png").string()),
                           read_image(out("after-corrupt.png").string()));
}

TEST_F(GimpPluginCheck, ModelOfAnotherArchitectureIsAMessageAndChangesNothing) {
  expect_bad_model_refused(log_, "LL-wrongarch", "shape", read_image(in("rgb8.png").string()),
                           read_image(out("after-wrongarch.png").string()));
}

TEST_F(GimpPluginCheck, BatchScriptEnhancesEveryFormatAndNamesTheFailure) {
  // Lossless formats must match the CLI. GIMP saves JPEG and WebP lossy (WebP's chroma subsampling on this
  // small checker pattern costs ~20 dB): those must only be much nearer the enhanced result than the input.
  const std::pair<const char*, bool> expected[] = {
      {"a.png", true}, {"c.bmp", true}, {"d.tif", true}, {"e.jpg", false}, {"f.webp", false}};
  for (const auto& [name, lossless] : expected) {
    SCOPED_TRACE(name);
    const fs::path result_path = root_ / "batch_out" / name;
    ASSERT_TRUE(fs::exists(result_path)) << log_;
    const bool bmp = fs::path(name).extension() == ".bmp";
    const fs::path input_path = root_ / "batch_in" / name;
    const Image input = bmp ? read_bmp(input_path) : read_image(input_path.string());
    const Image result = bmp ? read_bmp(result_path) : read_image(result_path.string());
    ASSERT_EQ(result.width, input.width);
    ASSERT_EQ(result.height, input.height);
    const double to_reference = psnr(result.view(), reference(input, 1.0f).view());
    if (lossless) EXPECT_GE(to_reference, kMinPsnr);
    else EXPECT_GT(to_reference, psnr(result.view(), input.view()) + 6.0);
  }
  EXPECT_FALSE(fs::exists(root_ / "batch_out" / "bad.png"));
  EXPECT_FALSE(fs::exists(root_ / "batch_out" / "notes.txt"));
  EXPECT_NE(log_.find("batch_in/bad.png failed, skipped: "), std::string::npos) << log_;
  EXPECT_NE(log_.find("5 image(s) written to " + (root_ / "batch_out").string() + ", 1 failed: bad.png"),
            std::string::npos) << log_;
}

}  // namespace lowlight::test
