// Training data: paired folders decoded once into 8-bit RGB, random crops, fixed validation batches.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <random>
#include <set>

#include "lowlight/error.h"
#include "lowlight/image.h"
#include "train_internal.h"

namespace fs = std::filesystem;

namespace lowlight::detail {
namespace {

std::vector<std::string> list_files(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error("training data: no folder " + dir.string());
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || !entry.is_regular_file()) continue;
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());  // as strings, like Python's sorted(glob(...))
  return names;
}

// Any channel count and sample type to interleaved RGB u8.
std::vector<uint8_t> to_rgb8(const Image& image) {
  const size_t pixels = static_cast<size_t>(image.width) * image.height;
  std::vector<uint8_t> rgb(pixels * 3);
  const int channels = image.channels;
  auto sample = [&](size_t index) -> uint8_t {
    switch (image.type) {
      case SampleType::U8: return image.bytes[index];
      case SampleType::U16: {
        uint16_t v;
        std::memcpy(&v, &image.bytes[index * 2], 2);
        return static_cast<uint8_t>((v * 255u + 32767u) / 65535u);
      }
      case SampleType::F32: {
        float v;
        std::memcpy(&v, &image.bytes[index * 4], 4);
        return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f));
      }
    }
    return 0;
  };
  for (size_t p = 0; p < pixels; ++p)
    for (int c = 0; c < 3; ++c) rgb[p * 3 + c] = sample(p * channels + (channels >= 3 ? c : 0));
  return rgb;
}

struct Listing {
  std::vector<std::string> names;  // names present in both folders
};

// Pairs names present in low/ and high/; a name in only one is a bad pair.
Listing pair_names(const fs::path& dir, bool skip_bad, const LogFn& log) {
  const auto low = list_files(dir / "low");
  const auto high = list_files(dir / "high");
  const std::set<std::string> high_set(high.begin(), high.end()), low_set(low.begin(), low.end());
  Listing listing;
  auto bad = [&](const std::string& message) {
    if (!skip_bad) throw Error(message);
    if (log) log("warning: skipping " + message);
  };
  for (const auto& name : low) {
    if (high_set.count(name)) listing.names.push_back(name);
    else bad("bad pair " + (dir / "low" / name).string() + ": no partner " + (dir / "high" / name).string());
  }
  for (const auto& name : high)
    if (!low_set.count(name))
      bad("bad pair " + (dir / "high" / name).string() + ": no partner " + (dir / "low" / name).string());
  return listing;
}

// Decodes one pair; returns false (after warning) when it is bad and skip_bad is set.
bool load_pair(const fs::path& dir, const std::string& name, int min_side, bool skip_bad, const LogFn& log,
               PairImage& out) {
  const std::string low_path = (dir / "low" / name).string(), high_path = (dir / "high" / name).string();
  try {
    const Image low = read_image(low_path);
    const Image high = read_image(high_path);
    if (low.width != high.width || low.height != high.height)
      throw Error("bad pair " + low_path + ": size " + std::to_string(low.width) + "x" +
                  std::to_string(low.height) + " but " + high_path + " is " + std::to_string(high.width) +
                  "x" + std::to_string(high.height));
    if (low.width < min_side || low.height < min_side)
      throw Error("bad pair " + low_path + ": " + std::to_string(low.width) + "x" + std::to_string(low.height) +
                  " is smaller than the crop " + std::to_string(min_side));
    out.name = name;
    out.width = low.width;
    out.height = low.height;
    out.low = to_rgb8(low);
    out.high = to_rgb8(high);
    return true;
  } catch (const Error& e) {
    std::string message = e.what();
    if (message.rfind("bad pair", 0) != 0) message = "bad pair " + low_path + ": " + message;
    if (!skip_bad) throw Error(message);
    if (log) log("warning: skipping " + message);
    return false;
  }
}

std::vector<PairImage> load_set(const fs::path& dir, const std::vector<std::string>& names, int min_side,
                                bool skip_bad, const LogFn& log) {
  std::vector<PairImage> pairs;
  pairs.reserve(names.size());
  for (const auto& name : names) {
    PairImage pair;
    if (load_pair(dir, name, min_side, skip_bad, log, pair)) pairs.push_back(std::move(pair));
  }
  return pairs;
}

// Copies a side x side crop at (x, y), transformed by one of the 8 flips/rotations, into dst (HWC).
void copy_crop(const std::vector<uint8_t>& src, int width, int x, int y, int side, int transform, uint8_t* dst) {
  const bool transpose = transform & 4, flip_x = transform & 1, flip_y = transform & 2;
  for (int i = 0; i < side; ++i) {
    for (int j = 0; j < side; ++j) {
      int r = transpose ? j : i, c = transpose ? i : j;
      if (flip_y) r = side - 1 - r;
      if (flip_x) c = side - 1 - c;
      const uint8_t* s = &src[(static_cast<size_t>(y + r) * width + (x + c)) * 3];
      uint8_t* d = dst + (static_cast<size_t>(i) * side + j) * 3;
      d[0] = s[0];
      d[1] = s[1];
      d[2] = s[2];
    }
  }
}

// u8 N x H x W x 3 to float N x 3 x H x W; the permuted view already has channels-last strides.
torch::Tensor to_input(const torch::Tensor& nhwc, bool channels_last) {
  torch::Tensor x = nhwc.to(torch::kFloat32).div_(255.0f).permute({0, 3, 1, 2});
  return channels_last ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x.contiguous();
}

}  // namespace

uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b) {
  auto splitmix = [](uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  return splitmix(splitmix(splitmix(seed) ^ a) ^ b);
}

Datasets load_datasets(const TrainOptions& options, const LogFn& log) {
  const DataOptions& data = options.data;
  const int val_side = data.val_full ? 1 : data.val_crop;
  Datasets sets;
  if (data.val_dir.empty()) {
    const fs::path dir(data.train_dirs.at(0));  // validate() allows one folder only here
    const auto names = pair_names(dir, data.skip_bad, log).names;
    if (static_cast<int>(names.size()) <= data.split)
      throw Error("training data: " + dir.string() + " has " + std::to_string(names.size()) +
                  " pairs, not more than the split " + std::to_string(data.split));
    const std::vector<std::string> train(names.begin(), names.begin() + data.split);
    const std::vector<std::string> val(names.begin() + data.split, names.end());
    sets.train = load_set(dir, train, data.crop, data.skip_bad, log);
    sets.val = load_set(dir, val, val_side, data.skip_bad, log);
  } else {
    for (const auto& name : data.train_dirs) {
      const fs::path dir(name);
      auto pairs = load_set(dir, pair_names(dir, data.skip_bad, log).names, data.crop, data.skip_bad, log);
      std::move(pairs.begin(), pairs.end(), std::back_inserter(sets.train));
    }
    const fs::path val_dir(data.val_dir);
    sets.val = load_set(val_dir, pair_names(val_dir, data.skip_bad, log).names, val_side, data.skip_bad, log);
  }
  std::string train_names;
  for (const auto& dir : data.train_dirs) train_names += (train_names.empty() ? "" : ", ") + dir;
  if (sets.train.empty()) throw Error("training data: no usable pairs in " + train_names);
  if (sets.val.empty())
    throw Error("validation data: no usable pairs in " + (data.val_dir.empty() ? train_names : data.val_dir));
  return sets;
}

std::vector<int> epoch_order(int pairs, uint64_t seed, int epoch, bool shuffle) {
  std::vector<int> order(pairs);
  for (int i = 0; i < pairs; ++i) order[i] = i;
  if (shuffle) {
    std::mt19937_64 rng(mix_seed(seed, 0x5348u, static_cast<uint64_t>(epoch)));
    // Fisher-Yates by hand: std::shuffle's use of the engine differs between standard libraries.
    for (int i = pairs - 1; i > 0; --i) {
      const int j = static_cast<int>(rng() % static_cast<uint64_t>(i + 1));
      std::swap(order[i], order[j]);
    }
  }
  return order;
}

namespace {

// A uniform double in [-1, 1) from the run's generator (distributions differ between standard libraries).
double symmetric_unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-52 - 1.0; }

// The exposure augmentation of one input sample (1 x 3 x H x W, in place): x -> clamp(gain * x^gamma).
void jitter_exposure(torch::Tensor x, double gain, double gamma) {
  if (gamma != 1.0) x.pow_(gamma);
  x.mul_(gain).clamp_(0.0, 1.0);
}

}  // namespace

Batch make_train_batch(const std::vector<PairImage>& train, const std::vector<int>& order,
                       const TrainOptions& options, int epoch, int step) {
  const int n = options.batch, side = options.data.crop;
  const DataOptions& data = options.data;
  std::mt19937_64 rng(mix_seed(options.seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(step)));
  std::mt19937_64 aug(mix_seed(options.seed ^ 0x455850u, static_cast<uint64_t>(epoch), static_cast<uint64_t>(step)));
  torch::Tensor low = torch::empty({n, side, side, 3}, torch::kUInt8);
  torch::Tensor high = torch::empty({n, side, side, 3}, torch::kUInt8);
  const size_t item = static_cast<size_t>(side) * side * 3;
  struct Exposure { double gain = 1, gamma = 1; };
  std::vector<Exposure> exposure(n);
  for (int b = 0; b < n; ++b) {
    const size_t k = static_cast<size_t>(step) * n + b;
    const PairImage& pair = train[order[k % order.size()]];
    const int x = static_cast<int>(rng() % static_cast<uint64_t>(pair.width - side + 1));
    const int y = static_cast<int>(rng() % static_cast<uint64_t>(pair.height - side + 1));
    const int transform = data.augment == Augment::Flips ? static_cast<int>(rng() % 8) : 0;
    // From a stream of their own, so the crops are the same with and without the augmentation (paired
    // ablations) and runs without it see the batches they always saw.
    const bool identity = data.identity > 0 && (symmetric_unit(aug) + 1.0) / 2.0 < data.identity;
    if (data.exposure > 0) {
      exposure[b].gain = std::exp(data.exposure * symmetric_unit(aug));
      exposure[b].gamma = std::exp(0.5 * data.exposure * symmetric_unit(aug));
      if (identity) exposure[b] = Exposure{};  // a lit photo as it is, so the model learns to keep it
    }
    copy_crop(identity ? pair.high : pair.low, pair.width, x, y, side, transform, low.data_ptr<uint8_t>() + b * item);
    copy_crop(pair.high, pair.width, x, y, side, transform, high.data_ptr<uint8_t>() + b * item);
  }
  Batch batch{to_input(low, options.channels_last), to_input(high, options.channels_last)};
  for (int b = 0; b < n; ++b)
    if (exposure[b].gain != 1.0 || exposure[b].gamma != 1.0)
      jitter_exposure(batch.low.narrow(0, b, 1), exposure[b].gain, exposure[b].gamma);
  return batch;
}

std::vector<Batch> make_val_batches(const std::vector<PairImage>& val, const TrainOptions& options) {
  std::vector<Batch> batches;
  if (options.data.val_full) {
    for (const auto& pair : val) {
      auto wrap = [&](const std::vector<uint8_t>& pixels) {
        torch::Tensor t = torch::from_blob(const_cast<uint8_t*>(pixels.data()), {1, pair.height, pair.width, 3},
                                           torch::kUInt8);
        return to_input(t, options.channels_last);
      };
      batches.push_back({wrap(pair.low), wrap(pair.high)});
    }
    return batches;
  }
  const int side = options.data.val_crop;
  std::mt19937_64 rng(mix_seed(options.seed, 0x56414cu, 0));
  const size_t item = static_cast<size_t>(side) * side * 3;
  for (size_t start = 0; start < val.size(); start += options.batch) {
    const int n = static_cast<int>(std::min(val.size() - start, static_cast<size_t>(options.batch)));
    torch::Tensor low = torch::empty({n, side, side, 3}, torch::kUInt8);
    torch::Tensor high = torch::empty({n, side, side, 3}, torch::kUInt8);
    for (int b = 0; b < n; ++b) {
      const PairImage& pair = val[start + b];
      const int x = static_cast<int>(rng() % static_cast<uint64_t>(pair.width - side + 1));
      const int y = static_cast<int>(rng() % static_cast<uint64_t>(pair.height - side + 1));
      copy_crop(pair.low, pair.width, x, y, side, 0, low.data_ptr<uint8_t>() + b * item);
      copy_crop(pair.high, pair.width, x, y, side, 0, high.data_ptr<uint8_t>() + b * item);
    }
    batches.push_back({to_input(low, options.channels_last), to_input(high, options.channels_last)});
  }
  return batches;
}

}  // namespace lowlight::detail
