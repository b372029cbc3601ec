#pragma once
// A dim, textured float image for engine tests: gradients, a few edges and noise, like a LoL input
// (values 0..0.35), so no image file or codec is needed.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>

#include "lowlight/image.h"

namespace lowlight::test {

inline Image synthetic(int width, int height, int channels, uint32_t seed = 7) {
  Image image(width, height, channels, SampleType::F32);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> noise(-0.02f, 0.02f);
  float* p = reinterpret_cast<float*>(image.bytes.data());
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c) {
        float v = 0.05f + 0.1f * x / width + 0.08f * y / height + 0.04f * std::sin(0.07f * x * (c + 1)) +
                  ((x / 37 + y / 23) % 2 ? 0.1f : 0.0f) + noise(rng);
        *p++ = std::clamp(v, 0.0f, 1.0f);
      }
  return image;
}

// PSNR (peak 1) between two float RGB(A) images of the same size, over all samples.
inline double psnr_db(const Image& a, const Image& b) {
  const auto* pa = reinterpret_cast<const float*>(a.bytes.data());
  const auto* pb = reinterpret_cast<const float*>(b.bytes.data());
  const size_t n = a.bytes.size() / sizeof(float);
  double mse = 0;
  for (size_t i = 0; i < n; ++i) mse += (static_cast<double>(pa[i]) - pb[i]) * (static_cast<double>(pa[i]) - pb[i]);
  mse /= static_cast<double>(n);
  return mse > 0 ? 10 * std::log10(1.0 / mse) : INFINITY;
}

}  // namespace lowlight::test
