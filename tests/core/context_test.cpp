// Image-level context: recording and replaying the network's pooled descriptors (ContextScope), the engine's
// context pass (crops and tiles agree with the whole image), its bytes, its checks, the exposure target,
// and the CPU thread defaults the engine applies.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "lowlight/device.h"
#include "lowlight/engine.h"
#include "lowlight/error.h"
#include "lowlight/image.h"
#include "lowlight/model.h"
#include "support/synthetic_image.h"
#include "support/tiny_weights.h"

namespace lowlight {
namespace {

using test::psnr_db;
using test::synthetic;

EnhanceSettings cpu(int tile = 0) {
  EnhanceSettings s = default_enhance_settings();
  s.device = DeviceKind::CPU;
  s.precision = Precision::F32;
  s.tile = tile;
  return s;
}

Image crop(const Image& image, int x0, int y0, int width, int height) {
  Image out(width, height, image.channels, image.type);
  const size_t pixel = static_cast<size_t>(image.channels) * sizeof(float);
  for (int y = 0; y < height; ++y)
    std::memcpy(out.bytes.data() + static_cast<size_t>(y) * width * pixel,
                image.bytes.data() + (static_cast<size_t>(y0 + y) * image.width + x0) * pixel, width * pixel);
  return out;
}

Image run(const Enhancer& engine, const Image& in, const EnhanceContext* context = nullptr) {
  Image out(in.width, in.height, in.channels, in.type);
  EXPECT_TRUE(engine.enhance(in.view(), out.view(), {}, context));
  return out;
}

double mean_luminance(const Image& image) {
  const auto* p = reinterpret_cast<const float*>(image.bytes.data());
  double sum = 0;
  const size_t n = static_cast<size_t>(image.width) * image.height;
  for (size_t i = 0; i < n; ++i) sum += 0.2126 * p[3 * i] + 0.7152 * p[3 * i + 1] + 0.0722 * p[3 * i + 2];
  return sum / n;
}

class ContextTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(test::temp_dir("context"));
    strong_ = new std::string(test::make_sharp_weights((*dir_ / "strong.safetensors").string()));
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete strong_;
  }
  static std::filesystem::path* dir_;
  static std::string* strong_;
};
std::filesystem::path* ContextTest::dir_ = nullptr;
std::string* ContextTest::strong_ = nullptr;

TEST_F(ContextTest, ReplayingARecordedContextGivesTheSameOutputAndChangesACrop) {
  MIRNet model = test::sharp_attention_model(5);
  model->eval();
  c10::InferenceMode inference;
  const torch::Tensor x = torch::rand({1, 3, 64, 64}) * 0.3;
  const torch::Tensor plain = model->forward(x);
  ImageContext context;
  torch::Tensor recorded, replayed;
  {
    ContextScope scope(context, ContextScope::Mode::Record);
    recorded = model->forward(x);
  }
  // One MRB of 3 streams: a channel attention in each stream's two DAUs, each stream's SKFF, the final SKFF.
  EXPECT_EQ(context.means.size(), 3u + 3u + 3u + 1u);
  EXPECT_TRUE(torch::equal(recorded, plain));
  {
    ContextScope scope(context, ContextScope::Mode::Replay);
    replayed = model->forward(x);
    scope.done();
  }
  EXPECT_TRUE(torch::allclose(replayed, plain, 1e-5, 1e-6));

  // A crop run with the whole image's context differs from the crop on its own: the context matters.
  const torch::Tensor part = x.slice(2, 0, 32).slice(3, 0, 32);
  const torch::Tensor own = model->forward(part);
  ContextScope scope(context, ContextScope::Mode::Replay);
  const torch::Tensor shared = model->forward(part);
  scope.done();
  EXPECT_GT((own - shared).abs().max().item<double>(), 1e-3);
}

TEST_F(ContextTest, ReplayOfAContextThatDoesNotFitTheNetworkIsAnError) {
  torch::manual_seed(5);
  MIRNet model(test::tiny_config(8));
  model->eval();
  c10::InferenceMode inference;
  const torch::Tensor x = torch::rand({1, 3, 32, 32});
  ImageContext context;
  {
    ContextScope scope(context, ContextScope::Mode::Record);
    model->forward(x);
  }
  ImageContext short_one = context;
  short_one.means.pop_back();
  {
    ContextScope scope(short_one, ContextScope::Mode::Replay);
    EXPECT_THROW(model->forward(x), Error);
  }
  ImageContext long_one = context;
  long_one.means.push_back(context.means.back());
  {
    ContextScope scope(long_one, ContextScope::Mode::Replay);
    model->forward(x);
    EXPECT_THROW(scope.done(), Error);
  }
  ImageContext wrong = context;
  wrong.means[0] = torch::zeros({1, 5});
  ContextScope scope(wrong, ContextScope::Mode::Replay);
  EXPECT_THROW(model->forward(x), Error);
}

TEST_F(ContextTest, ACropWithTheWholeImagesContextMatchesTheWholeResult) {
  // What the plug-in's preview and a selection do: enhance a rectangle (with a margin) of a larger image
  // under that image's context, and show the inside.
  const Image image = synthetic(320, 240, 3);
  const Enhancer engine(*strong_, cpu());
  ASSERT_EQ(engine.plan(image.width, image.height).tiles_x, 1);
  const Image whole = run(engine, image);
  const EnhanceContext context = engine.context(image.view());
  const int x0 = 120, y0 = 80, side = 96, margin = 48;
  const Image region = crop(image, x0 - margin, y0 - margin, side + 2 * margin, side + 2 * margin);
  const Image with_context = crop(run(engine, region, &context), margin, margin, side, side);
  const Image on_its_own = crop(run(engine, region), margin, margin, side, side);
  const Image expected = crop(whole, x0, y0, side, side);
  const double shared = psnr_db(with_context, expected), own = psnr_db(on_its_own, expected);
  std::printf("[context] 96x96 crop (margin 48) of 320x240 vs the whole result: %.2f dB with the image's "
              "context, %.2f dB pooling over itself\n", shared, own);
  EXPECT_GE(shared, 40.0);
  EXPECT_GT(shared, own + 3.0);
}

TEST_F(ContextTest, ContextsSerializeAndBelongToTheirModel) {
  const Image image = synthetic(96, 64, 3);
  const Enhancer engine(*strong_, cpu());
  const EnhanceContext context = engine.context(image.view());
  ASSERT_FALSE(context.means.empty());
  const EnhanceContext back = parse_context(serialize(context));
  EXPECT_EQ(back.model, context.model);
  EXPECT_EQ(back.means, context.means);
  EXPECT_EQ(back.gamma, context.gamma);
  EXPECT_EQ(back.brightness, context.brightness);
  EXPECT_GT(context.brightness, 0.0f);

  const std::string bytes = serialize(context);
  EXPECT_THROW(parse_context(""), Error);
  EXPECT_THROW(parse_context("not a context at all"), Error);
  EXPECT_THROW(parse_context(bytes.substr(0, bytes.size() - 3)), Error);
  EXPECT_THROW(parse_context(bytes + "x"), Error);

  const std::string other = test::make_sharp_weights((*dir_ / "other.safetensors").string(), 4);
  const Enhancer another(other, cpu());
  Image out(image.width, image.height, 3, SampleType::F32);
  try {
    another.enhance(image.view(), out.view(), {}, &context);
    FAIL() << "a context of another model was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("another model"), std::string::npos) << e.what();
  }
}

TEST_F(ContextTest, TheContextPassRunsOnABoundedCopy) {
  const Enhancer engine(*strong_, cpu());
  EXPECT_EQ(engine.context_size(600, 400), std::make_pair(600, 400));  // LoL images: the image itself
  const auto [w, h] = engine.context_size(4000, 3000);
  EXPECT_LE(static_cast<double>(w) * h, 512.0 * 1024.0);
  EXPECT_GT(static_cast<double>(w) * h, 256.0 * 1024.0);
  EXPECT_NEAR(static_cast<double>(w) / h, 4.0 / 3.0, 0.01);
  const auto [tw, th] = engine.context_size(100000, 3);
  EXPECT_GE(tw, 1);
  EXPECT_GE(th, 1);
  // A copy already of that size gives the same context as the image itself.
  const Image image = synthetic(96, 64, 3);
  EXPECT_EQ(engine.context(image.view()).means, engine.context(image.view()).means);
}

TEST_F(ContextTest, AnExposureTargetSetsTheResultsMeanBrightnessInEveryTile) {
  // The shipped model: a real result's brightness (random weights clip much of the image to black).
  const std::string weights = std::string(LOWLIGHT_SOURCE_DIR) + "/weights/default.safetensors";
  const Image image = synthetic(192, 160, 3);
  const double own = mean_luminance(run(Enhancer(weights, cpu()), image));
  for (float target : {0.15f, 0.5f}) {
    ASSERT_GT(std::fabs(own - target), 0.05) << "the model's own brightness is already the target";
    EnhanceSettings s = cpu();
    s.exposure = target;
    const Image whole = run(Enhancer(weights, s), image);
    EXPECT_NEAR(mean_luminance(whole), target, 0.01) << "target " << target;
    s.tile = 64;  // tiles share the gamma and the descriptors
    const Image tiled = run(Enhancer(weights, s), image);
    EXPECT_GE(psnr_db(tiled, whole), 40.0) << "target " << target;
  }
  EnhanceSettings bad = cpu();
  for (float value : {-0.1f, 0.01f, 0.99f, 1.5f, std::nanf("")}) {
    bad.exposure = value;
    EXPECT_THROW(Enhancer(*strong_, bad), Error) << value;
  }
}

TEST(ThreadDefaults, PhysicalCoresUnlessOpenMpIsSetAndBoundedAbove) {
  const char* saved = std::getenv("OMP_NUM_THREADS");
  const std::string saved_value = saved ? saved : "";
  ::unsetenv("OMP_NUM_THREADS");
  EXPECT_GE(default_cpu_threads(), 1);
  EXPECT_LE(default_cpu_threads(), physical_cpu_cores());
  set_cpu_threads(0);
  EXPECT_EQ(torch::get_num_threads(), default_cpu_threads());
  ::setenv("OMP_NUM_THREADS", "3", 1);
  EXPECT_EQ(default_cpu_threads(), std::min(3, max_cpu_threads()));
  ::setenv("OMP_NUM_THREADS", "junk", 1);
  EXPECT_LE(default_cpu_threads(), physical_cpu_cores());
  EXPECT_THROW(set_cpu_threads(max_cpu_threads() + 1), Error);
  EXPECT_THROW(set_cpu_threads(-1), Error);
  if (saved) ::setenv("OMP_NUM_THREADS", saved_value.c_str(), 1);
  else ::unsetenv("OMP_NUM_THREADS");
  set_cpu_threads(1);
}

}  // namespace
}  // namespace lowlight
