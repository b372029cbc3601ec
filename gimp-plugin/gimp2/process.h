#pragma once
// The GIMP 2.10 calls the shared filter steps (common/apply.h) need: drawable, buffers, selection, shadow,
// merge, progress.
#include <libgimp/gimp.h>

#include <string>
#include <vector>

#include "../common/params.h"

namespace lowlight::plugin::gimp2 {

// The folders models are looked up in for this GIMP (plug-in folder, system data, the user's profile).
std::vector<std::string> search_dirs();

// Enhances `drawable` (its selected part) as one undo step. Returns false when there was nothing to do
// because the selection misses the layer. Throws lowlight::Error (or std::exception) on failure, with the
// layer unchanged.
bool process_drawable(gint32 drawable, const Params& params);

}  // namespace lowlight::plugin::gimp2
