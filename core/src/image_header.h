#pragma once
// Internal: what an image file's own structure says before any pixel is decoded (image_header.cpp). No codec
// library is involved, so the checks run in every build and on hostile bytes (tests/fuzz/).
#include <cstddef>
#include <cstdint>
#include <string>

#include "image_codec.h"

namespace lowlight::codec {

struct Header {
  Format format = Format::Png;
  int64_t width = 0;
  int64_t height = 0;
  int pages = 1;            // TIFF: full-resolution images (reduced-resolution ones not counted); WebP: 2 if animated
  bool gray_alpha = false;  // PNG colour type 4, TIFF with two samples (gray and alpha)
};

// Recognises PNG, JPEG, TIFF and WebP by their magic bytes and walks their structure as far as needed for
// the size and completeness: a PNG must reach its IEND chunk, a JPEG its end-of-image marker (through every
// segment and scan), a TIFF's directories must lie inside the file, a WebP's RIFF size must fit. Throws
// lowlight::Error naming `path` for anything else: another format, a truncated or corrupt header.
Header read_header(const uint8_t* data, size_t size, const std::string& path);

}  // namespace lowlight::codec
