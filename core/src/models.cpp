#include "lowlight/models.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <system_error>

#include "lowlight/error.h"

namespace fs = std::filesystem;

namespace lowlight {
namespace {

// The build tree's CMakeCache.txt names the source tree; a binary looks for it this many folders up
// (cli/lowlight, tests/core/x, gimp-plugin/gimp3/lowlight-enhance).
constexpr int kBuildTreeDepth = 3;
constexpr const char* kSourceDirEntry = "lowlight_SOURCE_DIR:STATIC=";

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

std::string source_tree_dir() {
  const std::string exe = executable_dir();
  if (exe.empty()) return {};
  fs::path dir(exe);
  for (int up = 0; up <= kBuildTreeDepth; ++up, dir = dir.parent_path()) {
    std::ifstream cache(dir / "CMakeCache.txt");
    if (!cache) continue;
    for (std::string line; std::getline(cache, line);)
      if (line.rfind(kSourceDirEntry, 0) == 0) return line.substr(std::strlen(kSourceDirEntry));
    return {};  // a CMake build tree of another project
  }
  return {};
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
  if (!exe.empty())
    dirs.push_back((fs::path(exe) / ".." / "share" / "lowlight" / "weights").lexically_normal().string());
  const std::string source = source_tree_dir();
  if (!source.empty()) dirs.push_back((fs::path(source) / "weights").lexically_normal().string());
  // $LOWLIGHT_MODEL_PATH may name a folder that follows anyway; list each once.
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
