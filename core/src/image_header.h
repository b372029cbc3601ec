#pragma once
// Internal: what an image file's own structure says before any pixel is decoded (image_header.cpp). No codec
// library is involved, so the checks run before any decoder sees the bytes, hostile ones too (tests/fuzz/).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "image_codec.h"

namespace lowlight::codec {

// Bounds-checked integer reads from a user's bytes; `big` selects big-endian byte order.
struct Bytes {
  const uint8_t* data;
  size_t size;
  bool big = true;

  bool has(uint64_t pos, uint64_t n) const { return pos <= size && n <= size - pos; }
  uint64_t read(uint64_t pos, int n) const {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(data[pos + i]) << (8 * (big ? n - 1 - i : i));
    return v;
  }
  bool is(uint64_t pos, const char* text) const {
    const size_t n = std::strlen(text);
    return has(pos, n) && std::memcmp(data + pos, text, n) == 0;
  }
};

// Where a metadata block lies in the file: inside it, nothing more is known yet (image_metadata.cpp checks).
struct Span {
  uint64_t offset = 0;
  uint64_t size = 0;
};
struct IccPart {
  int seq = 1, count = 1;  // a JPEG profile comes in numbered APP2 segments; other formats have one part
  Span span;
};

struct Header {
  Format format = Format::Png;
  int64_t width = 0;
  int64_t height = 0;
  int pages = 1;            // TIFF: full-resolution images (reduced-resolution ones not counted); WebP: 2 if animated
  bool gray_alpha = false;  // PNG colour type 4, TIFF with two samples (gray and alpha)
  // Metadata met on the walk: a TIFF-structured EXIF block (JPEG APP1 "Exif", PNG eXIf, WebP EXIF); the ICC
  // profile's parts (JPEG APP2 "ICC_PROFILE", PNG iCCP's zlib stream, WebP ICCP, TIFF tag 34675).
  Span exif;
  std::vector<IccPart> icc;
  bool icc_deflated = false;  // PNG
  // TIFF: the first directory (its Orientation, EXIF and GPS directories) and where Orientation's value lies.
  uint64_t tiff_ifd0 = 0;
  uint64_t tiff_orientation_at = 0;
  int tiff_orientation = 1;
};

// Recognises PNG, JPEG, TIFF and WebP by their magic bytes and walks their structure as far as needed for
// the size and completeness: a PNG must reach its IEND chunk, a JPEG its end-of-image marker (through every
// segment and scan), a TIFF's directories must lie inside the file, a WebP's RIFF size must fit. Throws
// lowlight::Error naming `path` for anything else: another format, a truncated or corrupt header.
// Metadata blocks are only located (and only where they lie inside the file); a bad one is never an error.
Header read_header(const uint8_t* data, size_t size, const std::string& path);

}  // namespace lowlight::codec
