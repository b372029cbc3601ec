// Model weight files: safetensors whose __metadata__ says what they are ("format", "format_version")
// and which network they belong to ("config"); every tensor is checked against that network.
#include "lowlight/weights.h"

#include <set>
#include <string>
#include <vector>

#include "lowlight/error.h"
#include "lowlight/model.h"
#include "safetensors_internal.h"

namespace lowlight {
namespace {

const std::set<std::string> kReservedKeys = {"format", "format_version", "config"};

[[noreturn]] void fail(const std::string& path, const std::string& message) {
  throw Error(path + ": " + message);
}

std::string metadata_value(const std::string& path, const std::map<std::string, std::string>& metadata,
                           const std::string& key) {
  const auto it = metadata.find(key);
  if (it == metadata.end())
    fail(path, "metadata has no '" + key + "' (not a " + kWeightsFormat + " weight file?)");
  return it->second;
}

// Format id, version and config, in that order, so that a foreign file is named as such first.
ModelConfig check_metadata(const std::string& path, const std::map<std::string, std::string>& metadata) {
  const auto format = metadata.find("format");
  if (format == metadata.end())
    fail(path, std::string("not a ") + kWeightsFormat + " weight file: safetensors metadata has no 'format' "
               "(expected \"" + kWeightsFormat + "\")");
  if (format->second != kWeightsFormat)
    fail(path, std::string("not a ") + kWeightsFormat + " weight file: metadata 'format' is \"" +
                   format->second + "\", expected \"" + kWeightsFormat + "\"");
  const std::string version = metadata_value(path, metadata, "format_version");
  if (version != std::to_string(kWeightsFormatVersion))
    fail(path, "unsupported format_version \"" + version + "\" (this build reads version " +
                   std::to_string(kWeightsFormatVersion) + ")");
  try {
    return model_config_from_json(metadata_value(path, metadata, "config"));
  } catch (const Error& e) {
    fail(path, std::string("metadata 'config' is invalid: ") + e.what());
  }
}

WeightsInfo info_from(const std::string& path, const detail::SafetensorsHeader& header) {
  WeightsInfo info;
  info.path = path;
  info.metadata = header.metadata;
  info.config = check_metadata(path, header.metadata);
  for (const auto& entry : header.entries) {
    info.parameters += static_cast<int64_t>(entry.numel);
    if (entry.dtype == DType::F16) info.dtype = DType::F16;
  }
  return info;
}

// Every named parameter and buffer the model expects, keyed by its safetensors name.
std::map<std::string, torch::Tensor> model_tensors(const torch::nn::Module& model) {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& item : model.named_parameters(true)) tensors[item.key()] = item.value();
  for (const auto& item : model.named_buffers(true)) tensors[item.key()] = item.value();
  return tensors;
}

std::string shape_of(const torch::Tensor& t) { return detail::shape_string(t.sizes().vec()); }

void check_tensors(const std::string& path, const ModelConfig& config,
                   const std::map<std::string, torch::Tensor>& expected,
                   const std::map<std::string, torch::Tensor>& found) {
  const std::string for_config = " for config " + to_json(config);
  for (const auto& [name, tensor] : expected) {
    const auto it = found.find(name);
    if (it == found.end())
      fail(path, "tensor '" + name + "' is missing (expected shape " + shape_of(tensor) + for_config + ")");
    if (!it->second.sizes().equals(tensor.sizes()))
      fail(path, "tensor '" + name + "': expected shape " + shape_of(tensor) + for_config + ", found " +
                     shape_of(it->second) + " (weights for another architecture?)");
  }
  for (const auto& [name, tensor] : found)
    if (!expected.count(name))
      fail(path, "unknown tensor '" + name + "' (shape " + shape_of(tensor) + ") is not part of the model" +
                     for_config);
}

}  // namespace

WeightsInfo read_weights_info(const std::string& path) {
  return info_from(path, detail::read_safetensors_header(path));
}

std::shared_ptr<MIRNetImpl> load_weights(const std::string& path, WeightsInfo* info) {
  // The header is validated (and the config checked) before any tensor data is read.
  WeightsInfo header_info = info_from(path, detail::read_safetensors_header(path));
  TensorFile file = read_safetensors(path);
  MIRNet model(header_info.config);
  const auto expected = model_tensors(*model);
  check_tensors(path, header_info.config, expected, file.tensors);
  {
    torch::NoGradGuard no_grad;
    for (const auto& [name, tensor] : expected) {
      const torch::Tensor& stored = file.tensors.at(name);
      // A NaN or infinite weight makes every output black or NaN: refuse the file, naming the tensor.
      if (!torch::isfinite(stored).all().item<bool>())
        fail(path, "tensor '" + name + "' holds NaN or infinite values (a diverged or damaged model)");
      tensor.copy_(stored.to(torch::kFloat));
    }
  }
  model->eval();
  if (info) *info = std::move(header_info);
  return model.ptr();
}

void save_weights(const std::string& path, const MIRNetImpl& model, const std::map<std::string, std::string>& extra,
                  DType dtype) {
  std::map<std::string, std::string> metadata;
  for (const auto& [key, value] : extra) {
    if (kReservedKeys.count(key)) fail(path, "metadata key '" + key + "' is reserved for the weight file format");
    metadata[key] = value;
  }
  metadata["format"] = kWeightsFormat;
  metadata["format_version"] = std::to_string(kWeightsFormatVersion);
  metadata["config"] = to_json(model.config);
  write_safetensors(path, model_tensors(model), metadata, dtype);
}

}  // namespace lowlight
