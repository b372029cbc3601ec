#include "lowlight/models.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
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

constexpr const char* kExtension = ".safetensors";

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// `hint` ends the not-found message: how the caller's user points the search elsewhere.
std::string find_in(const std::string& model, const std::vector<std::string>& dirs, const std::string& hint) {
  if (model.empty()) throw Error("no model given (use \"default\" or a path to a .safetensors file)");
  std::error_code ec;
  if (model.find('/') != std::string::npos || ends_with(model, kExtension)) {
    if (!fs::is_regular_file(model, ec)) throw Error("model file '" + model + "' does not exist");
    return model;
  }
  std::string searched;
  for (const std::string& dir : dirs) {
    const fs::path candidate = fs::path(dir) / (model + kExtension);
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
    searched += (searched.empty() ? "" : ", ") + dir;
  }
  if (searched.empty()) searched = "(no folders)";
  throw Error("model '" + model + "' not found: looked for " + model + kExtension + " in " + searched + hint);
}

}  // namespace

std::string executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

std::vector<std::string> model_path_from_env() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("LOWLIGHT_MODEL_PATH")) {
    const std::string list(env);
    size_t begin = 0;
    while (begin <= list.size()) {
      const size_t end = std::min(list.find(':', begin), list.size());
      if (end > begin) dirs.push_back(list.substr(begin, end - begin));
      begin = end + 1;
    }
  }
  return dirs;
}

std::vector<std::string> model_search_path() {
  std::vector<std::string> dirs = model_path_from_env();
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

std::string find_model(const std::string& model, const std::vector<std::string>& dirs) {
  return find_in(model, dirs, "");
}

std::string find_model(const std::string& model) {
  return find_in(model, model_search_path(), " (set LOWLIGHT_MODEL_PATH or pass --weights)");
}

std::vector<ModelEntry> list_models(const std::vector<std::string>& dirs) {
  std::vector<ModelEntry> models;
  std::set<std::string> seen;
  for (const std::string& dir : dirs) {
    std::error_code ec;
    std::vector<ModelEntry> here;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const fs::path path = it->path();
      if (path.extension() != kExtension || !it->is_regular_file(ec)) continue;
      here.push_back(ModelEntry{path.stem().string(), path.string()});
    }
    std::sort(here.begin(), here.end(), [](const ModelEntry& a, const ModelEntry& b) { return a.name < b.name; });
    for (ModelEntry& entry : here)
      if (seen.insert(entry.name).second) models.push_back(std::move(entry));
  }
  return models;
}

}  // namespace lowlight
