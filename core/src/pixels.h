#pragma once
// Internal: row-wise conversion between interleaved image samples and the engine's float RGB.
#include "lowlight/image.h"

namespace lowlight::pixels {

// Throws lowlight::Error unless `image` is a usable 1..4 channel buffer; `what` names it in the message.
void validate_view(const ConstImageView& image, const char* what);

// Reads `count` pixels of row `y` from column `x0` as RGB floats clamped to [0,1] (gray is replicated,
// alpha dropped; NaN reads as 0).
void read_rgb(const ConstImageView& in, int y, int x0, int count, float* rgb);

// Writes row `y` of `out`: colour = in + strength * (enhanced - in), clamped to [0,1], where
// `enhanced` is one RGB float triple per pixel of the row. A gray output gets the Rec. 601 luma of
// the enhanced colour. Alpha is copied bit-identical when the sample types agree, else converted.
void write_blended(const ConstImageView& in, const ImageView& out, int y, const float* enhanced, float strength);

// Copies row `y` of `in` into `out`: bytes as they are when the sample types agree, else each sample
// converted in double precision (u8 -> u16 is x * 257 exactly, u8 -> f32 is x / 255).
void copy_row(const ConstImageView& in, const ImageView& out, int y);

}  // namespace lowlight::pixels
