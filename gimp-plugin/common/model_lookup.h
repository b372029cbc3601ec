#pragma once
// Where the plug-in finds its models. GIMP front ends pass in what only GIMP knows (the user's profile
// folder); everything else is decided here.
#include <string>
#include <vector>

namespace lowlight::plugin {

struct ModelEntry {
  std::string name;  // file name without .safetensors
  std::string path;
};

// The folder holding the running binary (the plug-in's own folder), empty if unknown.
std::string executable_dir();

// Folders searched for <name>.safetensors, in order: the entries of $LOWLIGHT_MODEL_PATH, the plug-in's
// own folder, the system data folder of the package (<LOWLIGHT_DATA_DIR>/weights), and the user's GIMP
// profile (<profile>/lowlight). Empty arguments are left out.
std::vector<std::string> model_dirs(const std::string& plugin_dir, const std::string& profile_dir);

// Every *.safetensors in `dirs`; a name found twice keeps its first folder. Unreadable folders are skipped.
std::vector<ModelEntry> list_models(const std::vector<std::string>& dirs);

// `model` is a name (looked up in `dirs`) or, when it contains '/' or ends in .safetensors, a path.
// Throws lowlight::Error saying where it looked.
std::string find_model(const std::string& model, const std::vector<std::string>& dirs);

// What a model chooser offers: the models in `dirs`, then `current` when it is a path or a name not found
// (so an earlier setting stays visible); `active` indexes `current`; `tooltip` names the folders searched.
struct ModelChoices {
  std::vector<std::string> names;
  int active = 0;
  std::string tooltip;
};
ModelChoices model_choices(const std::vector<std::string>& dirs, const std::string& current);

}  // namespace lowlight::plugin
