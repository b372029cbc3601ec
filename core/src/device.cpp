#include "lowlight/device.h"

#include <torch/torch.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

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

void set_cpu_threads(int threads) {
  if (threads < 0) throw Error("thread count must be >= 0 (0 keeps the default), got " + std::to_string(threads));
  if (threads > 0) torch::set_num_threads(threads);
}

}  // namespace lowlight
