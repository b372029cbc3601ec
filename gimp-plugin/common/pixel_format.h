#pragma once
// Which pixel formats the filter reads and writes a drawable in. Shared by every GIMP version: both hand
// out drawables as GeglBuffers with a Babl format.
#include <babl/babl.h>

namespace lowlight::plugin {

struct PixelLayout {
  const Babl* native = nullptr;   // the drawable's own format (any precision, linear or perceptual)
  const Babl* work = nullptr;     // what the model sees: perceptual float without alpha, in the native space
  int work_channels = 0;          // 1 (gray) or 3 (RGB)
  int native_bpp = 0;             // bytes per native pixel
  bool has_alpha = false;
  int alpha_offset = 0;           // byte offset of alpha inside a native pixel (alpha comes last)
  int alpha_bytes = 0;
};

// Throws lowlight::Error for formats the filter does not handle (indexed, unknown component counts).
PixelLayout pixel_layout(const Babl* native);

// 8-bit perceptual format with the native channel count (what GIMP's preview widgets draw).
const Babl* preview_format(const Babl* native);

// Coverage of a selection mask as read for blending (linear: coverage is not a colour).
const Babl* mask_format();

}  // namespace lowlight::plugin
