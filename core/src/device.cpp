#include "lowlight/device.h"

#include <sched.h>
#include <torch/torch.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "lowlight/error.h"

namespace lowlight {

bool cuda_available() { return torch::cuda::is_available(); }

DeviceKind resolve_device(DeviceKind requested) {
  switch (requested) {
    case DeviceKind::CPU:
      return DeviceKind::CPU;
    case DeviceKind::CUDA:
      if (!cuda_available())
        throw Error("device cuda requested, but this LibTorch build reports no CUDA device "
                    "(use --device cpu or auto, or build against a CUDA LibTorch)");
      return DeviceKind::CUDA;
    case DeviceKind::Auto:
      break;
  }
  return cuda_available() ? DeviceKind::CUDA : DeviceKind::CPU;
}

DeviceKind parse_device(const std::string& name) {
  if (name == "auto") return DeviceKind::Auto;
  if (name == "cpu") return DeviceKind::CPU;
  if (name == "cuda") return DeviceKind::CUDA;
  throw Error("unknown device '" + name + "' (expected auto, cpu or cuda)");
}

const char* device_name(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::Auto: return "auto";
    case DeviceKind::CPU: return "cpu";
    case DeviceKind::CUDA: return "cuda";
  }
  return "unknown";
}

Precision parse_precision(const std::string& name) {
  if (name == "auto") return Precision::Auto;
  if (name == "fp32") return Precision::F32;
  if (name == "bf16") return Precision::BF16;
  if (name == "fp16") return Precision::F16;
  throw Error("unknown precision '" + name + "' (expected auto, fp32, bf16 or fp16)");
}

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::Auto: return "auto";
    case Precision::F32: return "fp32";
    case Precision::BF16: return "bf16";
    case Precision::F16: return "fp16";
  }
  return "unknown";
}

bool cpu_has_native_bf16() {
  // /proc/cpuinfo lists amx_bf16 only when the kernel also enables the AMX state, which oneDNN needs.
  static const bool has = [] {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
      if (line.rfind("flags", 0) != 0) continue;
      std::istringstream flags(line);
      std::string flag;
      while (flags >> flag)
        if (flag == "amx_bf16") return true;
      return false;
    }
    return false;
  }();
  return has;
}

Precision resolve_precision(Precision requested, DeviceKind device) {
  if (device == DeviceKind::Auto) throw Error("resolve_precision needs a resolved device");
  if (requested == Precision::F16 && device == DeviceKind::CPU)
    throw Error("precision fp16 needs CUDA; on CPU use bf16 or fp32");
  if (requested != Precision::Auto) return requested;
  if (device == DeviceKind::CUDA) return Precision::F16;
  return cpu_has_native_bf16() ? Precision::BF16 : Precision::F32;
}

void prefer_passive_openmp(char** argv) {
  if (argv == nullptr || argv[0] == nullptr || std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
  execv("/proc/self/exe", argv);
  // exec failed: carry on with the policy libgomp already chose; the variable stays for child processes.
}

void keep_freed_memory() {
#ifdef __GLIBC__
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
#endif
}

namespace {

// The CPUs in this process's affinity mask (all online ones when it cannot be read).
std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  if (cpus.empty()) {
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    for (long c = 0; c < std::max(1L, online); ++c) cpus.push_back(static_cast<int>(c));
  }
  return cpus;
}

std::string read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Physical cores among `cpus`: SMT siblings share (package, core) in sysfs; each CPU counts alone when
// the topology cannot be read.
int physical_cores(const std::vector<int>& cpus) {
  std::set<std::string> cores;
  for (int c : cpus) {
    const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(c) + "/topology/";
    const std::string package = read_line(dir + "physical_package_id"), core = read_line(dir + "core_id");
    cores.insert(package.empty() || core.empty() ? "cpu" + std::to_string(c) : package + ":" + core);
  }
  return static_cast<int>(cores.size());
}

// The cgroup's CPU quota rounded up (cgroup v2 cpu.max, or v1 cfs quota/period); 0 when there is none.
int cgroup_cpu_quota() {
  std::istringstream v2(read_line("/sys/fs/cgroup/cpu.max"));
  std::string quota;
  double period = 0;
  if (v2 >> quota >> period && quota != "max" && period > 0) return static_cast<int>(std::ceil(std::stod(quota) / period));
  const std::string q1 = read_line("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
  const std::string p1 = read_line("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  if (!q1.empty() && !p1.empty() && std::stod(q1) > 0 && std::stod(p1) > 0)
    return static_cast<int>(std::ceil(std::stod(q1) / std::stod(p1)));
  return 0;
}

}  // namespace

int physical_cpu_cores() { return std::max(1, physical_cores(allowed_cpus())); }

int default_cpu_threads() {
  // The user's explicit OpenMP setting wins (the test suite runs one thread per test this way).
  if (const char* omp = std::getenv("OMP_NUM_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(omp, &end, 10);
    if (end != omp && *end == '\0' && n > 0) return static_cast<int>(std::min<long>(n, max_cpu_threads()));
  }
  int threads = physical_cpu_cores();
  try {
    const int quota = cgroup_cpu_quota();
    if (quota > 0) threads = std::min(threads, quota);
  } catch (const std::exception&) {
    // An unparsable cgroup file: no quota known.
  }
  return std::max(1, threads);
}

int max_cpu_threads() { return 4 * static_cast<int>(allowed_cpus().size()); }

int resolve_cpu_threads(int threads) {
  if (threads < 0) throw Error("thread count must be >= 0 (0: the physical cores), got " + std::to_string(threads));
  if (threads > max_cpu_threads())
    throw Error("thread count " + std::to_string(threads) + " is more than 4x the " +
                std::to_string(allowed_cpus().size()) + " CPUs this process may use (at most " +
                std::to_string(max_cpu_threads()) + ")");
  return threads > 0 ? threads : default_cpu_threads();
}

void set_cpu_threads(int threads) { torch::set_num_threads(resolve_cpu_threads(threads)); }

void init_process(int /*argc*/, char** argv) {
  prefer_passive_openmp(argv);  // may re-execute the program, so before anything else happens
  keep_freed_memory();
  set_cpu_threads(0);
}

}  // namespace lowlight
