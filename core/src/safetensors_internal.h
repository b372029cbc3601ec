#pragma once
// Header-only access to safetensors files, shared by safetensors.cpp and weights.cpp so that
// read_weights_info() need not read tensor data. No LibTorch here.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lowlight/safetensors.h"

namespace lowlight::detail {

struct TensorEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets into the data buffer (after the header)
  uint64_t end = 0;
  uint64_t numel = 0;
};

struct SafetensorsHeader {
  std::map<std::string, std::string> metadata;
  std::vector<TensorEntry> entries;  // sorted by begin offset
  uint64_t data_start = 0;           // 8 + header length
  uint64_t file_size = 0;
};

// Reads and fully validates the header of `path` against the file's size; reads no tensor data.
SafetensorsHeader read_safetensors_header(const std::string& path);

const char* dtype_name(DType dtype);      // "F32" / "F16"
std::string shape_string(const std::vector<int64_t>& shape);  // "[2, 3]"

}  // namespace lowlight::detail
