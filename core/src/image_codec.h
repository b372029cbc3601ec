#pragma once
// Internal: image file formats, and encoding and decoding their bytes (image_codec.cpp through OpenCV; all of
// lowlight_image_io, which builds without OpenCV leave out).
#include <cstdint>
#include <string>
#include <vector>

#include "lowlight/image.h"

namespace lowlight::codec {

enum class Format { Png, Jpeg, Tiff, Webp };

// From the file name's extension (image.cpp); throws lowlight::Error naming the extensions it knows.
Format format_for(const std::string& path);

// `image` is a checked view; the format comes from `path`, which only names the file in errors otherwise.
// `metadata` goes into the file (image_metadata.h); decode returns the file's, the pixels turned upright.
std::vector<uint8_t> encode(const ConstImageView& image, const std::string& path, const ImageMetadata& metadata = {});
Image decode(const uint8_t* data, size_t size, const std::string& path);

}  // namespace lowlight::codec
