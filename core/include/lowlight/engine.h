#pragma once
// Tiled enhancement of whole images of any size with bounded memory. Light header.
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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
  int threads = 0;         // CPU threads of this Enhancer's calls (0: default_cpu_threads(), the physical cores)
  // Target mean brightness of the result (Rec. 709 luminance of the model's output, in (0,1)), reached by
  // one gamma for the whole image; 0: the model's own exposure ("auto").
  float exposure = 0.0f;
};
EnhanceSettings default_enhance_settings();

// What makes every part of one image come out as that image does whole: the descriptors the network pools
// over the whole image (channel attention, SKFF), from one pass over a copy scaled to at most
// Enhancer::context_size(); and the exposure gamma. Tiles, a preview crop and a selection's rectangle run
// with the same context, so they agree with the whole-image result (docs/context.md). Plain data, so a
// front end can keep it or send it between processes (serialize / parse_context).
struct EnhanceContext {
  std::string model;                      // the weights' file and config it was made with (checked on use)
  std::vector<std::vector<float>> means;  // per pooling site, its channels' means
  float gamma = 1.0f;                     // applied to the model's output for the exposure setting
  float brightness = 0.0f;                // mean brightness of the model's own result (before gamma)
};
std::string serialize(const EnhanceContext& context);
EnhanceContext parse_context(const std::string& bytes);  // throws lowlight::Error on malformed input

// How an image of a given size is cut into tiles (for display and tests).
struct TilePlan {
  int tile = 0;      // tile side in pixels (>= the image's sides when it is processed whole)
  int overlap = 0;   // nominal overlap between neighbouring tiles
  int tiles_x = 0;
  int tiles_y = 0;
};

// Called with the fraction done in [0,1]; returning false cancels (within one tile).
using ProgressFn = std::function<bool(double fraction)>;

// Threads and thread safety:
// - Each Enhancer has its own CPU thread count (EnhanceSettings::threads, threads()). Its constructor, enhance()
//   and context() run with that count on the calling thread and give the caller's own count back when they
//   return; nothing of it outlives the call, so Enhancers with different counts can live side by side.
// - The const calls (enhance, context, context_size, plan and the accessors) may run at the same time from
//   several threads, on one Enhancer or on several: the model is only read, and each call keeps its working
//   state (tile buffers, the context being recorded or replayed) to itself. Calls on one Enhancer share its
//   device, and on CUDA its stream, so they take turns there.
// - Constructing, moving, assigning and destroying must not overlap another call on the same Enhancer.
// - serialize() and parse_context() are thread-safe; init_process() and set_cpu_threads() (device.h) are
//   process set-up, for main() before threads start.
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
  //
  // `context`: the context of the whole image `in` belongs to (a crop, a selection's rectangle). Without
  // one, an image that runs in one tile pools over itself as the network does, and one that is tiled
  // first gets its own context().
  bool enhance(const ConstImageView& in, const ImageView& out, const ProgressFn& progress = {},
               const EnhanceContext* context = nullptr) const;

  // The context of a whole image: one pass of the network over a copy area-averaged to context_size().
  // `image` may already be such a copy (a front end that reads scaled pixels itself).
  EnhanceContext context(const ConstImageView& image) const;

  // The size of the copy context() runs on: the image's own when it has at most the context's pixel budget
  // (the model's, from its width; about 0.4 MP for `default`), else scaled down keeping the aspect ratio.
  std::pair<int, int> context_size(int width, int height) const;

  // The tiling enhance() uses for a width x height image with these settings.
  TilePlan plan(int width, int height) const;

  const WeightsInfo& info() const;
  DeviceKind device() const;
  Precision precision() const;  // resolved: never Auto
  int threads() const;          // the CPU threads its calls run with (resolved: never 0)
  const EnhanceSettings& settings() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace lowlight
