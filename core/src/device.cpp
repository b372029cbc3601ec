#include "lowlight/device.h"

#include <torch/torch.h>

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

void set_cpu_threads(int threads) {
  if (threads < 0) throw Error("thread count must be >= 0 (0 keeps the default), got " + std::to_string(threads));
  if (threads > 0) torch::set_num_threads(threads);
}

}  // namespace lowlight
