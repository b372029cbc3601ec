#pragma once
// Training pairs the trainer's tests write for themselves: `count` side x side PNG pairs under dir/low and
// dir/high, high = 2 * low + 20 (an exact, learnable mapping), from a seeded generator.
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

#include "lowlight/image.h"

namespace lowlight {
namespace test {

inline void write_training_pairs(const std::filesystem::path& dir, int count, unsigned seed, int side) {
  std::filesystem::create_directories(dir / "low");
  std::filesystem::create_directories(dir / "high");
  std::mt19937 rng(seed);
  for (int i = 0; i < count; ++i) {
    Image low(side, side, 3, SampleType::U8), high(side, side, 3, SampleType::U8);
    for (size_t k = 0; k < low.bytes.size(); ++k) {
      const int v = static_cast<int>(rng() % 60);
      low.bytes[k] = static_cast<uint8_t>(v);
      high.bytes[k] = static_cast<uint8_t>(2 * v + 20);
    }
    write_image((dir / "low" / (std::to_string(i) + ".png")).string(), low.view());
    write_image((dir / "high" / (std::to_string(i) + ".png")).string(), high.view());
  }
}

}  // namespace test
}  // namespace lowlight
