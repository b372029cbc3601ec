#pragma once
// Finding a shipped model by name. Light header.
#include <string>
#include <vector>

namespace lowlight {

constexpr const char* kDefaultModelName = "default";

// Folders searched for <name>.safetensors, in order: the entries of $LOWLIGHT_MODEL_PATH (':'-separated),
// <exe dir>/../share/lowlight/weights (installed), <exe dir>/../../weights (a build tree inside the
// source tree), and the source tree's weights/ (compile-time path).
std::vector<std::string> model_search_path();

// The path of <name>.safetensors in the first folder of model_search_path() that has it. A name with a
// '/' or ending in .safetensors is taken as a path. Throws lowlight::Error listing the folders searched.
std::string find_model(const std::string& name);

}  // namespace lowlight
