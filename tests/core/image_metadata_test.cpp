// EXIF orientation and the EXIF block and ICC profile kept from input to output, in every format that has
// them; hostile metadata lengths. Pillow (tests/core/image_metadata_check.py) writes inputs and reads outputs
// as an independent implementation.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "lowlight/image.h"
#include "support/files.h"
#include "support/image_metadata.h"

namespace fs = std::filesystem;

namespace lowlight {
namespace {

using test::Blob;

class ImageMetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lowlight_image_metadata_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  Image decode(const std::string& bytes) const {
    return decode_image(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "test.jpg");
  }
  fs::path dir_;
};

std::string pillow(const std::string& args) {
  const std::string command =
      "/usr/bin/python3 '" LOWLIGHT_SOURCE_DIR "/tests/core/image_metadata_check.py' " + args + " 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return "popen failed";
  char buffer[512];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? output : "exit " + std::to_string(status) + ": " + output;
}

// 7x4 (not square, no symmetry): every pixel has its own colour.
Image pattern() {
  Image image(7, 4, 3, SampleType::U8);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 7; ++x) {
      uint8_t* p = &image.bytes[(y * 7 + x) * 3];
      p[0] = static_cast<uint8_t>(30 * x + 10), p[1] = static_cast<uint8_t>(60 * y + 5), p[2] = static_cast<uint8_t>(x * y * 9);
    }
  return image;
}

// Where the stored pixel (x, y) of a w x h image is shown, from the EXIF specification's table of the sides
// on which the stored 0th row and 0th column are shown (t, b, l, r) for each orientation.
std::pair<int, int> shown_at(int orientation, int x, int y, int w, int h) {
  static const char* sides[9] = {"", "tl", "tr", "br", "bl", "lt", "rt", "rb", "lb"};
  const char row0 = sides[orientation][0], col0 = sides[orientation][1];
  if (row0 == 't' || row0 == 'b') return {col0 == 'l' ? x : w - 1 - x, row0 == 't' ? y : h - 1 - y};
  return {row0 == 'l' ? y : h - 1 - y, col0 == 't' ? x : w - 1 - x};
}

void expect_shown(const Image& stored, const Image& shown, int orientation) {
  const bool turned = orientation >= 5;
  ASSERT_EQ(shown.width, turned ? stored.height : stored.width) << "orientation " << orientation;
  ASSERT_EQ(shown.height, turned ? stored.width : stored.height) << "orientation " << orientation;
  for (int y = 0; y < stored.height; ++y)
    for (int x = 0; x < stored.width; ++x) {
      const auto [sx, sy] = shown_at(orientation, x, y, stored.width, stored.height);
      for (int c = 0; c < 3; ++c)
        ASSERT_EQ(shown.bytes[(sy * shown.width + sx) * 3 + c], stored.bytes[(y * stored.width + x) * 3 + c])
            << "orientation " << orientation << ", stored pixel " << x << "," << y;
    }
}

TEST_F(ImageMetadataTest, JpegIsTurnedForEveryOrientationAndKeepsExifAndIcc) {
  write_image(path("plain.jpg"), pattern().view());
  const std::string plain = test::slurp(path("plain.jpg"));
  const Image stored = decode(plain);  // the same scan, decoded without metadata
  const Blob icc = test::fake_icc(70000);  // two APP2 parts, stored in reverse order
  for (bool big : {false, true})
    for (int o = 1; o <= 8; ++o) {
      SCOPED_TRACE(std::string(big ? "big" : "little") + "-endian EXIF, orientation " + std::to_string(o));
      const Image shown = decode(test::with_jpeg_metadata(plain, test::exif_block(o, big), icc));
      expect_shown(stored, shown, o);
      EXPECT_EQ(shown.metadata.exif, test::exif_block(1, big)) << "the block, Orientation set to 1";
      EXPECT_EQ(shown.metadata.icc, icc);
      // Written out (PNG: lossless) and read back: upright, the same metadata, nothing turned twice.
      write_image(path("out.png"), shown.view(), Overwrite::Yes, shown.metadata);
      const Image again = read_image(path("out.png"));
      EXPECT_EQ(again.width, shown.width);
      EXPECT_EQ(again.bytes, shown.bytes);
      EXPECT_EQ(again.metadata.exif, test::exif_block(1, big));
      EXPECT_EQ(again.metadata.icc, icc);
    }
}

// Pillow writes each format with each orientation; we must show what Pillow shows, and what we write from
// them Pillow must read with Orientation 1, the same EXIF tags, the same ICC bytes and the same pixels.
TEST_F(ImageMetadataTest, EveryFormatAndOrientationAgreesWithPillowBothWays) {
  ASSERT_EQ(pillow("make " + dir_.string()), "ok\n");
  const std::string icc_bytes = test::slurp(dir_ / "icc.bin");
  const Blob icc(icc_bytes.begin(), icc_bytes.end());
  EXPECT_EQ(icc, test::fake_icc());
  int written = 0;
  for (const std::string ext : {"png", "jpg", "webp", "tif"})
    for (int o = 1; o <= 8; ++o) {
      const std::string name = "o" + std::to_string(o) + "." + ext;
      SCOPED_TRACE(name);
      const Image image = read_image(path(name));
      const std::string expected = test::slurp(path(name + ".rgb"));
      const size_t header = expected.find('\n') + 1;
      int w = 0, h = 0;
      ASSERT_EQ(std::sscanf(expected.c_str(), "%d %d", &w, &h), 2);
      ASSERT_EQ(image.width, w);
      ASSERT_EQ(image.height, h);
      ASSERT_EQ(image.channels, 3);
      int worst = 0;
      for (size_t i = 0; i < image.bytes.size(); ++i)
        worst = std::max(worst, std::abs(int(image.bytes[i]) - int(uint8_t(expected[header + i]))));
      EXPECT_LE(worst, ext == "jpg" ? 8 : 0) << "pixels differ from Pillow's upright view";
      EXPECT_EQ(image.metadata.icc, icc);
      EXPECT_FALSE(image.metadata.exif.empty());
      // Same format; and the sixth orientation into every other format.
      for (const std::string out : {"png", "jpg", "webp", "tif"}) {
        if (out != ext && o != 6) continue;
        write_image(path("out_" + name + "." + out), image.view(), Overwrite::Yes, image.metadata);
        ++written;
      }
    }
  EXPECT_EQ(pillow("check " + dir_.string()), "ok " + std::to_string(written) + "\n");
}

TEST_F(ImageMetadataTest, HostileBlocksAreDroppedOrIgnoredNeverFatal) {
  write_image(path("plain.jpg"), pattern().view());
  const std::string plain = test::slurp(path("plain.jpg"));
  const Blob icc = test::fake_icc(300);
  struct Case {
    const char* what;
    Blob exif;
    bool turned;
  };
  Blob past_end = test::exif_block(6, false);
  past_end[4] = past_end[5] = past_end[6] = past_end[7] = 0xF0;  // first directory at 0xF0F0F0F0
  const Case cases[] = {
      {"first directory past the end", past_end, false},
      {"65535 entries declared, 3 present", test::exif_block(6, false, 0xFFFF), true},
      {"Orientation 9", test::exif_block(9, true), false},
      {"Orientation 0", test::exif_block(0, true), false},
      {"Orientation of type LONG8", test::exif_block(6, true, 3, 62, 16), false},
      {"Orientation with a billion values", test::exif_block(6, true, 3, 62, 3, 1u << 30), false},
      {"EXIF directory pointing at the first", test::exif_block(6, false, 3, 8), true},
      {"EXIF directory past the end", test::exif_block(6, true, 3, 0xFFFFFF00u), true},
      {"a block of 6 bytes", Blob{'I', 'I', '*', 0, 8, 0}, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const Image image = decode(test::with_jpeg_metadata(plain, c.exif, icc));
    EXPECT_EQ(image.width, c.turned ? 4 : 7);
    EXPECT_EQ(image.metadata.icc, icc);
    for (const std::string ext : {"tif", "png", "webp", "jpg"}) {  // rewriting the block must not trip either
      write_image(path("out." + ext), image.view(), Overwrite::Yes, image.metadata);
      EXPECT_EQ(read_image(path("out." + ext)).width, image.width);
    }
  }
  // ICC parts that do not number 1..count, each once: the profile is dropped, the image still reads.
  const std::string jpeg = test::with_jpeg_metadata(plain, {}, icc, 200);  // parts 2/2, 1/2
  const size_t first = jpeg.find("ICC_PROFILE"), second = jpeg.find("ICC_PROFILE", first + 1);
  for (const auto& [what, at, value] : {std::tuple<const char*, size_t, char>{"part 2 of 2 twice", second + 12, 2},
                                        {"count 0", first + 13, 0},
                                        {"part 3 of 2", first + 12, 3},
                                        {"count 255 with two parts", second + 13, char(255)}}) {
    SCOPED_TRACE(what);
    std::string bad = jpeg;
    bad[at] = value;
    const Image image = decode(bad);
    EXPECT_EQ(image.width, 7);
    EXPECT_TRUE(image.metadata.icc.empty());
  }
  EXPECT_EQ(decode(jpeg).metadata.icc, icc) << "the unbroken parts do make the profile";
  // A PNG whose iCCP chunk inflates to 32 MB (a 32 KB file): inflating stops at the JPEG-sized ceiling.
  const Image bomb = read_image(LOWLIGHT_SOURCE_DIR "/tests/fuzz/corpus/image/icc-bomb.png");
  EXPECT_EQ(bomb.width, 8);
  EXPECT_TRUE(bomb.metadata.icc.empty());
}

TEST_F(ImageMetadataTest, AJpegHasRoomForExifUpTo64KBAndDropsOnlyALargerOne) {
  Image image = pattern();
  image.metadata.exif = test::exif_block(1, false);
  image.metadata.exif.resize(70000, 0);  // what a PNG or TIFF can carry, a JPEG segment cannot
  image.metadata.icc = test::fake_icc(100000);
  write_image(path("big.jpg"), image.view(), Overwrite::Yes, image.metadata);
  write_image(path("big.png"), image.view(), Overwrite::Yes, image.metadata);
  const Image jpeg = read_image(path("big.jpg")), png = read_image(path("big.png"));
  EXPECT_TRUE(jpeg.metadata.exif.empty());
  EXPECT_EQ(jpeg.metadata.icc, image.metadata.icc);
  EXPECT_EQ(png.metadata.exif, image.metadata.exif);
  EXPECT_EQ(png.metadata.icc, image.metadata.icc);
}

// A simple WebP becomes an extended one to carry metadata; its alpha flag must follow the pixels' alpha.
TEST_F(ImageMetadataTest, AlphaSurvivesTheExtendedWebpAndPng) {
  Image rgba(5, 3, 4, SampleType::U8);
  for (size_t i = 0; i < rgba.bytes.size(); ++i) rgba.bytes[i] = static_cast<uint8_t>(i * 11);
  rgba.metadata = {test::exif_block(1, false), test::fake_icc()};
  for (const std::string ext : {"webp", "png", "tif"}) {
    write_image(path("a." + ext), rgba.view(), Overwrite::Yes, rgba.metadata);
    const Image back = read_image(path("a." + ext));
    EXPECT_EQ(back.bytes, rgba.bytes) << ext;
    EXPECT_EQ(back.metadata.icc, rgba.metadata.icc) << ext;
  }
}

TEST_F(ImageMetadataTest, ImagesWithoutMetadataAreWrittenAsBefore) {
  for (const std::string ext : {"png", "webp", "tif", "jpg"}) {
    write_image(path("a." + ext), pattern().view());
    const Image image = read_image(path("a." + ext));
    EXPECT_TRUE(image.metadata.empty()) << ext;
    if (ext == "jpg") continue;  // lossy: a second encoding differs anyway
    write_image(path("b." + ext), image.view(), Overwrite::Yes, image.metadata);
    EXPECT_EQ(test::slurp(path("a." + ext)), test::slurp(path("b." + ext))) << ext;
  }
}

}  // namespace
}  // namespace lowlight
