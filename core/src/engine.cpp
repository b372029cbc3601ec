// Tiled inference. Tiles are processed one row of tiles at a time; each tile's output is weighted by
// separable blending weights that sum to one and added into a float accumulator one tile-row high.
// Once a row of tiles is done, the rows no later tile touches are final: they are blended with the
// input by `strength` and written straight into the output, and the accumulator rolls down. Memory is
// therefore one tile's activations plus tile_height x width x 3 floats, whatever the image height. On CUDA
// the work of a tile is queued on the enhancer's own stream through pinned buffers, and the next tile's
// pixels are gathered while the GPU computes.
#include "lowlight/engine.h"

#include <ATen/Parallel.h>
#include <malloc.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
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
// The smallest tile accepted: below it a tile is mostly overlap (--tile 1 on 12 MP would be 12 million tiles).
constexpr int kMinTile = 32;
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

// An explicit tile may take more than the automatic choice's budget, but not more than the memory there is:
// --tile 100000 on a 12-megapixel photo asked for 12 GB. (CUDA: no free-memory query; its allocator reports.)
void check_tile_memory(int width, int height, double bytes_per_pixel, DeviceKind device) {
  const double available = device == DeviceKind::CPU ? available_memory() : 0.0;
  const double need = static_cast<double>(width) * height * bytes_per_pixel;
  if (available <= 0 || need <= 0.75 * available) return;
  const int fits = static_cast<int>(std::sqrt(0.75 * available / bytes_per_pixel));
  char text[256];
  std::snprintf(text, sizeof text,
                "a %dx%d tile needs about %.1f GB for the model's activations, more than the %.1f GB of memory "
                "available; use a tile of at most %d (or 0 to choose one)",
                width, height, need / 1e9, available / 1e9, fits);
  throw Error(text);
}

// The context pass (docs/context.md): a copy of the image of at most this many pixels, and at most this much
// activation memory, so that it costs a few percent of a 12-megapixel run. LoL's 600x400 images fit whole.
constexpr double kContextPixels = 512.0 * 1024.0;
constexpr double kContextBytes = 512.0 * 1024.0 * 1024.0;

void validate_settings(const EnhanceSettings& s) {
  if (!(s.exposure == 0.0f || (s.exposure >= 0.02f && s.exposure <= 0.98f)))
    throw Error("exposure must be 0 (auto) or a mean brightness in [0.02, 0.98], got " + std::to_string(s.exposure));
  if (!(s.strength >= 0.0f && s.strength <= 1.0f))
    throw Error("strength must be in [0, 1], got " + std::to_string(s.strength));
  if (s.tile < 0) throw Error("tile size must be >= 0 (0 chooses it), got " + std::to_string(s.tile));
  if (s.tile > 0 && s.tile < kMinTile)
    throw Error("tile size " + std::to_string(s.tile) + " is below the minimum of " + std::to_string(kMinTile) +
                " pixels (0 chooses it)");
  if (s.overlap < 0) throw Error("tile overlap must be >= 0 (0 chooses it), got " + std::to_string(s.overlap));
  if (s.threads < 0) throw Error("thread count must be >= 0 (0: the physical cores), got " + std::to_string(s.threads));
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// After the context pass. keep_freed_memory() (device.h) keeps its freed activations in the heap, where the
// tile pass's blocks of other sizes fit them only in part, so the heap grew past both passes' peaks: 12 MP in
// fp32 peaked at 1294 MiB, against 1131-1190 MiB for the tile pass alone. Handing the free pages back costs one
// round of page faults per image and brings the peak to 1208 MiB (docs/context.md).
void return_freed_memory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

// Runs the calls of one Enhancer with its own CPU thread count: LibTorch's intra-op count, which its
// convolutions and the fused kernels' parallel loops (at::parallel_for) follow. With LibTorch's OpenMP backend
// the count belongs to the calling thread, so two threads' calls each keep theirs; setting it also writes
// process-wide state (the count threads yet to start take, the pthreadpool's size), hence the mutex. The
// caller's count comes back when the call returns.
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : previous_(torch::get_num_threads()), changed_(threads != previous_) {
    if (changed_) set(threads);
  }
  ~ThreadScope() {
    if (changed_) set(previous_);
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  static void set(int threads) {
    static std::mutex mutex;
    const std::lock_guard<std::mutex> lock(mutex);
    torch::set_num_threads(threads);
  }
  int previous_;
  bool changed_;
};

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

// Activation bytes per input pixel of whole-tile inference (see kActivationsPerChannel).
double activation_bytes_per_pixel(const ModelConfig& config, torch::ScalarType dtype) {
  return (kActivationsPerChannel * config.channels + kActivationsFixed) * (dtype == torch::kFloat ? 4.0 : 2.0);
}

// The gamma that brings the mean Rec. 709 luminance of `rgb` (1 x 3 x H x W in [0,1]) to `target`, by
// bisection on log(gamma) (the mean falls as gamma grows); between 1/20 and 20.
float exposure_gamma(const torch::Tensor& rgb, float target) {
  const torch::Tensor x = rgb.to(torch::kFloat);
  auto brightness = [&](double gamma) {
    const torch::Tensor p = x.pow(gamma);
    return (0.2126 * p.select(1, 0) + 0.7152 * p.select(1, 1) + 0.0722 * p.select(1, 2)).mean().item<double>();
  };
  double lo = -3.0, hi = 3.0;
  for (int i = 0; i < 30; ++i) {
    const double mid = 0.5 * (lo + hi);
    (brightness(std::exp(mid)) > target ? lo : hi) = mid;
  }
  return static_cast<float>(std::exp(0.5 * (lo + hi)));
}

double mean_brightness(const torch::Tensor& rgb) {
  const torch::Tensor x = rgb.to(torch::kFloat);
  return (0.2126 * x.select(1, 0) + 0.7152 * x.select(1, 1) + 0.0722 * x.select(1, 2)).mean().item<double>();
}

}  // namespace

EnhanceSettings default_enhance_settings() { return EnhanceSettings{}; }

namespace {
constexpr char kContextMagic[8] = {'L', 'L', 'C', 'T', 'X', '0', '0', '1'};

template <class T>
void put(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

// Reads a T at `pos` or throws: the bytes may come from another process.
template <class T>
T take(const std::string& in, size_t& pos) {
  if (in.size() - pos < sizeof(T)) throw Error("image context: truncated (" + std::to_string(in.size()) + " bytes)");
  T value;
  std::memcpy(&value, in.data() + pos, sizeof value);
  pos += sizeof value;
  return value;
}
}  // namespace

std::string serialize(const EnhanceContext& c) {
  std::string out(kContextMagic, sizeof kContextMagic);
  put(out, static_cast<uint32_t>(c.model.size()));
  out += c.model;
  put(out, c.gamma);
  put(out, c.brightness);
  put(out, static_cast<uint32_t>(c.means.size()));
  for (const auto& m : c.means) {
    put(out, static_cast<uint32_t>(m.size()));
    out.append(reinterpret_cast<const char*>(m.data()), m.size() * sizeof(float));
  }
  return out;
}

EnhanceContext parse_context(const std::string& in) {
  if (in.size() < sizeof kContextMagic || std::memcmp(in.data(), kContextMagic, sizeof kContextMagic) != 0)
    throw Error("image context: not a context (bad magic)");
  size_t pos = sizeof kContextMagic;
  EnhanceContext c;
  const uint32_t name = take<uint32_t>(in, pos);
  if (name > in.size() - pos) throw Error("image context: truncated model name");
  c.model = in.substr(pos, name);
  pos += name;
  c.gamma = take<float>(in, pos);
  c.brightness = take<float>(in, pos);
  if (!(c.gamma > 0.0f && std::isfinite(c.gamma))) throw Error("image context: invalid gamma");
  const uint32_t sites = take<uint32_t>(in, pos);
  for (uint32_t i = 0; i < sites; ++i) {
    const uint32_t n = take<uint32_t>(in, pos);
    if (n > (in.size() - pos) / sizeof(float)) throw Error("image context: truncated descriptor " + std::to_string(i));
    std::vector<float> m(n);
    std::memcpy(m.data(), in.data() + pos, n * sizeof(float));
    pos += n * sizeof(float);
    c.means.push_back(std::move(m));
  }
  if (pos != in.size()) throw Error("image context: " + std::to_string(in.size() - pos) + " bytes too many");
  return c;
}

struct Enhancer::State {
  EnhanceSettings settings;
  WeightsInfo info;
  DeviceKind device = DeviceKind::CPU;
  std::shared_ptr<MIRNetImpl> model;
  torch::Device torch_device{torch::kCPU};
  Precision precision = Precision::F32;
  torch::ScalarType dtype = torch::kFloat;
  std::optional<c10::Stream> stream;  // CUDA: the enhancer's own stream, so its copies can overlap
  std::string model_id;               // EnhanceContext::model of this enhancer's contexts
  int threads = 1;                    // CPU threads of this enhancer's calls (resolved, never 0)

  TilePlan plan(int width, int height) const;
  std::pair<int, int> context_size(int width, int height) const;
  EnhanceContext context(const ConstImageView& image) const;
  ImageContext tensors_of(const EnhanceContext& context) const;
  torch::Tensor run_model(const torch::Tensor& x, ImageContext* replay, float gamma) const;
  void start_tile(const torch::Tensor& in, int height, int width, const torch::Tensor& out, ImageContext* replay,
                  float gamma) const;
  void finish_tile(int height, int width) const;
  Error tile_error(const c10::Error& e, int width, int height) const;
  void enhance_tiled(const ConstImageView& in, const ImageView& out, const ProgressFn& progress,
                     const EnhanceContext* context, bool* done) const;
};

Enhancer::Enhancer(const std::string& weights_path, const EnhanceSettings& settings)
    : state_(std::make_unique<State>()) {
  validate_settings(settings);
  State& s = *state_;
  s.settings = settings;
  s.device = resolve_device(settings.device);
  s.threads = resolve_cpu_threads(settings.threads);
  const ThreadScope own_threads(s.threads);
  s.model = load_weights(weights_path, &s.info);
  s.model_id = weights_path + " " + to_json(s.info.config);
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
int Enhancer::threads() const { return state_->threads; }
const EnhanceSettings& Enhancer::settings() const { return state_->settings; }

TilePlan Enhancer::plan(int width, int height) const { return state_->plan(width, height); }

TilePlan Enhancer::State::plan(int width, int height) const {
  const State& s = *this;
  const int m = size_multiple(s.info.config);
  TilePlan plan;
  if (s.settings.tile > 0) {
    plan.tile = std::max(m, s.settings.tile / m * m);  // off-grid tiles would be padded inside the model
    auto side = [&](int length) { return std::min(plan.tile, (length + m - 1) / m * m); };
    check_tile_memory(side(width), side(height), activation_bytes_per_pixel(s.info.config, s.dtype), s.device);
  } else {
    const double bytes_per_pixel = activation_bytes_per_pixel(s.info.config, s.dtype);
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

std::pair<int, int> Enhancer::context_size(int width, int height) const { return state_->context_size(width, height); }

std::pair<int, int> Enhancer::State::context_size(int width, int height) const {
  // From the model alone (not from free memory): the dialog's preview and the final render must agree.
  const double budget = std::min(kContextPixels, kContextBytes / activation_bytes_per_pixel(info.config, dtype));
  const double pixels = static_cast<double>(width) * height;
  if (pixels <= budget) return {width, height};
  const double scale = std::sqrt(budget / pixels);
  return {std::max(1, static_cast<int>(width * scale)), std::max(1, static_cast<int>(height * scale))};
}

// The network on a prepared input (device, dtype, layout), under `replay`'s descriptors when given, with
// the exposure gamma applied to its output.
torch::Tensor Enhancer::State::run_model(const torch::Tensor& x, ImageContext* replay, float gamma) const {
  torch::Tensor y;
  if (replay) {
    ContextScope scope(*replay, ContextScope::Mode::Replay);
    y = model->forward(x);
    scope.done();
  } else {
    y = model->forward(x);
  }
  if (gamma != 1.0f) y = y.clamp(0.0, 1.0).pow_(gamma);
  return y;
}

ImageContext Enhancer::State::tensors_of(const EnhanceContext& c) const {
  if (c.model != model_id)
    throw Error("image context was made for another model (" + c.model + "), not " + model_id);
  ImageContext t;
  for (const auto& m : c.means)
    t.means.push_back(torch::tensor(m, torch::kFloat).view({1, static_cast<int64_t>(m.size())}).to(torch_device));
  return t;
}

// Computes one tile into `out` (height x width x 3 floats). On CPU the result is there when this returns;
// on CUDA the copies and the network are only queued on the enhancer's stream, and finish_tile() waits.
void Enhancer::State::start_tile(const torch::Tensor& in, int height, int width, const torch::Tensor& out,
                                 ImageContext* replay, float gamma) const {
  const bool cuda = device == DeviceKind::CUDA;
  torch::Tensor x = as_nchw(in, height, width);
  // CPU keeps the channels-last strides; CUDA converts on the GPU and gets a dense copy for its kernels.
  if (cuda) x = x.to(torch_device, torch::kFloat, /*non_blocking=*/true).to(dtype).contiguous();
  else if (dtype != torch::kFloat) x = x.to(dtype);
  try {
    torch::Tensor y = run_model(x, replay, gamma);
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

bool Enhancer::enhance(const ConstImageView& in, const ImageView& out, const ProgressFn& progress,
                       const EnhanceContext* context) const {
  pixels::validate_view(in, "input");
  pixels::validate_view(out, "output");
  if (in.width != out.width || in.height != out.height || in.channels != out.channels)
    throw Error("output image " + std::to_string(out.width) + "x" + std::to_string(out.height) + "x" +
                std::to_string(out.channels) + " does not match input " + std::to_string(in.width) + "x" +
                std::to_string(in.height) + "x" + std::to_string(in.channels));
  const ThreadScope own_threads(state_->threads);
  if (progress && !progress(0.0)) return false;
  if (state_->settings.strength == 0.0f) {
    // The model cannot change anything: copy (exactly, even across sample types) and skip it.
    for (int y = 0; y < in.height; ++y) pixels::copy_row(in, out, y);
    return !progress || progress(1.0);
  }
  bool done = false;
  state_->enhance_tiled(in, out, progress, context, &done);
  return done;
}

EnhanceContext Enhancer::context(const ConstImageView& image) const {
  pixels::validate_view(image, "image");
  const ThreadScope own_threads(state_->threads);
  return state_->context(image);
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

// Area average of `in` to width x height RGB floats (interleaved; each output pixel the mean of the input
// pixels whose index maps to it), reading every input row once.
std::vector<float> area_average(const ConstImageView& in, int width, int height) {
  std::vector<float> out(static_cast<size_t>(width) * height * 3, 0.0f);
  std::vector<int> x0(width + 1);
  for (int i = 0; i <= width; ++i) x0[i] = static_cast<int>(static_cast<int64_t>(i) * in.width / width);
  for_rows(height, [&](int j) {
    const int y0 = static_cast<int>(static_cast<int64_t>(j) * in.height / height);
    const int y1 = std::max(y0 + 1, static_cast<int>(static_cast<int64_t>(j + 1) * in.height / height));
    std::vector<double> sum(static_cast<size_t>(width) * 3, 0.0);
    std::vector<float> row(static_cast<size_t>(in.width) * 3);
    for (int y = y0; y < y1; ++y) {
      pixels::read_rgb(in, y, 0, in.width, row.data());
      for (int i = 0; i < width; ++i)
        for (int x = x0[i]; x < std::max(x0[i] + 1, x0[i + 1]); ++x)
          for (int c = 0; c < 3; ++c) sum[3 * i + c] += row[3 * x + c];
    }
    float* dst = out.data() + static_cast<size_t>(j) * width * 3;
    for (int i = 0; i < width; ++i) {
      const double n = static_cast<double>(y1 - y0) * std::max(1, x0[i + 1] - x0[i]);
      for (int c = 0; c < 3; ++c) dst[3 * i + c] = static_cast<float>(sum[3 * i + c] / n);
    }
  });
  return out;
}

}  // namespace

EnhanceContext Enhancer::State::context(const ConstImageView& image) const {
  const auto [w, h] = context_size(image.width, image.height);
  std::vector<float> rgb = area_average(image, w, h);
  torch::Tensor x = torch::from_blob(rgb.data(), {static_cast<int64_t>(rgb.size())}, torch::kFloat);
  x = as_nchw(x, h, w);
  if (device == DeviceKind::CUDA) x = x.to(torch_device).to(dtype).contiguous();
  else x = x.to(dtype);
  c10::InferenceMode inference;
  std::optional<c10::StreamGuard> on_stream;
  if (stream) on_stream.emplace(*stream);
  ImageContext recorded;
  torch::Tensor y;
  try {
    ContextScope scope(recorded, ContextScope::Mode::Record);
    y = model->forward(x).to(torch::kFloat).clamp(0.0, 1.0).cpu();
  } catch (const c10::Error& e) {
    throw tile_error(e, w, h);
  }
  EnhanceContext c;
  c.model = model_id;
  c.brightness = static_cast<float>(mean_brightness(y));
  c.gamma = settings.exposure > 0.0f ? exposure_gamma(y, settings.exposure) : 1.0f;
  for (const auto& m : recorded.means) {
    const torch::Tensor v = m.to(torch::kCPU).contiguous();
    c.means.emplace_back(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
  }
  if (device == DeviceKind::CPU) {
    // Everything of the pass goes before the free pages are handed back, so none is left in their midst.
    y = x = torch::Tensor();
    recorded.means.clear();
    std::vector<float>().swap(rgb);
    return_freed_memory();
  }
  return c;
}

void Enhancer::State::enhance_tiled(const ConstImageView& in, const ImageView& out, const ProgressFn& progress,
                                    const EnhanceContext* given, bool* done) const {
  const TilePlan p = plan(in.width, in.height);
  // One tile of a whole image pools over that image itself: no context pass is needed for the same result,
  // unless the exposure setting needs the model's own brightness first.
  std::optional<EnhanceContext> own;
  if (!given && (p.tiles_x * p.tiles_y > 1 || settings.exposure > 0.0f)) {
    own = context(in);
    given = &*own;
  }
  std::optional<ImageContext> replay;
  if (given) replay = tensors_of(*given);
  const float gamma = given ? given->gamma : 1.0f;
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
    start_tile(buffers.in[k % 2], ys[r].size, xs[c].size, buffers.out, replay ? &*replay : nullptr, gamma);
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
