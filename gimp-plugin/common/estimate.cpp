#include "estimate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace lowlight::plugin {
namespace {

// Per CPU thread, in the precision the plug-in runs (resolve_precision(Auto)). Measured with the shipped
// `default` (C=16 1x1) and the fused CPU kernels on a 2-core Xeon VM, two idle threads (docs/performance.md):
// bf16 on its AMX units 12 MP in 6.3 s, 77 GMAC/s per thread; fp32 600x400 in 0.23 s, 43 GMAC/s per
// thread. Other work on the cores halves that, and CPUs without AMX or AVX-512 are slower, so the first
// estimate errs on the long side until the preview measures the real rate.
constexpr double kCpuMacsPerSecondPerThreadFp32 = 15e9;
constexpr double kCpuMacsPerSecondPerThreadBf16 = 40e9;
// A mid-range CUDA card on these small convolutions (a fraction of its peak; a guess, not measured).
constexpr double kCudaMacsPerSecond = 2e12;
// Previews smaller than this, or faster than this, are dominated by overheads, not by the model.
constexpr double kMinMeasuredPixels = 64.0 * 64.0;
constexpr double kMinMeasuredSeconds = 0.05;

}  // namespace

Throughput assumed_throughput(DeviceKind device) {
  if (device == DeviceKind::CUDA) return Throughput{kCudaMacsPerSecond, false};
  const int threads = default_cpu_threads();  // what the engine will use (lowlight/device.h)
  const bool bf16 = resolve_precision(Precision::Auto, device) == Precision::BF16;
  return Throughput{(bf16 ? kCpuMacsPerSecondPerThreadBf16 : kCpuMacsPerSecondPerThreadFp32) * threads, false};
}

Throughput measured_throughput(const ModelConfig& config, double pixels, double seconds) {
  if (pixels < kMinMeasuredPixels || seconds < kMinMeasuredSeconds) return Throughput{};
  return Throughput{macs_per_megapixel(config) * pixels / 1e6 / seconds, true};
}

double estimate_seconds(const ModelConfig& config, double pixels, const Throughput& rate) {
  if (rate.macs_per_second <= 0) return 0;
  return macs_per_megapixel(config) * pixels / 1e6 / rate.macs_per_second;
}

std::string estimate_text(const ModelConfig& config, int width, int height, DeviceKind device, const Throughput& rate) {
  const double seconds = estimate_seconds(config, static_cast<double>(width) * height, rate);
  char text[256];
  const std::string where = device == DeviceKind::CUDA ? "the GPU (CUDA)"
                                                       : "the CPU with " + std::to_string(default_cpu_threads()) +
                                                             (default_cpu_threads() == 1 ? " thread" : " threads");
  const std::string duration = format_duration(seconds, DurationStyle::Words);
  std::snprintf(text, sizeof text, "About %s for this layer (%dx%d) on %s (%s)", duration.c_str(), width, height,
                where.c_str(), rate.measured ? "speed measured on the preview" : "a first guess");
  return text;
}

}  // namespace lowlight::plugin
