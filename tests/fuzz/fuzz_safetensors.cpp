// libFuzzer target: a weight file's bytes through the safetensors reader (read_safetensors: header, JSON,
// offsets, shapes, data) and the weights layer above it (read_weights_info, and load_weights when the header
// describes a model). The readers take a path, so each input is written to one scratch file first. Every
// failure must be a lowlight::Error.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include <ATen/ATen.h>

#include "lowlight/error.h"
#include "lowlight/safetensors.h"
#include "lowlight/weights.h"

namespace {

const std::string& scratch() {
  static const std::string path =
      (std::filesystem::temp_directory_path() / ("lowlight-fuzz-" + std::to_string(::getpid()) + ".safetensors"))
          .string();
  return path;
}

void write_scratch(const uint8_t* data, size_t size) {
  FILE* file = std::fopen(scratch().c_str(), "wb");
  if (!file) __builtin_trap();
  if (size && std::fwrite(data, 1, size, file) != size) __builtin_trap();
  std::fclose(file);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  write_scratch(data, size);
  try {
    const lowlight::TensorFile file = lowlight::read_safetensors(scratch());
    for (const auto& [name, tensor] : file.tensors)
      if (!tensor.is_contiguous() || tensor.device().type() != c10::DeviceType::CPU) __builtin_trap();
  } catch (const lowlight::Error&) {
  }
  try {
    lowlight::read_weights_info(scratch());
    lowlight::load_weights(scratch());
  } catch (const lowlight::Error&) {
  }
  return 0;
}
