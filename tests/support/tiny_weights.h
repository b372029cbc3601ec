#pragma once
// Tiny random MIRNet weight files for tests that need a model but not a trained one.
#include <torch/torch.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "lowlight/config.h"
#include "lowlight/model.h"
#include "lowlight/weights.h"

namespace lowlight::test {

inline ModelConfig tiny_config(int channels = 4) {
  ModelConfig config = default_model_config();
  config.channels = channels;
  config.rrgs = 1;
  config.mrbs = 1;
  return config;
}

// Writes random weights (seeded) for `config` to `path` and returns the path.
inline std::string make_tiny_weights(const std::string& path, const ModelConfig& config = tiny_config(),
                                     uint64_t seed = 1, DType dtype = DType::F32) {
  torch::manual_seed(seed);
  MIRNet model(config);
  save_weights(path, *model, {{"data", "\"random test weights\""}}, dtype);
  return path;
}

// He-scaled random weights with sharp attention: every convolution scaled up (activations stay O(1) through
// the residual blocks) and the layers fed by pooled descriptors (channel attention, SKFF) much more, so the
// output depends strongly on what the network pools over: the hard case for tiles, crops and contexts.
inline MIRNet sharp_attention_model(uint64_t seed = 3) {
  torch::manual_seed(seed);
  MIRNet model(tiny_config(8));
  torch::NoGradGuard no_grad;
  for (auto& p : model->named_parameters()) {
    if (p.value().dim() != 4) continue;
    const bool attention = p.key().find(".ca.") != std::string::npos || p.key().find("skff") != std::string::npos;
    p.value().mul_(attention ? 12.0 : 1.75);
  }
  return model;
}

inline std::string make_sharp_weights(const std::string& path, uint64_t seed = 3) {
  save_weights(path, *sharp_attention_model(seed));
  return path;
}

// A fresh empty folder under the system temp dir, unique per test.
inline std::filesystem::path temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("lowlight-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace lowlight::test
