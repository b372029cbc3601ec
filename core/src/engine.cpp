// Tiled inference. Tiles are processed one row of tiles at a time; each tile's output is weighted by
// separable blending weights that sum to one and added into a float accumulator one tile-row high.
// Once a row of tiles is done, the rows no later tile touches are final: they are blended with the
// input by `strength` and written straight into the output, and the accumulator rolls down. Memory is
// therefore one tile's activations plus tile_height x width x 3 floats, whatever the image height.
#include "lowlight/engine.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "lowlight/error.h"
#include "lowlight/model.h"
#include "pixels.h"
#include "tiles.h"

namespace lowlight {
namespace {

// Peak activation memory of whole-tile CPU inference per input pixel, in samples (floats, or halves):
// about 16 per channel of the full-resolution stream plus a fixed 64. Measured as the RSS growth of
// `lowlight enhance` on a 1-megapixel image: C=16 1x1 ~1100 B/px, C=32 2x2 ~1960 B/px, and C=4 on
// 1.7-megapixel tiles ~450 B/px (estimate: 1216, 2304 and 512); RRG and MRB counts do not matter
// because blocks run one after another.
constexpr double kActivationsPerChannel = 16.0;
constexpr double kActivationsFixed = 64.0;
constexpr int kMinAutoTile = 128;
constexpr int kMaxAutoTile = 4096;
// Default overlap as a fraction of the tile: the drift test (tests/core/engine_test.cpp) measures the
// agreement with whole-image output this gives.
constexpr double kDefaultOverlapFraction = 0.25;
constexpr int kMinDefaultOverlap = 32;
// Above this the overlap buys nothing measurable: with the shipped model on a 2000x1500 photo, tile 768,
// overlaps 64, 128 and 192 all gave 50-51 dB against the whole image (the per-tile attention statistics,
// not the seams, set the drift), while each extra pixel of overlap is computed twice.
constexpr int kMaxDefaultOverlap = 128;

// MemAvailable from /proc/meminfo in bytes, 0 when it cannot be read.
double available_memory() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream fields(line.substr(13));
      double kib = 0;
      if (fields >> kib) return kib * 1024.0;
    }
  }
  return 0.0;
}

// Bytes the tile's activations may take. CPU: a quarter of available memory, between 256 MiB and
// 1 GiB (the cap keeps a 50-megapixel run well inside 2 GB above its buffers). CUDA: a fixed 2 GiB,
// since LibTorch's C++ API has no portable free-memory query without the CUDA headers.
double memory_budget(DeviceKind device) {
  constexpr double MiB = 1024.0 * 1024.0;
  if (device == DeviceKind::CUDA) return 2048.0 * MiB;
  const double available = available_memory();
  if (available <= 0) return 512.0 * MiB;
  return std::clamp(available / 4.0, 256.0 * MiB, 1024.0 * MiB);
}

void validate_settings(const EnhanceSettings& s) {
  if (!(s.strength >= 0.0f && s.strength <= 1.0f))
    throw Error("strength must be in [0, 1], got " + std::to_string(s.strength));
  if (s.tile < 0) throw Error("tile size must be >= 0 (0 chooses it), got " + std::to_string(s.tile));
  if (s.overlap < 0) throw Error("tile overlap must be >= 0 (0 chooses it), got " + std::to_string(s.overlap));
  if (s.threads < 0) throw Error("thread count must be >= 0 (0 keeps the default), got " + std::to_string(s.threads));
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

EnhanceSettings default_enhance_settings() { return EnhanceSettings{}; }

struct Enhancer::State {
  EnhanceSettings settings;
  WeightsInfo info;
  DeviceKind device = DeviceKind::CPU;
  std::shared_ptr<MIRNetImpl> model;
  torch::Device torch_device{torch::kCPU};
  Precision precision = Precision::F32;
  torch::ScalarType dtype = torch::kFloat;

  TilePlan plan(int width, int height) const;
  torch::Tensor run_tile(float* rgb, int height, int width) const;
  void enhance_tiled(const ImageView& in, const ImageView& out, const ProgressFn& progress, bool* done) const;
};

Enhancer::Enhancer(const std::string& weights_path, const EnhanceSettings& settings)
    : state_(std::make_unique<State>()) {
  validate_settings(settings);
  State& s = *state_;
  s.settings = settings;
  s.device = resolve_device(settings.device);
  set_cpu_threads(settings.threads);
  s.model = load_weights(weights_path, &s.info);
  s.model->eval();
  torch::NoGradGuard no_grad;
  s.precision = resolve_precision(settings.precision, s.device);
  s.dtype = s.precision == Precision::BF16 ? torch::kBFloat16
            : s.precision == Precision::F16 ? torch::kHalf
                                            : torch::kFloat;
  if (s.device == DeviceKind::CUDA) s.torch_device = torch::Device(torch::kCUDA);
  s.model->to(s.torch_device, s.dtype);
  if (s.device == DeviceKind::CPU) set_weight_format(*s.model, torch::MemoryFormat::ChannelsLast);
}

Enhancer::~Enhancer() = default;
Enhancer::Enhancer(Enhancer&&) noexcept = default;
Enhancer& Enhancer::operator=(Enhancer&&) noexcept = default;

const WeightsInfo& Enhancer::info() const { return state_->info; }
DeviceKind Enhancer::device() const { return state_->device; }
Precision Enhancer::precision() const { return state_->precision; }
const EnhanceSettings& Enhancer::settings() const { return state_->settings; }

TilePlan Enhancer::plan(int width, int height) const { return state_->plan(width, height); }

TilePlan Enhancer::State::plan(int width, int height) const {
  const State& s = *this;
  const int m = size_multiple(s.info.config);
  TilePlan plan;
  if (s.settings.tile > 0) {
    plan.tile = std::max(m, s.settings.tile / m * m);  // off-grid tiles would be padded inside the model
  } else {
    const double bytes_per_pixel = (kActivationsPerChannel * s.info.config.channels + kActivationsFixed) *
                                   (s.dtype == torch::kFloat ? 4.0 : 2.0);
    const double budget = memory_budget(s.device);
    if (static_cast<double>(width) * height * bytes_per_pixel <= budget) {
      plan.tile = (std::max(width, height) + m - 1) / m * m;  // whole image: no drift at all
    } else {
      const int side = static_cast<int>(std::sqrt(budget / bytes_per_pixel));
      plan.tile = std::clamp(side / m * m, kMinAutoTile, kMaxAutoTile);
    }
  }
  if (s.settings.overlap > 0) {
    plan.overlap = s.settings.overlap;
    if (plan.overlap >= plan.tile && (width > plan.tile || height > plan.tile))
      throw Error("tile overlap " + std::to_string(plan.overlap) + " must be smaller than the tile (" +
                  std::to_string(plan.tile) + ")");
  } else {
    plan.overlap = std::min(plan.tile / 2, std::clamp(static_cast<int>(plan.tile * kDefaultOverlapFraction),
                                                      kMinDefaultOverlap, kMaxDefaultOverlap));
  }
  const int overlap = std::min(plan.overlap, plan.tile - 1);
  plan.tiles_x = static_cast<int>(tiles::layout(width, plan.tile, overlap, m).size());
  plan.tiles_y = static_cast<int>(tiles::layout(height, plan.tile, overlap, m).size());
  return plan;
}

torch::Tensor Enhancer::State::run_tile(float* rgb, int height, int width) const {
  // An interleaved HWC buffer seen as NCHW is exactly the channels-last layout.
  torch::Tensor x = torch::from_blob(rgb, {1, height, width, 3}, torch::kFloat).permute({0, 3, 1, 2});
  // .to() keeps the channels-last strides on CPU; CUDA gets a dense copy for its own kernels.
  if (device == DeviceKind::CUDA) x = x.to(torch_device, dtype).contiguous();
  else if (dtype != torch::kFloat) x = x.to(dtype);
  try {
    torch::Tensor y = model->forward(x);
    return y.to(torch::kCPU, torch::kFloat).permute({0, 2, 3, 1}).contiguous();
  } catch (const c10::Error& e) {
    throw Error("inference failed on a " + std::to_string(width) + "x" + std::to_string(height) + " tile on " +
                device_name(device) + ": " + first_line(e.what_without_backtrace()));
  }
}

bool Enhancer::enhance(const ImageView& in, const ImageView& out, const ProgressFn& progress) const {
  pixels::validate_view(in, "input");
  pixels::validate_view(out, "output");
  if (in.width != out.width || in.height != out.height || in.channels != out.channels)
    throw Error("output image " + std::to_string(out.width) + "x" + std::to_string(out.height) + "x" +
                std::to_string(out.channels) + " does not match input " + std::to_string(in.width) + "x" +
                std::to_string(in.height) + "x" + std::to_string(in.channels));
  if (progress && !progress(0.0)) return false;
  if (state_->settings.strength == 0.0f) {
    // The model cannot change anything: copy (exactly, even across sample types) and skip it.
    for (int y = 0; y < in.height; ++y) pixels::copy_row(in, out, y);
    return !progress || progress(1.0);
  }
  bool done = false;
  state_->enhance_tiled(in, out, progress, &done);
  return done;
}

void Enhancer::State::enhance_tiled(const ImageView& in, const ImageView& out, const ProgressFn& progress,
                                    bool* done) const {
  const TilePlan p = plan(in.width, in.height);
  const int m = size_multiple(info.config);
  const int overlap = std::min(p.overlap, p.tile - 1);
  const std::vector<tiles::Span> xs = tiles::layout(in.width, p.tile, overlap, m);
  const std::vector<tiles::Span> ys = tiles::layout(in.height, p.tile, overlap, m);
  const auto wx = tiles::blend_weights(xs, in.width);
  const auto wy = tiles::blend_weights(ys, in.height);

  int rows = 0, cols = 0;
  for (const auto& s : ys) rows = std::max(rows, s.size);
  for (const auto& s : xs) cols = std::max(cols, s.size);
  const size_t row_floats = static_cast<size_t>(in.width) * 3;
  std::vector<float> acc(row_floats * rows, 0.0f);         // rows [acc_y0, acc_y0 + rows) of the output
  std::vector<float> tile_in(static_cast<size_t>(rows) * cols * 3);
  int acc_y0 = 0;

  c10::InferenceMode inference;
  const double total = static_cast<double>(xs.size() * ys.size());
  size_t finished = 0;
  for (size_t r = 0; r < ys.size(); ++r) {
    const tiles::Span sy = ys[r];
    for (size_t c = 0; c < xs.size(); ++c) {
      const tiles::Span sx = xs[c];
      for (int y = 0; y < sy.size; ++y)
        pixels::read_rgb(in, sy.start + y, sx.start, sx.size, tile_in.data() + static_cast<size_t>(y) * sx.size * 3);
      const torch::Tensor result = run_tile(tile_in.data(), sy.size, sx.size);
      const float* res = result.data_ptr<float>();
      for (int y = 0; y < sy.size; ++y) {
        float* dst = acc.data() + (sy.start + y - acc_y0) * row_floats + static_cast<size_t>(sx.start) * 3;
        const float* src = res + static_cast<size_t>(y) * sx.size * 3;
        const float wrow = wy[r][y];
        for (int x = 0; x < sx.size; ++x) {
          const float w = wrow * wx[c][x];
          dst[3 * x + 0] += w * src[3 * x + 0];
          dst[3 * x + 1] += w * src[3 * x + 1];
          dst[3 * x + 2] += w * src[3 * x + 2];
        }
      }
      ++finished;
      if (progress && !progress(finished / total)) return;  // cancelled: the caller discards `out`
    }
    // Rows before the next tile row's start get no more contributions: write them and roll on.
    const int final_end = r + 1 < ys.size() ? ys[r + 1].start : in.height;
    for (int y = acc_y0; y < final_end; ++y)
      pixels::write_blended(in, out, y, acc.data() + (y - acc_y0) * row_floats, settings.strength);
    const size_t shift = (final_end - acc_y0) * row_floats;
    std::memmove(acc.data(), acc.data() + shift, (acc.size() - shift) * sizeof(float));
    std::fill(acc.end() - shift, acc.end(), 0.0f);
    acc_y0 = final_end;
  }
  *done = true;
}

}  // namespace lowlight
