#pragma once
// Internal: the EXIF block and ICC profile of image files (image_metadata.cpp). Read from the places the header
// walk found (image_header.h), put back into freshly encoded files, EXIF orientation applied to the pixels.
// Every length and offset is a user's, checked against the bytes before anything is copied or allocated; a
// bad block is dropped (the image still reads, as in viewers), never an error.
#include <cstdint>
#include <vector>

#include "image_header.h"
#include "lowlight/image.h"

namespace lowlight::codec {

// The largest ICC profile kept: what a JPEG can carry (255 APP2 segments of 65519 bytes). A PNG's compressed
// profile is inflated no further than this.
constexpr size_t kMaxIccBytes = 255 * 65519;

// A file's metadata and its EXIF orientation (1..8; 1 when absent or invalid). The EXIF kept already says 1.
struct FileMetadata {
  ImageMetadata kept;
  int orientation = 1;
};
FileMetadata read_metadata(const uint8_t* data, size_t size, const Header& header);

// The EXIF Orientation tag of a TIFF-structured block (1 when absent or not 1..8), and setting it to 1 in place.
int exif_orientation(const std::vector<uint8_t>& exif);
void reset_exif_orientation(std::vector<uint8_t>& exif);

// The pixels as viewers show a file with that EXIF orientation (5 to 8 swap width and height).
Image apply_orientation(Image image, int orientation);

// `encoded`, a file of `format` as OpenCV or libpng wrote it, with the EXIF block (Orientation set to 1) and
// the ICC profile added where the format has room for them (JPEG: EXIF up to 65527 bytes).
std::vector<uint8_t> embed_metadata(std::vector<uint8_t> encoded, Format format, const ImageMetadata& metadata);

}  // namespace lowlight::codec
