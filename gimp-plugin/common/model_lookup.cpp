#include "model_lookup.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace lowlight::plugin {

std::vector<std::string> model_dirs(const std::string& plugin_dir, const std::string& profile_dir) {
  std::vector<std::string> dirs = model_path_from_env();
  if (!plugin_dir.empty()) dirs.push_back(plugin_dir);
#ifdef LOWLIGHT_DATA_DIR
  dirs.push_back((fs::path(LOWLIGHT_DATA_DIR) / "weights").string());
#endif
  if (!profile_dir.empty()) dirs.push_back((fs::path(profile_dir) / "lowlight").string());
  return dirs;
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
