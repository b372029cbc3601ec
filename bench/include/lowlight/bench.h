#pragma once
// Benchmark of inference (through Enhancer, the real path) and of a training step, each beside the same
// work done by Python PyTorch eager (bench/infer_torch.py, a server process driven over pipes) in the same
// run, interleaved C++, Python, C++, Python... so a shared, loaded CPU slows both alike. Light header.
// Tooling, not the library: lowlight_bench (bench/src/), linked by the CLI only. It starts a Python process
// and, from then on, ignores SIGPIPE process-wide (see PythonSide), neither of which lowlight_core ever does.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lowlight/config.h"
#include "lowlight/device.h"

namespace lowlight {

// Outputs closer than this (PSNR, dB) count as the same computation, so the time ratio is fair.
constexpr double kBenchAgreementPsnr = 50.0;

struct BenchSize {
  int width = 0;
  int height = 0;
};

struct BenchSettings {
  std::vector<std::string> weights;  // weight files, one per model benchmarked
  std::vector<BenchSize> sizes = {{600, 400}, {4000, 3000}};
  int repeats = 3;                   // timed runs per case and side (median and minimum reported)
  int warmup = 1;                    // untimed runs per case and side first (oneDNN builds its kernels)
  int threads = 0;                   // CPU intra-op threads for both sides (0: default_cpu_threads())
  int tile = 0;                      // Enhancer tile (0: automatic), also used by the Python side
  DeviceKind device = DeviceKind::Auto;
  // Inference in this precision on both sides; training steps use bf16 autocast when it resolves to bf16 or
  // fp16 (training never runs in fp16, as in lowlight-train), fp32 otherwise.
  Precision precision = Precision::Auto;
  std::string python;                // interpreter with torch; empty: no Python comparison
  std::string python_script;         // bench/infer_torch.py; empty: the source tree's copy
  std::string python_weights;        // weights the Python side loads (empty: the same file; tests only)
  bool python_nchw = false;          // Python side in plain NCHW instead of channels-last
  bool fused_kernels = true;         // false: LibTorch's own ops instead of kernels.h (what they gain)
  bool train = false;                // also time training steps
  int train_batch = 4;
  int train_crop = 128;
  int train_steps = 3;               // timed steps per side (after one warm-up step)
  double peak_gflops = 0;            // fp32 peak to compare against (0: estimated from /proc/cpuinfo)
};
BenchSettings default_bench_settings();

// This machine's fp32 peak: cores x GHz x FLOP per cycle per core, with the assumption spelled out.
struct CpuPeak {
  std::string cpu;        // model name
  int cores = 0;          // physical cores this process may use
  double ghz = 0;         // nominal clock (cpu MHz in /proc/cpuinfo)
  int flops_per_cycle = 0;
  double gflops = 0;
  std::string assumption;
};
CpuPeak estimate_cpu_peak();

// A time measured on both sides: medians and minima of the timed repeats, in seconds.
struct Timing {
  std::vector<double> samples;
  double median = 0;
  double min = 0;
};
Timing make_timing(std::vector<double> samples);

struct InferenceResult {
  std::string weights;
  ModelConfig config;
  BenchSize size;
  int tile = 0, tiles = 0;           // Enhancer's plan
  double megapixels = 0;
  Timing cpp;
  double mp_per_s = 0;               // from the median
  double gflops = 0;                 // 2 x MACs x MP / median seconds
  double peak_fraction = 0;          // gflops / peak (CPU only; 0 on CUDA)
  double rss_before_mib = 0;         // resident before the timed runs (model, input and output buffers)
  double rss_peak_mib = 0;           // VmHWM over the timed runs (reset first where the kernel allows)
  // The image-level context pass (Enhancer::context), timed alone after the runs above; enhance() runs it once
  // for an image of several tiles, so `cpp` includes it. Empty for a one-tile image (no context pass).
  Timing context;
  double context_share = 0;          // context median / cpp median
  double gpu_peak_mib = -1;          // CUDA caching allocator peak; -1 when not measured
  bool python = false;               // the Python side ran
  Timing py;
  double py_rss_peak_mib = 0;
  double ratio = 0;                  // C++ median / Python median (< 1: C++ faster)
  double speedup = 0;                // Python median / C++ median
  double psnr_vs_python = 0;         // between the two outputs (+inf when identical)
  bool agree = false;                // psnr_vs_python >= kBenchAgreementPsnr
};

struct TrainBenchResult {
  std::string weights;
  ModelConfig config;
  int batch = 0, crop = 0;
  Timing cpp;                        // seconds per step
  double steps_per_s = 0;
  bool python = false;
  Timing py;
  double py_steps_per_s = 0;
  double ratio = 0;                  // C++ seconds / Python seconds
  double speedup = 0;
};

struct BenchReport {
  std::string device;
  std::string precision;             // resolved: fp32, bf16 or fp16
  int threads = 0;                   // intra-op threads actually used
  std::string cpu_kernels;           // instruction set of kernels.h, "off", or empty on CUDA
  CpuPeak peak;
  std::string load_before, load_after;  // /proc/loadavg
  std::string torch_version;
  std::string python_torch_version;
  std::vector<InferenceResult> inference;
  std::vector<TrainBenchResult> training;
};

// Called with one line saying what runs now ("C=16 1x1 600x400: C++ 2/3").
using BenchProgressFn = std::function<void(const std::string& line)>;

// Runs every case. Throws lowlight::Error for bad settings, a bad weight file or a failing Python side.
BenchReport run_bench(const BenchSettings& settings, const BenchProgressFn& progress = {});

std::string bench_json(const BenchReport& report);   // indented JSON
std::string bench_table(const BenchReport& report);  // plain-text table(s) with a header of the machine

// Writes random (seeded) weights of `config` to `path`, for benchmarking configs with no trained file.
void write_random_weights(const std::string& path, const ModelConfig& config, uint64_t seed = 1);

}  // namespace lowlight
