// libFuzzer target: image bytes through lowlight::decode_image, as `lowlight enhance` reads a file: the
// header checks (image_header.cpp), then OpenCV's PNG, JPEG, TIFF and WebP decoders. Every failure must be
// a lowlight::Error; a decoded image must be as large as it says.
#include <cstddef>
#include <cstdint>

#include "lowlight/error.h"
#include "lowlight/image.h"

namespace {
// Far below the default limit: each input decodes in milliseconds and within libFuzzer's memory limit.
constexpr int64_t kFuzzMaxPixels = int64_t(1) << 22;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const lowlight::Image image = lowlight::decode_image(data, size, "input", kFuzzMaxPixels);
    const size_t expected = static_cast<size_t>(image.width) * image.height * image.channels *
                            lowlight::sample_size(image.type);
    if (image.width < 1 || image.height < 1 || image.channels < 1 || image.channels > 4 ||
        image.bytes.size() != expected ||
        static_cast<int64_t>(image.width) * image.height > kFuzzMaxPixels)
      __builtin_trap();
  } catch (const lowlight::Error&) {
    // Refused with a message: what a bad file must get.
  }
  return 0;
}
