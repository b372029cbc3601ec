// Undo in the real GIMP 2.10 user interface: GIMP's PDB has no "undo" procedure, so this test runs the
// full `gimp` on a virtual X server (Xvfb), enhances a layer non-interactively in an image that has a
// display, presses Ctrl+Z in the image window (xdotool) and saves again: one undo step must restore the
// original pixels exactly. Built only when Xvfb, xdotool and gimp-2.10 are found (tests/gimp/CMakeLists.txt).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "lowlight/image.h"
#include "support/gimp_gui.h"
#include "support/tiny_weights.h"

namespace fs = std::filesystem;
using namespace lowlight;

namespace {

TEST(GimpUndo, OneUndoStepRestoresTheLayerExactly) {
  test::GimpOnXvfb gimp(test::temp_dir("gimp-undo"));
  const fs::path& root = gimp.root();
  fs::create_directories(gimp.plugin_dir());
  fs::copy_file(LOWLIGHT_GIMP_PLUGIN, gimp.plugin_dir() / "lowlight-enhance");
  test::make_tiny_weights((gimp.plugin_dir() / "tiny.safetensors").string());
  Image input(32, 24, 3, SampleType::U8);
  for (size_t i = 0; i < input.bytes.size(); ++i) input.bytes[i] = static_cast<uint8_t>(10 + (i * 7) % 40);
  const std::string in = (root / "in.png").string(), after = (root / "after.png").string(),
                    undone = (root / "undone.png").string(), marker = (root / "marker").string();
  write_image(in, input.view());
  ASSERT_TRUE(gimp.start_x()) << "Xvfb did not start";

  // The script waits (polling for the marker file) between the filter and the second save.
  gimp.start_gimp(
      "(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"" + in + "\" \"" + in + "\")))"
      "       (drawable (car (gimp-image-get-active-drawable image))))"
      "  (gimp-display-new image)"
      "  (plug-in-lowlight-enhance RUN-NONINTERACTIVE image drawable 1.0 \"tiny\" 1 0 0)"
      "  (gimp-file-save RUN-NONINTERACTIVE image drawable \"" + after + "\" \"" + after + "\")"
      "  (let loop () (if (= 0 (car (file-glob \"" + marker + "\" 1))) (loop)))"
      "  (gimp-file-save RUN-NONINTERACTIVE image drawable \"" + undone + "\" \"" + undone + "\")"
      "  (gimp-quit 1))",
      "", 100);
  const bool enhanced = test::wait_for(after, 60);
  std::string window;
  if (enhanced) {
    // The image window's title starts with the file name ("[in] (imported)" or "*in.png-1.0 ...").
    window = gimp.find_window("in.*GIMP", 5);
    test::pause_s(0.5);
    if (!window.empty()) gimp.keys(window, "ctrl+z");
    test::pause_s(1.0);
    std::ofstream(marker) << "go";
  }
  const bool saved = enhanced && test::wait_for(undone, 30);
  test::pause_s(0.5);
  ASSERT_TRUE(enhanced) << gimp.log();
  ASSERT_FALSE(window.empty()) << "no GIMP image window found";
  ASSERT_TRUE(saved) << gimp.log();

  const Image changed = read_image(after);
  const Image restored = read_image(undone);
  ASSERT_EQ(changed.bytes.size(), input.bytes.size());
  ASSERT_EQ(restored.bytes.size(), input.bytes.size());
  EXPECT_FALSE(changed.bytes == input.bytes) << "the filter changed nothing, so undo proves nothing";
  EXPECT_TRUE(restored.bytes == input.bytes) << "one Ctrl+Z did not restore the original";
}

}  // namespace
