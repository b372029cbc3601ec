// The shipped model on a photo larger than the context pass (the bundled sample enlarged to 1200x800):
// automatic tiles and 256-pixel tiles against the image in one tile.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include <cstring>
#include <string>

#include "lowlight/engine.h"
#include "lowlight/image.h"
#include "support/synthetic_image.h"

namespace lowlight {
namespace {

Image enlarged_sample(int width, int height) {
  const Image sample = to_float(read_image(std::string(LOWLIGHT_SOURCE_DIR) + "/samples/coffee-lowlight.png").view());
  cv::Mat in(sample.height, sample.width, CV_32FC3, const_cast<uint8_t*>(sample.bytes.data())), out;
  cv::resize(in, out, cv::Size(width, height), 0, 0, cv::INTER_CUBIC);
  Image image(width, height, 3, SampleType::F32);
  std::memcpy(image.bytes.data(), out.ptr(), image.bytes.size());
  return image;
}

Image run(const Enhancer& engine, const Image& in) {
  Image out(in.width, in.height, in.channels, in.type);
  EXPECT_TRUE(engine.enhance(in.view(), out.view()));
  return out;
}

TEST(ContextSlow, TilesOfTheShippedModelAgreeWithTheImageInOneTile) {
  const std::string weights = std::string(LOWLIGHT_SOURCE_DIR) + "/weights/default.safetensors";
  const Image image = enlarged_sample(1200, 800);
  EnhanceSettings s = default_enhance_settings();
  s.device = DeviceKind::CPU;
  s.precision = Precision::F32;
  s.tile = 1216;
  const Enhancer one(weights, s);
  s.tile = 0;
  const Enhancer automatic(weights, s);
  s.tile = 256;
  const Enhancer small(weights, s);
  ASSERT_EQ(one.plan(image.width, image.height).tiles_x, 1);
  const auto [cw, ch] = automatic.context_size(image.width, image.height);
  ASSERT_LT(cw, image.width);  // the context pass runs on a reduced copy here
  const TilePlan plan = automatic.plan(image.width, image.height);
  const Image whole = run(one, image);
  const double auto_db = test::psnr_db(run(automatic, image), whole);
  const double small_db = test::psnr_db(run(small, image), whole);
  std::printf("[context] shipped model, 1200x800 (context %dx%d): automatic tiles (%dx%d of %d) %.2f dB, "
              "256-pixel tiles %.2f dB against one tile\n", cw, ch, plan.tiles_x, plan.tiles_y, plan.tile, auto_db,
              small_db);
  EXPECT_GE(auto_db, 40.0);
  EXPECT_GE(small_db, 38.0);
}

}  // namespace
}  // namespace lowlight
