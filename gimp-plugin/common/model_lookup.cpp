#include "model_lookup.h"

#include <filesystem>
#include <system_error>

namespace fs = std::filesystem;

namespace lowlight::plugin {

std::string installed_data_dir(const std::string& plugin_dir) {
  if (plugin_dir.empty()) return {};
  for (fs::path dir = fs::path(plugin_dir).lexically_normal(); dir.has_relative_path(); dir = dir.parent_path())
    if (dir.filename() == "lib") return (dir.parent_path() / "share" / "lowlight").string();
  return {};
}

std::vector<std::string> model_dirs(const std::string& plugin_dir, const std::string& profile_dir) {
  std::vector<std::string> dirs = model_path_from_env();
  if (!plugin_dir.empty()) dirs.push_back(plugin_dir);
  const std::string data = installed_data_dir(plugin_dir);
  if (!data.empty()) dirs.push_back((fs::path(data) / "weights").string());
  if (!profile_dir.empty()) dirs.push_back((fs::path(profile_dir) / "lowlight").string());
  return dirs;
}

std::vector<std::string> plugin_model_dirs(const char* gimp_profile_dir) {
  return model_dirs(executable_dir(), gimp_profile_dir ? gimp_profile_dir : "");
}

std::string help_dir(const std::string& plugin_dir) {
  std::error_code ec;
  for (const fs::path& dir : {fs::path(plugin_dir) / "help", fs::path(installed_data_dir(plugin_dir)) / "help"})
    if (!plugin_dir.empty() && fs::is_regular_file(dir / "en" / "gimp-help.xml", ec)) return dir.string();
  return {};
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
