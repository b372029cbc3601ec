// Image headers read by hand (see image_header.h). Every read is bounds-checked: the bytes are a user's
// file, possibly hostile (tests/fuzz/fuzz_image_header.cpp runs this on random input).
#include "image_header.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "lowlight/error.h"

namespace lowlight::codec {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw Error(path + ": " + what); }

// eXIf holds the EXIF block itself; iCCP a profile name (1 to 79 bytes), a zero, the method (0) and a zlib
// stream.
void png_metadata(const Bytes& b, uint64_t pos, uint64_t length, Header& h) {
  const uint64_t data = pos + 8;
  if (b.is(pos + 4, "eXIf") && h.exif.size == 0) h.exif = {data, length};
  if (b.is(pos + 4, "iCCP") && h.icc.empty()) {
    const void* end = std::memchr(b.data + data, 0, std::min<uint64_t>(length, 80));
    const uint64_t name = end ? static_cast<const uint8_t*>(end) - (b.data + data) : length;
    if (name >= 1 && name + 2 < length && b.data[data + name + 1] == 0)
      h.icc.push_back({1, 1, {data + name + 2, length - name - 2}});
    h.icc_deflated = true;
  }
}

Header png(const Bytes& b, const std::string& path) {
  Header h;
  h.format = Format::Png;
  auto truncated = [&] { fail(path, "truncated PNG file (" + std::to_string(b.size) + " bytes, no IEND chunk)"); };
  uint64_t pos = 8;
  for (bool first = true;; first = false) {
    if (!b.has(pos, 8)) truncated();
    const uint64_t length = b.read(pos, 4);
    if (length > 0x7fffffffu) fail(path, "corrupt PNG file (chunk length " + std::to_string(length) + ")");
    if (b.is(pos + 4, "IEND")) break;
    if (!b.has(pos + 8, length + 4)) truncated();  // data and CRC
    if (first) {
      if (!b.is(pos + 4, "IHDR") || length < 13) fail(path, "corrupt PNG file (no IHDR chunk first)");
      h.width = static_cast<int64_t>(b.read(pos + 8, 4));
      h.height = static_cast<int64_t>(b.read(pos + 12, 4));
      h.gray_alpha = b.data[pos + 17] == 4;  // colour type 4: gray + alpha
    }
    png_metadata(b, pos, length, h);
    pos += 12 + length;
  }
  if (h.width == 0) fail(path, "corrupt PNG file (no IHDR chunk)");
  return h;
}

// Start-of-frame markers, which carry the size: C0..CF except DHT (C4), JPG (C8) and DAC (CC).
bool is_frame_marker(uint8_t m) { return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC; }

// The entropy-coded data after a start-of-scan segment runs to the next marker that is not a stuffed 0xFF00
// or a restart marker; returns its position (at its 0xFF), or size when the data never ends.
uint64_t skip_scan(const Bytes& b, uint64_t pos) {
  while (pos < b.size) {
    const void* ff = std::memchr(b.data + pos, 0xFF, b.size - pos);
    if (!ff) return b.size;
    pos = static_cast<const uint8_t*>(ff) - b.data;
    if (pos + 1 >= b.size) return b.size;
    const uint8_t next = b.data[pos + 1];
    if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) pos += 2;
    else if (next == 0xFF) pos += 1;  // fill byte before a marker
    else return pos;
  }
  return b.size;
}

// APP1 "Exif\0\0" holds the EXIF block; APP2 "ICC_PROFILE\0", then the part's number and the count of parts.
void jpeg_metadata(const Bytes& b, uint8_t marker, uint64_t data, uint64_t length, Header& h) {
  if (marker == 0xE1 && length > 6 && b.is(data, "Exif") && b.data[data + 4] == 0 && h.exif.size == 0)
    h.exif = {data + 6, length - 6};
  if (marker == 0xE2 && length > 14 && b.is(data, "ICC_PROFILE") && b.data[data + 11] == 0)
    h.icc.push_back({b.data[data + 12], b.data[data + 13], {data + 14, length - 14}});
}

// Walks every segment and scan to the end-of-image marker: a file cut short (an interrupted download) has
// none, and libjpeg would otherwise decode it with a warning, grey in its lower part.
Header jpeg(const Bytes& b, const std::string& path) {
  Header h;
  h.format = Format::Jpeg;
  auto truncated = [&] {
    fail(path, "truncated JPEG file (" + std::to_string(b.size) + " bytes, no end-of-image marker)");
  };
  bool frame = false;
  uint64_t pos = 2;
  for (;;) {
    // Bytes that are not a marker are skipped as libjpeg does ("extraneous bytes before marker").
    while (pos < b.size && b.data[pos] != 0xFF) ++pos;
    while (pos < b.size && b.data[pos] == 0xFF) ++pos;
    if (pos >= b.size) truncated();
    const uint8_t marker = b.data[pos++];
    if (marker == 0xD9) break;                                      // end of image
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // markers without a length
    if (!b.has(pos, 2)) truncated();
    const uint64_t length = b.read(pos, 2);
    if (length < 2) fail(path, "corrupt JPEG file (segment length " + std::to_string(length) + ")");
    if (!b.has(pos, length)) truncated();
    if (!frame) jpeg_metadata(b, marker, pos + 2, length - 2, h);  // metadata segments come before the frame
    if (is_frame_marker(marker)) {
      if (length < 8) fail(path, "corrupt JPEG file (short frame header)");
      h.height = static_cast<int64_t>(b.read(pos + 3, 2));
      h.width = static_cast<int64_t>(b.read(pos + 5, 2));
      frame = true;
    }
    pos += length;
    if (marker == 0xDA) pos = skip_scan(b, pos);
  }
  if (!frame) fail(path, "corrupt JPEG file (no frame header)");
  return h;
}

// One value of a TIFF directory entry (SHORT, LONG or LONG8; the first of several), or `fallback`.
uint64_t tiff_value(const Bytes& b, uint64_t entry, bool big_tiff, uint64_t fallback) {
  const uint64_t type = b.read(entry + 2, 2);
  const uint64_t at = entry + (big_tiff ? 12 : 8);
  if (type == 3) return b.read(at, 2);
  if (type == 4) return b.read(at, 4);
  if (type == 16 && big_tiff) return b.read(at, 8);
  return fallback;
}

// A TIFF entry's bytes lie in the entry when they fit its value field, else at the offset it holds.
void tiff_icc(const Bytes& b, uint64_t entry, bool big_tiff, Header& h) {
  const uint64_t count = b.read(entry + 4, big_tiff ? 8 : 4), field = entry + (big_tiff ? 12 : 8);
  const uint64_t at = count <= (big_tiff ? 8u : 4u) ? field : b.read(field, big_tiff ? 8 : 4);
  if (count > 0 && b.has(at, count)) h.icc.push_back({1, 1, {at, count}});
}

Header tiff(Bytes b, const std::string& path) {
  Header h;
  h.format = Format::Tiff;
  h.pages = 0;
  b.big = b.data[0] == 'M';
  const bool big_tiff = b.read(2, 2) == 43;
  if (big_tiff && !b.has(8, 8)) fail(path, "truncated TIFF file (header)");
  uint64_t offset = big_tiff ? b.read(8, 8) : b.read(4, 4);
  const uint64_t count_bytes = big_tiff ? 8 : 2, entry_bytes = big_tiff ? 20 : 12, next_bytes = big_tiff ? 8 : 4;
  std::set<uint64_t> seen;
  while (offset != 0) {
    const std::string where = "directory " + std::to_string(seen.size() + 1) + " at byte " + std::to_string(offset);
    if (!seen.insert(offset).second || seen.size() > 65536) fail(path, "corrupt TIFF file (directories form a loop)");
    if (!b.has(offset, count_bytes)) fail(path, "truncated or corrupt TIFF file (" + where + " is past its end)");
    const uint64_t n = b.read(offset, static_cast<int>(count_bytes));
    const uint64_t first = offset + count_bytes;
    if (n > (b.size - first) / entry_bytes || !b.has(first + n * entry_bytes, next_bytes))
      fail(path, "truncated or corrupt TIFF file (" + where + " is past its end)");
    uint64_t subfile = 0, width = 0, height = 0, samples = 1, photometric = 2;
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t e = first + i * entry_bytes;
      switch (b.read(e, 2)) {
        case 254: subfile = tiff_value(b, e, big_tiff, 0); break;
        case 256: width = tiff_value(b, e, big_tiff, 0); break;
        case 257: height = tiff_value(b, e, big_tiff, 0); break;
        case 262: photometric = tiff_value(b, e, big_tiff, 2); break;
        case 274:
          if (seen.size() == 1 && b.read(e + 2, 2) == 3) {
            h.tiff_orientation = static_cast<int>(tiff_value(b, e, big_tiff, 1));
            h.tiff_orientation_at = e + (big_tiff ? 12 : 8);
          }
          break;
        case 34675:  // the ICC profile (UNDEFINED bytes)
          if (seen.size() == 1) tiff_icc(b, e, big_tiff, h);
          break;
        case 277: samples = tiff_value(b, e, big_tiff, 1); break;
        default: break;
      }
    }
    if (seen.size() == 1) {
      h.tiff_ifd0 = offset;
      if (width == 0 || height == 0) fail(path, "corrupt TIFF file (no image width or height)");
      h.width = static_cast<int64_t>(width);
      h.height = static_cast<int64_t>(height);
      h.gray_alpha = samples == 2 && photometric <= 1;  // MinIsWhite / MinIsBlack with one extra sample
    }
    if (!(subfile & 1)) ++h.pages;  // bit 0: a reduced-resolution copy (a preview), not a page
    offset = b.read(first + n * entry_bytes, static_cast<int>(next_bytes));
  }
  if (seen.empty()) fail(path, "corrupt TIFF file (no image directory)");
  h.pages = std::max(h.pages, 1);
  return h;
}

// An extended file's chunks after VP8X: ICCP (the profile), EXIF (the block), each padded to an even size.
void webp_metadata(const Bytes& b, uint64_t end, Header& h) {
  for (uint64_t pos = 30; pos + 8 <= end;) {
    const uint64_t size = b.read(pos + 4, 4);
    if (size > end - pos - 8) break;
    if (b.is(pos, "ICCP") && h.icc.empty() && size > 0) h.icc.push_back({1, 1, {pos + 8, size}});
    if (b.is(pos, "EXIF") && h.exif.size == 0) h.exif = {pos + 8, size};
    pos += 8 + size + (size & 1);
  }
}

Header webp(Bytes b, const std::string& path) {
  Header h;
  h.format = Format::Webp;
  b.big = false;
  const uint64_t riff = b.read(4, 4);
  if (riff + 8 > b.size)
    fail(path, "truncated WebP file (" + std::to_string(b.size) + " bytes, its header says " +
                   std::to_string(riff + 8) + ")");
  if (!b.has(12, 8)) fail(path, "truncated WebP file (no image chunk)");
  const uint64_t p = 20;
  if (b.is(12, "VP8 ") && b.has(p, 10) && b.data[p + 3] == 0x9d && b.data[p + 4] == 0x01 && b.data[p + 5] == 0x2a) {
    h.width = static_cast<int64_t>(b.read(p + 6, 2) & 0x3fff);
    h.height = static_cast<int64_t>(b.read(p + 8, 2) & 0x3fff);
  } else if (b.is(12, "VP8L") && b.has(p, 5) && b.data[p] == 0x2f) {
    const uint64_t bits = b.read(p + 1, 4);
    h.width = static_cast<int64_t>(bits & 0x3fff) + 1;
    h.height = static_cast<int64_t>((bits >> 14) & 0x3fff) + 1;
  } else if (b.is(12, "VP8X") && b.has(p, 10)) {
    h.width = static_cast<int64_t>(b.read(p + 4, 3)) + 1;
    h.height = static_cast<int64_t>(b.read(p + 7, 3)) + 1;
    if (b.data[p] & 0x02) h.pages = 2;  // animation flag: several frames
    webp_metadata(b, riff + 8, h);
  } else {
    fail(path, "corrupt WebP file (no VP8, VP8L or VP8X chunk first)");
  }
  return h;
}

}  // namespace

Header read_header(const uint8_t* data, size_t size, const std::string& path) {
  const Bytes b{data, size};
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size >= 8 && std::memcmp(data, kPng, 8) == 0) return png(b, path);
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return jpeg(b, path);
  auto starts = [&](const char* magic) { return size >= 8 && std::memcmp(data, magic, 4) == 0; };
  if (starts("II*\0") || starts("MM\0*") || starts("II+\0") || starts("MM\0+")) return tiff(b, path);
  if (size >= 12 && b.is(0, "RIFF") && b.is(8, "WEBP")) return webp(b, path);
  fail(path, "not an image file Lowlight reads (expected PNG, JPEG, TIFF or WebP)");
}

}  // namespace lowlight::codec
