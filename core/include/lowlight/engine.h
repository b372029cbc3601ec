#pragma once
// Tiled enhancement of whole images of any size with bounded memory. Light header.
#include <functional>
#include <memory>
#include <string>

#include "lowlight/device.h"
#include "lowlight/image.h"
#include "lowlight/weights.h"

namespace lowlight {

struct EnhanceSettings {
  float strength = 1.0f;   // 0 returns the input exactly, 1 the model's output
  int tile = 0;            // tile side in pixels (0: chosen from available memory)
  int overlap = 0;         // tile overlap in pixels (0: default for the model)
  DeviceKind device = DeviceKind::Auto;
  Precision precision = Precision::Auto;  // resolved with the device (see device.h)
  int threads = 0;         // CPU threads (0: LibTorch default)
};
EnhanceSettings default_enhance_settings();

// How an image of a given size is cut into tiles (for display and tests).
struct TilePlan {
  int tile = 0;      // tile side in pixels (>= the image's sides when it is processed whole)
  int overlap = 0;   // nominal overlap between neighbouring tiles
  int tiles_x = 0;
  int tiles_y = 0;
};

// Called with the fraction done in [0,1]; returning false cancels (within one tile).
using ProgressFn = std::function<bool(double fraction)>;

class Enhancer {
 public:
  // Loads the weights and moves the model to the chosen device. Throws lowlight::Error.
  Enhancer(const std::string& weights_path, const EnhanceSettings& settings);
  ~Enhancer();
  Enhancer(Enhancer&&) noexcept;
  Enhancer& operator=(Enhancer&&) noexcept;

  // Enhances `in` into `out` (same width, height, channels; sample types may differ). Gray goes through
  // RGB and comes back gray; alpha is copied bit-identical. Returns false when cancelled; `out` then holds
  // unspecified data and the caller must discard it. `in` and `out` may be the same buffer (same sample
  // type and stride): rows are written only after the last tile that reads them.
  bool enhance(const ImageView& in, const ImageView& out, const ProgressFn& progress = {}) const;

  // The tiling enhance() uses for a width x height image with these settings.
  TilePlan plan(int width, int height) const;

  const WeightsInfo& info() const;
  DeviceKind device() const;
  Precision precision() const;  // resolved: never Auto
  const EnhanceSettings& settings() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace lowlight
