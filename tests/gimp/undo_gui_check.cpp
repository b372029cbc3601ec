// Undo in the real GIMP 2.10 user interface: GIMP's PDB has no "undo" procedure, so this test runs the
// full `gimp` on a virtual X server (Xvfb), enhances a layer non-interactively in an image that has a
// display, presses Ctrl+Z in the image window (xdotool) and saves again: one undo step must restore the
// original pixels exactly. Built only when Xvfb, xdotool and gimp-2.10 are found (tests/gimp/CMakeLists.txt).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "lowlight/image.h"
#include "support/tiny_weights.h"

namespace fs = std::filesystem;
using namespace lowlight;

namespace {

std::string run_output(const std::string& command) {
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[256];
    while (fgets(buffer, sizeof buffer, pipe)) out += buffer;
    pclose(pipe);
  }
  return out;
}

bool wait_for(const fs::path& path, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (fs::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

// Starts `command` in the background and returns its pid (0 on failure).
pid_t spawn(const std::string& command, const fs::path& pid_file) {
  if (std::system((command + " & echo $! > " + pid_file.string()).c_str()) != 0) return 0;
  int pid = 0;
  std::ifstream(pid_file) >> pid;
  return pid;
}

void stop(pid_t pid) {
  if (pid > 0) kill(pid, SIGTERM);
}

TEST(GimpUndo, OneUndoStepRestoresTheLayerExactly) {
  const fs::path root = test::temp_dir("gimp-undo");
  const fs::path plugin_dir = root / "profile" / "plug-ins" / "lowlight-enhance";
  fs::create_directories(plugin_dir);
  fs::create_directories(root / "home");
  fs::copy_file(LOWLIGHT_GIMP_PLUGIN, plugin_dir / "lowlight-enhance");
  test::make_tiny_weights((plugin_dir / "tiny.safetensors").string());
  Image input(32, 24, 3, SampleType::U8);
  for (size_t i = 0; i < input.bytes.size(); ++i) input.bytes[i] = static_cast<uint8_t>(10 + (i * 7) % 40);
  const std::string in = (root / "in.png").string(), after = (root / "after.png").string(),
                    undone = (root / "undone.png").string(), marker = (root / "marker").string();
  write_image(in, input.view());

  int display = 90;
  while (fs::exists("/tmp/.X11-unix/X" + std::to_string(display)) || fs::exists("/tmp/.X" + std::to_string(display) + "-lock"))
    ++display;
  const std::string d = ":" + std::to_string(display);
  const pid_t xvfb = spawn(std::string(LOWLIGHT_XVFB) + " " + d + " -screen 0 1024x768x24 -nolisten tcp > " +
                               (root / "xvfb.log").string() + " 2>&1", root / "xvfb.pid");
  ASSERT_GT(xvfb, 0);
  ASSERT_TRUE(wait_for("/tmp/.X11-unix/X" + std::to_string(display), 10)) << "Xvfb did not start";

  // The script waits (polling for the marker file) between the filter and the second save.
  const std::string script =
      "(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"" + in + "\" \"" + in + "\")))"
      "       (drawable (car (gimp-image-get-active-drawable image))))"
      "  (gimp-display-new image)"
      "  (plug-in-lowlight-enhance RUN-NONINTERACTIVE image drawable 1.0 \"tiny\" 1 0 0)"
      "  (gimp-file-save RUN-NONINTERACTIVE image drawable \"" + after + "\" \"" + after + "\")"
      "  (let loop () (if (= 0 (car (file-glob \"" + marker + "\" 1))) (loop)))"
      "  (gimp-file-save RUN-NONINTERACTIVE image drawable \"" + undone + "\" \"" + undone + "\")"
      "  (gimp-quit 1))";
  const pid_t gimp = spawn("env -u LOWLIGHT_MODEL_PATH DISPLAY=" + d + " HOME=" + (root / "home").string() +
                               " GIMP2_DIRECTORY=" + (root / "profile").string() + " timeout 100 " LOWLIGHT_GIMP_GUI
                               " -n -d -f -s --no-splash -b '" + script + "' > " + (root / "gimp.log").string() +
                               " 2>&1",
                           root / "gimp.pid");
  const bool enhanced = wait_for(after, 60);
  std::string window;
  if (enhanced) {
    // The image window's title starts with the file name ("[in] (imported)" or "*in.png-1.0 ...").
    window = run_output("DISPLAY=" + d + " " LOWLIGHT_XDOTOOL " search --name 'in.*GIMP' 2>/dev/null | head -n 1");
    if (!window.empty() && window.back() == '\n') window.pop_back();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::system(("DISPLAY=" + d + " " LOWLIGHT_XDOTOOL " windowfocus --sync " + window + " key --clearmodifiers ctrl+z")
                    .c_str());
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    std::ofstream(marker) << "go";
  }
  const bool saved = enhanced && wait_for(undone, 30);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop(gimp);
  stop(xvfb);
  std::ifstream log_file(root / "gimp.log");
  const std::string log((std::istreambuf_iterator<char>(log_file)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(enhanced) << log;
  ASSERT_FALSE(window.empty()) << "no GIMP image window found";
  ASSERT_TRUE(saved) << log;

  const Image changed = read_image(after);
  const Image restored = read_image(undone);
  ASSERT_EQ(changed.bytes.size(), input.bytes.size());
  ASSERT_EQ(restored.bytes.size(), input.bytes.size());
  EXPECT_FALSE(changed.bytes == input.bytes) << "the filter changed nothing, so undo proves nothing";
  EXPECT_TRUE(restored.bytes == input.bytes) << "one Ctrl+Z did not restore the original";
  fs::remove_all(root);
}

}  // namespace
