// safetensors reader/writer: round trips, byte layout against the reference writer's own test vectors,
// every corruption case with its own error, atomic writes, and a cross-check with an independent
// Python reader that applies the reference crate's rules (tests/core/safetensors_compat.py).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "lowlight/error.h"
#include "lowlight/safetensors.h"
#include "support/tiny_weights.h"

namespace fs = std::filesystem;
using lowlight::DType;
using lowlight::Error;
using lowlight::read_safetensors;
using lowlight::write_safetensors;

namespace {

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string le64(uint64_t n) {
  std::string out(8, '\0');
  for (auto& c : out) {
    c = static_cast<char>(n & 0xff);
    n >>= 8;
  }
  return out;
}

// A file from header text (padded like the reference writer) and raw data.
std::string file_from(std::string header, const std::string& data = "") {
  header.append((8 - header.size() % 8) % 8, ' ');
  return le64(header.size()) + header + data;
}

std::string zeros(size_t n) { return std::string(n, '\0'); }

// Values the Python checker can recompute: arange(numel) * 0.5 - 3.
torch::Tensor arange_tensor(std::vector<int64_t> shape) {
  int64_t numel = 1;
  for (auto d : shape) numel *= d;
  return (torch::arange(numel, torch::kFloat64) * 0.5 - 3).to(torch::kFloat).reshape(shape);
}

std::map<std::string, torch::Tensor> sample_tensors() {
  return {{"conv.weight", arange_tensor({2, 3, 3, 3})},
          {"conv.bias", arange_tensor({2})},
          {"scalar", arange_tensor({})},
          {"empty", arange_tensor({0, 3})}};
}

// Expects reading `path` to throw lowlight::Error whose message holds the path and every substring.
void expect_error(const fs::path& path, std::initializer_list<std::string> parts) {
  try {
    read_safetensors(path.string());
    ADD_FAILURE() << path << " loaded but should have been refused";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
  }
}

class Safetensors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = lowlight::test::temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { fs::remove_all(dir); }
  // Writes raw bytes to a file in the temp folder and expects the given error from it.
  void expect_bytes_error(const std::string& name, const std::string& bytes, std::initializer_list<std::string> parts) {
    SCOPED_TRACE(name);
    write_bytes(dir / name, bytes);
    expect_error(dir / name, parts);
  }
  fs::path dir;
};

TEST_F(Safetensors, RoundTripF32IsExact) {
  const auto tensors = sample_tensors();
  write_safetensors((dir / "a.safetensors").string(), tensors, {});
  const auto file = read_safetensors((dir / "a.safetensors").string());
  ASSERT_EQ(file.tensors.size(), tensors.size());
  for (const auto& [name, tensor] : tensors) {
    const auto& loaded = file.tensors.at(name);
    EXPECT_EQ(loaded.scalar_type(), torch::kFloat) << name;
    EXPECT_EQ(loaded.sizes(), tensor.sizes()) << name;
    EXPECT_TRUE(torch::equal(loaded, tensor)) << name;
  }
  EXPECT_TRUE(file.metadata.empty());
}

TEST_F(Safetensors, RoundTripF16WithinHalfRounding) {
  torch::manual_seed(3);
  const std::map<std::string, torch::Tensor> tensors = {{"w", torch::randn({4, 5, 3})}, {"b", torch::rand({7})}};
  write_safetensors((dir / "h.safetensors").string(), tensors, {}, DType::F16);
  const auto file = read_safetensors((dir / "h.safetensors").string());
  for (const auto& [name, tensor] : tensors) {
    const auto& loaded = file.tensors.at(name);
    EXPECT_EQ(loaded.scalar_type(), torch::kHalf) << name;
    EXPECT_TRUE(torch::equal(loaded, tensor.to(torch::kHalf))) << name;
    EXPECT_TRUE(torch::allclose(loaded.to(torch::kFloat), tensor, 1e-3, 1e-4)) << name;
  }
  // Half the bytes of F32 for the data section.
  const auto f32 = dir / "f.safetensors";
  write_safetensors(f32.string(), tensors, {}, DType::F32);
  EXPECT_LT(fs::file_size(dir / "h.safetensors"), fs::file_size(f32));
}

TEST_F(Safetensors, MetadataRoundTrip) {
  const std::map<std::string, std::string> metadata = {
      {"format", "lowlight-mirnet"}, {"config", R"({"channels":4,"nested":"q\"uote"})"},
      {"empty", ""}, {"unicode", "d\xc3\xa9j\xc3\xa0 vu \xe2\x9c\x93"}, {"control", "line1\nline2\ttab"}};
  write_safetensors((dir / "m.safetensors").string(), {{"x", arange_tensor({3})}}, metadata);
  EXPECT_EQ(read_safetensors((dir / "m.safetensors").string()).metadata, metadata);
}

// Byte-for-byte the outputs that the reference crate's own tests expect from its writer.
TEST_F(Safetensors, LayoutMatchesReferenceWriter) {
  const auto values = torch::arange(6, torch::kFloat);
  std::string data(24, '\0');
  std::memcpy(data.data(), values.data_ptr<float>(), 24);
  struct Case {
    std::string name;
    std::map<std::string, torch::Tensor> tensors;
    std::map<std::string, std::string> metadata;
    std::string header;
    std::string data;
  } cases[] = {
      {"attn.0", {{"attn.0", values.reshape({1, 2, 3})}}, {},
       R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})", data},
      {"attn0", {{"attn0", values.reshape({1, 1, 2, 3})}}, {},
       R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})" "       ", data},
      {"empty", {}, {}, "{}      ", ""},
      {"metadata", {}, {{"framework", "pt"}}, R"({"__metadata__":{"framework":"pt"}})" "     ", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto path = dir / (c.name + ".safetensors");
    write_safetensors(path.string(), c.tensors, c.metadata);
    EXPECT_EQ(c.header.size() % 8, 0u);
    EXPECT_EQ(read_bytes(path), le64(c.header.size()) + c.header + c.data);
    EXPECT_EQ(read_safetensors(path.string()).tensors.size(), c.tensors.size());
  }
}

TEST_F(Safetensors, TensorsAreContiguousInNameOrder) {
  write_safetensors((dir / "o.safetensors").string(), {{"b", arange_tensor({2})}, {"a", arange_tensor({3})}}, {});
  const auto bytes = read_bytes(dir / "o.safetensors");
  EXPECT_NE(bytes.find(R"("a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]})"), std::string::npos);
  EXPECT_NE(bytes.find(R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]})"), std::string::npos);
}

TEST_F(Safetensors, HeaderLengthErrors) {
  expect_bytes_error("short", std::string("\x10\x00\x00", 3), {"3 bytes", "too short"});
  expect_bytes_error("empty", "", {"0 bytes", "too short"});
  expect_bytes_error("beyond", le64(64) + "{\"a\":1}", {"header length 64", "beyond the end of the file", "15 bytes"});
  expect_bytes_error("huge", le64(~0ull) + "{}      ", {"exceeds the limit", std::to_string(lowlight::kMaxSafetensorsHeader)});
  expect_bytes_error("limit+1", le64(lowlight::kMaxSafetensorsHeader + 1) + "{}",
                     {"header length " + std::to_string(lowlight::kMaxSafetensorsHeader + 1), "exceeds the limit"});
}

TEST_F(Safetensors, TruncatedGoodFileAlwaysGivesAnError) {
  const auto good = dir / "good.safetensors";
  write_safetensors(good.string(), sample_tensors(), {{"k", "v"}});
  const auto bytes = read_bytes(good);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  // Every cut through the length and header, then every 5th byte of the data.
  for (size_t size = 0; size < bytes.size(); size += (size < 8 + n + 8) ? 1 : 5) {
    SCOPED_TRACE(size);
    write_bytes(dir / "cut", bytes.substr(0, size));
    if (size < 8)
      expect_error(dir / "cut", {"too short"});
    else if (size < 8 + n)
      expect_error(dir / "cut", {"beyond the end of the file"});
    else
      expect_error(dir / "cut", {"run past the end of the data buffer", "truncated"});
  }
  // Data cut mid-way names the tensor that does not fit: the last one in the data buffer.
  write_bytes(dir / "cut", bytes.substr(0, bytes.size() - 4));
  expect_error(dir / "cut", {"tensor 'scalar'"});
}

TEST_F(Safetensors, JsonErrors) {
  expect_bytes_error("bad", file_from(R"({"a":{"dtype":"F32")"), {"not valid JSON"});
  expect_bytes_error("array", file_from("[1, 2]"), {"JSON object", "'[1, 2]"});
  expect_bytes_error("space", file_from(" {}"), {"starting with '{'"});
  expect_bytes_error("string", file_from("\"{}\""), {"starting with '{'"});
  expect_bytes_error("trailing", file_from("{} x"), {"not valid JSON"});
  expect_bytes_error("utf8", file_from("{\"\xff\":1}"), {"not valid JSON"});
  expect_bytes_error("deep", file_from("{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}"),
                     {"nested deeper"});
  expect_bytes_error("dup", file_from(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                      R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", zeros(8)),
                     {"'a' twice"});
}

TEST_F(Safetensors, EntryFieldErrors) {
  const auto entry = [](const std::string& body) { return file_from("{\"w\":" + body + "}", zeros(16)); };
  expect_bytes_error("notobj", entry("[1]"), {"tensor 'w'", "must be an object"});
  expect_bytes_error("nodtype", entry(R"({"shape":[4],"data_offsets":[0,16]})"), {"tensor 'w'", "no 'dtype'"});
  expect_bytes_error("noshape", entry(R"({"dtype":"F32","data_offsets":[0,16]})"), {"tensor 'w'", "no 'shape'"});
  expect_bytes_error("nooffsets", entry(R"({"dtype":"F32","shape":[4]})"), {"tensor 'w'", "no 'data_offsets'"});
  expect_bytes_error("dtypenum", entry(R"({"dtype":32,"shape":[4],"data_offsets":[0,16]})"), {"tensor 'w'", "'dtype' must be a string"});
  expect_bytes_error("unknown", entry(R"({"dtype":"Q7","shape":[4],"data_offsets":[0,16]})"), {"tensor 'w'", "unknown dtype", "Q7", "expected F32 or F16"});
  expect_bytes_error("bf16", entry(R"({"dtype":"BF16","shape":[8],"data_offsets":[0,16]})"), {"tensor 'w'", "'BF16' is not supported", "expected F32 or F16"});
  expect_bytes_error("i64", entry(R"({"dtype":"I64","shape":[2],"data_offsets":[0,16]})"), {"tensor 'w'", "'I64' is not supported"});
  expect_bytes_error("negshape", entry(R"({"dtype":"F32","shape":[-4],"data_offsets":[0,16]})"), {"tensor 'w'", "non-negative integers", "[-4]"});
  expect_bytes_error("floatshape", entry(R"({"dtype":"F32","shape":[4.0],"data_offsets":[0,16]})"), {"tensor 'w'", "non-negative integers"});
  expect_bytes_error("shapeobj", entry(R"({"dtype":"F32","shape":{},"data_offsets":[0,16]})"), {"tensor 'w'", "'shape' must be an array"});
  expect_bytes_error("offs1", entry(R"({"dtype":"F32","shape":[4],"data_offsets":[16]})"), {"tensor 'w'", "'data_offsets' must be [begin, end]"});
  expect_bytes_error("offsneg", entry(R"({"dtype":"F32","shape":[4],"data_offsets":[-1,15]})"), {"tensor 'w'", "'data_offsets' must be"});
  expect_bytes_error("overflow", entry(R"({"dtype":"F32","shape":[4611686018427387904,4611686018427387904],"data_offsets":[0,16]})"),
                     {"tensor 'w'", "overflows"});
  expect_bytes_error("byteoverflow", entry(R"({"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,16]})"),
                     {"tensor 'w'", "overflows"});
  expect_bytes_error("meta", file_from(R"({"__metadata__":{"k":1}})"), {"'__metadata__' key 'k' must be a string"});
  expect_bytes_error("metaarr", file_from(R"({"__metadata__":["k"]})"), {"'__metadata__' must be an object"});
}

TEST_F(Safetensors, OffsetErrors) {
  const auto two = [](const std::string& a, const std::string& b, size_t data) {
    return file_from(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":)" + a +
                         R"(},"b":{"dtype":"F32","shape":[4],"data_offsets":)" + b + "}}",
                     zeros(data));
  };
  expect_bytes_error("overlap", two("[0,16]", "[8,24]", 24), {"tensor 'b'", "[8, 24]", "overlap tensor 'a'", "ends at byte 16"});
  expect_bytes_error("same", two("[0,16]", "[0,16]", 16), {"overlap tensor 'a'"});
  expect_bytes_error("gap", two("[0,16]", "[20,36]", 36), {"tensor 'b'", "gap", "begin at byte 16"});
  expect_bytes_error("start", two("[4,20]", "[20,36]", 36), {"tensor 'a'", "gap", "begin at byte 0"});
  expect_bytes_error("range", two("[0,16]", "[16,32]", 20), {"tensor 'b'", "[16, 32]", "past the end of the data buffer (20 bytes"});
  expect_bytes_error("reversed", two("[0,16]", "[32,16]", 32), {"tensor 'b'", "end before they begin"});
  expect_bytes_error("size", two("[0,16]", "[16,24]", 24), {"tensor 'b'", "shape [4] of F32 needs 16 bytes", "span 8"});
  expect_bytes_error("trailing", two("[0,16]", "[16,32]", 40), {"tensors cover 32 bytes", "data buffer has 40"});
  expect_bytes_error("huge_offsets", two("[0,16]", "[16,18446744073709551615]", 32), {"tensor 'b'", "needs 16 bytes"});
}

TEST_F(Safetensors, ZeroSizedAndScalarTensorsAreValid) {
  write_bytes(dir / "z", file_from(R"({"s":{"dtype":"F16","shape":[],"data_offsets":[0,2]},)"
                                   R"("z":{"dtype":"F32","shape":[0,5],"data_offsets":[2,2]}})", std::string("\x00\x3c", 2)));
  const auto file = read_safetensors((dir / "z").string());
  EXPECT_EQ(file.tensors.at("s").dim(), 0);
  EXPECT_EQ(file.tensors.at("s").item<float>(), 1.0f);
  EXPECT_EQ(file.tensors.at("z").sizes(), torch::IntArrayRef({0, 5}));
}

TEST_F(Safetensors, NotAFile) {
  expect_error(dir / "missing.safetensors", {"cannot open"});
  expect_error(dir, {"not a regular file"});
}

// Random byte flips in a good file: each result is either a file that loads or a lowlight::Error.
TEST_F(Safetensors, RandomCorruptionNeverCrashes) {
  const auto good = dir / "good.safetensors";
  write_safetensors(good.string(), sample_tensors(), {{"k", "v"}});
  const auto bytes = read_bytes(good);
  std::mt19937 rng(7);
  int refused = 0;
  for (int trial = 0; trial < 200; ++trial) {
    auto mutated = bytes;
    const int flips = 1 + trial % 4;
    for (int i = 0; i < flips; ++i) {
      // Mostly hit the length and header, where the parsing happens.
      const size_t limit = (trial % 3 == 0) ? mutated.size() : std::min<size_t>(mutated.size(), 200);
      mutated[rng() % limit] = static_cast<char>(rng() & 0xff);
    }
    write_bytes(dir / "m", mutated);
    try {
      read_safetensors((dir / "m").string());
    } catch (const Error& e) {
      ++refused;
      EXPECT_NE(std::string(e.what()).find((dir / "m").string()), std::string::npos);
    }
  }
  EXPECT_GT(refused, 50);
}

struct FixtureCase {
  const char* file;
  std::vector<std::string> error;  // empty: the file is valid
  bool reference_accepts;          // what the reference rules (Python checker) say
};

const std::vector<FixtureCase>& fixture_cases() {
  static const std::vector<FixtureCase> cases = {
      {"good_mixed", {}, true},
      {"tiny", {"3 bytes", "too short"}, false},
      {"header_too_large", {"header length 1099511627776", "exceeds the limit"}, false},
      {"header_beyond_file", {"header length 1000", "beyond the end of the file"}, false},
      {"bad_json", {"not valid JSON"}, false},
      {"bf16_dtype", {"tensor 'w'", "'BF16' is not supported"}, true},
      {"unknown_dtype", {"tensor 'w'", "unknown dtype", "Q7"}, false},
      {"overlap", {"tensor 'b'", "overlap tensor 'a'"}, false},
      {"out_of_range", {"tensor 'b'", "past the end of the data buffer"}, false},
      {"gap", {"tensor 'b'", "gap"}, false},
      {"overflow_shape", {"tensor 'a'", "overflows"}, false},
      {"deep_nesting", {"nested deeper"}, false},
  };
  return cases;
}

fs::path fixture(const std::string& name) {
  return fs::path(LOWLIGHT_FIXTURES_DIR) / "safetensors" / (name + ".safetensors");
}

TEST(SafetensorsFixtures, EachHostileFileGivesItsError) {
  for (const auto& c : fixture_cases()) {
    SCOPED_TRACE(c.file);
    ASSERT_TRUE(fs::exists(fixture(c.file)));
    if (c.error.empty()) continue;
    try {
      read_safetensors(fixture(c.file).string());
      ADD_FAILURE() << "loaded";
    } catch (const Error& e) {
      for (const auto& part : c.error) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  }
}

// Written by make_fixtures.py's own writer, not ours: mixed F16/F32, tensors not in name order.
TEST(SafetensorsFixtures, ForeignValidFileLoads) {
  const auto file = read_safetensors(fixture("good_mixed").string());
  EXPECT_EQ(file.metadata, (std::map<std::string, std::string>{{"source", "make_fixtures.py"}}));
  EXPECT_EQ(file.tensors.at("a").scalar_type(), torch::kHalf);
  EXPECT_TRUE(torch::equal(file.tensors.at("a"), arange_tensor({2, 3}).to(torch::kHalf)));
  EXPECT_TRUE(torch::equal(file.tensors.at("b"), arange_tensor({4})));
}

// --- independent reader (reference rules) --------------------------------------------------------

struct Run {
  int status;
  std::string output;
};

Run run_compat(const std::string& args) {
  const std::string command = "/usr/bin/python3 '" LOWLIGHT_SOURCE_DIR "/tests/core/safetensors_compat.py' " + args + " 2>&1";
  Run run{-1, ""};
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return run;
  char buffer[512];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) run.output.append(buffer, n);
  const int status = ::pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

TEST_F(Safetensors, ReferenceRulesAcceptOurFilesAndSeeTheSameValues) {
  for (DType dtype : {DType::F32, DType::F16}) {
    const auto ours = dir / "ours.safetensors";
    const auto theirs = dir / "theirs.safetensors";
    write_safetensors(ours.string(), sample_tensors(), {{"format", "x"}, {"config", R"({"a":"b\n"})"}}, dtype);
    const auto run = run_compat("'" + ours.string() + "' --expect-arange --rewrite '" + theirs.string() + "'");
    EXPECT_EQ(run.status, 0) << run.output;
    EXPECT_NE(run.output.find("ok 4 tensors, 2 metadata keys"), std::string::npos) << run.output;
    // The reference layout of what torch loaded is exactly our file.
    EXPECT_EQ(read_bytes(theirs), read_bytes(ours));
  }
}

// One interpreter for all fixtures (starting torch costs about a second).
TEST(SafetensorsFixtures, ReferenceRulesAgreeOnFixtures) {
  std::string args = "--each";
  for (const auto& c : fixture_cases()) args += " '" + fixture(c.file).string() + "'";
  const auto run = run_compat(args);
  EXPECT_EQ(run.status, 0) << run.output;
  for (const auto& c : fixture_cases()) {
    SCOPED_TRACE(c.file);
    const std::string line = fixture(c.file).string() + ": " + (c.reference_accepts ? "ok" : "error: ");
    EXPECT_NE(run.output.find(line), std::string::npos) << run.output;
  }
}

TEST_F(Safetensors, AtomicSaveIntoMissingFolderLeavesNothing) {
  const auto target = dir / "no" / "such" / "w.safetensors";
  try {
    write_safetensors(target.string(), sample_tensors(), {});
    ADD_FAILURE() << "saved into a missing folder";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(target.string()), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "no"));
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST_F(Safetensors, OverwriteReplacesCompletelyAndLeavesNoTemp) {
  const auto target = dir / "w.safetensors";
  write_safetensors(target.string(), {{"big", arange_tensor({64, 64})}}, {{"k", "first"}});
  const auto big_size = fs::file_size(target);
  write_safetensors(target.string(), {{"small", arange_tensor({3})}}, {{"k", "second"}});
  EXPECT_LT(fs::file_size(target), big_size);
  const auto file = read_safetensors(target.string());
  EXPECT_EQ(file.tensors.size(), 1u);
  EXPECT_TRUE(torch::equal(file.tensors.at("small"), arange_tensor({3})));
  EXPECT_EQ(file.metadata.at("k"), "second");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST_F(Safetensors, WriterRefusesWhatItCannotWrite) {
  const auto target = dir / "w.safetensors";
  EXPECT_THROW(write_safetensors(target.string(), {{"__metadata__", arange_tensor({1})}}, {}), Error);
  EXPECT_THROW(write_safetensors(target.string(), {{"u", torch::Tensor()}}, {}), Error);
  EXPECT_THROW(write_safetensors(target.string(), {{"x", arange_tensor({1})}}, {{"bad", "\xff"}}), Error);
  EXPECT_TRUE(fs::is_empty(dir));
  // Writing onto a folder fails at the rename and removes the temp file.
  fs::create_directory(dir / "folder");
  EXPECT_THROW(write_safetensors((dir / "folder").string(), {{"x", arange_tensor({1})}}, {}), Error);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

}  // namespace
