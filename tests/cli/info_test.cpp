// `lowlight info`: config, both parameter counts, MACs and metadata of a weight file.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/cli_support.h"
#include "lowlight/version.h"
#include "support/tiny_weights.h"

namespace fs = std::filesystem;

namespace lowlight {
namespace {

// The version comes from project(VERSION) in CMakeLists.txt through the generated lowlight/version.h.
TEST(InfoCli, VersionIsTheProjectVersion) {
  const fs::path dir = test::temp_dir("cli-version");
  const auto r = test::run_lowlight("--version", dir);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, std::string("lowlight ") + kVersion + "\n");
  EXPECT_NE(std::string(kVersion).find('.'), std::string::npos) << kVersion;  // not an empty substitution
  fs::remove_all(dir);
}

TEST(InfoCli, DescribesAWeightFile) {
  const fs::path dir = test::temp_dir("cli-info");
  const ModelConfig config = test::tiny_config(8);
  const std::string weights = test::make_tiny_weights((dir / "tiny.safetensors").string(), config);
  const std::string count = std::to_string(parameter_count(config));

  auto r = test::run_lowlight("info " + weights, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("C=8, 1 RRG x 1 MRB"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("parameters: " + count + " in the file, " + count + " from the config"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("MACs per megapixel"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("random test weights"), std::string::npos) << r.out;  // metadata

  r = test::run_lowlight("info --json " + weights, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["config"]["channels"], 8);
  EXPECT_EQ(doc["parameters_in_file"].get<int64_t>(), parameter_count(config));
  EXPECT_EQ(doc["parameters_from_config"].get<int64_t>(), parameter_count(config));
  EXPECT_DOUBLE_EQ(doc["macs_per_megapixel"].get<double>(), macs_per_megapixel(config));

  r = test::run_lowlight("info " + (dir / "missing.safetensors").string(), dir);
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.err.rfind("lowlight: error: ", 0), 0u) << r.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lowlight
