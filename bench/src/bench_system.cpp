// What the benchmark reads about the machine and this process: fp32 peak, load, memory.

#include <algorithm>
#include <fstream>
#include <sstream>

#include "bench_internal.h"
#include "lowlight/bench.h"
#include "lowlight/device.h"

#if defined(LOWLIGHT_WITH_CUDA)
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace lowlight {
namespace {

// A "Key: value" field of a /proc file as a number (the first word of the value), 0 when absent.
double proc_field(const std::string& path, const std::string& key) {
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::istringstream value(line.substr(key.size() + 1));
    double v = 0;
    if (value >> v) return v;
  }
  return 0;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

CpuPeak estimate_cpu_peak() {
  CpuPeak peak;
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, flags;
  while (std::getline(cpuinfo, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
    if (key == "model name" && peak.cpu.empty()) peak.cpu = value;
    else if (key == "flags" && flags.empty()) flags = " " + value + " ";
    else if (key == "cpu MHz") peak.ghz = std::max(peak.ghz, std::atof(value.c_str()) / 1000.0);
  }
  // Hyper-threads share one core's FMA units: count physical cores, of those this process may use.
  peak.cores = physical_cpu_cores();
  auto has = [&](const char* f) { return flags.find(std::string(" ") + f + " ") != std::string::npos; };
  std::string isa;
  if (has("avx512f")) peak.flops_per_cycle = 64, isa = "AVX-512: 2 FMA units x 16 fp32 lanes x 2";
  else if (has("avx2") && has("fma")) peak.flops_per_cycle = 32, isa = "AVX2+FMA: 2 FMA units x 8 fp32 lanes x 2";
  else if (has("avx")) peak.flops_per_cycle = 16, isa = "AVX: 8-lane add + 8-lane multiply";
  else peak.flops_per_cycle = 8, isa = "SSE: 4-lane add + 4-lane multiply";
  peak.gflops = peak.cores * peak.ghz * peak.flops_per_cycle;
  std::ostringstream text;
  text << peak.cores << " cores x " << peak.ghz << " GHz (cpu MHz, no turbo) x " << peak.flops_per_cycle
       << " FLOP/cycle (" << isa << ", assumed; override with --peak-gflops)";
  peak.assumption = text.str();
  return peak;
}

namespace bench {

std::string load_average() {
  std::ifstream file("/proc/loadavg");
  std::string a, b, c;
  file >> a >> b >> c;
  return a + " " + b + " " + c;
}

double rss_mib() { return proc_field("/proc/self/status", "VmRSS") / 1024.0; }
double rss_peak_mib() { return proc_field("/proc/self/status", "VmHWM") / 1024.0; }

bool reset_rss_peak() {
  std::ofstream file("/proc/self/clear_refs");
  file << "5";
  file.flush();
  return static_cast<bool>(file);
}

#if defined(LOWLIGHT_WITH_CUDA)
void reset_gpu_peak() {
  c10::cuda::CUDACachingAllocator::resetPeakStats(c10::cuda::current_device());
}
double gpu_peak_mib() {
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(c10::cuda::current_device());
  // Index 0 is StatType::AGGREGATE in 1.13 and 2.x alike (the enum moved namespaces in 2.x). Reserved bytes:
  // what the process holds on the card, allocator slack included.
  return static_cast<double>(stats.reserved_bytes[0].peak) / (1024.0 * 1024.0);
}
#else
void reset_gpu_peak() {}
double gpu_peak_mib() { return -1; }
#endif

}  // namespace bench
}  // namespace lowlight
