// The global exposure and colour branch (ModelConfig::global): its config and counts, that a fresh branch is the
// identity on a trained body, and that tiles and crops get the whole image's gain, gamma and colour matrix.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "lowlight/config.h"
#include "lowlight/engine.h"
#include "lowlight/error.h"
#include "lowlight/model.h"
#include "lowlight/weights.h"
#include "support/synthetic_image.h"
#include "support/tiny_weights.h"

namespace lowlight {
namespace {

ModelConfig with_branch(int width = 6) {
  ModelConfig config = test::tiny_config(4);
  config.global = width;
  return config;
}

TEST(GlobalBranch, ConfigJsonCountsAndRange) {
  const ModelConfig config = with_branch();
  EXPECT_NE(to_json(config).find("\"global\":6"), std::string::npos);
  // Networks without it keep their config text (and so their weight files' metadata) as before.
  EXPECT_EQ(to_json(test::tiny_config(4)).find("global"), std::string::npos);
  EXPECT_EQ(model_config_from_json(to_json(config)), config);
  EXPECT_NE(model_config_from_json(to_json(config)), test::tiny_config(4));
  MIRNet model(config);
  EXPECT_EQ(count_parameters(*model), parameter_count(config));
  EXPECT_GT(parameter_count(config), parameter_count(test::tiny_config(4)));
  // No work that grows with the image: the branch runs on a fixed thumbnail.
  EXPECT_DOUBLE_EQ(macs_per_megapixel(config), macs_per_megapixel(test::tiny_config(4)));
  ModelConfig bad = config;
  bad.global = 300;
  EXPECT_THROW(validate(bad), Error);
  const auto names = model->named_parameters();
  EXPECT_TRUE(names.contains("global.head.weight"));
  EXPECT_TRUE(names.contains("global.conv1.weight"));
}

TEST(GlobalBranch, AFreshBranchOnATrainedBodyIsTheIdentity) {
  torch::manual_seed(5);
  MIRNet body(test::tiny_config(4));
  MIRNet both(with_branch());
  {
    torch::NoGradGuard no_grad;
    auto target = both->named_parameters();
    for (const auto& p : body->named_parameters()) target[p.key()].copy_(p.value());
  }
  body->eval();
  both->eval();
  torch::InferenceMode guard;
  const auto x = torch::rand({2, 3, 40, 56}) * 0.4;
  const auto expected = body->forward(x).clamp(1e-3, 1.0);
  EXPECT_LT((both->forward(x) - expected).abs().max().item<float>(), 1e-6f);
}

// A branch with a strong, random last layer: its gain, gamma and colour matrix differ from image to image.
std::string strong_branch_weights(const std::filesystem::path& path) {
  torch::manual_seed(11);
  MIRNet model(with_branch(8));
  {
    torch::NoGradGuard no_grad;
    model->global->head->weight.normal_(0.0, 0.5);
    model->global->head->bias.normal_(0.0, 0.2);
    model->global->conv1->weight.mul_(4.0);
  }
  save_weights(path.string(), *model);
  return path.string();
}

TEST(GlobalBranch, ChangesTheResultPerImageAndTilesAgreeWithTheWholeImage) {
  const auto dir = test::temp_dir("global-branch");
  const std::string weights = strong_branch_weights(dir / "branch.safetensors");
  EnhanceSettings whole_settings = default_enhance_settings();
  whole_settings.device = DeviceKind::CPU;
  whole_settings.precision = Precision::F32;
  EnhanceSettings tiled_settings = whole_settings;
  tiled_settings.tile = 64;
  const Enhancer whole_engine(weights, whole_settings), tiled_engine(weights, tiled_settings);
  const Image image = test::synthetic(256, 192, 3);
  ASSERT_EQ(whole_engine.plan(image.width, image.height).tiles_x, 1);
  ASSERT_GT(tiled_engine.plan(image.width, image.height).tiles_x, 1);
  Image whole(image.width, image.height, 3, SampleType::F32), tiled = whole, alone = whole;
  ASSERT_TRUE(whole_engine.enhance(image.view(), whole.view()));
  ASSERT_TRUE(tiled_engine.enhance(image.view(), tiled.view()));
  // The same tiles, each pooling over itself (an empty context is not allowed: use one from another image).
  const Image other = test::synthetic(256, 192, 3, /*seed=*/99);
  Image brighter = other;
  for (size_t i = 0; i < brighter.bytes.size() / sizeof(float); ++i)
    reinterpret_cast<float*>(brighter.bytes.data())[i] *= 2.5f;
  const EnhanceContext foreign = whole_engine.context(brighter.view());
  ASSERT_TRUE(tiled_engine.enhance(image.view(), alone.view(), {}, &foreign));
  const double agree = test::psnr_db(tiled, whole), differ = test::psnr_db(alone, whole);
  std::printf("[global] 64-pixel tiles vs whole image: %.2f dB; with another image's context: %.2f dB\n", agree,
              differ);
  EXPECT_GE(agree, 40.0);
  EXPECT_LT(differ, agree - 10.0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lowlight
