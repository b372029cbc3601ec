#pragma once
// Helpers for the checks that run the plug-in inside a real, headless GIMP (tests/gimp for 2.10,
// tests/gimp3 for GIMP 3): test pictures, crops and samples, and the reference result the plug-in must
// match: `lowlight enhance` (the CLI) when LOWLIGHT_EXE is defined, else the engine called directly.
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "lowlight/engine.h"
#include "lowlight/image.h"
#include "support/files.h"

namespace lowlight::test {

// A dark, structured test picture (gradients and a checker pattern at 5-15 % brightness), alpha varying
// over the whole range except fully transparent (whose colour PNG export may drop).
inline Image make_dark_image(int width, int height, int channels, SampleType type, int seed) {
  Image image(width, height, channels, type);
  const double top = type == SampleType::U8 ? 255.0 : 65535.0;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c) {
        double v;
        if ((channels == 2 || channels == 4) && c == channels - 1) {
          v = (1.0 + (x * 7 + y * 13 + seed) % 255) / 255.0;
        } else {
          const bool check = ((x / 6) + (y / 5) + seed) % 2 == 0;
          v = 0.04 + 0.06 * x / width + 0.03 * y / height + (check ? 0.05 : 0.0) + 0.01 * c;
        }
        const size_t i = (static_cast<size_t>(y) * width + x) * channels + c;
        if (type == SampleType::U8) image.bytes[i] = static_cast<uint8_t>(std::lround(v * top));
        else reinterpret_cast<uint16_t*>(image.bytes.data())[i] = static_cast<uint16_t>(std::lround(v * top));
      }
  return image;
}

inline Image crop(const Image& image, int x0, int y0, int width, int height) {
  Image out(width, height, image.channels, image.type);
  const size_t px = image.channels * sample_size(image.type);
  for (int y = 0; y < height; ++y)
    std::memcpy(out.bytes.data() + y * width * px, image.bytes.data() + ((y0 + y) * image.width + x0) * px, width * px);
  return out;
}

inline int sample(const Image& image, int x, int y, int c) {
  const size_t i = (static_cast<size_t>(y) * image.width + x) * image.channels + c;
  return image.type == SampleType::U8 ? image.bytes[i] : reinterpret_cast<const uint16_t*>(image.bytes.data())[i];
}

// `input` enhanced on the CPU with `weights` at `strength`; scratch files go into `dir`.
inline Image reference_enhance(const std::filesystem::path& dir, const std::filesystem::path& weights,
                               const Image& input, float strength) {
  static int counter = 0;
  const std::filesystem::path src = dir / ("ref-in-" + std::to_string(counter) + ".png");
  const std::filesystem::path dst = dir / ("ref-out-" + std::to_string(counter++) + ".png");
  write_image(src.string(), input.view());
#ifdef LOWLIGHT_EXE
  std::ostringstream command;
  command << LOWLIGHT_EXE << " enhance " << src << " " << dst << " --weights " << weights
          << " --device cpu --strength " << strength << " > " << dir / "cli.log" << " 2>&1";
  const int status = std::system(command.str().c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(dir / "cli.log");
  return read_image(dst.string());
#else
  EnhanceSettings settings = default_enhance_settings();
  settings.device = DeviceKind::CPU;
  settings.strength = strength;
  const Enhancer enhancer(weights.string(), settings);
  const Image read = read_image(src.string());
  Image result(read.width, read.height, read.channels, read.type);
  EXPECT_TRUE(enhancer.enhance(read.view(), result.view()));
  return result;
#endif
}

}  // namespace lowlight::test
