// EXIF and ICC profiles read by hand (see image_metadata.h). Only the few TIFF-structure rules needed are
// implemented; every read is bounds-checked (tests/fuzz/fuzz_image.cpp runs this on random input).
#include "image_metadata.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

#include "lowlight/error.h"

namespace lowlight::codec {
namespace {

constexpr uint16_t kOrientation = 274, kIcc = 34675, kExifIfd = 34665, kGpsIfd = 34853, kInteropIfd = 40965;
constexpr uint16_t kPixelXDimension = 40962, kPixelYDimension = 40963;

// The first directory's tags that describe the picture rather than its storage: what moves between a TIFF
// file's own directory and an EXIF block.
bool is_descriptive(uint16_t tag) {
  static const std::set<uint16_t> tags = {270, 271, 272, kOrientation, 282, 283, 296, 305, 306, 315, 316, 33432,
                                          kExifIfd, kGpsIfd};
  return tags.count(tag) > 0;
}
bool is_directory(uint16_t tag) { return tag == kExifIfd || tag == kGpsIfd || tag == kInteropIfd; }

// Bytes per value of a TIFF field type (0: a type not known here, whose entry is dropped).
int type_size(uint64_t type) {
  switch (type) {
    case 1: case 2: case 6: case 7: return 1;
    case 3: case 8: return 2;
    case 4: case 9: case 11: case 13: return 4;
    case 5: case 10: case 12: return 8;
    default: return 0;
  }
}

// Between byte orders each value is reversed; a rational's two halves each.
void swap_order(std::vector<uint8_t>& value, uint16_t type) {
  const size_t unit = type == 5 || type == 10 ? 4 : static_cast<size_t>(type_size(type));
  if (unit < 2) return;
  for (size_t i = 0; i + unit <= value.size(); i += unit) std::reverse(value.begin() + i, value.begin() + i + unit);
}

void put(std::vector<uint8_t>& out, size_t at, int n, uint64_t v, bool big) {
  for (int i = 0; i < n; ++i) out[at + i] = static_cast<uint8_t>(v >> (8 * (big ? n - 1 - i : i)));
}
void append(std::vector<uint8_t>& out, int n, uint64_t v, bool big) {
  out.resize(out.size() + n);
  put(out, out.size() - n, n, v, big);
}

// A classic TIFF structure (a TIFF file, or an EXIF block, which is one without pixels), in its byte order.
std::optional<Bytes> tiff_bytes(const uint8_t* data, size_t size) {
  if (size < 8) return std::nullopt;
  if (std::memcmp(data, "II*\0", 4) == 0) return Bytes{data, size, false};
  if (std::memcmp(data, "MM\0*", 4) == 0) return Bytes{data, size, true};
  return std::nullopt;
}

// A directory entry: values are kept big-endian whatever the source's order. `raw` keeps a field as the file
// has it (its offset stays valid when the file only grows); `sub` is the directory a pointer tag points to.
struct Entry {
  uint16_t tag = 0, type = 0;
  uint64_t count = 0;
  std::vector<uint8_t> value;
  std::vector<Entry> sub;
  bool is_dir = false;
  std::optional<uint64_t> raw;
};
using Ifd = std::vector<Entry>;

// Reads the directory at `offset` and, `depth` levels down, the directories it points to. Each entry and value
// is charged to `budget` (the source's size), so overlapping values cannot multiply memory; duplicate tags and
// unknown types are dropped.
Ifd read_ifd(const Bytes& b, uint64_t offset, int depth, uint64_t& budget) {
  Ifd ifd;
  if (!b.has(offset, 2)) return ifd;
  const uint64_t n = b.read(offset, 2);
  if (!b.has(offset + 2, n * 12)) return ifd;
  std::set<uint16_t> seen;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t e = offset + 2 + 12 * i;
    Entry entry;
    entry.tag = static_cast<uint16_t>(b.read(e, 2));
    entry.type = static_cast<uint16_t>(b.read(e + 2, 2));
    entry.count = b.read(e + 4, 4);
    const uint64_t bytes = entry.count * type_size(entry.type);  // below 2^35: no overflow
    const uint64_t at = bytes <= 4 ? e + 8 : b.read(e + 8, 4);
    if (bytes == 0 || !b.has(at, bytes) || bytes + 12 > budget || !seen.insert(entry.tag).second) continue;
    budget -= bytes + 12;
    entry.value.assign(b.data + at, b.data + at + bytes);
    if (!b.big) swap_order(entry.value, entry.type);
    if (is_directory(entry.tag)) {
      if (depth == 0 || entry.count != 1 || (entry.type != 4 && entry.type != 13)) continue;
      entry.is_dir = true;
      entry.sub = read_ifd(b, b.read(at, 4), depth - 1, budget);
    }
    ifd.push_back(std::move(entry));
  }
  return ifd;
}

// Appends `ifd` at the end of `out` (word-aligned), then its values and the directories it points to; offsets
// count from the start of `out`. Returns the directory's offset.
uint64_t write_ifd(std::vector<uint8_t>& out, Ifd ifd, bool big) {
  std::sort(ifd.begin(), ifd.end(), [](const Entry& a, const Entry& b) { return a.tag < b.tag; });
  if (out.size() & 1) out.push_back(0);
  const size_t at = out.size();
  out.resize(at + 6 + 12 * ifd.size(), 0);  // the next-directory link stays 0
  put(out, at, 2, ifd.size(), big);
  for (size_t i = 0; i < ifd.size(); ++i) {
    const size_t e = at + 2 + 12 * i;
    Entry& entry = ifd[i];
    put(out, e, 2, entry.tag, big);
    put(out, e + 2, 2, entry.type, big);
    put(out, e + 4, 4, entry.count, big);
    if (entry.raw) {
      put(out, e + 8, 4, *entry.raw, big);
    } else if (entry.is_dir) {
      const uint64_t sub = write_ifd(out, std::move(entry.sub), big);
      put(out, e + 8, 4, sub, big);
    } else {
      if (!big) swap_order(entry.value, entry.type);
      if (entry.value.size() <= 4) {
        std::copy(entry.value.begin(), entry.value.end(), out.begin() + e + 8);
      } else {
        if (out.size() & 1) out.push_back(0);
        put(out, e + 8, 4, out.size(), big);
        out.insert(out.end(), entry.value.begin(), entry.value.end());
      }
    }
  }
  return at;
}

// Where a SHORT or LONG value of `tag` lies in the directory at `ifd` (0: absent), and its type.
uint64_t find_value(const Bytes& b, uint64_t ifd, uint16_t tag, uint64_t* type = nullptr) {
  if (!b.has(ifd, 2)) return 0;
  const uint64_t n = b.read(ifd, 2);
  for (uint64_t i = 0; i < n && b.has(ifd + 2 + 12 * i, 12); ++i) {
    const uint64_t e = ifd + 2 + 12 * i, t = b.read(e + 2, 2);
    if (b.read(e, 2) != tag || b.read(e + 4, 4) != 1 || (t != 3 && t != 4)) continue;
    if (type) *type = t;
    return e + 8;
  }
  return 0;
}

// Sets a SHORT or LONG value in place (one that does not fit its type is left).
void set_value(std::vector<uint8_t>& block, const Bytes& b, uint64_t ifd, uint16_t tag, uint64_t v) {
  uint64_t type = 0;
  const uint64_t at = find_value(b, ifd, tag, &type);
  if (at && (type == 4 || v <= 0xffff)) put(block, at, type == 3 ? 2 : 4, v, b.big);
}

// A TIFF file's descriptive tags, EXIF and GPS directories as an EXIF block; empty if it has none worth keeping.
std::vector<uint8_t> exif_from_tiff(const Bytes& file, uint64_t ifd0) {
  if (file.read(2, 2) != 42) return {};  // BigTIFF's directories are not read here
  uint64_t budget = file.size;
  Ifd ifd = read_ifd(file, ifd0, 2, budget);
  ifd.erase(std::remove_if(ifd.begin(), ifd.end(), [](const Entry& e) { return !is_descriptive(e.tag); }), ifd.end());
  const bool worth = std::any_of(ifd.begin(), ifd.end(), [](const Entry& e) {
    return e.tag != kOrientation && e.tag != 282 && e.tag != 283 && e.tag != 296;  // not only its resolution
  });
  if (!worth) return {};
  std::vector<uint8_t> block = {'M', 'M', 0, '*', 0, 0, 0, 0};
  put(block, 4, 4, write_ifd(block, std::move(ifd), true), true);
  return block;
}

std::vector<uint8_t> inflate_bounded(const uint8_t* data, size_t size, size_t limit) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return {};
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  std::vector<uint8_t> out;
  uint8_t chunk[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = chunk;
    z.avail_out = sizeof chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    const size_t n = sizeof chunk - z.avail_out;
    if ((rc != Z_OK && rc != Z_STREAM_END) || out.size() + n > limit) break;
    out.insert(out.end(), chunk, chunk + n);
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::vector<uint8_t>{};
}

// The profile's parts in order: a JPEG's are numbered 1..count, each present once, or the profile is dropped.
std::vector<uint8_t> read_icc(const Bytes& b, const Header& h) {
  if (h.icc.empty()) return {};
  if (h.icc_deflated) return inflate_bounded(b.data + h.icc[0].span.offset, h.icc[0].span.size, kMaxIccBytes);
  const size_t count = h.icc.size();
  std::vector<const IccPart*> order(count, nullptr);
  for (const IccPart& part : h.icc) {
    if (part.count != static_cast<int>(count) || part.seq < 1 || part.seq > part.count || order[part.seq - 1]) return {};
    order[part.seq - 1] = &part;
  }
  std::vector<uint8_t> icc;
  for (const IccPart* part : order) {
    if (icc.size() + part->span.size > kMaxIccBytes) return {};
    icc.insert(icc.end(), b.data + part->span.offset, b.data + part->span.offset + part->span.size);
  }
  return icc;
}

}  // namespace

int exif_orientation(const std::vector<uint8_t>& exif) {
  const auto b = tiff_bytes(exif.data(), exif.size());
  const uint64_t at = b ? find_value(*b, b->read(4, 4), kOrientation) : 0;
  const uint64_t v = at ? b->read(at, 2) : 1;
  return v >= 1 && v <= 8 ? static_cast<int>(v) : 1;
}

void reset_exif_orientation(std::vector<uint8_t>& exif) {
  if (const auto b = tiff_bytes(exif.data(), exif.size())) set_value(exif, *b, b->read(4, 4), kOrientation, 1);
}

namespace {

// What the EXIF block says of pixels it no longer describes, set in place: Orientation 1 (they are upright),
// the pixel dimensions; the thumbnail (the second directory) is unlinked, being unturned and unenhanced.
void normalise_exif(std::vector<uint8_t>& exif, int width, int height) {
  const auto b = tiff_bytes(exif.data(), exif.size());
  if (!b) return;
  reset_exif_orientation(exif);
  const uint64_t ifd0 = b->read(4, 4);
  const uint64_t link = b->has(ifd0, 2) ? ifd0 + 2 + 12 * b->read(ifd0, 2) : 0;
  if (link && b->has(link, 4)) put(exif, link, 4, 0, b->big);
  if (const uint64_t sub = find_value(*b, ifd0, kExifIfd)) {
    const uint64_t exif_ifd = b->read(sub, 4);
    set_value(exif, *b, exif_ifd, kPixelXDimension, static_cast<uint64_t>(width));
    set_value(exif, *b, exif_ifd, kPixelYDimension, static_cast<uint64_t>(height));
  }
}

}  // namespace

FileMetadata read_metadata(const uint8_t* data, size_t size, const Header& header) {
  const Bytes b{data, size};
  FileMetadata m;
  m.kept.icc = read_icc(b, header);
  if (header.format == Format::Tiff) {
    if (const auto file = tiff_bytes(data, size)) m.kept.exif = exif_from_tiff(*file, header.tiff_ifd0);
    m.orientation = header.tiff_orientation >= 1 && header.tiff_orientation <= 8 ? header.tiff_orientation : 1;
  } else if (header.exif.size > 0) {
    uint64_t offset = header.exif.offset, n = header.exif.size;
    if (b.is(offset, "Exif") && n > 6) offset += 6, n -= 6;  // some writers keep JPEG's prefix in PNG and WebP
    if (tiff_bytes(data + offset, n)) m.kept.exif.assign(data + offset, data + offset + n);
    m.orientation = exif_orientation(m.kept.exif);
  }
  const bool turned = m.orientation >= 5;  // the upright size
  normalise_exif(m.kept.exif, static_cast<int>(turned ? header.height : header.width),
                 static_cast<int>(turned ? header.width : header.height));
  return m;
}

Image apply_orientation(Image in, int orientation) {
  if (orientation < 2 || orientation > 8) return in;
  const bool turned = orientation >= 5;
  Image out(turned ? in.height : in.width, turned ? in.width : in.height, in.channels, in.type);
  out.metadata = std::move(in.metadata);
  // Output pixel (x, y) is input pixel origin + x * dx + y * dy (indices in pixels, width W, height H).
  const int64_t w = in.width, h = in.height;
  int64_t origin = 0, dx = 1, dy = w;
  switch (orientation) {
    case 2: origin = w - 1, dx = -1, dy = w; break;               // mirrored left to right
    case 3: origin = h * w - 1, dx = -1, dy = -w; break;          // turned 180 degrees
    case 4: origin = (h - 1) * w, dx = 1, dy = -w; break;         // mirrored top to bottom
    case 5: origin = 0, dx = w, dy = 1; break;                    // transposed
    case 6: origin = (h - 1) * w, dx = -w, dy = 1; break;         // shown turned 90 degrees clockwise
    case 7: origin = h * w - 1, dx = -w, dy = -1; break;          // transverse
    case 8: origin = w - 1, dx = w, dy = -1; break;               // shown turned 90 degrees anticlockwise
  }
  const size_t pixel = static_cast<size_t>(in.channels) * sample_size(in.type);
  uint8_t* dst = out.bytes.data();
  for (int64_t y = 0; y < out.height; ++y) {
    int64_t src = origin + y * dy;
    for (int64_t x = 0; x < out.width; ++x, src += dx, dst += pixel) std::memcpy(dst, &in.bytes[src * pixel], pixel);
  }
  return out;
}

namespace {

std::vector<uint8_t> jpeg_segment(uint8_t marker, std::vector<uint8_t> id, const uint8_t* data, size_t size) {
  std::vector<uint8_t> s;
  s.reserve(4 + id.size() + size);
  s.push_back(0xFF);
  s.push_back(marker);
  append(s, 2, 2 + id.size() + size, true);
  s.insert(s.end(), id.begin(), id.end());
  s.insert(s.end(), data, data + size);
  return s;
}

// APP1 and APP2 segments right after the JFIF segment; a profile is cut into parts of 65519 bytes.
void embed_jpeg(std::vector<uint8_t>& out, const ImageMetadata& m) {
  const Bytes b{out.data(), out.size()};
  uint64_t pos = 2;
  if (b.has(2, 4) && b.data[2] == 0xFF && b.data[3] == 0xE0) pos += 2 + b.read(4, 2);
  std::vector<uint8_t> segments;
  if (!m.exif.empty() && m.exif.size() <= 65535 - 8) {
    const auto s = jpeg_segment(0xE1, {'E', 'x', 'i', 'f', 0, 0}, m.exif.data(), m.exif.size());
    segments.insert(segments.end(), s.begin(), s.end());
  }
  const size_t part = 65535 - 16, parts = (m.icc.size() + part - 1) / part;
  for (size_t i = 0; i < parts && parts <= 255; ++i) {
    std::vector<uint8_t> id(std::begin("ICC_PROFILE"), std::end("ICC_PROFILE"));  // with its terminating zero
    id.push_back(static_cast<uint8_t>(i + 1));
    id.push_back(static_cast<uint8_t>(parts));
    const size_t n = std::min(part, m.icc.size() - i * part);
    const auto s = jpeg_segment(0xE2, id, m.icc.data() + i * part, n);
    segments.insert(segments.end(), s.begin(), s.end());
  }
  out.insert(out.begin() + pos, segments.begin(), segments.end());
}

void png_chunk(std::vector<uint8_t>& out, const char* type, const std::vector<uint8_t>& data) {
  append(out, 4, data.size(), true);
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  uLong crc = crc32(0, reinterpret_cast<const Bytef*>(type), 4);
  crc = crc32(crc, data.data(), static_cast<uInt>(data.size()));
  append(out, 4, crc, true);
}

// iCCP and eXIf right after IHDR (before any PLTE and IDAT, as the PNG specification wants).
void embed_png(std::vector<uint8_t>& out, const ImageMetadata& m) {
  std::vector<uint8_t> chunks;
  if (!m.icc.empty()) {
    std::vector<uint8_t> data(std::begin("ICC profile"), std::end("ICC profile"));  // name, zero
    data.push_back(0);                                                               // method: zlib
    uLongf n = compressBound(m.icc.size());
    data.resize(data.size() + n);
    if (compress2(data.data() + data.size() - n, &n, m.icc.data(), m.icc.size(), 9) != Z_OK)
      throw Error("cannot compress the ICC profile");
    data.resize(data.size() - (compressBound(m.icc.size()) - n));
    png_chunk(chunks, "iCCP", data);
  }
  if (!m.exif.empty()) png_chunk(chunks, "eXIf", m.exif);
  const size_t after_ihdr = 8 + 12 + 13;
  out.insert(out.begin() + after_ihdr, chunks.begin(), chunks.end());
}

void webp_chunk(std::vector<uint8_t>& out, const char* type, const uint8_t* data, size_t size) {
  out.insert(out.end(), type, type + 4);
  append(out, 4, size, false);
  out.insert(out.end(), data, data + size);
  if (size & 1) out.push_back(0);
}

// A simple file (one VP8 or VP8L chunk) becomes an extended one: VP8X with the canvas size and flags, ICCP,
// the image chunks, EXIF.
void embed_webp(std::vector<uint8_t>& out, const ImageMetadata& m) {
  const Header h = read_header(out.data(), out.size(), "encoded WebP");
  const Bytes b{out.data(), out.size(), false};
  std::vector<uint8_t> image;
  uint8_t flags = 0;
  for (uint64_t pos = 12; b.has(pos, 8) && b.has(pos + 8, b.read(pos + 4, 4));) {
    const uint64_t size = b.read(pos + 4, 4);
    if (b.is(pos, "VP8X")) flags = b.data[pos + 8];
    else if (b.is(pos, "VP8L") && size >= 5 && (b.read(pos + 9, 4) >> 28 & 1)) flags |= 0x10;  // alpha used
    if (!b.is(pos, "VP8X") && !b.is(pos, "ICCP") && !b.is(pos, "EXIF"))
      webp_chunk(image, reinterpret_cast<const char*>(b.data + pos), b.data + pos + 8, size);
    pos += 8 + size + (size & 1);
  }
  flags = static_cast<uint8_t>((flags & ~0x28) | (m.icc.empty() ? 0 : 0x20) | (m.exif.empty() ? 0 : 0x08));
  std::vector<uint8_t> vp8x(10, 0);
  vp8x[0] = flags;
  put(vp8x, 4, 3, h.width - 1, false);
  put(vp8x, 7, 3, h.height - 1, false);
  std::vector<uint8_t> file = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'};
  webp_chunk(file, "VP8X", vp8x.data(), vp8x.size());
  if (!m.icc.empty()) webp_chunk(file, "ICCP", m.icc.data(), m.icc.size());
  file.insert(file.end(), image.begin(), image.end());
  if (!m.exif.empty()) webp_chunk(file, "EXIF", m.exif.data(), m.exif.size());
  put(file, 4, 4, file.size() - 8, false);
  out = std::move(file);
}

// The first directory is rewritten at the end of the file with the profile (tag 34675) and the EXIF block's
// descriptive tags, EXIF and GPS directories added; the old one stays as unused bytes. OpenCV writes one page.
void embed_tiff(std::vector<uint8_t>& out, const ImageMetadata& m) {
  const auto b = tiff_bytes(out.data(), out.size());
  if (!b || b->read(2, 2) != 42) return;
  const uint64_t ifd0 = b->read(4, 4);
  if (!b->has(ifd0, 2) || !b->has(ifd0 + 2, 12 * b->read(ifd0, 2))) return;
  Ifd ifd;
  std::set<uint16_t> present;
  for (uint64_t i = 0, n = b->read(ifd0, 2); i < n; ++i) {
    const uint64_t e = ifd0 + 2 + 12 * i;
    Entry entry;
    entry.tag = static_cast<uint16_t>(b->read(e, 2));
    entry.type = static_cast<uint16_t>(b->read(e + 2, 2));
    entry.count = b->read(e + 4, 4);
    entry.raw = b->read(e + 8, 4);
    present.insert(entry.tag);
    ifd.push_back(std::move(entry));
  }
  if (!m.icc.empty() && !present.count(kIcc)) {
    Entry icc;
    icc.tag = kIcc, icc.type = 7, icc.count = m.icc.size(), icc.value = m.icc;
    ifd.push_back(std::move(icc));
  }
  if (const auto exif = tiff_bytes(m.exif.data(), m.exif.size())) {
    uint64_t budget = exif->size;
    for (Entry& entry : read_ifd(*exif, exif->read(4, 4), 2, budget))
      if (is_descriptive(entry.tag) && !present.count(entry.tag)) ifd.push_back(std::move(entry));
  }
  const uint64_t at = write_ifd(out, std::move(ifd), b->big);
  if (out.size() > 0xffffffffu) throw Error("TIFF file of " + std::to_string(out.size()) + " bytes is too large");
  put(out, 4, 4, at, b->big);
}

}  // namespace

std::vector<uint8_t> embed_metadata(std::vector<uint8_t> encoded, Format format, const ImageMetadata& metadata) {
  if (metadata.empty()) return encoded;
  ImageMetadata m = metadata;
  const Header h = read_header(encoded.data(), encoded.size(), "encoded image");
  normalise_exif(m.exif, static_cast<int>(h.width), static_cast<int>(h.height));
  switch (format) {
    case Format::Jpeg: embed_jpeg(encoded, m); break;
    case Format::Png: embed_png(encoded, m); break;
    case Format::Webp: embed_webp(encoded, m); break;
    case Format::Tiff: embed_tiff(encoded, m); break;
  }
  return encoded;
}

}  // namespace lowlight::codec
