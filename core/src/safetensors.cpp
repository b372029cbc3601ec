// safetensors reader/writer. The reader applies the checks of the reference implementation
// (huggingface/safetensors, SafeTensors::read_metadata + Metadata::validate) in the same order, and adds
// more (duplicate names, types of every field, offsets inside the buffer) so that no input can make us
// allocate without bound, read out of range or crash.
#include "lowlight/safetensors.h"

#include "lowlight/atomic_file.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "lowlight/error.h"
#include "safetensors_internal.h"

namespace lowlight {
namespace detail {

const char* dtype_name(DType dtype) { return dtype == DType::F16 ? "F16" : "F32"; }

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

}  // namespace detail

namespace {

using detail::SafetensorsHeader;
using detail::TensorEntry;
using json = nlohmann::json;

[[noreturn]] void fail(const std::string& path, const std::string& message) {
  throw Error(path + ": " + message);
}

[[noreturn]] void fail_tensor(const std::string& path, const std::string& name, const std::string& message) {
  fail(path, "tensor '" + name + "': " + message);
}

std::string errno_text() { return std::strerror(errno); }

size_t item_size(DType dtype) { return dtype == DType::F16 ? 2 : 4; }

bool host_is_little_endian() {
  const uint16_t probe = 1;
  unsigned char first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

// The file format is little-endian; on a big-endian host the items are swapped in place.
void swap_items_if_big_endian(unsigned char* data, size_t bytes, size_t item) {
  if (host_is_little_endian()) return;
  for (size_t i = 0; i + item <= bytes; i += item) std::reverse(data + i, data + i + item);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

void read_exact(int fd, uint64_t offset, void* out, uint64_t bytes, const std::string& path,
                const std::string& what) {
  auto* dst = static_cast<unsigned char*>(out);
  while (bytes > 0) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(bytes, 1u << 30));
    const ssize_t got = ::pread(fd, dst, chunk, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail(path, "cannot read " + what + ": " + errno_text());
    if (got == 0) fail(path, "file ended while reading " + what + " (was it modified while being read?)");
    dst += got;
    offset += static_cast<uint64_t>(got);
    bytes -= static_cast<uint64_t>(got);
  }
}

struct OpenFile {
  Fd fd{-1};
  uint64_t size = 0;
};

void open_for_reading(const std::string& path, OpenFile& file) {
  file.fd.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.fd.get() < 0) fail(path, "cannot open: " + errno_text());
  struct stat st {};
  if (::fstat(file.fd.get(), &st) != 0) fail(path, "cannot stat: " + errno_text());
  if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
  file.size = static_cast<uint64_t>(st.st_size);
}

// --- header JSON -------------------------------------------------------------------------------

struct HeaderTooDeep {};
struct DuplicateName {
  std::string name;
};

// A valid header nests at most: object (0) > entry or __metadata__ (1) > shape/data_offsets (2).
// Rejecting deeper input while parsing keeps hostile headers like "[[[[..." from exhausting memory.
json parse_header_json(const std::string& path, const std::string& text) {
  std::set<std::string> names;
  json::parser_callback_t guard = [&names](int depth, json::parse_event_t event, json& parsed) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth > 2)
      throw HeaderTooDeep{};
    if (event == json::parse_event_t::key && depth == 1 && parsed.is_string() &&
        !names.insert(parsed.get<std::string>()).second)
      throw DuplicateName{parsed.get<std::string>()};
    return true;
  };
  try {
    return json::parse(text, guard);
  } catch (const HeaderTooDeep&) {
    fail(path, "header JSON is nested deeper than a safetensors header can be (expected "
               "{name: {dtype, shape, data_offsets}})");
  } catch (const DuplicateName& dup) {
    fail(path, "header JSON names '" + dup.name + "' twice (expected unique tensor names)");
  } catch (const json::exception& e) {
    fail(path, std::string("header is not valid JSON: ") + e.what());
  }
}

DType parse_dtype(const std::string& path, const std::string& name, const json& value) {
  if (!value.is_string()) fail_tensor(path, name, "'dtype' must be a string, found " + value.dump());
  const auto dtype = value.get<std::string>();
  if (dtype == "F32") return DType::F32;
  if (dtype == "F16") return DType::F16;
  static const std::set<std::string> known = {"BOOL", "U8",   "I8",      "F8_E5M2", "F8_E4M3", "F8_E8M0",
                                              "F4",   "F6_E2M3", "F6_E3M2", "I16", "U16", "BF16",
                                              "I32",  "U32",  "F64",     "I64",     "U64",     "C64"};
  if (known.count(dtype))
    fail_tensor(path, name, "dtype '" + dtype + "' is not supported (expected F32 or F16)");
  fail_tensor(path, name, "unknown dtype '" + value.dump() + "' (expected F32 or F16)");
}

std::vector<int64_t> parse_shape(const std::string& path, const std::string& name, const json& value) {
  if (!value.is_array()) fail_tensor(path, name, "'shape' must be an array, found " + value.dump());
  std::vector<int64_t> shape;
  for (const auto& dim : value) {
    if (!dim.is_number_unsigned() || dim.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
      fail_tensor(path, name, "'shape' must hold non-negative integers, found " + value.dump());
    shape.push_back(static_cast<int64_t>(dim.get<uint64_t>()));
  }
  return shape;
}

void parse_offsets(const std::string& path, const std::string& name, const json& value, TensorEntry& entry) {
  const bool ok = value.is_array() && value.size() == 2 && value[0].is_number_unsigned() &&
                  value[1].is_number_unsigned();
  if (!ok) fail_tensor(path, name, "'data_offsets' must be [begin, end] of non-negative integers, found " +
                                       value.dump());
  entry.begin = value[0].get<uint64_t>();
  entry.end = value[1].get<uint64_t>();
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const json& value) {
  std::map<std::string, std::string> metadata;
  if (value.is_null()) return metadata;  // the reference reader takes null as "no metadata"
  if (!value.is_object()) fail(path, "'__metadata__' must be an object of strings, found " + value.dump());
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string())
      fail(path, "'__metadata__' key '" + key + "' must be a string, found " + item.dump());
    metadata[key] = item.get<std::string>();
  }
  return metadata;
}

TensorEntry parse_entry(const std::string& path, const std::string& name, const json& value) {
  if (!value.is_object())
    fail_tensor(path, name, "entry must be an object {dtype, shape, data_offsets}, found " + value.dump());
  for (const char* field : {"dtype", "shape", "data_offsets"})
    if (!value.contains(field)) fail_tensor(path, name, std::string("entry has no '") + field + "'");
  TensorEntry entry;
  entry.name = name;
  entry.dtype = parse_dtype(path, name, value["dtype"]);
  entry.shape = parse_shape(path, name, value["shape"]);
  parse_offsets(path, name, value["data_offsets"], entry);
  return entry;
}

// Same order as the reference Metadata::validate (sorted by offsets: contiguity, overflow, size),
// then our extra range check, so a file is refused for the reason the reference would give.
void validate_entry(const std::string& path, TensorEntry& e, uint64_t expected_begin,
                    const std::string& previous, uint64_t buffer_size) {
  const std::string offsets = "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
  if (e.end < e.begin) fail_tensor(path, e.name, offsets + " end before they begin");
  if (e.begin < expected_begin)
    fail_tensor(path, e.name, offsets + " overlap tensor '" + previous + "', which ends at byte " +
                                  std::to_string(expected_begin));
  if (e.begin > expected_begin)
    fail_tensor(path, e.name, offsets + " leave a gap: expected the tensor to begin at byte " +
                                  std::to_string(expected_begin) + " (tensors must be contiguous)");
  uint64_t numel = 1;
  for (int64_t dim : e.shape) {
    const auto d = static_cast<uint64_t>(dim);
    if (d != 0 && numel > uint64_t(std::numeric_limits<int64_t>::max()) / d)
      fail_tensor(path, e.name, "element count of shape " + detail::shape_string(e.shape) + " overflows");
    numel *= d;
  }
  e.numel = numel;
  if (numel > uint64_t(std::numeric_limits<int64_t>::max()) / item_size(e.dtype))
    fail_tensor(path, e.name, "byte count of shape " + detail::shape_string(e.shape) + " overflows");
  const uint64_t bytes = numel * item_size(e.dtype);
  if (e.end - e.begin != bytes)
    fail_tensor(path, e.name, "shape " + detail::shape_string(e.shape) + " of " + detail::dtype_name(e.dtype) +
                                  " needs " + std::to_string(bytes) + " bytes but " + offsets + " span " +
                                  std::to_string(e.end - e.begin));
  if (e.end > buffer_size)
    fail_tensor(path, e.name, offsets + " run past the end of the data buffer (" +
                                  std::to_string(buffer_size) + " bytes; file truncated?)");
}

void validate_layout(const std::string& path, std::vector<TensorEntry>& entries, uint64_t buffer_size) {
  std::stable_sort(entries.begin(), entries.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  uint64_t end = 0;
  std::string previous;
  for (auto& entry : entries) {
    validate_entry(path, entry, end, previous, buffer_size);
    end = entry.end;
    previous = entry.name;
  }
  if (end != buffer_size)
    fail(path, "tensors cover " + std::to_string(end) + " bytes of data but the data buffer has " +
                   std::to_string(buffer_size) + " (expected the last tensor to end at the end of the file)");
}

SafetensorsHeader read_header(const std::string& path, const OpenFile& file) {
  if (file.size < 8)
    fail(path, "file has " + std::to_string(file.size) + " bytes, too short for the 8-byte header length");
  unsigned char raw[8];
  read_exact(file.fd.get(), 0, raw, 8, path, "the header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | raw[i];
  if (n > kMaxSafetensorsHeader)
    fail(path, "header length " + std::to_string(n) + " bytes exceeds the limit of " +
                   std::to_string(kMaxSafetensorsHeader) + " (not a safetensors file?)");
  if (8 + n > file.size)
    fail(path, "header length " + std::to_string(n) + " bytes goes beyond the end of the file (" +
                   std::to_string(file.size) + " bytes; truncated?)");
  std::string text(static_cast<size_t>(n), '\0');
  read_exact(file.fd.get(), 8, text.data(), n, path, "the header");
  if (text.empty() || text[0] != '{')
    fail(path, "header must be a JSON object starting with '{', found " +
                   (text.empty() ? std::string("nothing") : "'" + text.substr(0, 16) + "'"));
  const json root = parse_header_json(path, text);
  if (!root.is_object()) fail(path, std::string("header must be a JSON object, found ") + root.type_name());

  SafetensorsHeader header;
  header.data_start = 8 + n;
  header.file_size = file.size;
  for (const auto& [key, value] : root.items()) {
    if (key == "__metadata__")
      header.metadata = parse_metadata(path, value);
    else
      header.entries.push_back(parse_entry(path, key, value));
  }
  validate_layout(path, header.entries, file.size - header.data_start);
  return header;
}

at::Tensor read_tensor(const std::string& path, const OpenFile& file, const SafetensorsHeader& header,
                       const TensorEntry& entry) {
  const auto type = entry.dtype == DType::F16 ? at::kHalf : at::kFloat;
  at::Tensor tensor = at::empty(entry.shape, at::TensorOptions().dtype(type));
  const uint64_t bytes = entry.end - entry.begin;
  if (bytes > 0) {
    auto* data = static_cast<unsigned char*>(tensor.data_ptr());
    read_exact(file.fd.get(), header.data_start + entry.begin, data, bytes, path,
               "tensor '" + entry.name + "'");
    swap_items_if_big_endian(data, static_cast<size_t>(bytes), item_size(entry.dtype));
  }
  return tensor;
}

// --- writing -----------------------------------------------------------------------------------

void write_all(int fd, const void* data, size_t bytes, const std::string& what) {
  const auto* src = static_cast<const unsigned char*>(data);
  while (bytes > 0) {
    const ssize_t put = ::write(fd, src, std::min<size_t>(bytes, 1u << 30));
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) throw Error("cannot write " + what + ": " + errno_text());
    src += put;
    bytes -= static_cast<size_t>(put);
  }
}

std::string header_text(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                        const std::map<std::string, std::string>& metadata, DType dtype) {
  // Same layout as the reference writer: __metadata__ first, tensors in data order, compact JSON.
  nlohmann::ordered_json root = nlohmann::ordered_json::object();
  if (!metadata.empty()) root["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    const uint64_t bytes = static_cast<uint64_t>(tensor.numel()) * item_size(dtype);
    root[name] = {{"dtype", detail::dtype_name(dtype)},
                  {"shape", tensor.sizes().vec()},
                  {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text;
  try {
    text = root.dump();
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("tensor names and metadata must be valid UTF-8: ") + e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  if (text.size() > kMaxSafetensorsHeader)
    fail(path, "header would be " + std::to_string(text.size()) + " bytes, over the limit of " +
                   std::to_string(kMaxSafetensorsHeader));
  return text;
}

}  // namespace

namespace detail {

SafetensorsHeader read_safetensors_header(const std::string& path) {
  OpenFile file;
  open_for_reading(path, file);
  return read_header(path, file);
}

}  // namespace detail

TensorFile read_safetensors(const std::string& path) {
  OpenFile file;
  open_for_reading(path, file);
  const SafetensorsHeader header = read_header(path, file);
  TensorFile result;
  result.metadata = header.metadata;
  for (const auto& entry : header.entries) result.tensors[entry.name] = read_tensor(path, file, header, entry);
  return result;
}

void write_safetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata, DType dtype) {
  const auto type = dtype == DType::F16 ? at::kHalf : at::kFloat;
  std::vector<std::pair<std::string, at::Tensor>> prepared;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__") fail_tensor(path, name, "name is reserved for the metadata map");
    if (!tensor.defined()) fail_tensor(path, name, "tensor is undefined");
    prepared.emplace_back(name, tensor.detach().to(at::kCPU).to(type).contiguous());
  }
  const std::string header = header_text(path, prepared, metadata, dtype);
  unsigned char length[8];
  uint64_t n = header.size();
  for (auto& byte : length) {
    byte = static_cast<unsigned char>(n & 0xff);
    n >>= 8;
  }
  std::vector<ByteRange> chunks = {{length, 8}, {header.data(), header.size()}};
  if (!host_is_little_endian()) {
    for (auto& item : prepared) {
      item.second = item.second.clone();
      swap_items_if_big_endian(static_cast<unsigned char*>(item.second.data_ptr()), item.second.nbytes(),
                               item_size(dtype));
    }
  }
  for (const auto& item : prepared) chunks.push_back({item.second.data_ptr(), item.second.nbytes()});
  write_file_atomic(path, chunks, Overwrite::Yes);
}

}  // namespace lowlight
