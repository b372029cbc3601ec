// The plug-in's shared layer (no GIMP needed): parameters, last-values record, model lookup, estimate.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "estimate.h"
#include "lowlight/error.h"
#include "messages.h"
#include "model_lookup.h"
#include "params.h"
#include "preview_run.h"
#include "preview_session.h"
#include "render.h"
#include "pixel_format.h"
#include "support/synthetic_image.h"
#include "support/tiny_weights.h"

namespace fs = std::filesystem;
using namespace lowlight;
using namespace lowlight::plugin;

TEST(PluginParams, DefaultsAndValidation) {
  const Params p = default_params();
  EXPECT_EQ(p.strength, 1.0);
  EXPECT_EQ(p.model, "default");
  EXPECT_EQ(p.device, DeviceChoice::Auto);
  EXPECT_EQ(p.tile, 0);
  EXPECT_NO_THROW(validate(p));
  Params bad = p;
  bad.strength = 1.5;
  EXPECT_THROW(validate(bad), Error);
  bad = p;
  bad.tile = -1;
  EXPECT_THROW(validate(bad), Error);
  bad = p;
  bad.model.clear();
  EXPECT_THROW(validate(bad), Error);
  EXPECT_THROW(device_choice_from_int(3), Error);
  EXPECT_EQ(to_device_kind(device_choice_from_int(1)), DeviceKind::CPU);
  EXPECT_EQ(to_device_kind(device_choice_from_int(2)), DeviceKind::CUDA);
  EXPECT_EQ(engine_settings(Params{0.25, "x", DeviceChoice::CPU, 64}).strength, 0.25f);
  EXPECT_EQ(engine_settings(Params{0.3, "x", DeviceChoice::CPU, 64}).tile, 64);
}

TEST(PluginParams, SavedRecordRoundTripsAndRejectsGarbage) {
  const Params p{0.25, "/models/night.safetensors", DeviceChoice::CPU, 256};
  Params back = default_params();
  ASSERT_TRUE(from_saved(to_saved(p), &back));
  EXPECT_EQ(back.strength, 0.25);
  EXPECT_EQ(back.model, p.model);
  EXPECT_EQ(back.device, DeviceChoice::CPU);
  EXPECT_EQ(back.tile, 256);

  SavedParams broken = to_saved(p);
  broken.device = 7;
  Params untouched = default_params();
  EXPECT_FALSE(from_saved(broken, &untouched));
  EXPECT_EQ(untouched.model, "default");
  broken = to_saved(p);
  broken.version = 99;
  EXPECT_FALSE(from_saved(broken, &untouched));
  broken = to_saved(p);
  std::memset(broken.model, 'x', sizeof broken.model);  // no terminator
  EXPECT_FALSE(from_saved(broken, &untouched));
}

TEST(PluginModels, SearchOrderListingAndErrors) {
  const fs::path root = test::temp_dir("gimp-models");
  const fs::path plugin = root / "plugin", profile = root / "profile";
  fs::create_directories(plugin);
  fs::create_directories(profile / "lowlight");
  std::ofstream(plugin / "a.safetensors") << "x";
  std::ofstream(profile / "lowlight" / "a.safetensors") << "y";
  std::ofstream(profile / "lowlight" / "b.safetensors") << "z";
  std::ofstream(profile / "lowlight" / "notes.txt") << "n";
  unsetenv("LOWLIGHT_MODEL_PATH");

  const auto dirs = model_dirs(plugin.string(), profile.string());
  ASSERT_EQ(dirs.size(), 2u);  // no package folder for a plug-in outside <prefix>/lib
  EXPECT_EQ(dirs.front(), plugin.string());
  EXPECT_EQ(dirs.back(), (profile / "lowlight").string());
  EXPECT_EQ(find_model("a", dirs), (plugin / "a.safetensors").string());  // plug-in folder wins
  EXPECT_EQ(find_model("b", dirs), (profile / "lowlight" / "b.safetensors").string());

  const auto models = list_models(dirs);
  ASSERT_EQ(models.size(), 2u);
  EXPECT_EQ(models[0].name, "a");
  EXPECT_EQ(models[0].path, (plugin / "a.safetensors").string());
  EXPECT_EQ(models[1].name, "b");

  try {
    find_model("missing", dirs);
    FAIL() << "no error for a missing model";
  } catch (const Error& e) {
    const std::string what = e.what();
    for (const auto& dir : dirs) EXPECT_NE(what.find(dir), std::string::npos) << what;  // says where it looked
  }
  EXPECT_THROW(find_model((root / "nope.safetensors").string(), dirs), Error);

  setenv("LOWLIGHT_MODEL_PATH", (profile / "lowlight").string().c_str(), 1);
  EXPECT_EQ(find_model("a", model_dirs(plugin.string(), profile.string())),
            (profile / "lowlight" / "a.safetensors").string());
  unsetenv("LOWLIGHT_MODEL_PATH");
  fs::remove_all(root);
}

TEST(PluginModels, InstalledPluginFindsThePackageDataFromItsOwnPath) {
  EXPECT_EQ(installed_data_dir("/usr/lib/gimp/2.0/plug-ins/lowlight-enhance"), "/usr/share/lowlight");
  EXPECT_EQ(installed_data_dir("/opt/ll/lib/x86_64-linux-gnu/gimp/3.0/plug-ins/lowlight-enhance"),
            "/opt/ll/share/lowlight");
  EXPECT_EQ(installed_data_dir("/home/u/.config/GIMP/2.10/plug-ins/lowlight-enhance"), "");
  EXPECT_EQ(installed_data_dir(""), "");
  unsetenv("LOWLIGHT_MODEL_PATH");
  const auto dirs = model_dirs("/usr/lib/gimp/2.0/plug-ins/lowlight-enhance", "/home/u/.config/GIMP/2.10");
  ASSERT_EQ(dirs.size(), 3u);
  EXPECT_EQ(dirs[1], "/usr/share/lowlight/weights");

  // The help pages: the plug-in folder's help/ (user install) before the package's.
  const fs::path root = test::temp_dir("gimp-help");
  const fs::path plugin = root / "lib" / "gimp" / "2.0" / "plug-ins" / "lowlight-enhance";
  fs::create_directories(plugin);
  EXPECT_EQ(help_dir(plugin.string()), "");
  fs::create_directories(root / "share" / "lowlight" / "help" / "en");
  std::ofstream(root / "share" / "lowlight" / "help" / "en" / "gimp-help.xml") << "<gimp-help/>";
  EXPECT_EQ(help_dir(plugin.string()), (root / "share" / "lowlight" / "help").string());
  fs::create_directories(plugin / "help" / "en");
  std::ofstream(plugin / "help" / "en" / "gimp-help.xml") << "<gimp-help/>";
  EXPECT_EQ(help_dir(plugin.string()), (plugin / "help").string());
  fs::remove_all(root);
}

TEST(PluginHelp, ShippedHelpMapsTheProcedureToAPageThatExists) {
  const fs::path help = fs::path(LOWLIGHT_SOURCE_DIR) / "docs" / "help" / "en";
  std::ifstream file(help / "gimp-help.xml");
  const std::string map((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const std::string item = std::string("id=\"") + kProcedureName + "\" ref=\"";
  const size_t at = map.find(item);
  ASSERT_NE(at, std::string::npos) << map;
  const size_t ref = at + item.size();
  EXPECT_TRUE(fs::is_regular_file(help / map.substr(ref, map.find('"', ref) - ref)));
}

TEST(PluginEstimate, ScalesWithPixelsAndUsesMeasuredRate) {
  const ModelConfig config = test::tiny_config();
  const Throughput assumed = assumed_throughput(DeviceKind::CPU);
  ASSERT_GT(assumed.macs_per_second, 0);
  EXPECT_FALSE(assumed.measured);
  const double one = estimate_seconds(config, 1e6, assumed);
  EXPECT_NEAR(estimate_seconds(config, 4e6, assumed), 4 * one, 1e-9 * one);
  // A preview of 200x200 pixels in 0.5 s: the full-layer estimate is that rate applied to the layer.
  const Throughput measured = measured_throughput(config, 200.0 * 200.0, 0.5);
  ASSERT_TRUE(measured.measured);
  EXPECT_NEAR(estimate_seconds(config, 400.0 * 400.0, measured), 2.0, 1e-9);
  EXPECT_FALSE(measured_throughput(config, 8.0 * 8.0, 0.5).measured);  // too small to mean anything
  const std::string text = estimate_text(config, 400, 400, DeviceKind::CPU, measured);
  EXPECT_NE(text.find("2.0 s"), std::string::npos) << text;
  EXPECT_NE(text.find("measured"), std::string::npos) << text;
  EXPECT_EQ(text.find("MAC"), std::string::npos) << "plain words, no MAC counts: " << text;
  EXPECT_EQ(format_duration(125, DurationStyle::Words), "2 min 5 s");
}

TEST(PluginMessages, OneLineWithTitle) {
  EXPECT_EQ(error_text(std::string("first\nsecond")), "Low-Light Enhance: first");
}

TEST(PluginMessages, SpeakGimpNotCommandLineOptions) {
  // The text core's device check gives (core/src/device.cpp) and the model search's CLI hint.
  const std::string cuda = error_text(std::string(
      "CUDA was requested but is not available (use --device cpu or auto, or build against a CUDA LibTorch)"));
  EXPECT_EQ(cuda.find("--"), std::string::npos) << cuda;
  EXPECT_NE(cuda.find("Device: CPU"), std::string::npos) << cuda;
  const std::string model = gimp_words("model 'x' not found: looked in /a (set LOWLIGHT_MODEL_PATH or pass --weights)");
  EXPECT_EQ(model, "model 'x' not found: looked in /a");
  EXPECT_NE(threads_text().find("thread"), std::string::npos);
}

namespace {

RegionPixels test_region(int width, int height) {
  RegionPixels region;
  region.rect = region.inner = Rect{0, 0, width, height};
  region.layout.work_channels = 3;
  region.original.resize(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < region.original.size(); ++i) region.original[i] = 0.05f + 0.2f * ((i * 37) % 101) / 101.0f;
  return region;
}

bool wait_done(PreviewRun& run, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!run.poll()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace

// The child's result must be what the engine gives in this process.
TEST(PluginPreviewRun, ChildProcessResultEqualsTheEngine) {
  const fs::path root = test::temp_dir("gimp-preview");
  const std::string weights = test::make_tiny_weights((root / "tiny.safetensors").string());
  EnhanceSettings settings = default_enhance_settings();
  settings.device = DeviceKind::CPU;
  PreviewRun run(weights, settings, test_region(40, 24));
  ASSERT_TRUE(wait_done(run, 60));
  ASSERT_TRUE(run.ok()) << run.error();
  EXPECT_GE(run.seconds(), 0.0);

  RegionPixels direct = test_region(40, 24);
  ASSERT_TRUE(enhance_region(Enhancer(weights, settings), direct));
  ASSERT_EQ(run.region().enhanced.size(), direct.enhanced.size());
  EXPECT_TRUE(run.region().enhanced == direct.enhanced);
  EXPECT_FALSE(direct.enhanced == direct.original);

  PreviewRun missing((root / "missing.safetensors").string(), settings, test_region(8, 8));
  ASSERT_TRUE(wait_done(missing, 60));
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("missing.safetensors"), std::string::npos) << missing.error();

  // Cancelling does not wait for the model: a big region is dropped at once.
  const auto start = std::chrono::steady_clock::now();
  PreviewRun big(weights, settings, test_region(1500, 1500));
  big.cancel();
  EXPECT_TRUE(big.poll());
  EXPECT_FALSE(big.ok());
  EXPECT_TRUE(big.error().empty());
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0);
  fs::remove_all(root);
}

TEST(PluginModels, ChoicesKeepTheCurrentSettingVisible) {
  const fs::path root = test::temp_dir("gimp-choices");
  std::ofstream(root / "b.safetensors") << "x";
  std::ofstream(root / "a.safetensors") << "y";
  const std::vector<std::string> dirs = {root.string()};
  ModelChoices choices = model_choices(dirs, "b");
  EXPECT_EQ(choices.names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(choices.active, 1);
  EXPECT_NE(choices.tooltip.find(root.string()), std::string::npos) << choices.tooltip;
  EXPECT_EQ(model_choices(dirs, (root / "a.safetensors").string()).active, 0);  // a path to a listed model
  choices = model_choices(dirs, "/elsewhere/night.safetensors");
  EXPECT_EQ(choices.names.back(), "/elsewhere/night.safetensors");
  EXPECT_EQ(choices.active, 2);
  fs::remove_all(root);
}

namespace {

// What a PreviewSession showed, as a front end's widgets would.
struct SeenView {
  std::string status, estimate;
  bool busy = false, runnable = false;
  int previews = 0, rowstride = 0;
  std::vector<uint8_t> last;  // the last preview's pixels
  int preview_rows = 0;        // the preview area's height, to copy them

  void attach(PreviewSession& session) {
    session.view.status = [this](const std::string& text, bool is_busy) {
      status = text;
      busy = is_busy;
    };
    session.view.estimate = [this](const std::string& text, bool can_run) {
      estimate = text;
      runnable = can_run;
    };
    session.view.preview = [this](const uint8_t* pixels, int stride) {
      ++previews;
      rowstride = stride;
      last.assign(pixels, pixels + stride * preview_rows);
    };
  }
};

BufferPtr dark_buffer(int width, int height) {
  const GeglRectangle rect{0, 0, width, height};
  BufferPtr buffer(gegl_buffer_new(&rect, babl_format("R'G'B' u8")));
  const std::vector<uint8_t> pixels(static_cast<size_t>(width) * height * 3, 20);
  gegl_buffer_set(buffer.get(), &rect, 0, babl_format("R'G'B' u8"), pixels.data(), GEGL_AUTO_ROWSTRIDE);
  return buffer;
}

// Runs the GLib main loop (which polls the preview child) until the session is no longer busy.
bool wait_idle(const SeenView& seen, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (seen.busy) {
    if (std::chrono::steady_clock::now() > end) return false;
    g_main_context_iteration(nullptr, FALSE);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace

TEST(PluginPreviewSession, EstimatesComputesKeepsAndReportsProblems) {
  gegl_init(nullptr, nullptr);
  const fs::path root = test::temp_dir("gimp-session");
  test::make_tiny_weights((root / "tiny.safetensors").string());
  PreviewSession session(dark_buffer(64, 48), 64, 48, {root.string()}, false);
  SeenView seen;
  seen.attach(session);
  const Params params{1.0, "tiny", DeviceChoice::CPU, 0};
  session.set_params(params);
  EXPECT_TRUE(seen.runnable);
  EXPECT_NE(seen.estimate.find("64x48"), std::string::npos) << seen.estimate;
  EXPECT_NE(seen.estimate.find("first guess"), std::string::npos) << seen.estimate;

  session.request(Rect{0, 0, 64, 48});
  EXPECT_TRUE(seen.busy);
  ASSERT_TRUE(wait_idle(seen, 60));
  EXPECT_NE(seen.status.find("Preview 64x48 computed in"), std::string::npos) << seen.status;
  EXPECT_EQ(seen.previews, 1);
  EXPECT_EQ(seen.rowstride, 64 * 3);

  session.set_params(Params{0.5, "tiny", DeviceChoice::CPU, 0});
  session.request(Rect{0, 0, 64, 48});  // only the strength changed: the kept preview is re-blended at once
  EXPECT_FALSE(seen.busy);
  EXPECT_EQ(seen.previews, 2);

  session.set_params(params, "strength out of range");
  EXPECT_FALSE(seen.runnable);
  EXPECT_EQ(seen.estimate, "strength out of range");
  session.set_params(Params{1.0, "missing", DeviceChoice::CPU, 0});
  EXPECT_FALSE(seen.runnable);
  session.request(Rect{0, 0, 32, 32});
  EXPECT_FALSE(seen.busy);
  // Said once, in the estimate line (which wraps), not repeated in the status line.
  EXPECT_NE(seen.estimate.find("missing"), std::string::npos) << seen.estimate;
  EXPECT_EQ(seen.status, "");
  fs::remove_all(root);
}

namespace {

// A dim textured RGB float buffer (the synthetic test image of tests/support) whose left half is darker
// than its right: a crop of either half pools over other statistics than the whole layer does.
BufferPtr textured_buffer(int width, int height) {
  Image image = test::synthetic(width, height, 3);
  float* p = reinterpret_cast<float*>(image.bytes.data());
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c) p[(y * width + x) * 3 + c] *= x < width / 2 ? 0.3f : 2.5f;
  const GeglRectangle rect{0, 0, width, height};
  BufferPtr buffer(gegl_buffer_new(&rect, babl_format("R'G'B' float")));
  gegl_buffer_set(buffer.get(), &rect, 0, babl_format("R'G'B' float"), image.bytes.data(), GEGL_AUTO_ROWSTRIDE);
  return buffer;
}

double psnr_u8(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double mse = 0;
  for (size_t i = 0; i < a.size(); ++i) mse += (a[i] - b[i]) * (a[i] - b[i]);
  mse /= static_cast<double>(a.size());
  return mse > 0 ? 10 * std::log10(255.0 * 255.0 / mse) : INFINITY;
}

// The final render of the whole layer (what OK puts there), as the filter's front ends run it.
BufferPtr applied_result(GeglBuffer* source, const Params& params, const std::vector<std::string>& dirs) {
  const Enhancer enhancer(find_model(params.model, dirs), engine_settings(params));
  const GeglRectangle whole = *gegl_buffer_get_extent(source);
  BufferPtr target(gegl_buffer_new(&whole, babl_format("R'G'B' float")));
  EXPECT_TRUE(render(enhancer, source, target.get(), Rect{whole.x, whole.y, whole.width, whole.height}, Selection{}));
  return target;
}

// `rect` of `buffer` read at `scale` (GEGL's scaled coordinates) in the preview widgets' 8-bit format.
std::vector<uint8_t> preview_bytes(GeglBuffer* buffer, const GeglRectangle& rect, double scale = 1.0) {
  std::vector<uint8_t> bytes(static_cast<size_t>(rect.width) * rect.height * 3);
  gegl_buffer_get(buffer, &rect, scale, preview_format(babl_format("R'G'B' float")), bytes.data(), GEGL_AUTO_ROWSTRIDE,
                  GEGL_ABYSS_CLAMP);
  return bytes;
}

}  // namespace

// The dialog's preview of a crop (through the shared PreviewSession and its child process) against the
// same crop of the final render of the whole layer: the layer's context makes them agree.
TEST(PluginPreviewSession, PreviewCropAgreesWithTheAppliedResult) {
  gegl_init(nullptr, nullptr);
  const fs::path root = test::temp_dir("gimp-preview-crop");
  test::make_sharp_weights((root / "sharp.safetensors").string());
  const int width = 320, height = 240;
  const BufferPtr source = textured_buffer(width, height);
  const Rect area{40, 80, 96, 96};  // in the dark half
  const Params params{1.0, "sharp", DeviceChoice::CPU, 0};

  PreviewSession session(textured_buffer(width, height), width, height, {root.string()}, false);
  SeenView seen;
  seen.preview_rows = area.height;
  seen.attach(session);
  session.set_params(params);
  session.request(area);
  ASSERT_TRUE(wait_idle(seen, 120));
  ASSERT_EQ(seen.previews, 1) << seen.status;

  const BufferPtr target = applied_result(source.get(), params, {root.string()});
  std::vector<uint8_t> applied = preview_bytes(target.get(), GeglRectangle{area.x, area.y, area.width, area.height});
  ASSERT_EQ(applied.size(), seen.last.size());
  const double db = psnr_u8(seen.last, applied);
  std::printf("[preview] 96x96 preview of a 320x240 layer against the applied result there: %.2f dB\n", db);
  EXPECT_GE(db, 40.0);

  // The layer's context is kept: a second area needs no new context pass and agrees as well.
  const Rect other{200, 24, 96, 96};  // in the bright half
  session.request(other);
  ASSERT_TRUE(wait_idle(seen, 120));
  applied = preview_bytes(target.get(), GeglRectangle{other.x, other.y, other.width, other.height});
  EXPECT_GE(psnr_u8(seen.last, applied), 40.0);
  fs::remove_all(root);
}

// The dialog opens on the whole layer fitted into the preview (GIMP's zoom preview at zoom 1): the model
// runs on the layer scaled down to the preview's size with the layer's context, so the preview is the
// applied result scaled down, up to the detail the model sees at that scale. Zoomed in past 1:1 it is the
// applied result itself, each pixel enlarged.
namespace {

// A PNG through GEGL's own loader (the plug-in library reads no files).
BufferPtr load_png(const std::string& path) {
  GeglNode* graph = gegl_node_new();
  GeglBuffer* buffer = nullptr;
  GeglNode* load = gegl_node_new_child(graph, "operation", "gegl:png-load", "path", path.c_str(), nullptr);
  GeglNode* sink = gegl_node_new_child(graph, "operation", "gegl:buffer-sink", "buffer", &buffer, nullptr);
  gegl_node_link(load, sink);
  gegl_node_process(sink);
  g_object_unref(graph);
  return BufferPtr(buffer);
}

// The preview of the whole layer at `scale` (the dialog's opening view) against the applied result scaled
// down the same way, in dB; `original_db` gets the unchanged layer against it, for scale.
double fitted_preview_db(BufferPtr source, const Params& params, const std::vector<std::string>& dirs, double scale,
                         std::vector<uint8_t>* shown, double* original_db) {
  const GeglRectangle whole = *gegl_buffer_get_extent(source.get());
  const int width = static_cast<int>(whole.width * scale), height = static_cast<int>(whole.height * scale);
  const BufferPtr target = applied_result(source.get(), params, dirs);
  const GeglRectangle scaled_rect{0, 0, width, height};
  const std::vector<uint8_t> scaled = preview_bytes(target.get(), scaled_rect, scale);
  *original_db = psnr_u8(preview_bytes(source.get(), scaled_rect, scale), scaled);
  PreviewSession session(std::move(source), whole.width, whole.height, dirs, false);
  SeenView seen;
  seen.attach(session);
  session.set_params(params);
  seen.preview_rows = height;
  session.request(Rect{0, 0, whole.width, whole.height}, width, height);
  EXPECT_NE(seen.status.find(std::to_string(width) + "x" + std::to_string(height) + " at "), std::string::npos)
      << seen.status;
  EXPECT_TRUE(wait_idle(seen, 300));
  EXPECT_EQ(seen.previews, 1) << seen.status;
  EXPECT_EQ(seen.rowstride, width * 3);
  if (seen.last.size() != scaled.size()) return 0;
  *shown = seen.last;
  return psnr_u8(seen.last, scaled);
}

}  // namespace

TEST(PluginPreviewSession, FittedAndZoomedPreviewsShowTheAppliedResult) {
  gegl_init(nullptr, nullptr);
  const fs::path root = test::temp_dir("gimp-preview-fit");
  test::make_sharp_weights((root / "sharp.safetensors").string());
  const int width = 320, height = 240;
  const BufferPtr source = textured_buffer(width, height);
  const Params params{1.0, "sharp", DeviceChoice::CPU, 0};
  const BufferPtr target = applied_result(source.get(), params, {root.string()});

  // The shipped model on the bundled photo: what a user sees when the dialog opens.
  std::vector<uint8_t> fitted;
  double original_db = 0;
  const Params shipped{1.0, "default", DeviceChoice::CPU, 0};
  const double photo_db = fitted_preview_db(load_png(LOWLIGHT_SOURCE_DIR "/samples/coffee-lowlight.png"), shipped,
                                            {LOWLIGHT_SOURCE_DIR "/weights"}, 1.0 / 3, &fitted, &original_db);
  std::printf("[preview] the 600x400 sample fitted into 200x133, shipped model, against the applied result scaled "
              "down: %.2f dB (the original against it: %.2f dB)\n",
              photo_db, original_db);
  EXPECT_GE(photo_db, 28.0);
  // The hard case: random weights with sharp attention on a texture that aliases when scaled.
  const double sharp_db =
      fitted_preview_db(textured_buffer(width, height), params, {root.string()}, 0.25, &fitted, &original_db);
  std::printf("[preview] 320x240 texture fitted into 80x60, sharp random weights: %.2f dB (original: %.2f dB)\n",
              sharp_db, original_db);
  EXPECT_GE(sharp_db, original_db + 6.0);

  PreviewSession session(textured_buffer(width, height), width, height, {root.string()}, false);
  SeenView seen;
  seen.attach(session);
  session.set_params(params);

  // Zoomed in to 2:1 on a 48x48 part: 96x96 preview pixels, each applied pixel shown twice in both directions.
  const Rect part{40, 80, 48, 48};
  seen.preview_rows = 96;
  session.request(part, 96, 96);
  ASSERT_TRUE(wait_idle(seen, 120));
  ASSERT_EQ(seen.previews, 1) << seen.status;
  EXPECT_NE(seen.status.find("Preview 48x48 computed"), std::string::npos) << seen.status;
  ASSERT_EQ(seen.rowstride, 96 * 3);
  const std::vector<uint8_t> crop = preview_bytes(target.get(), GeglRectangle{part.x, part.y, part.width, part.height});
  std::vector<uint8_t> enlarged(96 * 96 * 3);
  for (int y = 0; y < 96; ++y)
    for (int x = 0; x < 96; ++x)
      std::memcpy(&enlarged[(y * 96 + x) * 3], &crop[((y / 2) * 48 + x / 2) * 3], 3);
  EXPECT_GE(psnr_u8(seen.last, enlarged), 40.0);

  // Out to the fitted view: the same pixels as a session that started there.
  seen.preview_rows = 60;
  session.request(Rect{0, 0, width, height}, 80, 60);
  ASSERT_TRUE(wait_idle(seen, 120));
  EXPECT_EQ(seen.previews, 2);
  EXPECT_TRUE(seen.last == fitted) << "the fitted preview depends on what was shown before";
  fs::remove_all(root);
}
