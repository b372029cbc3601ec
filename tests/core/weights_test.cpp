// Weight files: round trips through the model (F32 and F16), metadata, and every way a file can fail to
// match the network it claims to hold.
#include <gtest/gtest.h>

#include <cmath>
#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <initializer_list>
#include <string>

#include "lowlight/error.h"
#include "lowlight/model.h"
#include "lowlight/safetensors.h"
#include "lowlight/weights.h"
#include "support/tiny_weights.h"

namespace fs = std::filesystem;
using namespace lowlight;

namespace {

class Weights : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = test::temp_dir(std::string("weights-") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    good = test::make_tiny_weights((dir / "good.safetensors").string());
  }
  void TearDown() override { fs::remove_all(dir); }

  // A copy of the good file with its tensors and metadata changed by `edit`.
  std::string edited(const std::string& name,
                     const std::function<void(std::map<std::string, at::Tensor>&, std::map<std::string, std::string>&)>& edit) {
    TensorFile file = read_safetensors(good);
    edit(file.tensors, file.metadata);
    const auto path = (dir / name).string();
    write_safetensors(path, file.tensors, file.metadata);
    return path;
  }

  // Both load_weights and (where the header alone shows it) read_weights_info refuse the file.
  void expect_error(const std::string& path, std::initializer_list<std::string> parts, bool header_level = false) {
    SCOPED_TRACE(path);
    try {
      load_weights(path);
      ADD_FAILURE() << "loaded";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(path), std::string::npos) << message;
      for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
    }
    if (header_level) EXPECT_THROW(read_weights_info(path), Error);
  }

  fs::path dir;
  std::string good;
};

MIRNet reference_model() {
  torch::manual_seed(1);  // as make_tiny_weights
  return MIRNet(test::tiny_config());
}

TEST_F(Weights, RoundTripF32GivesTheSameModel) {
  WeightsInfo info;
  auto loaded = load_weights(good, &info);
  ASSERT_TRUE(loaded);
  EXPECT_FALSE(loaded->is_training());
  EXPECT_EQ(loaded->config, test::tiny_config());
  auto original = reference_model();
  const auto theirs = original->named_parameters();
  const auto ours = loaded->named_parameters();
  ASSERT_EQ(ours.size(), theirs.size());
  for (const auto& item : theirs) {
    EXPECT_EQ(ours[item.key()].scalar_type(), torch::kFloat) << item.key();
    EXPECT_EQ(ours[item.key()].device().type(), torch::kCPU) << item.key();
    EXPECT_TRUE(torch::equal(ours[item.key()], item.value())) << item.key();
  }
  original->eval();
  torch::InferenceMode guard;
  const auto x = torch::rand({1, 3, 8, 12});
  EXPECT_TRUE(torch::equal(loaded->forward(x), original->forward(x)));

  EXPECT_EQ(info.path, good);
  EXPECT_EQ(info.config, test::tiny_config());
  EXPECT_EQ(info.dtype, DType::F32);
  EXPECT_EQ(info.parameters, count_parameters(*original));
  EXPECT_EQ(info.metadata.at("format"), kWeightsFormat);
  EXPECT_EQ(info.metadata.at("format_version"), std::to_string(kWeightsFormatVersion));
  EXPECT_EQ(model_config_from_json(info.metadata.at("config")), test::tiny_config());
  EXPECT_EQ(info.metadata.at("data"), "\"random test weights\"");
}

TEST_F(Weights, InfoReadsHeaderAndMetadata) {
  const WeightsInfo info = read_weights_info(good);
  EXPECT_EQ(info.path, good);
  EXPECT_EQ(info.config, test::tiny_config());
  EXPECT_EQ(info.parameters, parameter_count(test::tiny_config()));
  EXPECT_EQ(info.metadata.size(), 4u);
  EXPECT_EQ(info.metadata.at("data"), "\"random test weights\"");
}

TEST_F(Weights, F16FilesLoadAsF32) {
  const auto half = test::make_tiny_weights((dir / "half.safetensors").string(), test::tiny_config(), 1, DType::F16);
  EXPECT_LT(fs::file_size(half), fs::file_size(good));
  WeightsInfo info;
  auto loaded = load_weights(half, &info);
  EXPECT_EQ(info.dtype, DType::F16);
  EXPECT_EQ(read_weights_info(half).dtype, DType::F16);
  auto original = reference_model();
  const auto params = loaded->named_parameters();
  for (const auto& item : original->named_parameters()) {
    const auto& value = params[item.key()];
    EXPECT_EQ(value.scalar_type(), torch::kFloat) << item.key();
    EXPECT_TRUE(torch::equal(value, item.value().to(torch::kHalf).to(torch::kFloat))) << item.key();
  }
  original->eval();
  torch::InferenceMode guard;
  const auto x = torch::rand({1, 3, 8, 8});
  EXPECT_TRUE(torch::allclose(loaded->forward(x), original->forward(x), 1e-2, 1e-2));
}

TEST_F(Weights, SaveLoadSaveIsStable) {
  auto loaded = load_weights(good);
  const auto again = (dir / "again.safetensors").string();
  save_weights(again, *loaded, {{"data", "\"random test weights\""}});
  const auto a = read_safetensors(good), b = read_safetensors(again);
  EXPECT_EQ(a.metadata, b.metadata);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [name, t] : a.tensors) EXPECT_TRUE(torch::equal(t, b.tensors.at(name))) << name;
}

TEST_F(Weights, MissingTensor) {
  const auto path = edited("missing", [](auto& t, auto&) { t.erase("conv_in.weight"); });
  expect_error(path, {"tensor 'conv_in.weight' is missing", "expected shape [4, 3, 3, 3]"});
}

TEST_F(Weights, UnknownTensor) {
  const auto path = edited("extra", [](auto& t, auto&) { t["rrgs.9.extra"] = torch::zeros({2, 2}); });
  expect_error(path, {"unknown tensor 'rrgs.9.extra'", "shape [2, 2]"});
}

TEST_F(Weights, WrongShapeTensor) {
  const auto path = edited("shape", [](auto& t, auto&) { t["conv_out.bias"] = torch::zeros({5}); });
  expect_error(path, {"tensor 'conv_out.bias'", "expected shape [3]", "found [5]"});
}

TEST_F(Weights, NonFiniteValuesAreRefusedWithTheTensorsName) {
  for (const double bad : {std::nan(""), static_cast<double>(INFINITY)}) {
    const auto path = edited("nonfinite", [bad](auto& t, auto&) { t["conv_out.bias"][1] = bad; });
    expect_error(path, {"tensor 'conv_out.bias'", "NaN or infinite"});
  }
}

// Tensors of a C=4 network under a header that claims C=8.
TEST_F(Weights, ConfigThatDoesNotMatchTheTensors) {
  ModelConfig wide = test::tiny_config(8);
  const auto path = edited("arch", [&](auto&, auto& m) { m["config"] = to_json(wide); });
  expect_error(path, {"tensor '", "expected shape [", "found [", "another architecture", "\"channels\":8"});
  // Fewer RRGs claimed than stored: the extra group's tensors are unknown.
  const auto path2 = edited("arch2", [&](auto& t, auto&) {
    t["rrgs.1.conv1.weight"] = torch::zeros({4, 4, 3, 3});
  });
  expect_error(path2, {"unknown tensor 'rrgs.1.conv1.weight'"});
}

TEST_F(Weights, NotOurFormat) {
  const auto plain = (dir / "plain.safetensors").string();
  write_safetensors(plain, {{"w", torch::zeros({2})}}, {});
  expect_error(plain, {"not a lowlight-mirnet weight file", "no 'format'"}, true);
  const auto other = edited("other", [](auto&, auto& m) { m["format"] = "pt"; });
  expect_error(other, {"not a lowlight-mirnet weight file", "\"pt\""}, true);
}

TEST_F(Weights, WrongFormatVersion) {
  expect_error(edited("v2", [](auto&, auto& m) { m["format_version"] = "2"; }),
               {"unsupported format_version \"2\"", "version 1"}, true);
  expect_error(edited("nov", [](auto&, auto& m) { m.erase("format_version"); }), {"no 'format_version'"}, true);
}

TEST_F(Weights, BadConfig) {
  expect_error(edited("json", [](auto&, auto& m) { m["config"] = "{channels: 4"; }),
               {"metadata 'config' is invalid"}, true);
  expect_error(edited("key", [](auto&, auto& m) { m["config"] = R"({"channels":4,"wings":2})"; }),
               {"metadata 'config' is invalid", "wings"}, true);
  expect_error(edited("range", [](auto&, auto& m) {
                 ModelConfig c = test::tiny_config();
                 c.streams = 9;
                 m["config"] = to_json(c);
               }),
               {"metadata 'config' is invalid", "streams"}, true);
  expect_error(edited("none", [](auto&, auto& m) { m.erase("config"); }), {"no 'config'"}, true);
}

TEST_F(Weights, CorruptSafetensorsIsReportedNotCrashed) {
  fs::resize_file(good, fs::file_size(good) - 3);
  expect_error(good, {"past the end of the data buffer"}, true);
}

TEST_F(Weights, SaveRefusesReservedKeysAndMissingFolders) {
  auto model = load_weights(good);
  EXPECT_THROW(save_weights((dir / "r.safetensors").string(), *model, {{"config", "{}"}}), Error);
  EXPECT_FALSE(fs::exists(dir / "r.safetensors"));
  EXPECT_THROW(save_weights((dir / "none" / "w.safetensors").string(), *model), Error);
  EXPECT_FALSE(fs::exists(dir / "none"));
  // Overwriting replaces the file: a C=8 model over the C=4 file.
  torch::manual_seed(2);
  MIRNet wide(test::tiny_config(8));
  save_weights(good, *wide);
  EXPECT_EQ(read_weights_info(good).config, test::tiny_config(8));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

}  // namespace
