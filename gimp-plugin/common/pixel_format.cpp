#include "pixel_format.h"

#include <string>

#include "lowlight/error.h"

namespace lowlight::plugin {
namespace {

// The model was trained on sRGB-encoded 8-bit photos, so it gets perceptual (gamma-encoded) values
// whatever the layer stores; babl converts from linear or integer storage exactly as GIMP would.
const Babl* with_space(const char* name, const Babl* native) {
  return babl_format_with_space(name, babl_format_get_space(native));
}

bool is_gray(const Babl* native) {
  const int components = babl_format_get_n_components(native);
  const bool alpha = babl_format_has_alpha(native);
  return components - (alpha ? 1 : 0) == 1;
}

}  // namespace

PixelLayout pixel_layout(const Babl* native) {
  if (!native) throw Error("the drawable has no pixel format");
  if (babl_format_is_palette(native)) throw Error("indexed layers are not supported (convert the image to RGB first)");
  const int components = babl_format_get_n_components(native);
  PixelLayout layout;
  layout.native = native;
  layout.has_alpha = babl_format_has_alpha(native) != 0;
  const int colour = components - (layout.has_alpha ? 1 : 0);
  if (colour != 1 && colour != 3)
    throw Error(std::string("unsupported pixel format ") + babl_get_name(native) + " (" + std::to_string(components) +
                " components; expected gray or RGB, with or without alpha)");
  layout.work_channels = colour;
  layout.work = with_space(colour == 1 ? "Y' float" : "R'G'B' float", native);
  layout.native_bpp = babl_format_get_bytes_per_pixel(native);
  if (layout.has_alpha) {
    // GIMP's layer formats have one sample type for all components, alpha last.
    layout.alpha_bytes = layout.native_bpp / components;
    layout.alpha_offset = layout.native_bpp - layout.alpha_bytes;
  }
  return layout;
}

const Babl* preview_format(const Babl* native) {
  const bool alpha = babl_format_has_alpha(native) != 0;
  if (is_gray(native)) return with_space(alpha ? "Y'A u8" : "Y' u8", native);
  return with_space(alpha ? "R'G'B'A u8" : "R'G'B' u8", native);
}

const Babl* mask_format() { return babl_format("Y float"); }

}  // namespace lowlight::plugin
