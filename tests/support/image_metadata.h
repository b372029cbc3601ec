#pragma once
// EXIF blocks, ICC profiles and JPEG files carrying them, built byte by byte in the tests (no library of ours
// writes an orientation other than 1), for tests/core/image_metadata_test.cpp and tests/cli/enhance_test.cpp.
#include <cstdint>
#include <string>
#include <vector>

namespace lowlight::test {

using Blob = std::vector<uint8_t>;

inline void put_u16(Blob& b, unsigned v, bool big) {
  b.push_back(static_cast<uint8_t>(big ? v >> 8 : v));
  b.push_back(static_cast<uint8_t>(big ? v : v >> 8));
}
inline void put_u32(Blob& b, uint32_t v, bool big) {
  put_u16(b, big ? v >> 16 : v & 0xffff, big);
  put_u16(b, big ? v & 0xffff : v >> 16, big);
}
inline void put_text(Blob& b, const std::string& text) { b.insert(b.end(), text.begin(), text.end() + 1); }

// A minimal EXIF block: the first directory holds Make "LowlightCam" (at byte 50), Orientation (its value at
// byte 30) and the EXIF directory (at byte 62), which holds DateTimeOriginal. `entries` overrides the first
// directory's entry count (hostile blocks); `exif_at` the EXIF directory's offset.
inline Blob exif_block(unsigned orientation, bool big, unsigned entries = 3, uint32_t exif_at = 62,
                       uint16_t orientation_type = 3, uint32_t orientation_count = 1) {
  Blob b = big ? Blob{'M', 'M', 0, '*'} : Blob{'I', 'I', '*', 0};
  put_u32(b, 8, big);
  put_u16(b, entries, big);
  for (unsigned v : {271u, 2u}) put_u16(b, v, big);
  put_u32(b, 12, big), put_u32(b, 50, big);
  put_u16(b, 274, big), put_u16(b, orientation_type, big), put_u32(b, orientation_count, big);
  put_u16(b, orientation, big), put_u16(b, 0, big);
  put_u16(b, 34665, big), put_u16(b, 4, big), put_u32(b, 1, big), put_u32(b, exif_at, big);
  put_u32(b, 0, big);
  put_text(b, "LowlightCam");
  put_u16(b, 1, big);
  put_u16(b, 36867, big), put_u16(b, 2, big), put_u32(b, 20, big), put_u32(b, 80, big);
  put_u32(b, 0, big);
  put_text(b, "2024:01:02 03:04:05");
  return b;
}

// An ICC profile of `size` bytes whose header passes libpng's checks (length, 'acsp', RGB, PCS XYZ, D50, no
// tags), then filler; the same bytes as fake_icc() in tests/core/image_metadata_check.py for size 192.
inline Blob fake_icc(size_t size = 192) {
  Blob icc(size, 0);
  for (size_t i = 132; i < size; ++i) icc[i] = static_cast<uint8_t>(i * 37 % 256);
  for (int i = 0; i < 4; ++i) icc[i] = static_cast<uint8_t>(size >> (24 - 8 * i));
  const std::string fields[][2] = {{"\x02\x10", "8"}, {"mntr", "12"}, {"RGB ", "16"}, {"XYZ ", "20"}, {"acsp", "36"}};
  for (const auto& f : fields) std::copy(f[0].begin(), f[0].end(), icc.begin() + std::stoi(f[1]));
  const uint8_t d50[12] = {0, 0, 0xf6, 0xd6, 0, 1, 0, 0, 0, 0, 0xd3, 0x2d};
  std::copy(d50, d50 + 12, icc.begin() + 68);
  return icc;
}

inline Blob jpeg_segment(uint8_t marker, const std::string& id, const uint8_t* data, size_t size) {
  Blob s = {0xFF, marker};
  put_u16(s, static_cast<unsigned>(2 + id.size() + size), true);
  s.insert(s.end(), id.begin(), id.end());
  s.insert(s.end(), data, data + size);
  return s;
}

// `jpeg` with an APP1 EXIF segment and the profile in APP2 parts of at most `part` bytes right after SOI, the
// parts in reverse order (a reader must order them by their numbers).
inline std::string with_jpeg_metadata(const std::string& jpeg, const Blob& exif, const Blob& icc, size_t part = 65519) {
  Blob segments;
  if (!exif.empty()) {
    const Blob s = jpeg_segment(0xE1, std::string("Exif\0\0", 6), exif.data(), exif.size());
    segments.insert(segments.end(), s.begin(), s.end());
  }
  const size_t parts = (icc.size() + part - 1) / part;
  for (size_t i = parts; i-- > 0;) {
    const std::string id = std::string("ICC_PROFILE\0", 12) + char(i + 1) + char(parts);
    const Blob s = jpeg_segment(0xE2, id, icc.data() + i * part, std::min(part, icc.size() - i * part));
    segments.insert(segments.end(), s.begin(), s.end());
  }
  return jpeg.substr(0, 2) + std::string(segments.begin(), segments.end()) + jpeg.substr(2);
}

}  // namespace lowlight::test
