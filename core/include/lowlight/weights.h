#pragma once
// Model weight files: safetensors with our metadata. Light header: the model travels as an opaque
// handle so front ends need no LibTorch headers.
#include <map>
#include <memory>
#include <string>

#include "lowlight/config.h"
#include "lowlight/dtype.h"

namespace lowlight {

constexpr const char* kWeightsFormat = "lowlight-mirnet";
constexpr int kWeightsFormatVersion = 1;

// What a weight file says about itself besides its tensors.
struct WeightsInfo {
  std::string path;
  ModelConfig config;
  std::map<std::string, std::string> metadata;  // all of __metadata__ (format, config, provenance, ...)
  int64_t parameters = 0;
  DType dtype = DType::F32;
};

struct MIRNetImpl;  // model.h

// Reads the header and metadata only: format id and version, config. Throws lowlight::Error.
WeightsInfo read_weights_info(const std::string& path);

// Builds the model from the file's config and loads every tensor, checking names and shapes against the
// config: missing, unknown or wrong-shape tensors are errors naming the tensor and both shapes.
// The returned model is on CPU, F32, in eval() mode.
std::shared_ptr<MIRNetImpl> load_weights(const std::string& path, WeightsInfo* info = nullptr);

// Saves model parameters with metadata: format id/version, "config" (JSON) plus `extra`
// (provenance such as "data", "command", "metrics" as JSON strings). Atomic.
void save_weights(const std::string& path, const MIRNetImpl& model,
                  const std::map<std::string, std::string>& extra = {}, DType dtype = DType::F32);

}  // namespace lowlight
