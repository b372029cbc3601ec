#include "lowlight/models.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "lowlight/error.h"

namespace fs = std::filesystem;

namespace lowlight {
namespace {

// The source tree's weights/ folder: from the build system when it says, else from this file's path.
std::string source_weights_dir() {
#ifdef LOWLIGHT_SOURCE_WEIGHTS_DIR
  return LOWLIGHT_SOURCE_WEIGHTS_DIR;
#else
  return (fs::path(__FILE__).parent_path().parent_path().parent_path() / "weights").string();
#endif
}

std::string executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

std::vector<std::string> model_search_path() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("LOWLIGHT_MODEL_PATH")) {
    std::string list(env);
    size_t begin = 0;
    while (begin <= list.size()) {
      const size_t end = std::min(list.find(':', begin), list.size());
      if (end > begin) dirs.push_back(list.substr(begin, end - begin));
      begin = end + 1;
    }
  }
  const std::string exe = executable_dir();
  if (!exe.empty()) {
    dirs.push_back((fs::path(exe) / ".." / "share" / "lowlight" / "weights").lexically_normal().string());
    dirs.push_back((fs::path(exe) / ".." / ".." / "weights").lexically_normal().string());
  }
  dirs.push_back(fs::path(source_weights_dir()).lexically_normal().string());
  // A build tree inside the source tree makes two entries the same folder; list each once.
  std::vector<std::string> unique;
  for (const std::string& dir : dirs)
    if (std::find(unique.begin(), unique.end(), dir) == unique.end()) unique.push_back(dir);
  return unique;
}

std::string find_model(const std::string& name) {
  if (name.empty()) throw Error("model name is empty");
  if (name.find('/') != std::string::npos || ends_with(name, ".safetensors")) {
    if (!fs::exists(name)) throw Error("model file '" + name + "' does not exist");
    return name;
  }
  const std::vector<std::string> dirs = model_search_path();
  std::string searched;
  for (const std::string& dir : dirs) {
    const fs::path candidate = fs::path(dir) / (name + ".safetensors");
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
    searched += (searched.empty() ? "" : ", ") + dir;
  }
  throw Error("model '" + name + "' not found: no " + name + ".safetensors in " + searched +
              " (set LOWLIGHT_MODEL_PATH or pass --weights)");
}

}  // namespace lowlight
