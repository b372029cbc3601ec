// Resource settings are bounded (issue 17): tiles between a useful minimum and the memory there is, threads
// within a multiple of the CPUs. Each is refused with a message instead of running for hours or swapping.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "lowlight/device.h"
#include "lowlight/engine.h"
#include "lowlight/error.h"
#include "support/tiny_weights.h"

namespace fs = std::filesystem;

namespace lowlight {
namespace {

class Limits : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::temp_dir("limits");
    weights_ = test::make_tiny_weights((dir_ / "tiny.safetensors").string());
  }
  void TearDown() override { fs::remove_all(dir_); }
  EnhanceSettings cpu(int tile, int threads = 1) const {
    EnhanceSettings s = default_enhance_settings();
    s.device = DeviceKind::CPU;
    s.precision = Precision::F32;
    s.tile = tile;
    s.threads = threads;
    return s;
  }
  std::string error_of(const EnhanceSettings& s, int width = 64, int height = 64) const {
    try {
      Enhancer(weights_, s).plan(width, height);
    } catch (const Error& e) {
      return e.what();
    }
    return "<no error>";
  }
  fs::path dir_;
  std::string weights_;
};

TEST_F(Limits, TilesBelowTheMinimumAreRefused) {
  EXPECT_NE(error_of(cpu(1)).find("below the minimum of 32"), std::string::npos) << error_of(cpu(1));
  EXPECT_NE(error_of(cpu(31)).find("below the minimum"), std::string::npos);
  EXPECT_EQ(error_of(cpu(32)), "<no error>");
}

TEST_F(Limits, TilesBeyondTheMemoryAreRefusedAndLargeTilesOnSmallImagesAreTheImage) {
  // 100000 x 100000 pixels of activations (hundreds of terabytes) fit no machine's memory.
  const std::string message = error_of(cpu(100000), 100000, 100000);
  EXPECT_NE(message.find("GB for the model's activations"), std::string::npos) << message;
  EXPECT_NE(message.find("use a tile of at most"), std::string::npos) << message;
  // The same tile on a small image is that image, in one tile.
  const TilePlan plan = Enhancer(weights_, cpu(100000)).plan(300, 200);
  EXPECT_EQ(plan.tiles_x * plan.tiles_y, 1);
  // The automatic choice always fits its budget, whatever the size.
  EXPECT_EQ(error_of(cpu(0), 100000, 100000), "<no error>");
}

TEST_F(Limits, ThreadsAboveFourTimesTheCpusAreRefused) {
  const std::string message = error_of(cpu(0, max_cpu_threads() + 1));
  EXPECT_NE(message.find("thread count " + std::to_string(max_cpu_threads() + 1)), std::string::npos) << message;
  EXPECT_EQ(error_of(cpu(0, max_cpu_threads())), "<no error>");
  set_cpu_threads(1);
}


// Samples are read as uint16_t and float: a buffer or stride off their alignment is refused, not read.
TEST_F(Limits, MisalignedBuffersAreRefused) {
  std::vector<uint16_t> storage(8 * 8 * 3 + 8, 1000);
  const Enhancer engine(weights_, cpu(0));
  auto* base = reinterpret_cast<uint8_t*>(storage.data());
  const ImageView aligned{base, 8, 8, 3, SampleType::U16, 0};
  const ImageView odd_start{base + 1, 8, 8, 3, SampleType::U16, 0};
  const ImageView odd_stride{base, 8, 7, 3, SampleType::U16, 8 * 3 * 2 + 1};
  std::vector<uint16_t> out(8 * 8 * 3);
  const ImageView target{out.data(), 8, 8, 3, SampleType::U16, 0};
  EXPECT_TRUE(engine.enhance(aligned, target));
  EXPECT_THROW(engine.enhance(odd_start, target), Error);
  const ImageView target7{out.data(), 8, 7, 3, SampleType::U16, 0};
  try {
    engine.enhance(odd_stride, target7);
    FAIL() << "a stride of an odd number of bytes was read as 16-bit samples";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not aligned"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lowlight
