#pragma once
// Preview computations in a child process. The full model needs up to a minute for a 200x200 preview on
// a small CPU and LibTorch cannot stop a convolution half-way, so a thread could not be abandoned when
// the user moves on or closes the dialog; a child process can (SIGKILL). The parent keeps GIMP, GTK and
// GEGL; the child only runs the engine on the pixels it inherited and sends the result through a pipe.
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lowlight/engine.h"
#include "render.h"

namespace lowlight::plugin {

class PreviewRun {
 public:
  // Forks: the child loads the weights with `settings`, enhances region.original with the layer's context
  // and sends region.enhanced back. The context is `context` when given, else the child computes it from
  // `context_pixels` (read_context_pixels) and sends it back too, for the next previews; with neither, the
  // region pools over itself. Throws lowlight::Error when the process cannot be started.
  PreviewRun(const std::string& weights_path, const EnhanceSettings& settings, RegionPixels region,
             std::optional<EnhanceContext> context = std::nullopt,
             std::shared_ptr<const RegionPixels> context_pixels = nullptr);
  ~PreviewRun();  // kills the child if it still runs
  PreviewRun(const PreviewRun&) = delete;
  PreviewRun& operator=(const PreviewRun&) = delete;

  // Reads what has arrived, without blocking. True once the child has finished (then see ok()).
  bool poll();
  void cancel();  // kills the child now; poll() then reports finished with an empty error

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  double seconds() const { return seconds_; }  // model time in the child, loading excluded
  RegionPixels& region() { return region_; }    // enhanced is filled when ok()
  // The context the preview was made with, once ok() (none when neither a context nor pixels were given).
  const std::optional<EnhanceContext>& context() const { return context_; }

 private:
  void finish();
  RegionPixels region_;
  std::optional<EnhanceContext> context_;
  pid_t pid_ = -1;
  int fd_ = -1;
  std::vector<char> received_;
  bool finished_ = false, ok_ = false;
  std::string error_;
  double seconds_ = 0;
};

// cuda_available() asked in a short-lived child process: a process that has initialised CUDA cannot use
// it in forked children, so the dialog's parent never touches CUDA itself.
bool probe_cuda();

}  // namespace lowlight::plugin
