// MIRNet graph: shapes for any input size, parameter counts, Keras seed-compatibility switches.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "lowlight/config.h"
#include "lowlight/error.h"
#include "lowlight/model.h"
#include "support/tiny_weights.h"

using namespace lowlight;

namespace {

std::set<std::string> parameter_names(const torch::nn::Module& m) {
  std::set<std::string> names;
  for (const auto& p : m.named_parameters()) names.insert(p.key());
  return names;
}

int64_t conv_params(int64_t k, int64_t in, int64_t out) { return k * k * in * out + out; }

// Closed form for one MRB of the correct 3-stream network with reduction r, written out by hand from the
// block table in docs (independent of config.cpp's structural walk).
int64_t mrb3_params(int64_t C, int64_t r, int64_t sa) {
  auto h = [&](int64_t c) { return std::max<int64_t>(1, c / r); };
  auto ds = [&](int64_t c) { return conv_params(1, c, c) + conv_params(3, c, c) + 2 * conv_params(1, c, 2 * c); };
  auto us = [&](int64_t c) { return conv_params(1, c, c) + conv_params(3, c, c) + 2 * conv_params(1, c, c / 2); };
  auto dau = [&](int64_t c) {
    return 2 * conv_params(3, c, c) + conv_params(1, c, h(c)) + conv_params(1, h(c), c) + conv_params(sa, 2, 1) +
           conv_params(1, 2 * c, c);
  };
  auto skff = [&](int64_t c) { return conv_params(1, c, h(c)) + 3 * conv_params(1, h(c), c); };
  int64_t p = ds(C) + ds(2 * C);                         // pyramid
  p += dau(C) + dau(2 * C) + dau(4 * C);                 // first DAUs
  p += us(2 * C) + (us(4 * C) + us(2 * C));              // into stream 0
  p += ds(C) + us(4 * C);                                // into stream 1
  p += (ds(C) + ds(2 * C)) + ds(2 * C);                  // into stream 2
  p += skff(C) + skff(2 * C) + skff(4 * C);              // per-stream SKFF
  p += dau(C) + dau(2 * C) + dau(4 * C);                 // second DAUs
  p += us(2 * C) + (us(4 * C) + us(2 * C));              // back to full resolution
  p += skff(C) + conv_params(3, C, C);                   // final fusion
  return p;
}

int64_t mirnet3_params(int64_t C, int64_t rrgs, int64_t mrbs) {
  return conv_params(3, 3, C) + conv_params(3, C, 3) +
         rrgs * (2 * conv_params(3, C, C) + mrbs * mrb3_params(C, 8, 1));
}

}  // namespace

TEST(Model, OutputShapeEqualsInputShapeForAnySize) {
  torch::manual_seed(0);
  MIRNet model(test::tiny_config(4));
  model->eval();
  torch::InferenceMode guard;
  for (auto [h, w] : std::vector<std::pair<int, int>>{{1, 1}, {3, 5}, {401, 599}, {2, 9}}) {
    auto x = torch::rand({1, 3, h, w});
    auto y = model->forward(x);
    EXPECT_EQ(y.sizes(), x.sizes()) << h << "x" << w;
    EXPECT_TRUE(torch::isfinite(y).all().item<bool>()) << h << "x" << w;
  }
}

TEST(Model, FourStreamsPadToMultipleOfEight) {
  auto config = test::tiny_config(2);
  config.streams = 4;
  EXPECT_EQ(size_multiple(config), 8);
  MIRNet model(config);
  torch::InferenceMode guard;
  auto x = torch::rand({2, 3, 13, 7});
  EXPECT_EQ(model->forward(x).sizes(), x.sizes());
}

TEST(Model, ParameterCountMatchesHandFormula) {
  for (auto [c, g, b] : std::vector<std::tuple<int, int, int>>{{8, 1, 1}, {16, 1, 1}, {16, 2, 2}, {64, 3, 2}}) {
    ModelConfig config;
    config.channels = c;
    config.rrgs = g;
    config.mrbs = b;
    EXPECT_EQ(parameter_count(config), mirnet3_params(c, g, b)) << c << " " << g << "x" << b;
    if (c <= 16) {
      MIRNet model(config);
      EXPECT_EQ(count_parameters(*model), parameter_count(config)) << c << " " << g << "x" << b;
    }
  }
}

TEST(Model, AnalyticCountsMatchBuiltModelsAcrossOptions) {
  for (int streams : {2, 3, 4})
    for (bool keras_skff : {false, true}) {
      auto config = test::tiny_config(4);
      config.streams = streams;
      config.sa_kernel = 5;
      config.keras_last_skff = keras_skff;
      MIRNet model(config);
      EXPECT_EQ(count_parameters(*model), parameter_count(config)) << streams << " " << keras_skff;
    }
}

TEST(Model, PaperModelSizeAndCost) {
  // docs/mirnet.md: about 44.2 M parameters with all three final-SKFF inputs and about 7.4 TMAC per
  // megapixel. The docs' "about 41 M" for the Keras graph keeps the second stream's SKFF and its inputs;
  // keras.Model only holds layers on a path to the output, which drops them too: 36.35 M.
  auto config = default_model_config();
  EXPECT_NEAR(parameter_count(config) / 1e6, 44.2, 0.05);
  config.keras_last_skff = true;
  EXPECT_NEAR(parameter_count(config) / 1e6, 36.35, 0.01);
  EXPECT_NEAR(macs_per_megapixel(default_model_config()) / 1e12, 7.4, 0.2);
}

TEST(Model, KerasLastSkffDropsTheSecondStreamsSecondHalf) {
  auto config = test::tiny_config(4);
  auto correct = parameter_names(*MIRNet(config));
  config.keras_last_skff = true;
  auto keras = parameter_names(*MIRNet(config));
  const std::string mrb = "rrgs.0.mrbs.0.";
  for (const auto& gone : {"skff1.squeeze.weight", "dau2_1.conv1.weight", "up1.steps.0.main1.weight",
                           "x0to1.steps.0.main1.weight", "x2to1.steps.0.main1.weight"}) {
    EXPECT_TRUE(correct.count(mrb + gone)) << gone;
    EXPECT_FALSE(keras.count(mrb + gone)) << gone;
  }
  EXPECT_TRUE(keras.count(mrb + "up2.steps.1.main1.weight"));
  MRB block(config);
  EXPECT_EQ(block->final_inputs, (std::vector<int>{0, 2, 2}));
}

TEST(Model, KerasLastSkffFeedsTheLowestStreamTwice) {
  // With the quirk the output must not depend on stream 1's second DAU (it does not exist) and the final
  // SKFF receives identical tensors in positions 1 and 2: swapping its select convs 1 and 2 changes nothing.
  auto config = test::tiny_config(4);
  config.keras_last_skff = true;
  torch::manual_seed(3);
  MRB block(config);
  torch::InferenceMode guard;
  auto x = torch::rand({1, 4, 8, 8});
  auto before = block->forward(x);
  auto s1 = block->final_skff->select[1]->as<torch::nn::Conv2d>();
  auto s2 = block->final_skff->select[2]->as<torch::nn::Conv2d>();
  auto w1 = s1->weight.clone(), b1 = s1->bias.clone();
  s1->weight.copy_(s2->weight);
  s1->bias.copy_(s2->bias);
  s2->weight.copy_(w1);
  s2->bias.copy_(b1);
  EXPECT_TRUE(torch::allclose(before, block->forward(x), 1e-5, 1e-6));
}

TEST(Model, SkffSoftmaxAcrossStreamsOrChannels) {
  // Equal inputs: across streams the weights of each channel sum to 1, so the output equals the input.
  // Over channels each descriptor sums to 1 over channels instead, so the output differs.
  auto config = test::tiny_config(8);
  torch::manual_seed(5);
  SKFF correct(8, 3, config);
  config.keras_softmax_channels = true;
  SKFF keras(8, 3, config);
  torch::InferenceMode guard;
  auto x = torch::rand({1, 8, 4, 4});
  EXPECT_TRUE(torch::allclose(correct->forward({x, x, x}), x, 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(keras->forward({x, x, x}), x, 1e-3, 1e-3));
  EXPECT_EQ(count_parameters(*correct), count_parameters(*keras));
}

TEST(Model, GlobalResidualMakesZeroOutputConvIdentity) {
  torch::manual_seed(0);
  MIRNet model(test::tiny_config(4));
  torch::NoGradGuard no_grad;
  model->conv_out->weight.zero_();
  model->conv_out->bias.zero_();
  auto x = torch::rand({1, 3, 6, 10});
  EXPECT_TRUE(torch::equal(model->forward(x), x));
}

TEST(Config, JsonRoundTripAndValidation) {
  ModelConfig config = test::tiny_config(12);
  config.streams = 4;
  config.keras_softmax_channels = true;
  EXPECT_EQ(model_config_from_json(to_json(config)), config);
  EXPECT_THROW(model_config_from_json("{\"channels\": 0}"), Error);
  EXPECT_THROW(model_config_from_json("{\"streams\": 5}"), Error);
  EXPECT_THROW(model_config_from_json("{\"sa_kernel\": 4}"), Error);
  EXPECT_THROW(model_config_from_json("{\"channels\": \"wide\"}"), Error);
  EXPECT_THROW(model_config_from_json("{\"colour\": 1}"), Error);
  EXPECT_THROW(model_config_from_json("[1,2]"), Error);
  try {
    model_config_from_json("{\"channels\": 0}");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("channels"), std::string::npos);
  }
}
