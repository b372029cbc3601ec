#pragma once
// Finding shipped models by name in a list of folders. Light header.
#include <string>
#include <vector>

namespace lowlight {

constexpr const char* kDefaultModelName = "default";

struct ModelEntry {
  std::string name;  // file name without .safetensors
  std::string path;
};

// The folder holding the running binary, empty if unknown.
std::string executable_dir();

// The entries of $LOWLIGHT_MODEL_PATH (':'-separated; empty entries dropped), which every front end searches
// first.
std::vector<std::string> model_path_from_env();

// The source tree a build-tree binary was built from, read at run time from the CMakeCache.txt of the build
// tree it lives in (up to three folders above it); empty for an installed binary. No source path is compiled
// into a binary, so a package built anywhere holds none.
std::string source_tree_dir();

// The command-line tools' folders, in order: model_path_from_env(), <exe dir>/../share/lowlight/weights
// (installed: /usr/bin -> /usr/share/lowlight/weights), and, for a build-tree binary, the source tree's
// weights/ (source_tree_dir()).
std::vector<std::string> model_search_path();

// `model` is a name, looked up as <name>.safetensors in the first folder of `dirs` that has it, or (when it
// contains '/' or ends in .safetensors) a path. Throws lowlight::Error saying where it looked.
std::string find_model(const std::string& model, const std::vector<std::string>& dirs);
// The same over model_search_path(); the error also says how to point elsewhere.
std::string find_model(const std::string& model);

// Every *.safetensors in `dirs`, sorted by name within a folder; a name found twice keeps its first folder.
// Unreadable folders are skipped.
std::vector<ModelEntry> list_models(const std::vector<std::string>& dirs);

}  // namespace lowlight
