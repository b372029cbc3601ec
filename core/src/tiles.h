#pragma once
// Internal: how an image axis is cut into overlapping tiles, and the blending weights along it.
#include <vector>

namespace lowlight::tiles {

struct Span {
  int start = 0;
  int size = 0;
  int end() const { return start + size; }
};

// Covers [0, length) with spans of `tile` samples overlapping by at least about `overlap`. Starts are
// multiples of `multiple` so every tile sees the same down-sampling grid as the whole image; the last
// span ends at `length` and may be up to multiple-1 longer than `tile`. One span when length <= tile.
std::vector<Span> layout(int length, int tile, int overlap, int multiple);

// Per-span weights along the axis (weights[i][p] for position spans[i].start + p) that sum to one at
// every position. Each span fades in and out across its overlaps with a raised cosine over the central
// part of the overlap, so the outermost pixels of a tile (the ones that saw padding instead of
// neighbours) get no weight.
std::vector<std::vector<float>> blend_weights(const std::vector<Span>& spans, int length);

}  // namespace lowlight::tiles
