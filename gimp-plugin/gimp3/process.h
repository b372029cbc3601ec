#pragma once
// The GIMP 3 calls the shared filter steps (common/apply.h) need (drawable, buffers, selection, shadow, merge,
// progress), and the procedure's config as the shared Params.
#include <libgimp/gimp.h>

#include <string>
#include <vector>

#include "../common/params.h"

namespace lowlight::plugin::gimp3 {

// The device argument's choice nicks, in DeviceChoice order (0 auto, 1 CPU, 2 CUDA).
constexpr const char* kDeviceNicks[] = {"auto", "cpu", "cuda"};

// The procedure's arguments (strength, model, device, tile-size) as the shared Params; throws
// lowlight::Error for values out of range.
Params params_from_config(GimpProcedureConfig* config);

// The folders models are looked up in for this GIMP (plug-in folder, system data, the user's profile).
std::vector<std::string> search_dirs();

// Enhances `drawable` (its selected part) as one undo step. Returns false when there was nothing to do
// because the selection misses the layer. Throws lowlight::Error (or std::exception) on failure, with the
// layer unchanged.
bool process_drawable(GimpDrawable* drawable, const Params& params);

}  // namespace lowlight::plugin::gimp3
