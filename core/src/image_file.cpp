// Image files. Files are decoded from memory (so the checks we make on the file are the checks on the bytes
// we decode; the codecs are in image_codec.cpp) and written atomically (temp file beside the target, fsync,
// rename). Part of lowlight_image_io, which needs OpenCV: builds without it leave these functions out.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "image_codec.h"
#include "image_header.h"
#include "lowlight/atomic_file.h"
#include "lowlight/error.h"
#include "lowlight/image.h"
#include "pixels.h"

namespace fs = std::filesystem;

namespace lowlight {

namespace {

// Whole file into memory; the size is checked before allocating (imdecode takes an int-sized buffer).
std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw Error(path + ": no such file");
  if (fs::is_directory(st)) throw Error(path + ": is a directory, not an image file");
  if (!fs::is_regular_file(st)) throw Error(path + ": not a regular file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open for reading (" + std::strerror(errno) + ")");
  struct stat info {};
  if (::fstat(fd, &info) != 0 || info.st_size < 0) {
    ::close(fd);
    throw Error(path + ": cannot determine file size");
  }
  if (info.st_size == 0) {
    ::close(fd);
    throw Error(path + ": empty file, not an image");
  }
  if (info.st_size > std::numeric_limits<int>::max()) {
    ::close(fd);
    throw Error(path + ": file of " + std::to_string(info.st_size) + " bytes is too large (limit 2 GiB)");
  }
  std::vector<uint8_t> data(static_cast<size_t>(info.st_size));
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::read(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : 0;
      ::close(fd);
      throw Error(path + ": read failed" + (err ? std::string(" (") + std::strerror(err) + ")" : " (file shrank)"));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return data;
}

std::string lower_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

}  // namespace

codec::Format codec::format_for(const std::string& path) {
  const std::string ext = lower_extension(path);
  if (ext == ".png") return Format::Png;
  if (ext == ".jpg" || ext == ".jpeg") return Format::Jpeg;
  if (ext == ".tif" || ext == ".tiff") return Format::Tiff;
  if (ext == ".webp") return Format::Webp;
  throw Error(path + ": unknown image extension '" + ext + "' (expected .png, .jpg, .jpeg, .tif, .tiff or .webp)");
}

namespace {

std::string megapixels(int64_t pixels) {
  char text[32];
  const double mp = static_cast<double>(pixels) / 1e6;
  std::snprintf(text, sizeof text, mp >= 1 ? "%.1f" : "%.3g", mp);
  return text;
}

// The checks made on the header before anything is decoded (image_header.h reads it).
codec::Header checked_header(const uint8_t* data, size_t size, const std::string& path, int64_t max_pixels) {
  if (max_pixels < 1 || max_pixels > kMaxPixelLimit)
    throw Error("pixel limit " + std::to_string(max_pixels) + " is outside 1.." + std::to_string(kMaxPixelLimit));
  const codec::Header h = codec::read_header(data, size, path);
  const std::string dims = std::to_string(h.width) + "x" + std::to_string(h.height);
  if (h.width < 1 || h.height < 1) throw Error(path + ": image size " + dims + " is empty");
  // OpenCV refuses sides above 2^20 (CV_IO_MAX_IMAGE_WIDTH) with a multi-line assertion; say it in one.
  if (h.width > (1 << 20) || h.height > (1 << 20))
    throw Error(path + ": image size " + dims + " has a side above 1048576 pixels, more than can be decoded");
  if (h.width * h.height > max_pixels)
    throw Error(path + ": image size " + dims + " is " + megapixels(h.width * h.height) +
                " megapixels, more than the limit of " + megapixels(max_pixels) + " (raise it with --max-megapixels)");
  if (h.format == codec::Format::Tiff && h.pages > 1)
    throw Error(path + ": multi-page TIFF (" + std::to_string(h.pages) +
                " pages); only single images are read: split it first (e.g. tiffsplit) and enhance each page");
  if (h.format == codec::Format::Webp && h.pages > 1)
    throw Error(path + ": animated WebP; only still images are read");
  return h;
}

// OpenCV expands gray+alpha to RGBA with equal colour channels; back to gray+alpha, so that it is enhanced
// and written as gray (the colour channels would drift apart in the model) with its alpha as it was.
Image to_gray_alpha(Image rgba) {
  if (rgba.channels != 4) return rgba;
  Image out(rgba.width, rgba.height, 2, rgba.type);
  out.metadata = std::move(rgba.metadata);
  const size_t sample = sample_size(rgba.type), pixels = static_cast<size_t>(rgba.width) * rgba.height;
  for (size_t i = 0; i < pixels; ++i) {
    std::memcpy(&out.bytes[(2 * i) * sample], &rgba.bytes[(4 * i) * sample], sample);
    std::memcpy(&out.bytes[(2 * i + 1) * sample], &rgba.bytes[(4 * i + 3) * sample], sample);
  }
  return out;
}

}  // namespace

Image decode_image(const uint8_t* data, size_t size, const std::string& name, int64_t max_pixels) {
  if (size > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw Error(name + ": " + std::to_string(size) + " bytes is too large (limit 2 GiB)");
  const codec::Header header = checked_header(data, size, name, max_pixels);
  Image image = codec::decode(data, size, name);
  // OpenCV reads a gray+alpha TIFF as plain gray: refused rather than losing the alpha unnoticed.
  if (header.gray_alpha && image.channels == 1)
    throw Error(name + ": gray+alpha TIFF, whose alpha OpenCV cannot read; save it as PNG or as RGBA TIFF");
  return header.gray_alpha ? to_gray_alpha(std::move(image)) : image;
}

Image read_image(const std::string& path, int64_t max_pixels) {
  const std::vector<uint8_t> data = read_file_bytes(path);
  return decode_image(data.data(), data.size(), path, max_pixels);
}

void check_image_file(const std::string& path, int64_t max_pixels) {
  const std::vector<uint8_t> data = read_file_bytes(path);
  checked_header(data.data(), data.size(), path, max_pixels);
}

void write_image(const std::string& path, const ConstImageView& image, Overwrite overwrite,
                 const ImageMetadata& metadata) {
  codec::format_for(path);  // an unknown extension fails before anything is touched
  pixels::validate_view(image, path.c_str());
  const std::vector<uint8_t> bytes = codec::encode(image, path, metadata);
  write_file_atomic(path, {{bytes.data(), bytes.size()}}, overwrite);
}

}  // namespace lowlight
