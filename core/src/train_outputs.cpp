// Run-folder outputs other than weights and checkpoints: metrics.csv here, curves.png and samples.png in
// train_plots.cpp.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "lowlight/atomic_file.h"
#include "lowlight/error.h"
#include "train_internal.h"

namespace lowlight::detail {

void write_metrics_csv(const std::string& path, const std::vector<EpochMetrics>& history) {
  std::string text = "epoch,step,train_loss,train_psnr,val_loss,val_psnr,val_psnr_seedcompat,val_ssim,lr,seconds\n";
  char line[512];
  for (const auto& m : history) {
    std::snprintf(line, sizeof line, "%d,%lld,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.3f\n", m.epoch,
                  static_cast<long long>(m.step), m.train_loss, m.train_psnr, m.val_loss, m.val_psnr,
                  m.val_psnr_seedcompat, m.val_ssim, m.lr, m.seconds);
    text += line;
  }
  write_file_atomic(path, text, Overwrite::Yes);
}

}  // namespace lowlight::detail
