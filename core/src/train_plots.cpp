// Run-folder pictures through OpenCV: curves.png (loss and PSNR per epoch) and samples.png (low |
// enhanced | ground truth). Part of lowlight_train (OpenCV).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "lowlight/error.h"
#include "train_internal.h"

namespace lowlight::detail {
namespace {

struct Series {
  std::string label;
  cv::Scalar colour;  // BGR
  std::vector<double> values;
};

std::string format_tick(double v) {
  char text[32];
  std::snprintf(text, sizeof text, std::fabs(v) >= 100 ? "%.0f" : std::fabs(v) >= 1 ? "%.2f" : "%.4f", v);
  return text;
}

// One line chart over epochs 1..n in `panel`.
void draw_panel(cv::Mat& panel, const std::string& title, const std::vector<int>& epochs,
                const std::vector<Series>& series) {
  panel.setTo(cv::Scalar(255, 255, 255));
  const int left = 70, right = 15, top = 35, bottom = 45;
  const cv::Rect plot(left, top, panel.cols - left - right, panel.rows - top - bottom);
  const auto font = cv::FONT_HERSHEY_SIMPLEX;
  cv::putText(panel, title, {left, 22}, font, 0.6, {0, 0, 0}, 1, cv::LINE_AA);
  double lo = 1e300, hi = -1e300;
  for (const auto& s : series)
    for (double v : s.values)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (lo > hi) lo = 0, hi = 1;
  if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
  const double margin = 0.05 * (hi - lo);
  lo -= margin, hi += margin;
  const int first = epochs.empty() ? 1 : epochs.front(), last = epochs.empty() ? 1 : epochs.back();
  const double span = std::max(1, last - first);
  auto at = [&](int epoch, double v) {
    return cv::Point(plot.x + static_cast<int>(std::lround((epoch - first) / span * plot.width)),
                     plot.y + plot.height - static_cast<int>(std::lround((v - lo) / (hi - lo) * plot.height)));
  };
  for (int i = 0; i <= 4; ++i) {
    const double v = lo + (hi - lo) * i / 4;
    const int y = at(first, v).y;
    cv::line(panel, {plot.x, y}, {plot.x + plot.width, y}, {225, 225, 225}, 1);
    cv::putText(panel, format_tick(v), {4, y + 4}, font, 0.4, {60, 60, 60}, 1, cv::LINE_AA);
  }
  const int ticks = std::min(last - first, 5);
  for (int i = 0; i <= ticks; ++i) {
    const int epoch = first + (ticks == 0 ? 0 : (last - first) * i / ticks);
    const int x = at(epoch, lo).x;
    cv::line(panel, {x, plot.y + plot.height}, {x, plot.y + plot.height + 4}, {0, 0, 0}, 1);
    cv::putText(panel, std::to_string(epoch), {x - 6, plot.y + plot.height + 18}, font, 0.4, {60, 60, 60}, 1,
                cv::LINE_AA);
  }
  cv::putText(panel, "epoch", {plot.x + plot.width / 2 - 20, panel.rows - 8}, font, 0.45, {0, 0, 0}, 1, cv::LINE_AA);
  cv::rectangle(panel, plot, {0, 0, 0}, 1);
  int legend_y = plot.y + 16;
  for (const auto& s : series) {
    std::vector<cv::Point> points;
    for (size_t i = 0; i < s.values.size() && i < epochs.size(); ++i)
      if (std::isfinite(s.values[i])) points.push_back(at(epochs[i], s.values[i]));
    if (points.size() > 1) cv::polylines(panel, points, false, s.colour, 2, cv::LINE_AA);
    for (const auto& p : points) cv::circle(panel, p, 3, s.colour, cv::FILLED, cv::LINE_AA);
    cv::line(panel, {plot.x + plot.width - 150, legend_y - 4}, {plot.x + plot.width - 125, legend_y - 4}, s.colour, 2);
    cv::putText(panel, s.label, {plot.x + plot.width - 118, legend_y}, font, 0.45, {0, 0, 0}, 1, cv::LINE_AA);
    legend_y += 18;
  }
}

void write_png(const std::string& path, const cv::Mat& bgr) {
  std::vector<uchar> bytes;
  if (!cv::imencode(".png", bgr, bytes)) throw Error("cannot encode " + path);
  write_file_atomic(path, {{bytes.data(), bytes.size()}}, Overwrite::Yes);
}

// 3 x H x W float [0,1] tensor to an 8-bit BGR image.
cv::Mat to_bgr(const torch::Tensor& chw) {
  torch::Tensor hwc = chw.detach().to(torch::kCPU, torch::kFloat32).clamp(0, 1).mul(255).round().to(torch::kUInt8)
                          .permute({1, 2, 0}).contiguous();
  cv::Mat rgb(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC3, hwc.data_ptr<uint8_t>());
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

}  // namespace

void write_curves(const std::string& path, const std::vector<EpochMetrics>& history) {
  std::vector<int> epochs;
  Series train_loss{"train", {200, 90, 30}, {}}, val_loss{"validation", {30, 110, 230}, {}};
  Series train_psnr{"train", {200, 90, 30}, {}}, val_psnr{"validation", {30, 110, 230}, {}};
  for (const auto& m : history) {
    epochs.push_back(m.epoch);
    train_loss.values.push_back(m.train_loss);
    val_loss.values.push_back(m.val_loss);
    train_psnr.values.push_back(m.train_psnr);
    val_psnr.values.push_back(m.val_psnr);
  }
  cv::Mat canvas(420, 1280, CV_8UC3);
  cv::Mat loss_panel = canvas(cv::Rect(0, 0, 640, 420)), psnr_panel = canvas(cv::Rect(640, 0, 640, 420));
  draw_panel(loss_panel, "loss", epochs, {train_loss, val_loss});
  draw_panel(psnr_panel, "PSNR (dB, peak 1)", epochs, {train_psnr, val_psnr});
  write_png(path, canvas);
}

void write_samples(const std::string& path, const std::vector<std::vector<torch::Tensor>>& rows) {
  if (rows.empty()) return;
  const int max_height = 256, min_height = 128, gap = 4, header = 24;
  std::vector<cv::Mat> lines;
  int width = 0, height = header;
  for (const auto& row : rows) {
    std::vector<cv::Mat> tiles;
    for (const auto& t : row) {
      cv::Mat tile = to_bgr(t);
      if (tile.rows > max_height)
        cv::resize(tile, tile, {tile.cols * max_height / tile.rows, max_height}, 0, 0, cv::INTER_AREA);
      const int zoom = (min_height + tile.rows - 1) / tile.rows;  // small crops are enlarged pixel by pixel
      if (zoom > 1) cv::resize(tile, tile, {tile.cols * zoom, tile.rows * zoom}, 0, 0, cv::INTER_NEAREST);
      tiles.push_back(tile);
    }
    std::vector<cv::Mat> parts;
    for (size_t i = 0; i < tiles.size(); ++i) {
      if (i) parts.emplace_back(tiles[0].rows, gap, CV_8UC3, cv::Scalar(255, 255, 255));
      parts.push_back(tiles[i]);
    }
    cv::Mat line;
    cv::hconcat(parts, line);
    width = std::max(width, line.cols);
    height += line.rows + gap;
    lines.push_back(line);
  }
  cv::Mat sheet(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  const int third = (lines[0].cols - 2 * gap) / 3;
  const char* labels[] = {"low", "enhanced", "ground truth"};
  for (int i = 0; i < 3; ++i)
    cv::putText(sheet, labels[i], {i * (third + gap) + 4, 17}, cv::FONT_HERSHEY_SIMPLEX, 0.5, {0, 0, 0}, 1, cv::LINE_AA);
  int y = header;
  for (const auto& line : lines) {
    line.copyTo(sheet(cv::Rect(0, y, line.cols, line.rows)));
    y += line.rows + gap;
  }
  write_png(path, sheet);
}

}  // namespace lowlight::detail
