// Image bytes to pixels and back through OpenCV (lowlight_image_io; builds without OpenCV leave it out).
#include <png.h>

#include <algorithm>
#include <cctype>
#include <csetjmp>
#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "image_codec.h"
#include "image_metadata.h"
#include "lowlight/error.h"

namespace lowlight::codec {
namespace {

// OpenCV's messages span lines (source file, assertion, function); errors here are one line.
std::string first_line(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  return line;
}

std::string depth_name(int depth) {
  switch (depth) {
    case CV_8U: return "8-bit unsigned";
    case CV_8S: return "8-bit signed";
    case CV_16U: return "16-bit unsigned";
    case CV_16S: return "16-bit signed";
    case CV_32S: return "32-bit signed integer";
    case CV_32F: return "32-bit float";
    case CV_64F: return "64-bit float";
    case CV_16F: return "16-bit float";
    default: return "depth " + std::to_string(depth);
  }
}

SampleType sample_type_for(const cv::Mat& mat, const std::string& path) {
  switch (mat.depth()) {
    case CV_8U: return SampleType::U8;
    case CV_16U: return SampleType::U16;
    case CV_32F: return SampleType::F32;
    default:
      throw Error(path + ": unsupported sample depth " + depth_name(mat.depth()) +
                  " (expected 8-bit, 16-bit unsigned or 32-bit float)");
  }
}

int cv_depth(SampleType type) {
  switch (type) {
    case SampleType::U8: return CV_8U;
    case SampleType::U16: return CV_16U;
    case SampleType::F32: return CV_32F;
  }
  throw Error("unknown sample type");
}

// Wraps a view as a cv::Mat without copying (the Mat must not outlive the view). cv::Mat has no read-only
// form: the encoder only reads it.
cv::Mat as_mat(const ConstImageView& image) {
  return cv::Mat(image.height, image.width, CV_MAKETYPE(cv_depth(image.type), image.channels),
                 const_cast<void*>(image.data), image.stride());
}

// Converts samples to the depth a format stores: 8-bit for JPEG/WebP, 8 or 16-bit for PNG/TIFF
// (float goes to 16-bit: it keeps more than 8 bits and every reader opens it).
cv::Mat to_storage_depth(const cv::Mat& src, bool allow16) {
  const int depth = src.depth();
  cv::Mat out;
  if (depth == CV_8U || (depth == CV_16U && allow16)) return src;
  if (depth == CV_16U) {
    src.convertTo(out, CV_8U, 1.0 / 257.0);  // rounds to nearest, 65535 -> 255
    return out;
  }
  // Float: clip to [0,1] (NaN -> 0) and scale with rounding; convertTo saturates.
  cv::Mat clean = src.clone();
  cv::patchNaNs(clean, 0.0);
  clean.convertTo(out, allow16 ? CV_16U : CV_8U, allow16 ? 65535.0 : 255.0);
  return out;
}

// Interleaved RGB(A)/gray(+alpha) to the channel layout OpenCV encoders expect (BGR(A) or gray).
cv::Mat to_encoder_layout(const cv::Mat& src, Format format) {
  cv::Mat out;
  const int channels = src.channels();
  const bool keep_alpha = format != Format::Jpeg;
  if (channels == 1) return src;
  if (channels == 2) {
    std::vector<cv::Mat> planes;
    cv::split(src, planes);
    if (!keep_alpha) return planes[0];
    cv::merge(std::vector<cv::Mat>{planes[0], planes[0], planes[0], planes[1]}, out);
    return out;
  }
  if (channels == 3) {
    cv::cvtColor(src, out, cv::COLOR_RGB2BGR);
    return out;
  }
  cv::cvtColor(src, out, keep_alpha ? cv::COLOR_RGBA2BGRA : cv::COLOR_RGBA2BGR);
  return out;
}

// libpng's error callback: the message is kept for the exception thrown once control is back in C++.
struct PngSink {
  std::vector<uint8_t> bytes;
  std::string error;
};

extern "C" void png_append(png_structp png, png_bytep data, png_size_t size) {
  auto* sink = static_cast<PngSink*>(png_get_io_ptr(png));
  sink->bytes.insert(sink->bytes.end(), data, data + size);
}
extern "C" void png_fail(png_structp png, png_const_charp message) {
  static_cast<PngSink*>(png_get_error_ptr(png))->error = message;
  png_longjmp(png, 1);
}
extern "C" void png_quiet(png_structp, png_const_charp) {}

// OpenCV's PNG encoder writes gray, RGB and RGBA only; gray+alpha (8 or 16-bit, two channels) goes through
// libpng itself, so that a gray+alpha image stays one.
std::vector<uint8_t> encode_png_gray_alpha(const cv::Mat& ga, const std::string& path) {
  PngSink sink;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, png_fail, png_quiet);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    throw Error(path + ": encoding failed: out of memory");
  }
  if (setjmp(png_jmpbuf(png))) {  // no C++ object is made or destroyed between here and the longjmp
    png_destroy_write_struct(&png, &info);
    throw Error(path + ": encoding failed: libpng: " + sink.error);
  }
  png_set_write_fn(png, &sink, png_append, nullptr);
  const int depth = ga.depth() == CV_16U ? 16 : 8;
  png_set_IHDR(png, info, ga.cols, ga.rows, depth, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 3);
  png_write_info(png, info);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (depth == 16) png_set_swap(png);  // PNG stores 16-bit samples big-endian
#endif
  for (int y = 0; y < ga.rows; ++y) png_write_row(png, const_cast<png_bytep>(ga.ptr(y)));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return std::move(sink.bytes);
}

}  // namespace

std::vector<uint8_t> encode(const ConstImageView& image, const std::string& path, const ImageMetadata& metadata) {
  const Format format = format_for(path);
  const bool allow16 = format == Format::Png || format == Format::Tiff;
  std::vector<int> params;
  std::string ext = ".png";
  switch (format) {
    case Format::Png: ext = ".png"; params = {cv::IMWRITE_PNG_COMPRESSION, 3}; break;
    case Format::Jpeg: ext = ".jpg"; params = {cv::IMWRITE_JPEG_QUALITY, 95}; break;
    case Format::Tiff: ext = ".tiff"; break;
    // Quality above 100 selects lossless WebP: the data set is lossless WebP and outputs should not lose more.
    case Format::Webp: ext = ".webp"; params = {cv::IMWRITE_WEBP_QUALITY, 101}; break;
  }
  std::vector<uint8_t> buffer;
  try {
    if (format == Format::Png && image.channels == 2)
      return embed_metadata(encode_png_gray_alpha(to_storage_depth(as_mat(image), true), path), format, metadata);
    const cv::Mat mat = to_encoder_layout(to_storage_depth(as_mat(image), allow16), format);
    if (!cv::imencode(ext, mat, buffer, params) || buffer.empty()) {
      throw Error(path + ": OpenCV could not encode a " + std::to_string(image.width) + "x" +
                  std::to_string(image.height) + " " + sample_type_name(image.type) + " image as " + ext);
    }
  } catch (const cv::Exception& e) {
    throw Error(path + ": encoding failed: " + first_line(e.what()));
  }
  return embed_metadata(std::move(buffer), format, metadata);
}

namespace {

Image from_decoded(const cv::Mat& decoded, const std::string& path) {
  const SampleType type = sample_type_for(decoded, path);
  cv::Mat rgb;
  switch (decoded.channels()) {
    case 1: rgb = decoded; break;
    case 2: rgb = decoded; break;  // gray + alpha
    case 3: cv::cvtColor(decoded, rgb, cv::COLOR_BGR2RGB); break;
    case 4: cv::cvtColor(decoded, rgb, cv::COLOR_BGRA2RGBA); break;
    default:
      throw Error(path + ": unsupported channel count " + std::to_string(decoded.channels()) +
                  " (expected 1 to 4)");
  }
  Image image(rgb.cols, rgb.rows, rgb.channels(), type);
  const size_t row = static_cast<size_t>(image.width) * image.channels * sample_size(type);
  for (int y = 0; y < rgb.rows; ++y) std::memcpy(image.bytes.data() + y * row, rgb.ptr(y), row);
  return image;
}

}  // namespace

Image decode(const uint8_t* data, size_t size, const std::string& path) {
  // read_image has checked the header (image_header.cpp): a known format, complete, within the pixel limit.
  // It is walked again here for the metadata's places.
  const Header header = read_header(data, size, path);
  FileMetadata metadata = read_metadata(data, size, header);
  // libtiff's RGBA reader (OpenCV's for 8-bit TIFF) makes the flips of some orientations itself, not the turns:
  // it is shown orientation 1, and the whole of it is applied below as for the other formats.
  std::vector<uint8_t> upright;
  if (header.tiff_orientation_at && header.tiff_orientation != 1) {
    upright.assign(data, data + size);
    const bool big = data[0] == 'M';
    upright[header.tiff_orientation_at + (big ? 0 : 1)] = 0;
    upright[header.tiff_orientation_at + (big ? 1 : 0)] = 1;
    data = upright.data();
  }
  cv::Mat decoded;
  try {
    const cv::Mat encoded(1, static_cast<int>(size), CV_8U, const_cast<uint8_t*>(data));
    decoded = cv::imdecode(encoded, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw Error(path + ": cannot decode image: " + first_line(e.what()));
  }
  if (decoded.empty()) {
    throw Error(path + ": not an image OpenCV can decode (unknown format or corrupt data)");
  }
  Image image = apply_orientation(from_decoded(decoded, path), metadata.orientation);
  image.metadata = std::move(metadata.kept);
  return image;
}

}  // namespace lowlight::codec
