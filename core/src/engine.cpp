// Tiled inference. Tiles are processed one row of tiles at a time; each tile's output is weighted by
// separable blending weights that sum to one and added into a float accumulator one tile-row high.
// Once a row of tiles is done, the rows no later tile touches are final: they are blended with the
// input by `strength` and written straight into the output, and the accumulator rolls down. Memory is
// therefore one tile's activations plus tile_height x width x 3 floats, whatever the image height. On CUDA
// the work of a tile is queued on the enhancer's own stream through pinned buffers, and the next tile's
// pixels are gathered while the GPU computes.
#include "lowlight/engine.h"

#include <ATen/Parallel.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <optional>
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

// Host buffers a tile travels through: two inputs (the CPU gathers tile k+1 while the device works on
// tile k) and one output, each `floats` long. Pinned (page-locked) for CUDA, so that the copies to and
// from the GPU are asynchronous.
struct TileBuffers {
  torch::Tensor in[2], out;
};

TileBuffers make_tile_buffers(size_t floats, bool pinned) {
  const auto options = torch::TensorOptions().dtype(torch::kFloat).pinned_memory(pinned);
  const int64_t n = static_cast<int64_t>(floats);
  return {{torch::empty({n}, options), torch::empty({n}, options)}, torch::empty({n}, options)};
}

// A height x width x 3 interleaved tile in the first samples of a flat buffer, seen as N x 3 x H x W: the
// channels-last layout, with no copy.
torch::Tensor as_nchw(const torch::Tensor& buffer, int height, int width) {
  return buffer.narrow(0, 0, static_cast<int64_t>(height) * width * 3).view({1, height, width, 3}).permute({0, 3, 1, 2});
}

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
  std::optional<c10::Stream> stream;  // CUDA: the enhancer's own stream, so its copies can overlap

  TilePlan plan(int width, int height) const;
  void start_tile(const torch::Tensor& in, int height, int width, const torch::Tensor& out) const;
  void finish_tile(int height, int width) const;
  Error tile_error(const c10::Error& e, int width, int height) const;
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
  if (s.device == DeviceKind::CUDA) {
    s.torch_device = torch::Device(torch::kCUDA);
    // Tiles come in a few shapes only, so cuDNN's per-shape autotuning pays for itself after a tile or two.
    at::globalContext().setBenchmarkCuDNN(true);
    // Through the device-generic interface: the same code builds against CPU-only LibTorch.
    s.stream = c10::impl::VirtualGuardImpl(c10::DeviceType::CUDA).getStreamFromGlobalPool(s.torch_device);
  }
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

// Computes one tile into `out` (height x width x 3 floats). On CPU the result is there when this returns;
// on CUDA the copies and the network are only queued on the enhancer's stream, and finish_tile() waits.
void Enhancer::State::start_tile(const torch::Tensor& in, int height, int width, const torch::Tensor& out) const {
  const bool cuda = device == DeviceKind::CUDA;
  torch::Tensor x = as_nchw(in, height, width);
  // CPU keeps the channels-last strides; CUDA converts on the GPU and gets a dense copy for its kernels.
  if (cuda) x = x.to(torch_device, torch::kFloat, /*non_blocking=*/true).to(dtype).contiguous();
  else if (dtype != torch::kFloat) x = x.to(dtype);
  try {
    torch::Tensor y = model->forward(x);
    if (cuda) y = y.to(torch::kFloat).contiguous(torch::MemoryFormat::ChannelsLast);
    as_nchw(out, height, width).copy_(y, /*non_blocking=*/cuda);
  } catch (const c10::Error& e) {
    throw tile_error(e, width, height);
  }
}

void Enhancer::State::finish_tile(int height, int width) const {
  if (!stream) return;
  try {
    stream->synchronize();  // errors of queued GPU work surface here
  } catch (const c10::Error& e) {
    throw tile_error(e, width, height);
  }
}

Error Enhancer::State::tile_error(const c10::Error& e, int width, int height) const {
  return Error("inference failed on a " + std::to_string(width) + "x" + std::to_string(height) + " tile on " +
               device_name(device) + ": " + first_line(e.what_without_backtrace()));
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

namespace {

// Calls row(y) for y in [0, rows) on LibTorch's intra-op threads: the pixel conversions around the
// network (gathering tiles, blending, writing 8-bit rows) are per row and would otherwise run on one core
// while the others wait, a few milliseconds per megapixel.
template <class Row>
void for_rows(int rows, const Row& row) {
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t y = begin; y < end; ++y) row(static_cast<int>(y));
  });
}

// Adds a tile's output, weighted, into the accumulator rows it covers.
void accumulate(const float* result, tiles::Span sx, tiles::Span sy, const std::vector<float>& wx,
                const std::vector<float>& wy, float* acc, int acc_y0, size_t row_floats) {
  for_rows(sy.size, [&](int y) {
    float* dst = acc + (sy.start + y - acc_y0) * row_floats + static_cast<size_t>(sx.start) * 3;
    const float* src = result + static_cast<size_t>(y) * sx.size * 3;
    const float wrow = wy[y];
    for (int x = 0; x < sx.size; ++x) {
      const float w = wrow * wx[x];
      dst[3 * x + 0] += w * src[3 * x + 0];
      dst[3 * x + 1] += w * src[3 * x + 1];
      dst[3 * x + 2] += w * src[3 * x + 2];
    }
  });
}

}  // namespace

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
  TileBuffers buffers = make_tile_buffers(static_cast<size_t>(rows) * cols * 3, stream.has_value());
  int acc_y0 = 0;

  c10::InferenceMode inference;
  std::optional<c10::StreamGuard> on_stream;
  if (stream) on_stream.emplace(*stream);
  const size_t count = xs.size() * ys.size();
  auto gather = [&](size_t k) {
    const tiles::Span sx = xs[k % xs.size()], sy = ys[k / xs.size()];
    float* dst = buffers.in[k % 2].data_ptr<float>();
    for_rows(sy.size, [&](int y) {
      pixels::read_rgb(in, sy.start + y, sx.start, sx.size, dst + static_cast<size_t>(y) * sx.size * 3);
    });
  };
  gather(0);
  for (size_t k = 0; k < count; ++k) {
    const size_t r = k / xs.size(), c = k % xs.size();
    start_tile(buffers.in[k % 2], ys[r].size, xs[c].size, buffers.out);
    if (k + 1 < count) gather(k + 1);  // on CUDA this overlaps the GPU's work on tile k
    finish_tile(ys[r].size, xs[c].size);
    accumulate(buffers.out.data_ptr<float>(), xs[c], ys[r], wx[c], wy[r], acc.data(), acc_y0, row_floats);
    if (progress && !progress((k + 1) / static_cast<double>(count))) return;  // cancelled: `out` is discarded
    if (c + 1 < xs.size()) continue;
    // Rows before the next tile row's start get no more contributions: write them and roll on. (The next
    // row's first tile, gathered above, reads only rows from that start on.)
    const int final_end = r + 1 < ys.size() ? ys[r + 1].start : in.height;
    for_rows(final_end - acc_y0, [&](int i) {
      pixels::write_blended(in, out, acc_y0 + i, acc.data() + i * row_floats, settings.strength);
    });
    const size_t shift = (final_end - acc_y0) * row_floats;
    std::memmove(acc.data(), acc.data() + shift, (acc.size() - shift) * sizeof(float));
    std::fill(acc.end() - shift, acc.end(), 0.0f);
    acc_y0 = final_end;
  }
  *done = true;
}

}  // namespace lowlight
