#pragma once
// The filter's settings as every GIMP front end sees them: one plain struct, its defaults, checks and
// the fixed-size record GIMP stores as "last values". No GIMP or GEGL headers here.
#include <cstdint>
#include <string>

#include "lowlight/device.h"
#include "lowlight/engine.h"

namespace lowlight::plugin {

constexpr const char* kProcedureName = "plug-in-lowlight-enhance";
constexpr const char* kBinaryName = "lowlight-enhance";
constexpr const char* kMenuLabel = "Low-_Light Enhance...";
constexpr const char* kMenuPath = "<Image>/Filters/Enhance";
constexpr const char* kImageTypes = "RGB*, GRAY*";

// The PDB "device" parameter: 0 auto, 1 CPU, 2 CUDA.
enum class DeviceChoice : int32_t { Auto = 0, CPU = 1, CUDA = 2 };

struct Params {
  double strength = 1.0;          // 0 leaves the layer as is, 1 is the model's output
  std::string model = "default";  // a shipped model name, or a path to a .safetensors file
  DeviceChoice device = DeviceChoice::Auto;
  int32_t tile = 0;               // tile side in pixels, 0 = automatic
  double exposure = 0.0;          // the result's mean brightness up to 0.98; below 0.02 = the model's own (automatic)
};
constexpr double kMinExposure = 0.02, kMaxExposure = 0.98;
Params default_params();

// Throws lowlight::Error naming the first parameter out of range.
void validate(const Params& params);

DeviceKind to_device_kind(DeviceChoice choice);
DeviceChoice device_choice_from_int(int32_t value);  // throws for values other than 0, 1, 2
const char* device_label(DeviceChoice choice);        // "Automatic", "CPU", "CUDA"

// Engine settings for these parameters: the same the CLI uses for the same options, strength included
// (the engine blends before it clamps, so strength cannot be applied afterwards without changing results).
EnhanceSettings engine_settings(const Params& params);

// What gimp_set_data / gimp_get_data store: a fixed-size record (a model path longer than the buffer
// is not remembered, the rest is).
struct SavedParams {
  uint32_t version;
  int32_t device;
  int32_t tile;
  double strength;
  double exposure;
  char model[1024];
};
SavedParams to_saved(const Params& params);
// Returns false (leaving `params` as it was) when the record is from another version or invalid.
bool from_saved(const SavedParams& saved, Params* params);

}  // namespace lowlight::plugin
