#pragma once
// Reader and writer for the safetensors format (8-byte little-endian header length, JSON header
// {"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {str: str}}, then raw little-endian data).
// Everything is validated before use; each failure throws lowlight::Error naming the file and, where
// there is one, the tensor. Writing is atomic: a temp file in the same folder, then rename.
// LibTorch-level header (tensor I/O): it holds at::Tensor by value, so it includes ATen's tensor.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lowlight/dtype.h"

namespace lowlight {

// Headers larger than this are refused before anything is allocated.
constexpr uint64_t kMaxSafetensorsHeader = 100000000u;  // the official crate's limit

struct TensorFile {
  std::map<std::string, std::string> metadata;
  std::map<std::string, at::Tensor> tensors;  // contiguous CPU tensors, as stored (F32 or F16)
};

// Reads and validates a whole file. Accepted dtypes: F32, F16 (others: error naming the dtype).
TensorFile read_safetensors(const std::string& path);

// Writes tensors (converted to `dtype`, contiguous, CPU) and metadata atomically.
void write_safetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata, DType dtype = DType::F32);

}  // namespace lowlight
