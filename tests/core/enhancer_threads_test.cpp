// Threads belong to each Enhancer (engine.h): its calls run with its own CPU thread count, the caller's count
// comes back afterwards, and two Enhancers used at once from two threads each keep theirs. The count is
// observed from inside enhance() (the progress callback runs on the calling thread between tiles) as LibTorch
// reports it: the count its operators and at::parallel_for read on that thread.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "lowlight/device.h"
#include "lowlight/engine.h"
#include "lowlight/image.h"
#include "support/tiny_weights.h"

namespace lowlight {
namespace {

// LibTorch's thread count at each progress step of one enhance() call.
std::vector<int> enhance_watching(const Enhancer& enhancer, const Image& in, Image& out) {
  std::vector<int> seen;
  const bool done = enhancer.enhance(in.view(), out.view(), [&](double) {
    seen.push_back(torch::get_num_threads());
    return true;
  });
  EXPECT_TRUE(done);
  return seen;
}

void expect_all(const std::vector<int>& values, int expected, const std::string& what) {
  ASSERT_FALSE(values.empty()) << what;
  for (int v : values) EXPECT_EQ(v, expected) << what;
}

class EnhancerThreads : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::temp_dir("enhancer-threads");
    weights_ = test::make_tiny_weights((dir_ / "tiny.safetensors").string());
    in_ = Image(64, 48, 3, SampleType::U8);
    for (size_t i = 0; i < in_.bytes.size(); ++i) in_.bytes[i] = static_cast<uint8_t>(i * 37 % 251);
    set_cpu_threads(1);  // the caller's own count, to come back after every call
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    set_cpu_threads(1);
  }
  Enhancer make(int threads) const {
    EnhanceSettings s = default_enhance_settings();
    s.device = DeviceKind::CPU;
    s.precision = Precision::F32;
    s.tile = 32;  // several tiles: several progress steps inside the call
    s.threads = threads;
    return Enhancer(weights_, s);
  }

  std::filesystem::path dir_;
  std::string weights_;
  Image in_;
};

TEST_F(EnhancerThreads, EachUsesItsOwnCountAndTheCallersComesBack) {
  const int a_threads = 2, b_threads = std::min(3, max_cpu_threads());
  ASSERT_NE(a_threads, b_threads) << "this machine allows too few threads to tell two counts apart";
  const Enhancer a = make(a_threads);
  const Enhancer b = make(b_threads);  // made last: a count set by a constructor would be b's from here on
  EXPECT_EQ(a.threads(), a_threads);
  EXPECT_EQ(b.threads(), b_threads);
  EXPECT_EQ(torch::get_num_threads(), 1) << "making an Enhancer changed the caller's thread count";

  Image out(in_.width, in_.height, in_.channels, in_.type);
  for (int round = 0; round < 2; ++round) {
    expect_all(enhance_watching(a, in_, out), a_threads, "inside a.enhance");
    EXPECT_EQ(torch::get_num_threads(), 1) << "after a.enhance";
    expect_all(enhance_watching(b, in_, out), b_threads, "inside b.enhance");
    EXPECT_EQ(torch::get_num_threads(), 1) << "after b.enhance";
  }
  a.context(in_.view());
  EXPECT_EQ(torch::get_num_threads(), 1) << "after a.context";
}

TEST_F(EnhancerThreads, TwoThreadsAtOnceEachKeepTheirEnhancersCount) {
  const int a_threads = 2, b_threads = std::min(3, max_cpu_threads());
  ASSERT_NE(a_threads, b_threads);
  const Enhancer a = make(a_threads);
  const Enhancer b = make(b_threads);
  // Both threads start together and enhance several times, so their calls overlap.
  std::atomic<int> ready{0};
  auto work = [&](const Enhancer& e, std::vector<int>& all) {
    Image out(in_.width, in_.height, in_.channels, in_.type);
    ++ready;
    while (ready.load() < 2) std::this_thread::yield();
    for (int k = 0; k < 4; ++k) {
      const std::vector<int> seen = enhance_watching(e, in_, out);
      all.insert(all.end(), seen.begin(), seen.end());
    }
  };
  std::vector<int> seen_a, seen_b;
  std::thread ta(work, std::cref(a), std::ref(seen_a));
  std::thread tb(work, std::cref(b), std::ref(seen_b));
  ta.join();
  tb.join();
  expect_all(seen_a, a_threads, "a's calls on their thread");
  expect_all(seen_b, b_threads, "b's calls on their thread");
  EXPECT_EQ(torch::get_num_threads(), 1) << "the main thread's count";
}

}  // namespace
}  // namespace lowlight
