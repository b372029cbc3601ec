// Builds without OpenCV (LOWLIGHT_WITH_OPENCV=OFF, e.g. on a GPU machine that has LibTorch but no OpenCV
// for C++): models, the engine on in-memory buffers, the benchmark and the training step run; reading or
// writing image files and the training run's pictures do not, and say so.
#include "image_codec.h"
#include "lowlight/error.h"
#include "train_internal.h"

namespace lowlight {
namespace {

[[noreturn]] void unavailable(const std::string& path, const char* what) {
  throw Error(path + ": cannot " + what + ": this build of Lowlight has no image codecs (built without OpenCV)");
}

}  // namespace

std::vector<uint8_t> codec::encode(const ImageView&, const std::string& path) { unavailable(path, "encode an image"); }
Image codec::decode(const uint8_t*, size_t, const std::string& path) { unavailable(path, "decode an image"); }

void detail::write_curves(const std::string& path, const std::vector<EpochMetrics>&) { unavailable(path, "draw curves"); }
void detail::write_samples(const std::string& path, const std::vector<std::vector<torch::Tensor>>&) {
  unavailable(path, "draw samples");
}

}  // namespace lowlight
