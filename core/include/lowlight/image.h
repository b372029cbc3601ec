#pragma once
// Interleaved pixel buffers as the engine, metrics and front ends exchange them. Light header.
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "lowlight/atomic_file.h"
#include <vector>

namespace lowlight {

enum class SampleType { U8, U16, F32 };

size_t sample_size(SampleType type);
const char* sample_type_name(SampleType type);

// A view of someone else's pixels: width x height x channels samples, channels interleaved
// (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA). F32 samples are nominally in [0,1]. Two kinds: ImageView writes
// the pixels, ConstImageView only reads them (what a const Image gives and what every function that only
// reads takes); an ImageView passes wherever a ConstImageView is asked for.
template <typename Void>  // void or const void
struct BasicImageView {
  Void* data = nullptr;
  int width = 0;
  int height = 0;
  int channels = 0;
  SampleType type = SampleType::U8;
  size_t row_stride = 0;  // bytes between rows; 0 means width * channels * sample_size(type)

  size_t stride() const {
    return row_stride ? row_stride : static_cast<size_t>(width) * channels * sample_size(type);
  }
  bool has_alpha() const { return channels == 2 || channels == 4; }
  template <typename V = Void, typename = std::enable_if_t<!std::is_const_v<V>>>
  operator BasicImageView<const V>() const {
    return {data, width, height, channels, type, row_stride};
  }
};
using ImageView = BasicImageView<void>;
using ConstImageView = BasicImageView<const void>;

// What a file says about its pixels beyond them, kept from an input to its output (write_image). Where read_image
// found them: JPEG APP1/APP2, PNG eXIf/iCCP, WebP EXIF/ICCP, TIFF's EXIF and GPS directories and tag 34675.
struct ImageMetadata {
  std::vector<uint8_t> exif;  // TIFF-structured ("II*\0" or "MM\0*" first); Orientation 1: the pixels were turned upright
  std::vector<uint8_t> icc;   // the ICC colour profile, as stored
  bool empty() const { return exif.empty() && icc.empty(); }
};

// An owned image.
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  SampleType type = SampleType::U8;
  std::vector<uint8_t> bytes;
  ImageMetadata metadata;  // read_image's; empty otherwise

  Image() = default;
  Image(int width, int height, int channels, SampleType type);
  ImageView view();
  ConstImageView view() const;
};

// ---- Image files: defined in lowlight_image_io (CMake target lowlight::image_io), which needs OpenCV; a build
// without OpenCV has no such target, and code calling these does not link. The constants are for every build.

// The most pixels read_image decodes unless told otherwise: room for a 200-megapixel panorama. A larger file
// is refused from its header, before memory is spent on it (a 775 KB PNG can declare 16000x16000 pixels).
constexpr int64_t kDefaultMaxPixels = 220'000'000;
// The highest limit accepted: OpenCV's own ceiling (CV_IO_MAX_IMAGE_PIXELS), which it enforces anyway.
constexpr int64_t kMaxPixelLimit = int64_t(1) << 30;

// Reads PNG, JPEG, TIFF or WebP, 8 or 16 bit (32-bit float TIFF as F32), gray, gray+alpha, RGB or RGBA,
// channels in RGB(A) order, turned as its EXIF orientation says (as viewers show it), with its metadata.
// Throws lowlight::Error for a missing, unreadable or unsupported file, and, from the header before decoding:
// more than `max_pixels` pixels, a truncated PNG or JPEG, a multi-page TIFF, an animated WebP.
Image read_image(const std::string& path, int64_t max_pixels = kDefaultMaxPixels);
// The same from a file's bytes already in memory; `name` names them in errors.
Image decode_image(const uint8_t* data, size_t size, const std::string& name, int64_t max_pixels = kDefaultMaxPixels);

// The header checks of read_image alone, without decoding (front ends run them on every input before they
// load a model). Throws lowlight::Error as read_image would.
void check_image_file(const std::string& path, int64_t max_pixels = kDefaultMaxPixels);

// Encodes by the extension of `path` (JPEG: 8-bit, alpha dropped; F32 is written as 16-bit where the
// format allows, else 8-bit) into a temporary file beside it and renames it into place, so `path` is
// either untouched or complete. Gray+alpha stays gray+alpha in PNG; TIFF and WebP store it as RGBA with
// equal colour channels, JPEG as gray. WebP is written lossless. `metadata` (an input's, from read_image) is
// written along: the EXIF block with its Orientation set to 1, and the ICC profile (JPEG: EXIF up to 64 KB).
void write_image(const std::string& path, const ConstImageView& image, Overwrite overwrite = Overwrite::Yes,
                 const ImageMetadata& metadata = {});

// Float copy in [0,1] (u8 / 255, u16 / 65535).
Image to_float(const ConstImageView& image);

}  // namespace lowlight
