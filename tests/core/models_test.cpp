// find_model: the model search path and its error message.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "lowlight/error.h"
#include "lowlight/models.h"
#include "support/tiny_weights.h"

namespace fs = std::filesystem;

namespace lowlight {
namespace {

TEST(Models, SearchesTheModelPathInOrder) {
  const fs::path dir = test::temp_dir("models");
  fs::create_directories(dir / "first");
  fs::create_directories(dir / "second");
  std::ofstream(dir / "second" / "night.safetensors") << "x";
  std::ofstream(dir / "first" / "both.safetensors") << "x";
  std::ofstream(dir / "second" / "both.safetensors") << "x";
  const std::string env = (dir / "first").string() + "::" + (dir / "second").string();
  ASSERT_EQ(setenv("LOWLIGHT_MODEL_PATH", env.c_str(), 1), 0);

  const auto path = model_search_path();
  ASSERT_GE(path.size(), 3u);
  EXPECT_EQ(path[0], (dir / "first").string());
  EXPECT_EQ(path[1], (dir / "second").string());
  EXPECT_EQ(path.back(), (fs::path(LOWLIGHT_SOURCE_DIR) / "weights").lexically_normal().string());

  EXPECT_EQ(find_model("night"), (dir / "second" / "night.safetensors").string());
  EXPECT_EQ(find_model("both"), (dir / "first" / "both.safetensors").string());
  try {
    find_model("absent");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    for (const auto& folder : path) EXPECT_NE(message.find(folder), std::string::npos) << message;
  }
  // Paths are taken as paths.
  EXPECT_EQ(find_model((dir / "second" / "night.safetensors").string()), (dir / "second" / "night.safetensors").string());
  EXPECT_THROW(find_model((dir / "nowhere.safetensors").string()), Error);
  unsetenv("LOWLIGHT_MODEL_PATH");
  fs::remove_all(dir);
}

// No source path is compiled in: a build-tree binary (this test) finds its source tree from the build
// tree's CMakeCache.txt at run time.
TEST(Models, BuildTreeBinaryFindsItsSourceTreeAtRunTime) {
  EXPECT_EQ(fs::path(source_tree_dir()).lexically_normal(), fs::path(LOWLIGHT_SOURCE_DIR).lexically_normal());
}

}  // namespace
}  // namespace lowlight
