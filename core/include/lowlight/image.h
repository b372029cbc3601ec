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

// The most pixels read_image decodes unless told otherwise: room for a 200-megapixel panorama. A larger file
// is refused from its header, before memory is spent on it (a 775 KB PNG can declare 16000x16000 pixels).
constexpr int64_t kDefaultMaxPixels = 220'000'000;
// The highest limit accepted: OpenCV's own ceiling (CV_IO_MAX_IMAGE_PIXELS), which it enforces anyway.
constexpr int64_t kMaxPixelLimit = int64_t(1) << 30;

// Reads PNG, JPEG, TIFF or WebP, 8 or 16 bit (32-bit float TIFF as F32), gray, gray+alpha, RGB or RGBA,
// channels in RGB(A) order. Throws lowlight::Error for a missing, unreadable or unsupported file, and, from
// the header before decoding: more than `max_pixels` pixels, a truncated PNG or JPEG, a multi-page TIFF,
// an animated WebP.
Image read_image(const std::string& path, int64_t max_pixels = kDefaultMaxPixels);
// The same from a file's bytes already in memory; `name` names them in errors.
Image decode_image(const uint8_t* data, size_t size, const std::string& name, int64_t max_pixels = kDefaultMaxPixels);

// The header checks of read_image alone, without decoding (front ends run them on every input before they
// load a model). Throws lowlight::Error as read_image would.
void check_image_file(const std::string& path, int64_t max_pixels = kDefaultMaxPixels);

// Encodes by the extension of `path` (JPEG: 8-bit, alpha dropped; F32 is written as 16-bit where the
// format allows, else 8-bit) into a temporary file beside it and renames it into place, so `path` is
// either untouched or complete. Gray+alpha stays gray+alpha in PNG; TIFF and WebP store it as RGBA with
// equal colour channels, JPEG as gray. WebP is written lossless.
void write_image(const std::string& path, const ImageView& image, Overwrite overwrite = Overwrite::Yes);

// Float copy in [0,1] (u8 / 255, u16 / 65535).
Image to_float(const ImageView& image);

}  // namespace lowlight
