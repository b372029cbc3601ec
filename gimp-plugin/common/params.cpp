#include "params.h"

#include <cmath>
#include <cstring>

#include "lowlight/error.h"

namespace lowlight::plugin {
namespace {
// Bumped whenever SavedParams changes shape, so stale records are ignored instead of misread.
constexpr uint32_t kSavedVersion = 2;
}  // namespace

Params default_params() { return Params{}; }

void validate(const Params& params) {
  if (!(params.strength >= 0.0 && params.strength <= 1.0))
    throw Error("strength must be between 0 and 1, got " + std::to_string(params.strength));
  if (params.model.empty()) throw Error("no model given (use \"default\" or a path to a .safetensors file)");
  device_choice_from_int(static_cast<int32_t>(params.device));
  if (params.tile < 0) throw Error("tile size must be 0 (automatic) or positive, got " + std::to_string(params.tile));
  if (!(params.exposure >= 0.0 && params.exposure <= kMaxExposure))
    throw Error("exposure must be 0 (automatic) or a brightness up to 0.98, got " + std::to_string(params.exposure));
}

DeviceKind to_device_kind(DeviceChoice choice) {
  switch (choice) {
    case DeviceChoice::CPU:
      return DeviceKind::CPU;
    case DeviceChoice::CUDA:
      return DeviceKind::CUDA;
    case DeviceChoice::Auto:
      break;
  }
  return DeviceKind::Auto;
}

DeviceChoice device_choice_from_int(int32_t value) {
  if (value < 0 || value > 2)
    throw Error("device must be 0 (automatic), 1 (CPU) or 2 (CUDA), got " + std::to_string(value));
  return static_cast<DeviceChoice>(value);
}

const char* device_label(DeviceChoice choice) {
  switch (choice) {
    case DeviceChoice::CPU:
      return "CPU";
    case DeviceChoice::CUDA:
      return "CUDA";
    case DeviceChoice::Auto:
      break;
  }
  return "Automatic";
}

EnhanceSettings engine_settings(const Params& params) {
  EnhanceSettings settings = default_enhance_settings();
  settings.strength = static_cast<float>(params.strength);
  settings.device = to_device_kind(params.device);
  settings.tile = params.tile;
  // A slider from 0 to 0.98: its first steps, too dark to be meant, are still "automatic".
  settings.exposure = params.exposure < kMinExposure ? 0.0f : static_cast<float>(params.exposure);
  return settings;
}

SavedParams to_saved(const Params& params) {
  SavedParams saved;
  std::memset(&saved, 0, sizeof saved);
  saved.version = kSavedVersion;
  saved.device = static_cast<int32_t>(params.device);
  saved.tile = params.tile;
  saved.strength = params.strength;
  saved.exposure = params.exposure;
  if (params.model.size() < sizeof saved.model) std::memcpy(saved.model, params.model.data(), params.model.size());
  else std::strcpy(saved.model, "default");
  return saved;
}

bool from_saved(const SavedParams& saved, Params* params) {
  if (saved.version != kSavedVersion) return false;
  if (std::memchr(saved.model, '\0', sizeof saved.model) == nullptr) return false;
  Params candidate;
  candidate.strength = saved.strength;
  candidate.model = saved.model;
  candidate.tile = saved.tile;
  candidate.exposure = saved.exposure;
  try {
    candidate.device = device_choice_from_int(saved.device);
    validate(candidate);
  } catch (const Error&) {
    return false;
  }
  *params = candidate;
  return true;
}

}  // namespace lowlight::plugin
