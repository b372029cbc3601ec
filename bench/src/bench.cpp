// The benchmark loop: every (model, size) case enhanced through Enhancer and, in the same run and
// interleaved with it, through the Python eager side; then training steps the same way.
#include "lowlight/bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "bench_internal.h"
#include "lowlight/engine.h"
#include "lowlight/error.h"
#include "lowlight/image.h"
#include "lowlight/kernels.h"
#include "lowlight/metrics.h"
#include "lowlight/model.h"
#include "lowlight/weights.h"

namespace fs = std::filesystem;

namespace lowlight {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void validate_bench(const BenchSettings& s) {
  if (s.weights.empty()) throw Error("bench: no model given");
  if (s.sizes.empty() && !s.train) throw Error("bench: no image size given and no training benchmark asked for");
  for (const BenchSize& z : s.sizes)
    if (z.width < 1 || z.height < 1 || static_cast<double>(z.width) * z.height > 1e9)
      throw Error("bench: image size " + std::to_string(z.width) + "x" + std::to_string(z.height) +
                  " out of range (1 to 1e9 pixels)");
  if (s.repeats < 1) throw Error("bench: repeats must be >= 1, got " + std::to_string(s.repeats));
  if (s.warmup < 0) throw Error("bench: warmup must be >= 0, got " + std::to_string(s.warmup));
  if (s.threads < 0) throw Error("bench: threads must be >= 0, got " + std::to_string(s.threads));
  if (s.train && (s.train_batch < 1 || s.train_crop < 8 || s.train_steps < 1))
    throw Error("bench: training needs batch >= 1, crop >= 8 and steps >= 1");
  if (s.peak_gflops < 0) throw Error("bench: peak GFLOP/s must be >= 0");
}

// A dim, textured RGB image (what the model sees in use), the same for every run.
Image synthetic_image(int width, int height) {
  Image image(width, height, 3, SampleType::F32);
  float* p = reinterpret_cast<float*>(image.bytes.data());
  uint32_t state = 12345u;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c) {
        state = state * 1664525u + 1013904223u;
        const float noise = static_cast<float>(state >> 8) / 16777216.0f;
        const float wave = 0.5f + 0.5f * std::sin(0.013f * x + 0.7f * c) * std::cos(0.017f * y);
        *p++ = 0.02f + 0.2f * wave + 0.05f * noise;
      }
  return image;
}

void write_raw(const std::string& path, const Image& image) {
  std::ofstream file(path, std::ios::binary);
  file.write(reinterpret_cast<const char*>(image.bytes.data()), static_cast<std::streamsize>(image.bytes.size()));
  if (!file) throw Error("bench: cannot write " + path);
}

Image read_raw(const std::string& path, int width, int height) {
  Image image(width, height, 3, SampleType::F32);
  std::ifstream file(path, std::ios::binary);
  file.read(reinterpret_cast<char*>(image.bytes.data()), static_cast<std::streamsize>(image.bytes.size()));
  if (!file || file.gcount() != static_cast<std::streamsize>(image.bytes.size()))
    throw Error("bench: the Python side's output " + path + " is short");
  return image;
}

struct Context {
  const BenchSettings& settings;
  const BenchProgressFn& progress;
  BenchReport& report;
  fs::path scratch;
  void say(const std::string& line) const {
    if (progress) progress(line);
  }
};

// Times the C++ and Python sides alternately: C++, Python, C++, Python...
void time_interleaved(const Context& ctx, const std::string& what, int warmup, int repeats,
                      const std::function<double()>& cpp, const std::function<double()>& py,
                      std::vector<double>& cpp_times, std::vector<double>& py_times) {
  for (int i = 0; i < warmup + repeats; ++i) {
    const bool timed = i >= warmup;
    const std::string n = timed ? std::to_string(i - warmup + 1) + "/" + std::to_string(repeats) : "warm-up";
    ctx.say(what + ": C++ " + n);
    const double a = cpp();
    if (timed) cpp_times.push_back(a);
    if (!py) continue;
    ctx.say(what + ": Python " + n);
    const double b = py();
    if (timed) py_times.push_back(b);
  }
}

InferenceResult bench_inference(const Context& ctx, const Enhancer& enhancer, bench::PythonSide* py,
                                const BenchSize& size) {
  const BenchSettings& s = ctx.settings;
  InferenceResult r;
  r.weights = enhancer.info().path;
  r.config = enhancer.info().config;
  r.size = size;
  const TilePlan plan = enhancer.plan(size.width, size.height);
  r.tile = plan.tile;
  r.tiles = plan.tiles_x * plan.tiles_y;
  r.megapixels = static_cast<double>(size.width) * size.height / 1e6;
  const std::string what =
      bench::model_label(r.config) + " " + std::to_string(size.width) + "x" + std::to_string(size.height);

  const Image input = synthetic_image(size.width, size.height);
  Image output(size.width, size.height, 3, SampleType::F32);
  if (py) {
    const std::string in_path = (ctx.scratch / "input.f32").string();
    write_raw(in_path, input);
    py->call("image " + in_path + " " + std::to_string(size.width) + " " + std::to_string(size.height) + " " +
             std::to_string(plan.tile) + " " + std::to_string(plan.overlap) + " " +
             std::to_string(size_multiple(r.config)));
    fs::remove(in_path);
  }
  r.rss_before_mib = bench::rss_mib();
  const bool cuda = enhancer.device() == DeviceKind::CUDA;
  if (cuda) bench::reset_gpu_peak();
  std::vector<double> cpp_times, py_times;
  auto run_cpp = [&] {
    bench::reset_rss_peak();
    const auto start = Clock::now();
    enhancer.enhance(input.view(), output.view());
    const double t = seconds_since(start);
    r.rss_peak_mib = std::max(r.rss_peak_mib, bench::rss_peak_mib());
    return t;
  };
  std::function<double()> run_py;
  if (py)
    run_py = [&] {
      const nlohmann::json reply = py->call("enhance");
      r.py_rss_peak_mib = std::max(r.py_rss_peak_mib, reply.value("rss_peak_mib", 0.0));
      return reply.at("seconds").get<double>();
    };
  time_interleaved(ctx, what, s.warmup, s.repeats, run_cpp, run_py, cpp_times, py_times);
  if (cuda) r.gpu_peak_mib = bench::gpu_peak_mib();

  r.cpp = make_timing(cpp_times);
  if (r.tiles > 1) {
    std::vector<double> context_times;
    for (int i = 0; i < s.repeats; ++i) {
      ctx.say(what + ": context pass " + std::to_string(i + 1) + "/" + std::to_string(s.repeats));
      const auto start = Clock::now();
      (void)enhancer.context(input.view());
      context_times.push_back(seconds_since(start));
    }
    r.context = make_timing(context_times);
    r.context_share = r.context.median / r.cpp.median;
  }
  r.mp_per_s = r.megapixels / r.cpp.median;
  r.gflops = 2.0 * macs_per_megapixel(r.config) * r.megapixels / r.cpp.median / 1e9;
  r.peak_fraction = cuda || ctx.report.peak.gflops <= 0 ? 0.0 : r.gflops / ctx.report.peak.gflops;
  if (py) {
    r.python = true;
    r.py = make_timing(py_times);
    r.ratio = r.cpp.median / r.py.median;
    r.speedup = r.py.median / r.cpp.median;
    const std::string out_path = (ctx.scratch / "output.f32").string();
    py->call("save " + out_path);
    const Image theirs = read_raw(out_path, size.width, size.height);
    fs::remove(out_path);
    r.psnr_vs_python = psnr(output.view(), theirs.view());
    r.agree = r.psnr_vs_python >= kBenchAgreementPsnr;
  }
  return r;
}

}  // namespace

BenchSettings default_bench_settings() { return BenchSettings{}; }

Timing make_timing(std::vector<double> samples) {
  Timing t;
  t.samples = samples;
  if (samples.empty()) return t;
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  t.median = n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
  t.min = samples.front();
  return t;
}

void write_random_weights(const std::string& path, const ModelConfig& config, uint64_t seed) {
  torch::manual_seed(seed);
  MIRNet model(config);
  save_weights(path, *model, {{"data", "\"random weights (benchmark)\""}});
}

TrainBenchResult bench_train_step(const std::string& weights, const BenchSettings& s, DeviceKind device,
                                  bool autocast, bench::PythonSide* py, const BenchProgressFn& progress);  // bench_train.cpp

BenchReport run_bench(const BenchSettings& settings, const BenchProgressFn& progress) {
  validate_bench(settings);
  BenchReport report;
  report.load_before = bench::load_average();
  report.peak = estimate_cpu_peak();
  if (settings.peak_gflops > 0) {
    report.peak.gflops = settings.peak_gflops;
    report.peak.assumption = "given with --peak-gflops";
  }
  report.torch_version = TORCH_VERSION;
  // Process-wide switch; restored on return so a caller's later inference is unaffected.
  struct KernelsSwitch {
    bool before = kernels::enabled();
    explicit KernelsSwitch(bool on) { kernels::set_enabled(on); }
    ~KernelsSwitch() { kernels::set_enabled(before); }
  } kernels_switch{settings.fused_kernels};
  const fs::path scratch = fs::temp_directory_path() / ("lowlight-bench-" + std::to_string(::getpid()));
  fs::create_directories(scratch);
  struct Cleanup {
    fs::path dir;
    ~Cleanup() { std::error_code ec; fs::remove_all(dir, ec); }
  } cleanup{scratch};
  Context ctx{settings, progress, report, scratch};

  EnhanceSettings es = default_enhance_settings();
  es.device = settings.device;
  es.threads = settings.threads;
  es.tile = settings.tile;
  es.precision = settings.precision;
  // The training steps run on this thread's count; each Enhancer's calls set their own (engine.h).
  set_cpu_threads(settings.threads);
  for (const std::string& weights : settings.weights) {
    ctx.say("loading " + weights);
    const Enhancer enhancer(weights, es);
    report.device = device_name(enhancer.device());
    report.precision = precision_name(enhancer.precision());
    report.threads = enhancer.threads();
    if (enhancer.device() == DeviceKind::CPU)
      report.cpu_kernels = settings.fused_kernels ? kernels::instruction_set() : "off";
    std::unique_ptr<bench::PythonSide> py;
    if (!settings.python.empty()) {
      ctx.say("starting the Python side (" + settings.python + ")");
      py = std::make_unique<bench::PythonSide>(
          settings.python, settings.python_script.empty() ? bench::default_python_script() : settings.python_script,
          settings.python_weights.empty() ? weights : settings.python_weights, report.threads, settings.python_nchw,
          device_name(enhancer.device()), report.precision);
      report.python_torch_version = py->hello().value("torch", "");
    }
    for (const BenchSize& size : settings.sizes) report.inference.push_back(bench_inference(ctx, enhancer, py.get(), size));
    if (settings.train)
      report.training.push_back(bench_train_step(weights, settings, enhancer.device(),
                                                 enhancer.precision() != Precision::F32, py.get(), progress));
  }
  report.load_after = bench::load_average();
  return report;
}

}  // namespace lowlight
