#pragma once
// The real GIMP user interface on a virtual X server, for the checks the PDB cannot make (undo, the dialog):
// a free display with Xvfb, GIMP started there with a throw-away profile, its windows found and driven with
// xdotool and captured with ImageMagick's `import`. The including check defines LOWLIGHT_XVFB,
// LOWLIGHT_XDOTOOL, LOWLIGHT_IMPORT and LOWLIGHT_GIMP_GUI (tests/gimp/CMakeLists.txt).
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

namespace lowlight::test {

inline std::string run_output(const std::string& command) {
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[256];
    while (fgets(buffer, sizeof buffer, pipe)) out += buffer;
    pclose(pipe);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

inline bool wait_for(const std::filesystem::path& path, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (std::filesystem::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

inline void pause_s(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

// Starts `command` in the background and returns its pid (0 on failure).
inline pid_t spawn(const std::string& command, const std::filesystem::path& pid_file) {
  if (std::system((command + " & echo $! > " + pid_file.string()).c_str()) != 0) return 0;
  int pid = 0;
  std::ifstream(pid_file) >> pid;
  return pid;
}

inline std::string slurp_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// One Xvfb and one GIMP on it, stopped on destruction. `root` holds the profile (root/profile), HOME
// (root/home) and the logs.
class GimpOnXvfb {
 public:
  explicit GimpOnXvfb(std::filesystem::path root) : root_(std::move(root)) {
    std::filesystem::create_directories(root_ / "profile" / "plug-ins");
    std::filesystem::create_directories(root_ / "home");
  }
  ~GimpOnXvfb() {
    if (gimp_ > 0) kill(gimp_, SIGTERM);
    if (xvfb_ > 0) kill(xvfb_, SIGTERM);
    pause_s(0.5);
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  GimpOnXvfb(const GimpOnXvfb&) = delete;
  GimpOnXvfb& operator=(const GimpOnXvfb&) = delete;

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path plugin_dir() const { return root_ / "profile" / "plug-ins" / "lowlight-enhance"; }
  const std::string& display() const { return display_; }

  // A free display number; false when Xvfb did not come up.
  bool start_x() {
    int n = 90;
    while (std::filesystem::exists("/tmp/.X11-unix/X" + std::to_string(n)) ||
           std::filesystem::exists("/tmp/.X" + std::to_string(n) + "-lock"))
      ++n;
    display_ = ":" + std::to_string(n);
    xvfb_ = spawn(std::string(LOWLIGHT_XVFB) + " " + display_ + " -screen 0 1280x1024x24 -nolisten tcp > " +
                      (root_ / "xvfb.log").string() + " 2>&1",
                  root_ / "xvfb.pid");
    return xvfb_ > 0 && wait_for("/tmp/.X11-unix/X" + std::to_string(n), 10);
  }

  // GIMP running `script` (Script-Fu) in batch mode with its full user interface; `env` is put before it
  // (VAR=value ...). -c sends GIMP's messages to its output (gimp.log) instead of message boxes.
  void start_gimp(const std::string& script, const std::string& env = "", int timeout_s = 150) {
    gimp_ = spawn("env -u LOWLIGHT_MODEL_PATH DISPLAY=" + display_ + " HOME=" + (root_ / "home").string() +
                      " XDG_CONFIG_HOME=" + (root_ / "home" / ".config").string() + " GIMP2_DIRECTORY=" +
                      (root_ / "profile").string() + " " + env + " timeout " + std::to_string(timeout_s) +
                      " " LOWLIGHT_GIMP_GUI " -n -d -f -s -c --no-splash -b '" + script + "' > " +
                      (root_ / "gimp.log").string() + " 2>&1",
                  root_ / "gimp.pid");
  }

  std::string log() const { return slurp_text(root_ / "gimp.log"); }

  // The first window whose title matches the regular expression `name`, waiting up to `seconds`.
  std::string find_window(const std::string& name, double seconds) const {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    do {
      const std::string id = run_output(xdotool("search --name '" + name + "' 2>/dev/null | head -n 1"));
      if (!id.empty()) return id;
      pause_s(0.5);
    } while (std::chrono::steady_clock::now() < end);
    return {};
  }

  // Keys (xdotool names: "ctrl+z", "alt+o", "Tab") typed into `window` after focusing it.
  void keys(const std::string& window, const std::string& keys) const {
    std::system(xdotool("windowfocus --sync " + window + " key --clearmodifiers " + keys).c_str());
  }
  void type(const std::string& window, const std::string& text) const {
    std::system(xdotool("windowfocus --sync " + window + " type --clearmodifiers '" + text + "'").c_str());
  }

  // The window as a PNG file (ImageMagick's import); false when the capture failed.
  bool capture(const std::string& window, const std::filesystem::path& png) const {
    return std::system(("DISPLAY=" + display_ + " " LOWLIGHT_IMPORT " -window " + window + " " + png.string() + " 2>/dev/null")
                           .c_str()) == 0 &&
           std::filesystem::exists(png);
  }

 private:
  std::string xdotool(const std::string& args) const { return "DISPLAY=" + display_ + " " LOWLIGHT_XDOTOOL " " + args; }

  std::filesystem::path root_;
  std::string display_;
  pid_t xvfb_ = 0, gimp_ = 0;
};

}  // namespace lowlight::test
