// Fused CPU kernels against the ATen ops they replace, in fp32 and bf16, for channel counts that take the
// vector blocks (16, 48), only the scalar tail (8) or both (20), and pixel counts that split unevenly
// between threads; and the whole network with the kernels on against the same network with them off.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/core/dispatch/Dispatcher.h>

#include <cmath>

#include "lowlight/config.h"
#include "lowlight/error.h"
#include "lowlight/kernels.h"
#include "lowlight/model.h"
#include "support/tiny_weights.h"

using namespace lowlight;
namespace F = torch::nn::functional;

namespace {

constexpr auto kCL = torch::MemoryFormat::ChannelsLast;

torch::Tensor random_map(int64_t n, int64_t c, int64_t h, int64_t w, torch::ScalarType type) {
  return torch::randn({n, c, h, w}).to(type).contiguous(kCL);
}

// Whether `got` equals `want` up to a different order of fp32 sums: in bf16, results that round the same
// fp32 value agree exactly and an fp32 difference in the last bits moves a result by at most one bf16 step
// (2^-8 of its magnitude); fp32 results are compared at fp32 rounding of the inputs' scale.
::testing::AssertionResult same_up_to_rounding(const torch::Tensor& got, const torch::Tensor& want) {
  if (got.sizes() != want.sizes() || got.scalar_type() != want.scalar_type())
    return ::testing::AssertionFailure() << "shape or type differs: " << got.sizes() << " vs " << want.sizes();
  const auto g = got.to(torch::kFloat), w = want.to(torch::kFloat);
  const auto tolerance = want.scalar_type() == torch::kBFloat16 ? w.abs() * std::ldexp(1.0, -8) + 1e-6
                                                                : torch::full_like(w, 1e-5);
  const auto excess = ((g - w).abs() - tolerance).max().item<double>();
  if (excess <= 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "largest difference exceeds the tolerance by " << excess;
}

struct KernelCase {
  torch::ScalarType type;
  int64_t channels;
};

std::string case_name(const KernelCase& c) {
  return std::string(c.type == torch::kFloat ? "fp32_" : "bf16_") + std::to_string(c.channels);
}

// Runs `body` once per instruction set this CPU and build have (the others are compiled but never
// dispatched to here), naming it in failures.
template <class Body>
void on_each_instruction_set(Body&& body) {
  const auto sets = kernels::instruction_sets();
  ASSERT_FALSE(sets.empty());
  for (const auto& set : sets) {
    SCOPED_TRACE("instruction set " + set);
    kernels::use_instruction_set(set);
    body();
  }
  kernels::use_instruction_set(sets.back());
}
void PrintTo(const KernelCase& c, std::ostream* os) { *os << case_name(c); }

class Kernels : public ::testing::TestWithParam<KernelCase> {
 protected:
  void SetUp() override { torch::manual_seed(7); }
  torch::InferenceMode guard_;
};

}  // namespace

TEST_P(Kernels, ElementwiseAndPoolingMatchAtenExactly) {
  const auto type = GetParam().type;
  const int64_t C = GetParam().channels;
  on_each_instruction_set([&] {
    auto x = random_map(2, C, 6, 10, type), y = random_map(2, C, 6, 10, type);
    ASSERT_TRUE(kernels::applies(x));
    auto r = x.clone();
    kernels::relu_(r);
    EXPECT_TRUE(torch::equal(r, torch::relu(x)));
    auto s = x.clone();
    kernels::add_(s, y);
    EXPECT_TRUE(torch::equal(s, x + y));
    // Two inputs pooled into one tensor's channel ranges.
    auto pooled = kernels::max_pool2({x, y});
    EXPECT_TRUE(pooled.is_contiguous(kCL));
    EXPECT_TRUE(torch::equal(pooled, torch::cat({F::max_pool2d(x, F::MaxPool2dFuncOptions(2)),
                                                 F::max_pool2d(y, F::MaxPool2dFuncOptions(2))}, 1)));
  });
}

TEST_P(Kernels, ReductionsMatchAten) {
  const auto type = GetParam().type;
  const int64_t C = GetParam().channels;
  on_each_instruction_set([&] {
    auto x = random_map(2, C, 7, 13, type);
    auto maps = kernels::channel_max_mean(x);
    EXPECT_EQ(maps.sizes(), (std::vector<int64_t>{2, 2, 7, 13}));
    EXPECT_TRUE(torch::equal(maps.select(1, 0), std::get<0>(x.max(1))));
    // Means sum in fp32 in another order than ATen; one bf16 rounding step apart at most.
    EXPECT_TRUE(same_up_to_rounding(maps.select(1, 1), x.to(torch::kFloat).mean(1).to(type)));
    auto mean = kernels::spatial_mean(x);
    EXPECT_EQ(mean.sizes(), (std::vector<int64_t>{2, C}));
    EXPECT_TRUE(torch::allclose(mean, x.to(torch::kFloat).mean({2, 3}), 1e-5, 1e-6));
  });
}

TEST_P(Kernels, SpatialLogitsAreTheOneByOneConvolutionOfMaxAndMean) {
  const auto type = GetParam().type;
  const int64_t C = GetParam().channels;
  on_each_instruction_set([&] {
    auto x = random_map(2, C, 7, 13, type);
    const auto xf = x.to(torch::kFloat);
    const auto want = (0.75 * std::get<0>(xf.max(1, true)) - 1.5 * xf.mean(1, true) + 0.25).to(type);
    EXPECT_TRUE(same_up_to_rounding(kernels::spatial_logits(x, 0.75f, -1.5f, 0.25f), want));
  });
}

TEST_P(Kernels, AttentionProductsAndGateMatchAten) {
  const auto type = GetParam().type;
  const int64_t C = GetParam().channels;
  on_each_instruction_set([&] {
    auto x = random_map(2, C, 5, 9, type), g = random_map(2, 2 * C, 5, 9, type);
    auto ca = torch::rand({2, C, 1, 1}).to(type), sa = torch::rand({2, 1, 5, 9}).to(type);
    auto both = kernels::attention_products(x, ca, sa);
    EXPECT_TRUE(torch::equal(both, torch::cat({x * ca, x * sa}, 1)));
    auto gated = kernels::gate_add(g, sa, x);
    const auto f = [](const torch::Tensor& t) { return t.to(torch::kFloat); };
    const auto want = (f(g.slice(1, 0, C)) + f(sa) * f(g.slice(1, C, 2 * C)) + f(x)).to(type);
    EXPECT_TRUE(same_up_to_rounding(gated, want));
  });
}

TEST_P(Kernels, WeightedSumReadsHalfResolutionInputsAsUpsampled) {
  const auto type = GetParam().type;
  const int64_t C = GetParam().channels;
  on_each_instruction_set([&] {
    auto a = random_map(2, C, 6, 10, type), b = random_map(2, C, 3, 5, type);
    auto wa = torch::rand({2, C}), wb = torch::rand({2, C, 1, 1}).to(type);
    auto got = kernels::weighted_sum({{a, 0}, {b, 1}}, {wa, wb});
    auto up = F::interpolate(b, F::InterpolateFuncOptions().scale_factor(std::vector<double>{2, 2}).mode(torch::kNearest)
                                    .recompute_scale_factor(false));
    const auto want = (a.to(torch::kFloat) * wa.view({2, C, 1, 1}) + up.to(torch::kFloat) * wb.to(torch::kFloat)).to(type);
    EXPECT_TRUE(same_up_to_rounding(got, want));
  });
}

INSTANTIATE_TEST_SUITE_P(TypesAndChannels, Kernels,
                         ::testing::Values(KernelCase{torch::kFloat, 16}, KernelCase{torch::kFloat, 20},
                                           KernelCase{torch::kBFloat16, 8}, KernelCase{torch::kBFloat16, 16},
                                           KernelCase{torch::kBFloat16, 20}, KernelCase{torch::kBFloat16, 48}),
                         [](const auto& info) { return case_name(info.param); });

TEST(KernelsDense, IsTheOneByOneConvolutionOfVectors) {
  torch::manual_seed(2);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(24, 3, 1));
  torch::InferenceMode guard;
  auto v = torch::randn({2, 24});
  const auto want = conv->forward(v.view({2, 24, 1, 1})).view({2, 3});
  EXPECT_TRUE(torch::allclose(kernels::dense(v, *conv), want, 1e-5, 1e-6));
  conv->to(torch::kBFloat16);  // bf16 weights are read as they are
  EXPECT_TRUE(torch::allclose(kernels::dense(v, *conv), conv->forward(v.view({2, 24, 1, 1}).to(torch::kBFloat16))
                                                            .view({2, 3}).to(torch::kFloat), 0.02, 0.02));
  EXPECT_THROW(kernels::dense(torch::randn({2, 23}), *conv), Error);
}

TEST(KernelsApply, OnlyToChannelsLastCpuInferenceTensors) {
  auto x = random_map(1, 16, 4, 4, torch::kFloat);
  {
    torch::InferenceMode guard;
    EXPECT_TRUE(kernels::applies(x));
    EXPECT_FALSE(kernels::applies(x.contiguous()));              // NCHW
    EXPECT_FALSE(kernels::applies(x.to(torch::kDouble)));        // other types
    EXPECT_FALSE(kernels::applies(x.slice(3, 0, 2)));            // not contiguous
    kernels::set_enabled(false);
    EXPECT_FALSE(kernels::applies(x));
    kernels::set_enabled(true);
  }
  EXPECT_FALSE(kernels::applies(x));  // autograd on: training keeps the differentiable ATen ops
}

TEST(KernelsApply, BadInputsThrowWithContext) {
  torch::InferenceMode guard;
  auto x = random_map(1, 16, 5, 4, torch::kFloat);
  try {
    kernels::max_pool2({x});
    FAIL() << "odd height accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("even"), std::string::npos) << e.what();
  }
  EXPECT_THROW(kernels::relu_(x.contiguous()), Error);
  EXPECT_THROW(kernels::add_(x, random_map(1, 8, 5, 4, torch::kFloat)), Error);
  EXPECT_THROW(kernels::gate_add(x, torch::rand({1, 1, 5, 4}), x), Error);  // g needs 2C channels
  EXPECT_THROW(kernels::weighted_sum({{x, 0}, {x, 1}}, {torch::rand({1, 16}), torch::rand({1, 16})}), Error);
  EXPECT_THROW(kernels::weighted_sum({{x, 0}}, {torch::rand({1, 3})}), Error);
}

TEST(KernelsConvRelu, MatchesConvolutionThenReluAndRepacksEditedWeights) {
  const bool registered = c10::Dispatcher::singleton().findSchema({"mkldnn::_convolution_pointwise", ""}) ||
                          c10::Dispatcher::singleton().findSchema({"mkldnn_prepacked::conv2d_prepack", ""});
  for (auto type : {torch::kFloat, torch::kBFloat16}) {
    SCOPED_TRACE(c10::toString(type));
    torch::manual_seed(5);
    torch::nn::Conv2d conv(torch::nn::Conv2dOptions(16, 32, 3).padding(1));
    conv->to(type);
    kernels::ConvRelu fused;
    torch::InferenceMode guard;
    for (auto [h, w] : std::vector<std::pair<int, int>>{{24, 40}, {7, 9}}) {  // one packing serves any size
      auto x = random_map(1, 16, h, w, type);
      const auto got = fused(*conv, x);
      EXPECT_TRUE(got.is_contiguous(kCL));
      EXPECT_TRUE(same_up_to_rounding(got, torch::relu(conv->forward(x))));
      if (registered) EXPECT_STRNE(fused.path(), "unfused");
    }
    {
      c10::InferenceMode off(false);
      torch::NoGradGuard no_grad;
      conv->weight.zero_();
      conv->bias.fill_(-1.0).index_put_({0}, 2.0);
    }
    const auto y = fused(*conv, random_map(1, 16, 8, 8, type));
    EXPECT_EQ(y.select(1, 0).min().item<float>(), 2.0f);  // relu(bias) everywhere: packed again
    EXPECT_EQ(y.slice(1, 1).abs().max().item<float>(), 0.0f);
  }
}

TEST(KernelsConvRelu, TrainingKeepsTheDifferentiablePath) {
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(16, 16, 3).padding(1));
  kernels::ConvRelu fused;
  auto x = random_map(1, 16, 8, 8, torch::kFloat).requires_grad_();
  auto y = fused(*conv, x);
  EXPECT_STREQ(fused.path(), "unfused");
  y.sum().backward();
  EXPECT_TRUE(x.grad().defined());
  EXPECT_TRUE(torch::equal(y, torch::relu(conv->forward(x))));
}

namespace {

// The whole network with the fused kernels against the ATen path, same weights and input.
double fused_vs_aten_psnr(const ModelConfig& config, torch::ScalarType type, int64_t batch, int h, int w) {
  torch::manual_seed(3);
  MIRNet model(config);
  model->eval();
  model->to(type);
  set_weight_format(*model, kCL);
  torch::InferenceMode guard;
  auto x = (torch::rand({batch, 3, h, w}) * 0.4).to(type).contiguous(kCL);
  kernels::set_enabled(false);
  auto reference = model->forward(x).to(torch::kFloat);
  kernels::set_enabled(true);
  auto fused = model->forward(x).to(torch::kFloat);
  EXPECT_EQ(fused.sizes(), reference.sizes());
  const double mse = (fused - reference).pow(2).mean().item<double>();
  const double range = (reference.max() - reference.min()).item<double>();
  return 10.0 * std::log10(range * range / std::max(mse, 1e-30));
}

}  // namespace

TEST(KernelsModel, FusedNetworkMatchesAtenPathInFp32) {
  ModelConfig config = test::tiny_config(16);
  on_each_instruction_set([&] { EXPECT_GT(fused_vs_aten_psnr(config, torch::kFloat, 1, 37, 50), 90.0); });  // odd sides
  EXPECT_GT(fused_vs_aten_psnr(config, torch::kFloat, 2, 32, 24), 90.0);  // a batch: per-image products path
  config.streams = 4;  // two up-sampling steps into stream 0, lazy reads of the last
  config.sa_kernel = 5;
  EXPECT_GT(fused_vs_aten_psnr(config, torch::kFloat, 1, 40, 48), 90.0);
  config = test::tiny_config(8);  // scalar tails only
  config.keras_last_skff = config.keras_softmax_channels = true;
  EXPECT_GT(fused_vs_aten_psnr(config, torch::kFloat, 1, 24, 40), 90.0);
}

TEST(KernelsModel, FusedNetworkMatchesAtenPathInBf16) {
  // bf16 rounds at different points in the two paths (fewer in the fused one).
  on_each_instruction_set([] { EXPECT_GT(fused_vs_aten_psnr(test::tiny_config(16), torch::kBFloat16, 1, 64, 96), 40.0); });
}

TEST(KernelsApply, UnknownInstructionSetIsAnError) {
  EXPECT_THROW(kernels::use_instruction_set("avx9000"), Error);
  EXPECT_STREQ(kernels::instruction_set(), kernels::instruction_sets().back().c_str());
}
