#pragma once
// Interleaved pixel buffers as the engine, metrics and front ends exchange them. Light header.
#include <cstddef>
#include <cstdint>
#include <string>

#include "lowlight/atomic_file.h"
#include <vector>

namespace lowlight {

enum class SampleType { U8, U16, F32 };

size_t sample_size(SampleType type);
const char* sample_type_name(SampleType type);

// A view of someone else's pixels: width x height x channels samples, channels interleaved
// (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA). F32 samples are nominally in [0,1].
struct ImageView {
  void* data = nullptr;
  int width = 0;
  int height = 0;
  int channels = 0;
  SampleType type = SampleType::U8;
  size_t row_stride = 0;  // bytes between rows; 0 means width * channels * sample_size(type)

  size_t stride() const;
  bool has_alpha() const { return channels == 2 || channels == 4; }
};

// An owned image.
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  SampleType type = SampleType::U8;
  std::vector<uint8_t> bytes;

  Image() = default;
  Image(int width, int height, int channels, SampleType type);
  ImageView view();
  ImageView view() const;  // callers must not write through it
};

// Reads PNG, JPEG, TIFF, WebP (anything OpenCV decodes), 8 or 16 bit (32-bit float TIFF as F32),
// with alpha, channels in RGB(A) order. Throws lowlight::Error for a missing, unreadable or
// unsupported file.
Image read_image(const std::string& path);

// Encodes by the extension of `path` (JPEG: 8-bit, alpha dropped; F32 is written as 16-bit where the
// format allows, else 8-bit) into a temporary file beside it and renames it into place, so `path` is
// either untouched or complete. Gray+alpha is stored as RGBA (JPEG: gray); WebP is written lossless.
void write_image(const std::string& path, const ImageView& image, Overwrite overwrite = Overwrite::Yes);

// Float copy in [0,1] (u8 / 255, u16 / 65535).
Image to_float(const ImageView& image);

}  // namespace lowlight
