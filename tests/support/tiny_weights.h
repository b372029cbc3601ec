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

// A fresh empty folder under the system temp dir, unique per test.
inline std::filesystem::path temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("lowlight-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace lowlight::test
