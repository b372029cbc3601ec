// Pixel buffers in memory. Image files are read and written in image_file.cpp (lowlight_image_io).
#include "lowlight/image.h"

#include <cstring>
#include <limits>
#include <string>

#include "lowlight/error.h"

namespace lowlight {

size_t sample_size(SampleType type) {
  switch (type) {
    case SampleType::U8: return 1;
    case SampleType::U16: return 2;
    case SampleType::F32: return 4;
  }
  throw Error("unknown sample type " + std::to_string(static_cast<int>(type)));
}

const char* sample_type_name(SampleType type) {
  switch (type) {
    case SampleType::U8: return "u8";
    case SampleType::U16: return "u16";
    case SampleType::F32: return "f32";
  }
  return "unknown";
}

Image::Image(int width_, int height_, int channels_, SampleType type_)
    : width(width_), height(height_), channels(channels_), type(type_) {
  if (width < 0 || height < 0) {
    throw Error("image size " + std::to_string(width) + "x" + std::to_string(height) + " is negative");
  }
  if (channels < 1 || channels > 4) {
    throw Error("image channels must be 1 to 4, found " + std::to_string(channels));
  }
  // Overflow guard before allocating: w * h * c * sample must fit in size_t.
  const double total = static_cast<double>(width) * height * channels * sample_size(type);
  if (total > static_cast<double>(std::numeric_limits<size_t>::max() / 2)) {
    throw Error("image " + std::to_string(width) + "x" + std::to_string(height) + " is too large");
  }
  bytes.assign(static_cast<size_t>(width) * height * channels * sample_size(type), 0);
}

ImageView Image::view() {
  return ImageView{bytes.data(), width, height, channels, type, 0};
}

ConstImageView Image::view() const {
  return ConstImageView{bytes.data(), width, height, channels, type, 0};
}

namespace {

void check_view(const ConstImageView& image, const std::string& what) {
  if (!image.data) throw Error(what + ": image has no pixel data");
  if (image.width <= 0 || image.height <= 0) {
    throw Error(what + ": image size " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                " is empty");
  }
  if (image.channels < 1 || image.channels > 4) {
    throw Error(what + ": image channels must be 1 to 4, found " + std::to_string(image.channels));
  }
  const size_t row = static_cast<size_t>(image.width) * image.channels * sample_size(image.type);
  if (image.stride() < row) {
    throw Error(what + ": row stride " + std::to_string(image.stride()) + " is smaller than a row (" +
                std::to_string(row) + " bytes)");
  }
}

}  // namespace

Image to_float(const ConstImageView& image) {
  check_view(image, "to_float");
  Image out(image.width, image.height, image.channels, SampleType::F32);
  const size_t n = static_cast<size_t>(image.width) * image.channels;
  auto* dst = reinterpret_cast<float*>(out.bytes.data());
  for (int y = 0; y < image.height; ++y) {
    const auto* row = static_cast<const uint8_t*>(image.data) + y * image.stride();
    float* d = dst + y * n;
    switch (image.type) {
      case SampleType::U8:
        for (size_t i = 0; i < n; ++i) d[i] = row[i] / 255.0f;
        break;
      case SampleType::U16: {
        const auto* s = reinterpret_cast<const uint16_t*>(row);
        for (size_t i = 0; i < n; ++i) d[i] = s[i] / 65535.0f;
        break;
      }
      case SampleType::F32:
        std::memcpy(d, row, n * sizeof(float));
        break;
    }
  }
  return out;
}

}  // namespace lowlight
