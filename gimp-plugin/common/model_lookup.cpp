#include "model_lookup.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <system_error>

#include "lowlight/error.h"

namespace fs = std::filesystem;

namespace lowlight::plugin {
namespace {

constexpr const char* kExtension = ".safetensors";

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool is_path(const std::string& model) { return model.find('/') != std::string::npos || ends_with(model, kExtension); }

}  // namespace

std::string executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

std::vector<std::string> model_dirs(const std::string& plugin_dir, const std::string& profile_dir) {
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
  if (!plugin_dir.empty()) dirs.push_back(plugin_dir);
#ifdef LOWLIGHT_DATA_DIR
  dirs.push_back((fs::path(LOWLIGHT_DATA_DIR) / "weights").string());
#endif
  if (!profile_dir.empty()) dirs.push_back((fs::path(profile_dir) / "lowlight").string());
  return dirs;
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

std::string find_model(const std::string& model, const std::vector<std::string>& dirs) {
  if (model.empty()) throw Error("no model given (use \"default\" or a path to a .safetensors file)");
  std::error_code ec;
  if (is_path(model)) {
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
  throw Error("model '" + model + "' not found: looked for " + model + kExtension + " in " + searched);
}

ModelChoices model_choices(const std::vector<std::string>& dirs, const std::string& current) {
  ModelChoices choices;
  choices.active = -1;
  for (const ModelEntry& m : list_models(dirs)) {
    if (m.name == current || m.path == current) choices.active = static_cast<int>(choices.names.size());
    choices.names.push_back(m.name);
  }
  if (choices.active < 0) {
    choices.active = static_cast<int>(choices.names.size());
    choices.names.push_back(current);
  }
  choices.tooltip = "Models are looked up in:";
  for (const std::string& dir : dirs) choices.tooltip += "\n" + dir;
  return choices;
}

}  // namespace lowlight::plugin
