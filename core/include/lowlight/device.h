#pragma once
// Device choice, made once by the front end and passed down. Light header.
#include <string>

namespace lowlight {

enum class DeviceKind { Auto, CPU, CUDA };

bool cuda_available();
// Auto resolves to CUDA when LibTorch reports a device, else CPU. Forced CUDA without CUDA throws.
DeviceKind resolve_device(DeviceKind requested);
DeviceKind parse_device(const std::string& name);  // "auto", "cpu", "cuda"; throws otherwise
const char* device_name(DeviceKind kind);
// Sets LibTorch's intra-op thread count (0 leaves the default).
void set_cpu_threads(int threads);

}  // namespace lowlight
