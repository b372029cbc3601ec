#include "messages.h"

#include <utility>

#include "lowlight/device.h"

namespace lowlight::plugin {
namespace {

// Core's messages name the command line tool's options; in GIMP they name the dialog's controls instead.
const std::pair<const char*, const char*> kCliWords[] = {
    {"use --device cpu or auto, or build against a CUDA LibTorch",
     "choose Device: CPU or Automatic under Advanced, or use a plug-in built with CUDA"},
    {" (raise it with --max-megapixels)", " (scale the image down first)"},
    {" (set LOWLIGHT_MODEL_PATH or pass --weights)", ""},
};

}  // namespace

std::string gimp_words(std::string text) {
  for (const auto& [cli, gimp] : kCliWords)
    for (size_t at = text.find(cli); at != std::string::npos; at = text.find(cli, at + std::string(gimp).size()))
      text.replace(at, std::string(cli).size(), gimp);
  return text;
}

std::string threads_text() {
  const int threads = default_cpu_threads();
  return std::to_string(threads) + (threads == 1 ? " thread" : " threads") +
         " on the CPU (its physical cores; OMP_NUM_THREADS set before starting GIMP changes it)";
}

std::string error_text(const std::string& detail) {
  std::string line = detail.substr(0, detail.find('\n'));
  return std::string(kTitle) + ": " + gimp_words(line);
}

std::string error_text(const std::exception& error) { return error_text(std::string(error.what())); }

}  // namespace lowlight::plugin
