#include "tiles.h"

#include <algorithm>
#include <cmath>

#include "lowlight/error.h"

namespace lowlight::tiles {
namespace {

// Fraction of each overlap, at each end, where a tile's weight is zero: its outermost pixels saw
// padding where the whole image has real neighbours, so they are the least like whole-image output.
constexpr double kDeadFraction = 0.25;

// 0 at t <= 0, 1 at t >= 1, raised cosine in between.
double ramp(double t) {
  if (t <= 0.0) return 0.0;
  if (t >= 1.0) return 1.0;
  return 0.5 - 0.5 * std::cos(M_PI * t);
}

// Weight of a position `p` samples inside a tile edge that overlaps its neighbour by `width` samples.
double fade(int p, int width) {
  if (width <= 0) return 1.0;
  const double dead = kDeadFraction * width;
  const double live = width - 2.0 * dead;
  return ramp((p + 0.5 - dead) / live);
}

}  // namespace

std::vector<Span> layout(int length, int tile, int overlap, int multiple) {
  if (length < 1 || tile < 1 || multiple < 1 || overlap < 0 || overlap >= tile)
    throw Error("tile layout: invalid length " + std::to_string(length) + ", tile " + std::to_string(tile) +
                ", overlap " + std::to_string(overlap));
  if (length <= tile) return {Span{0, length}};
  const int step = tile - overlap;
  const int count = 1 + (length - tile + step - 1) / step;
  // The fewest tiles that cover the length, each shrunk to what still leaves `overlap` between neighbours
  // (plus one grid step, lost when starts are rounded down): full-size tiles spread evenly would overlap far
  // more than asked, and at 12 MP computed 1.6x the image's pixels instead of 1.2x.
  const int needed = (length + (count - 1) * overlap + count - 1) / count + multiple;
  tile = std::min(tile, (needed + multiple - 1) / multiple * multiple);
  std::vector<Span> spans(count);
  for (int i = 0; i < count; ++i) {
    const double ideal = static_cast<double>(i) * (length - tile) / (count - 1);
    const int start = static_cast<int>(std::lround(ideal)) / multiple * multiple;
    spans[i] = Span{start, std::min(tile, length - start)};
  }
  spans.back().size = length - spans.back().start;
  // Rounding starts down to the grid can make neighbours coincide; the later (longer) one covers both.
  std::vector<Span> unique;
  for (const Span& s : spans) {
    if (!unique.empty() && unique.back().start == s.start) unique.pop_back();
    unique.push_back(s);
  }
  return unique;
}

std::vector<std::vector<float>> blend_weights(const std::vector<Span>& spans, int length) {
  std::vector<std::vector<double>> raw(spans.size());
  std::vector<double> total(length, 0.0);
  for (size_t i = 0; i < spans.size(); ++i) {
    const Span& s = spans[i];
    const int left = i > 0 ? spans[i - 1].end() - s.start : 0;
    const int right = i + 1 < spans.size() ? s.end() - spans[i + 1].start : 0;
    raw[i].resize(s.size);
    for (int p = 0; p < s.size; ++p) {
      // The floor keeps every position covered even where three tiles overlap on tiny images.
      const double w = std::max(1e-9, fade(p, left) * fade(s.size - 1 - p, right));
      raw[i][p] = w;
      total[s.start + p] += w;
    }
  }
  std::vector<std::vector<float>> weights(spans.size());
  for (size_t i = 0; i < spans.size(); ++i) {
    weights[i].resize(spans[i].size);
    for (int p = 0; p < spans[i].size; ++p)
      weights[i][p] = static_cast<float>(raw[i][p] / total[spans[i].start + p]);
  }
  return weights;
}

}  // namespace lowlight::tiles
