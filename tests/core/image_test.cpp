// Image buffers and file I/O: round trips per format and depth, clear errors, atomic writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "lowlight/error.h"
#include "lowlight/image.h"

namespace fs = std::filesystem;

namespace lowlight {
namespace {

class ImageIo : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lowlight_image_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // Every file in the folder, so tests can assert that no temporary was left behind.
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  fs::path dir_;
};

// Deterministic pixels covering the type's range, alpha included.
Image gradient(int w, int h, int c, SampleType type) {
  Image img(w, h, c, type);
  const size_t n = static_cast<size_t>(w) * h * c;
  for (size_t i = 0; i < n; ++i) {
    const unsigned v = static_cast<unsigned>(i * 2654435761u >> 7);
    switch (type) {
      case SampleType::U8: img.bytes[i] = static_cast<uint8_t>(v); break;
      case SampleType::U16: reinterpret_cast<uint16_t*>(img.bytes.data())[i] = static_cast<uint16_t>(v); break;
      case SampleType::F32: reinterpret_cast<float*>(img.bytes.data())[i] = (v % 1001) / 1000.0f; break;
    }
  }
  return img;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(ImageBasics, SizesNamesStride) {
  EXPECT_EQ(sample_size(SampleType::U8), 1u);
  EXPECT_EQ(sample_size(SampleType::U16), 2u);
  EXPECT_EQ(sample_size(SampleType::F32), 4u);
  EXPECT_STREQ(sample_type_name(SampleType::U16), "u16");
  Image img(5, 3, 4, SampleType::U16);
  EXPECT_EQ(img.bytes.size(), 5u * 3 * 4 * 2);
  EXPECT_EQ(img.view().stride(), 40u);
  EXPECT_TRUE(img.view().has_alpha());
  ImageView padded{img.bytes.data(), 2, 3, 1, SampleType::F32, 64};
  EXPECT_EQ(padded.stride(), 64u);
  EXPECT_FALSE(padded.has_alpha());
  EXPECT_THROW(Image(2, 2, 5, SampleType::U8), Error);
  EXPECT_THROW(Image(-1, 2, 3, SampleType::U8), Error);
}

TEST(ImageBasics, ToFloat) {
  std::vector<uint8_t> buffer = {0, 255, 51, 9, 9, 102, 204, 0, 9, 9};  // 3x2 gray, stride 5
  const Image f = to_float(ImageView{buffer.data(), 3, 2, 1, SampleType::U8, 5});
  ASSERT_EQ(f.type, SampleType::F32);
  const auto* v = reinterpret_cast<const float*>(f.bytes.data());
  const std::vector<float> expected = {0.0f, 1.0f, 0.2f, 0.4f, 0.8f, 0.0f};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(v[i], expected[i]) << i;
  Image u16(1, 1, 2, SampleType::U16);
  reinterpret_cast<uint16_t*>(u16.bytes.data())[0] = 65535;
  reinterpret_cast<uint16_t*>(u16.bytes.data())[1] = 13107;
  const Image g = to_float(u16.view());
  EXPECT_FLOAT_EQ(reinterpret_cast<const float*>(g.bytes.data())[0], 1.0f);
  EXPECT_FLOAT_EQ(reinterpret_cast<const float*>(g.bytes.data())[1], 0.2f);
}

TEST_F(ImageIo, LosslessRoundTrips) {
  struct Case {
    const char* name;
    int channels;
    SampleType type;
  };
  const Case cases[] = {
      {"rgba8.png", 4, SampleType::U8},   {"rgba16.png", 4, SampleType::U16}, {"rgb8.png", 3, SampleType::U8},
      {"gray8.png", 1, SampleType::U8},   {"gray16.png", 1, SampleType::U16}, {"rgb16.tif", 3, SampleType::U16},
      {"rgba8.tiff", 4, SampleType::U8},  {"rgb8.webp", 3, SampleType::U8},   {"rgba8.webp", 4, SampleType::U8},
      {"RGB8.PNG", 3, SampleType::U8},
  };
  for (const Case& c : cases) {
    const Image in = gradient(13, 7, c.channels, c.type);
    write_image(path(c.name), in.view());
    const Image out = read_image(path(c.name));
    EXPECT_EQ(out.width, 13) << c.name;
    EXPECT_EQ(out.height, 7) << c.name;
    EXPECT_EQ(out.channels, c.channels) << c.name;
    EXPECT_EQ(out.type, c.type) << c.name;
    EXPECT_EQ(out.bytes, in.bytes) << c.name;
  }
  EXPECT_EQ(listing().size(), std::size(cases));  // no temporaries left behind
}

TEST_F(ImageIo, ChannelOrderIsRgb) {
  Image red(2, 1, 3, SampleType::U8);
  red.bytes = {255, 0, 0, 255, 0, 0};
  write_image(path("red.png"), red.view());
  const cv::Mat bgr = cv::imread(path("red.png"), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(bgr.channels(), 3);
  EXPECT_EQ(bgr.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 255));  // OpenCV's own view: BGR
  EXPECT_EQ(read_image(path("red.png")).bytes, red.bytes);
}

// Gray+alpha stays two channels through a PNG (OpenCV alone would make it RGBA), at both depths.
TEST_F(ImageIo, GrayAlphaStaysGrayAlpha) {
  for (const SampleType type : {SampleType::U8, SampleType::U16}) {
    const Image ga = gradient(9, 5, 2, type);
    write_image(path("ga.png"), ga.view());
    EXPECT_EQ(slurp(path("ga.png"))[25], 4) << "IHDR colour type";
    const Image out = read_image(path("ga.png"));
    ASSERT_EQ(out.channels, 2);
    EXPECT_EQ(out.type, type);
    EXPECT_EQ(out.bytes, ga.bytes);
    // Another reader agrees: OpenCV sees gray (B = G = R) with that alpha.
    const cv::Mat bgra = cv::imread(path("ga.png"), cv::IMREAD_UNCHANGED);
    ASSERT_EQ(bgra.channels(), 4);
    if (type == SampleType::U8) {
      EXPECT_EQ(bgra.at<cv::Vec4b>(0, 1), cv::Vec4b(ga.bytes[2], ga.bytes[2], ga.bytes[2], ga.bytes[3]));
    }
  }
  // OpenCV reads a gray+alpha TIFF (from PIL, the fuzzers' seed) as plain gray: refused, not alpha dropped.
  const std::string tiff = std::string(LOWLIGHT_SOURCE_DIR) + "/tests/fuzz/corpus/image/gray-alpha.tif";
  EXPECT_TRUE(contains(error_of([&] { read_image(tiff); }), "gray+alpha TIFF")) << error_of([&] { read_image(tiff); });
  // Other formats keep the look: RGBA with equal colour channels (JPEG: gray).
  Image ga(2, 1, 2, SampleType::U8);
  ga.bytes = {10, 200, 99, 0};
  write_image(path("ga.tif"), ga.view());
  EXPECT_EQ(read_image(path("ga.tif")).bytes, (std::vector<uint8_t>{10, 10, 10, 200, 99, 99, 99, 0}));
}

TEST_F(ImageIo, JpegDropsAlphaAndIs8Bit) {
  Image in(16, 16, 4, SampleType::U16);
  auto* s = reinterpret_cast<uint16_t*>(in.bytes.data());
  for (int i = 0; i < 16 * 16; ++i) {
    s[4 * i] = 200 * 257;
    s[4 * i + 1] = 100 * 257;
    s[4 * i + 2] = 50 * 257;
    s[4 * i + 3] = static_cast<uint16_t>(i * 100);
  }
  write_image(path("x.jpg"), in.view());
  const Image out = read_image(path("x.jpg"));
  ASSERT_EQ(out.channels, 3);
  ASSERT_EQ(out.type, SampleType::U8);
  for (size_t i = 0; i < out.bytes.size(); i += 3) {
    EXPECT_NEAR(out.bytes[i], 200, 3);
    EXPECT_NEAR(out.bytes[i + 1], 100, 3);
    EXPECT_NEAR(out.bytes[i + 2], 50, 3);
  }
  Image gray = gradient(8, 8, 1, SampleType::U8);
  write_image(path("g.jpeg"), gray.view());
  EXPECT_EQ(read_image(path("g.jpeg")).channels, 1);
}

TEST_F(ImageIo, FloatIsWrittenAs16Bit) {
  Image f(3, 1, 1, SampleType::F32);
  const float values[] = {0.0f, 0.5f, 1.5f};  // out of range clips
  std::memcpy(f.bytes.data(), values, sizeof values);
  for (const char* name : {"f.png", "f.tif"}) {
    write_image(path(name), f.view());
    const Image out = read_image(path(name));
    ASSERT_EQ(out.type, SampleType::U16) << name;
    const auto* v = reinterpret_cast<const uint16_t*>(out.bytes.data());
    EXPECT_EQ(v[0], 0);
    EXPECT_EQ(v[1], 32768);  // 32767.5: OpenCV rounds half to even
    EXPECT_EQ(v[2], 65535);
  }
  write_image(path("f.webp"), f.view());
  const Image w = read_image(path("f.webp"));
  EXPECT_EQ(w.type, SampleType::U8);
  EXPECT_EQ(w.channels, 3);  // OpenCV's WebP stores gray as RGB
  EXPECT_EQ(w.bytes[3], 128);
}

TEST_F(ImageIo, ReadsFloatTiff) {
  cv::Mat m(2, 3, CV_32FC1);
  for (int i = 0; i < 6; ++i) m.at<float>(i / 3, i % 3) = i / 8.0f;
  ASSERT_TRUE(cv::imwrite(path("f32.tiff"), m));
  const Image out = read_image(path("f32.tiff"));
  ASSERT_EQ(out.type, SampleType::F32);
  EXPECT_FLOAT_EQ(reinterpret_cast<const float*>(out.bytes.data())[5], 5 / 8.0f);
}

TEST_F(ImageIo, HonoursRowStrideWhenWriting) {
  std::vector<uint8_t> buffer = {1, 2, 3, 77, 4, 5, 6, 77};  // 3x2 gray with one pad byte a row
  write_image(path("s.png"), ImageView{buffer.data(), 3, 2, 1, SampleType::U8, 4});
  EXPECT_EQ(read_image(path("s.png")).bytes, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));
}

TEST_F(ImageIo, MissingFileError) {
  const std::string msg = error_of([&] { read_image(path("nope.png")); });
  EXPECT_TRUE(contains(msg, path("nope.png"))) << msg;
  EXPECT_TRUE(contains(msg, "no such file")) << msg;
  const std::string dir_msg = error_of([&] { read_image(dir_.string()); });
  EXPECT_TRUE(contains(dir_msg, "directory")) << dir_msg;
}

TEST_F(ImageIo, NonImageFileError) {
  std::ofstream(path("x.png")) << "this is text, not a PNG\n";
  const std::string msg = error_of([&] { read_image(path("x.png")); });
  EXPECT_TRUE(contains(msg, path("x.png"))) << msg;
  EXPECT_TRUE(contains(msg, "not an image")) << msg;
  std::ofstream(path("empty.png")).close();
  EXPECT_TRUE(contains(error_of([&] { read_image(path("empty.png")); }), "empty")) << "empty file";
  // A truncated PNG (an interrupted download or copy) is named as such, and libpng prints nothing of its
  // own: the error stays one line.
  write_image(path("ok.png"), gradient(32, 32, 3, SampleType::U8).view());
  const std::string png = slurp(path("ok.png"));
  std::ofstream(path("cut.png"), std::ios::binary) << png.substr(0, png.size() / 2);
  ::testing::internal::CaptureStderr();
  const std::string cut = error_of([&] { read_image(path("cut.png")); });
  const std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(contains(cut, path("cut.png"))) << cut;
  EXPECT_TRUE(contains(cut, "truncated PNG")) << cut;
  EXPECT_EQ(printed, "");
}

TEST_F(ImageIo, UnsupportedDepthError) {
  cv::Mat m(2, 2, CV_64FC1, cv::Scalar(0.5));
  ASSERT_TRUE(cv::imwrite(path("d.tiff"), m));
  const std::string msg = error_of([&] { read_image(path("d.tiff")); });
  EXPECT_TRUE(contains(msg, path("d.tiff"))) << msg;
  EXPECT_TRUE(contains(msg, "64-bit float")) << msg;
}

TEST_F(ImageIo, FailedWriteLeavesExistingFileAndNoTemporaries) {
  const std::string keep = path("keep.xyz");
  std::ofstream(keep) << "precious";
  const Image img = gradient(4, 4, 3, SampleType::U8);
  const std::string msg = error_of([&] { write_image(keep, img.view()); });
  EXPECT_TRUE(contains(msg, "unknown image extension")) << msg;
  EXPECT_EQ(slurp(keep), "precious");

  // The target is a directory: the encoded temp file cannot be renamed over it and must be removed.
  fs::create_directories(path("taken.png"));
  EXPECT_TRUE(contains(error_of([&] { write_image(path("taken.png"), img.view()); }), path("taken.png")));
  // Missing folder: nothing can be created at all.
  EXPECT_THROW(write_image(path("no/such/dir/out.png"), img.view()), Error);
  // An invalid view fails before a file is made.
  EXPECT_THROW(write_image(path("bad.png"), ImageView{}), Error);
  EXPECT_EQ(listing(), (std::vector<std::string>{"keep.xyz", "taken.png"}));
}

TEST_F(ImageIo, OverwriteReplacesWholeFile) {
  const std::string target = path("o.png");
  write_image(target, gradient(64, 64, 4, SampleType::U16).view());
  const Image small = gradient(2, 2, 3, SampleType::U8);
  write_image(target, small.view());
  EXPECT_EQ(read_image(target).bytes, small.bytes);
  EXPECT_EQ(listing(), std::vector<std::string>{"o.png"});
}


// Hardening (issue 17): files cut short, several pages, sizes beyond the limit: refused from the header.

std::string error_reading(const std::string& file, int64_t max_pixels = kDefaultMaxPixels) {
  return error_of([&] { read_image(file, max_pixels); });
}

TEST_F(ImageIo, TruncatedJpegIsRefused) {
  write_image(path("ok.jpg"), gradient(64, 48, 3, SampleType::U8).view());
  const std::string jpeg = slurp(path("ok.jpg"));
  std::ofstream(path("cut.jpg"), std::ios::binary) << jpeg.substr(0, jpeg.size() - 200);
  ::testing::internal::CaptureStderr();
  const std::string msg = error_reading(path("cut.jpg"));
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "") << "libjpeg printed its own warning";
  EXPECT_TRUE(contains(msg, path("cut.jpg"))) << msg;
  EXPECT_TRUE(contains(msg, "truncated JPEG")) << msg;
  // An end-of-image marker inside a segment (an EXIF thumbnail's) does not count: the segments are walked.
  const std::string app = std::string("\xff\xef\x00\x06\xff\xd9\xff\xd9", 8);  // APP15 holding FFD9 FFD9
  std::ofstream(path("thumb-cut.jpg"), std::ios::binary) << jpeg.substr(0, 2) + app + jpeg.substr(2, jpeg.size() / 2);
  EXPECT_TRUE(contains(error_reading(path("thumb-cut.jpg")), "truncated JPEG"));
  // A whole file with such a segment, and bytes after its end (some cameras append data), reads.
  std::ofstream(path("extra.jpg"), std::ios::binary) << jpeg.substr(0, 2) + app + jpeg.substr(2) + "trailing data";
  EXPECT_EQ(read_image(path("extra.jpg")).bytes, read_image(path("ok.jpg")).bytes);
}

TEST_F(ImageIo, TruncatedWebpAndTiffAreRefused) {
  write_image(path("ok.webp"), gradient(32, 32, 3, SampleType::U8).view());
  const std::string webp = slurp(path("ok.webp"));
  std::ofstream(path("cut.webp"), std::ios::binary) << webp.substr(0, webp.size() / 2);
  EXPECT_TRUE(contains(error_reading(path("cut.webp")), "truncated WebP")) << error_reading(path("cut.webp"));
  // An animated WebP (VP8X with the animation flag) is refused from its header.
  std::string animated = "RIFF" + std::string("\x16\x00\x00\x00", 4) + "WEBPVP8X" + std::string("\x0a\0\0\0", 4);
  animated += std::string("\x02\0\0\0\x07\0\0\x07\0\0", 10);
  std::ofstream(path("anim.webp"), std::ios::binary) << animated;
  EXPECT_TRUE(contains(error_reading(path("anim.webp")), "animated WebP")) << error_reading(path("anim.webp"));
  // A TIFF whose first directory lies beyond the end of the file.
  std::ofstream(path("cut.tif"), std::ios::binary) << std::string("II*\0\x00\x10\x00\x00", 8) << "short";
  EXPECT_TRUE(contains(error_reading(path("cut.tif")), "past its end")) << error_reading(path("cut.tif"));
}

TEST_F(ImageIo, MultiPageTiffIsRefused) {
  const std::vector<cv::Mat> pages(3, cv::Mat(4, 5, CV_8UC1, cv::Scalar(7)));
  ASSERT_TRUE(cv::imwritemulti(path("pages.tiff"), pages));
  const std::string msg = error_reading(path("pages.tiff"));
  EXPECT_TRUE(contains(msg, "multi-page TIFF (3 pages)")) << msg;
  ASSERT_TRUE(cv::imwrite(path("one.tiff"), pages[0]));
  EXPECT_EQ(read_image(path("one.tiff")).width, 5);
}

TEST_F(ImageIo, PixelLimitIsCheckedFromTheHeader) {
  write_image(path("p.png"), gradient(40, 25, 3, SampleType::U8).view());
  EXPECT_EQ(read_image(path("p.png"), 1000).width, 40);
  const std::string msg = error_reading(path("p.png"), 999);
  EXPECT_TRUE(contains(msg, "40x25 is 0.001 megapixels, more than the limit of 0.000999")) << msg;
  EXPECT_TRUE(contains(error_reading(path("p.png"), 0), "pixel limit")) << "a limit below 1";
  EXPECT_TRUE(contains(error_reading(path("p.png"), kMaxPixelLimit + 1), "pixel limit")) << "above OpenCV's";
  // Every format's header gives its size.
  for (const char* name : {"p.jpg", "p.tif", "p.webp"}) {
    write_image(path(name), gradient(40, 25, 3, SampleType::U8).view());
    EXPECT_TRUE(contains(error_reading(path(name), 999), "40x25")) << name << ": " << error_reading(path(name), 999);
    EXPECT_NO_THROW(check_image_file(path(name), 1000)) << name;
  }
}

}  // namespace
}  // namespace lowlight
