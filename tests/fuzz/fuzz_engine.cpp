// libFuzzer target: the engine's buffer path, lowlight::Enhancer::enhance, as the GIMP plug-in and the CLI
// drive it: random sizes, channel counts, sample types in and out, row padding, in-place runs, strengths,
// tiles, overlaps, exposure targets, cancellation, and arbitrary sample values (NaN and infinities
// included), with a tiny random model. Invalid combinations must be a lowlight::Error; valid ones must
// give in-range output and alpha copied bit for bit.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "lowlight/engine.h"
#include "lowlight/error.h"
#include "support/tiny_weights.h"

namespace {

using lowlight::SampleType;

struct Input {
  const uint8_t* data;
  size_t size;
  uint8_t next() {
    if (size == 0) return 0;
    --size;
    return *data++;
  }
};

const std::string& weights() {
  static const std::string path = [] {
    const auto dir = lowlight::test::temp_dir("fuzz-engine");
    return lowlight::test::make_tiny_weights((dir / "tiny.safetensors").string());
  }();
  return path;
}

// Enhancers are made once per setting combination (loading the model is the slow part).
const lowlight::Enhancer& enhancer(int tile, int overlap, float strength, float exposure) {
  static std::map<std::tuple<int, int, float, float>, std::unique_ptr<lowlight::Enhancer>> cache;
  auto& slot = cache[{tile, overlap, strength, exposure}];
  if (!slot) {
    lowlight::EnhanceSettings s = lowlight::default_enhance_settings();
    s.device = lowlight::DeviceKind::CPU;
    s.precision = lowlight::Precision::F32;
    s.threads = 1;
    s.tile = tile;
    s.overlap = overlap;
    s.strength = strength;
    s.exposure = exposure;
    slot = std::make_unique<lowlight::Enhancer>(weights(), s);
  }
  return *slot;
}

// A buffer of `height` rows of `stride` bytes, aligned for any sample type.
struct Buffer {
  std::vector<double> storage;
  explicit Buffer(size_t bytes) : storage(bytes / sizeof(double) + 1) {}
  uint8_t* bytes() { return reinterpret_cast<uint8_t*>(storage.data()); }
};

template <typename T> T sample_at(const lowlight::ImageView& v, int x, int y, int c) {
  T value;
  std::memcpy(&value, static_cast<const uint8_t*>(v.data) + v.stride() * y + (static_cast<size_t>(x) * v.channels + c) * sizeof(T),
              sizeof(T));
  return value;
}

// Output in range (floats finite in [0,1]) and alpha as it came in when the types agree.
void check(const lowlight::ImageView& in_copy, const lowlight::ImageView& out) {
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x)
      for (int c = 0; c < out.channels; ++c) {
        const bool alpha = out.has_alpha() && c == out.channels - 1;
        if (out.type == SampleType::F32 && !alpha) {
          const float v = sample_at<float>(out, x, y, c);
          if (!(v >= 0.0f && v <= 1.0f)) __builtin_trap();
        }
        if (alpha && in_copy.type == out.type) {
          const size_t n = lowlight::sample_size(out.type);
          const size_t at = (static_cast<size_t>(x) * out.channels + c) * n;
          if (std::memcmp(static_cast<const uint8_t*>(in_copy.data) + in_copy.stride() * y + at,
                          static_cast<const uint8_t*>(out.data) + out.stride() * y + at, n) != 0)
            __builtin_trap();
        }
      }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const SampleType kTypes[] = {SampleType::U8, SampleType::U16, SampleType::F32};
  static const int kTiles[] = {0, 32, 40, 64};
  static const int kOverlaps[] = {0, 4, 16, 39};
  static const float kStrengths[] = {1.0f, 0.0f, 0.5f, 0.25f};
  Input in{data, size};
  const int width = 1 + in.next() % 72, height = 1 + in.next() % 72, channels = 1 + in.next() % 4;
  const SampleType in_type = kTypes[in.next() % 3], out_type = kTypes[in.next() % 3];
  const uint8_t knobs = in.next(), more = in.next();
  const int tile = kTiles[knobs & 3], overlap = kOverlaps[(knobs >> 2) & 3];
  const float strength = kStrengths[(knobs >> 4) & 3];
  const float exposure = (knobs & 0x40) ? 0.3f : 0.0f;
  const bool in_place = (knobs & 0x80) && in_type == out_type;
  const size_t pad = (more & 7) * 4;  // bytes of row padding, a multiple of every sample size
  const bool cancel = (more & 0x18) == 0x18;

  const size_t row_in = static_cast<size_t>(width) * channels * lowlight::sample_size(in_type) + pad;
  const size_t row_out = static_cast<size_t>(width) * channels * lowlight::sample_size(out_type) + pad;
  Buffer source(row_in * height), target(row_out * height), copy(row_in * height);
  for (size_t i = 0; i < row_in * height; ++i) source.bytes()[i] = in.size ? in.next() : static_cast<uint8_t>(i * 37);
  std::memcpy(copy.bytes(), source.bytes(), row_in * height);
  const lowlight::ImageView input{source.bytes(), width, height, channels, in_type, row_in};
  const lowlight::ImageView output =
      in_place ? input : lowlight::ImageView{target.bytes(), width, height, channels, out_type, row_out};
  const lowlight::ImageView original{copy.bytes(), width, height, channels, in_type, row_in};
  try {
    const lowlight::Enhancer& engine = enhancer(tile, overlap, strength, exposure);
    const bool done = engine.enhance(input, output, [&](double f) { return !(cancel && f >= 0.5); });
    if (done) check(original, output);
    else if (!cancel) __builtin_trap();
  } catch (const lowlight::Error&) {
    // A refused combination (an overlap as large as the tile): fine, with a message.
  }
  return 0;
}
