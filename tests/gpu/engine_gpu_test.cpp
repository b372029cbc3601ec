// The CUDA path against the CPU one, with the shipped default model. Built only against a CUDA LibTorch
// (tests/CMakeLists.txt) and run on a machine with a GPU: bench/gpu-check.sh on the device machine.
#include <gtest/gtest.h>

#include <string>

#include "lowlight/device.h"
#include "lowlight/engine.h"
#include "support/synthetic_image.h"

namespace lowlight {
namespace {

const std::string kWeights = std::string(LOWLIGHT_SOURCE_DIR) + "/weights/default.safetensors";

EnhanceSettings on(DeviceKind device, Precision precision, int tile = 0) {
  EnhanceSettings s = default_enhance_settings();
  s.device = device;
  s.precision = precision;
  s.tile = tile;
  return s;
}

Image enhanced(const Image& in, const EnhanceSettings& settings) {
  Image out(in.width, in.height, in.channels, in.type);
  EXPECT_TRUE(Enhancer(kWeights, settings).enhance(in.view(), out.view()));
  return out;
}

TEST(GpuEngine, CudaIsAvailable) {
  ASSERT_TRUE(cuda_available()) << "these tests need a GPU and a CUDA LibTorch";
  EXPECT_EQ(Enhancer(kWeights, on(DeviceKind::Auto, Precision::Auto)).device(), DeviceKind::CUDA);
  EXPECT_EQ(Enhancer(kWeights, on(DeviceKind::Auto, Precision::Auto)).precision(), Precision::F16);
}

// The bar: GPU output within 40 dB of the CPU's, in every precision the GPU offers.
TEST(GpuEngine, WholeImageAgreesWithCpu) {
  const Image in = test::synthetic(600, 400, 3);
  const Image cpu = enhanced(in, on(DeviceKind::CPU, Precision::F32));
  for (Precision p : {Precision::F32, Precision::F16, Precision::BF16}) {
    const double db = test::psnr_db(cpu, enhanced(in, on(DeviceKind::CUDA, p)));
    std::printf("CUDA %s vs CPU fp32, 600x400: %.2f dB\n", precision_name(p), db);
    EXPECT_GE(db, 40.0) << precision_name(p);
  }
}

// Many tiles through the double-buffered, asynchronous tile pipeline: a race between the pinned buffers
// and the copies would show as tiles from the wrong place. In place (in == out) as GIMP's shadow use.
TEST(GpuEngine, TiledPipelineAgreesWithCpuTiles) {
  const Image in = test::synthetic(1000, 700, 3, 11);
  const Image cpu = enhanced(in, on(DeviceKind::CPU, Precision::F32, 256));
  const EnhanceSettings gpu = on(DeviceKind::CUDA, Precision::F32, 256);
  EXPECT_GT(Enhancer(kWeights, gpu).plan(in.width, in.height).tiles_x, 3);
  const double db = test::psnr_db(cpu, enhanced(in, gpu));
  Image same = in;
  ASSERT_TRUE(Enhancer(kWeights, gpu).enhance(same.view(), same.view()));
  const double in_place_db = test::psnr_db(cpu, same);
  std::printf("CUDA tiled vs CPU tiled, 1000x700, tile 256: %.2f dB (in place %.2f dB)\n", db, in_place_db);
  EXPECT_GE(db, 40.0);
  EXPECT_GE(in_place_db, 40.0);
}

TEST(GpuEngine, CancelStopsWithinATile) {
  const Image in = test::synthetic(900, 600, 3);
  Image out(in.width, in.height, in.channels, in.type);
  int calls = 0;
  const bool done = Enhancer(kWeights, on(DeviceKind::CUDA, Precision::Auto, 256))
                        .enhance(in.view(), out.view(), [&](double f) { return ++calls < 3 || f <= 0; });
  EXPECT_FALSE(done);
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace lowlight
