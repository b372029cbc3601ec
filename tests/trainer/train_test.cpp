// The training loop on tiny synthetic pairs: learning, outputs, exact resume, bad data, bad options.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <sstream>

#include "lowlight/error.h"
#include "lowlight/train.h"
#include "lowlight/version.h"
#include "lowlight/weights.h"
#include "../core/src/train_internal.h"
#include "support/tiny_weights.h"

namespace fs = std::filesystem;
using namespace lowlight;

namespace {

// Writes `count` 48x48 pairs where high = 2 * low + 20 (a mapping a tiny model can learn quickly).
void write_pairs(const fs::path& dir, int count, int first = 0, int size = 48) {
  fs::create_directories(dir / "low");
  fs::create_directories(dir / "high");
  std::mt19937 rng(static_cast<unsigned>(first + 7));
  for (int i = first; i < first + count; ++i) {
    cv::Mat low(size, size, CV_8UC3), high(size, size, CV_8UC3);
    const int base = static_cast<int>(rng() % 40);
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x)
        for (int c = 0; c < 3; ++c) {
          const int v = base + (x * (c + 1) + y * 2) % 50 + static_cast<int>(rng() % 8);
          low.at<cv::Vec3b>(y, x)[c] = static_cast<uint8_t>(v);
          high.at<cv::Vec3b>(y, x)[c] = static_cast<uint8_t>(std::min(255, 2 * v + 20));
        }
    const std::string name = std::to_string(i) + ".png";
    ASSERT_TRUE(cv::imwrite((dir / "low" / name).string(), low));
    ASSERT_TRUE(cv::imwrite((dir / "high" / name).string(), high));
  }
}

TrainOptions tiny_options(const fs::path& data, const fs::path& run) {
  TrainOptions o = default_train_options();
  o.model = test::tiny_config(4);
  o.data.train_dirs = {(data / "train").string()};
  o.data.val_dir = (data / "val").string();
  o.data.crop = 32;
  o.data.val_crop = 32;
  o.data.augment = Augment::Flips;
  o.data.samples = 2;
  o.batch = 2;
  o.steps_per_epoch = 5;
  o.epochs = 6;
  o.lr = 2e-3;
  o.seed = 3;
  o.device = DeviceKind::CPU;
  o.run_dir = run.string();
  return o;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// metrics.csv without the wall-time column, which legitimately differs between runs.
std::string metrics_without_seconds(const fs::path& run) {
  std::istringstream in(read_text(run / "metrics.csv"));
  std::string line, out;
  while (std::getline(in, line)) out += line.substr(0, line.rfind(',')) + "\n";
  return out;
}

class TrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root = test::temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    write_pairs(root / "data" / "train", 6);
    write_pairs(root / "data" / "val", 3, 100);
  }
  void TearDown() override { fs::remove_all(root); }
  fs::path root;
};

TEST_F(TrainTest, LossGoesDownAndOutputsExist) {
  const TrainOptions o = tiny_options(root / "data", root / "run");
  const TrainResult r = train(o);
  ASSERT_TRUE(r.finished);
  ASSERT_EQ(r.history.size(), 6u);
  EXPECT_EQ(r.global_step, 30);
  EXPECT_LT(r.history.back().train_loss, 0.8 * r.history.front().train_loss);
  EXPECT_LT(r.history.back().val_loss, r.history.front().val_loss);
  EXPECT_GT(r.best_val_psnr, r.history.front().val_psnr);
  for (const char* name : {"metrics.csv", "curves.png", "samples.png", "best.safetensors", "last.ckpt", "options.json"})
    EXPECT_TRUE(fs::exists(root / "run" / name)) << name;
  EXPECT_FALSE(cv::imread((root / "run" / "curves.png").string()).empty());
  EXPECT_FALSE(cv::imread((root / "run" / "samples.png").string()).empty());

  WeightsInfo info;
  auto model = load_weights((root / "run" / "best.safetensors").string(), &info);
  ASSERT_TRUE(model);
  EXPECT_EQ(info.config, o.model);
  for (const char* key : {"metrics", "data", "command", "training"}) EXPECT_TRUE(info.metadata.count(key)) << key;
  EXPECT_EQ(info.metadata["lowlight_version"], "\"" + std::string(kVersion) + "\"");  // JSON, as the others
  EXPECT_NE(info.metadata.at("metrics").find("\"epoch\":" + std::to_string(r.best_epoch)), std::string::npos);
  EXPECT_NE(info.metadata.at("data").find("\"train_pairs\":6"), std::string::npos);

  // A finished run folder is not overwritten by a new run.
  EXPECT_THROW(train(o), Error);
}

TEST_F(TrainTest, Bf16MixedPrecisionLearnsAndDiffersFromFp32) {
  TrainOptions f32 = tiny_options(root / "data", root / "f32");
  f32.epochs = 3;
  TrainOptions bf16 = f32;
  bf16.run_dir = (root / "bf16").string();
  bf16.precision = Precision::BF16;
  const TrainResult a = train(f32), b = train(bf16);
  ASSERT_TRUE(b.finished);
  EXPECT_LT(b.history.back().train_loss, 0.8 * b.history.front().train_loss);
  // Autocast really ran: same seed and data, yet the losses differ (a little).
  EXPECT_NE(a.history.back().train_loss, b.history.back().train_loss);
  EXPECT_NEAR(a.history.back().train_loss, b.history.back().train_loss, 0.2 * a.history.back().train_loss);
  EXPECT_NE(read_text(root / "bf16" / "options.json").find("\"precision\": \"bf16\""), std::string::npos);
}

TEST_F(TrainTest, InitWeightsStartTheRunAndMustMatchTheConfig) {
  TrainOptions first = tiny_options(root / "data", root / "first");
  first.epochs = 2;
  ASSERT_TRUE(train(first).finished);
  const std::string init = (root / "first" / "best.safetensors").string();

  // Same data, one more epoch from the first run's best weights: it starts where that run got to (the
  // first epoch's loss is already well below a fresh run's), and the run records where it came from.
  TrainOptions fresh = first, tuned = first;
  fresh.run_dir = (root / "fresh").string();
  fresh.epochs = 1;
  tuned.run_dir = (root / "tuned").string();
  tuned.epochs = 1;
  tuned.init_weights = init;
  const TrainResult a = train(fresh), b = train(tuned);
  EXPECT_LT(b.history.front().train_loss, 0.8 * a.history.front().train_loss);
  EXPECT_EQ(load_run_options((root / "tuned").string()).init_weights, init);

  // A weight file of another width is refused before any step, naming both configs.
  TrainOptions wide = tuned;
  wide.run_dir = (root / "wide").string();
  wide.model.channels = 8;
  try {
    train(wide);
    FAIL() << "a config mismatch was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"channels\":4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("\"channels\":8"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(root / "wide" / "last.ckpt"));
}

TEST_F(TrainTest, FreezeBodyTrainsOnlyTheGlobalBranchAddedToAFileWithoutOne) {
  TrainOptions first = tiny_options(root / "data", root / "body");
  first.epochs = 1;
  ASSERT_TRUE(train(first).finished);
  const std::string init = (root / "body" / "best.safetensors").string();

  TrainOptions branch = first;
  branch.run_dir = (root / "branch").string();
  branch.init_weights = init;
  branch.model.global = 4;
  branch.freeze_body = true;
  branch.epochs = 2;
  ASSERT_TRUE(train(branch).finished);
  WeightsInfo info;
  const auto body = load_weights(init);
  const auto trained = load_weights((root / "branch" / "best.safetensors").string(), &info);
  EXPECT_EQ(info.config.global, 4);
  auto params = trained->named_parameters();
  for (const auto& p : body->named_parameters())
    EXPECT_TRUE(torch::equal(p.value(), params[p.key()])) << p.key() << " changed under freeze_body";
  // The branch starts as the identity (last layer zero) and has learned something.
  EXPECT_GT(params["global.head.weight"].abs().max().item<float>(), 0.0f);

  // Without a branch there is nothing to train.
  TrainOptions none = branch;
  none.run_dir = (root / "none").string();
  none.model.global = 0;
  EXPECT_THROW(train(none), Error);
}

TEST_F(TrainTest, InterruptedAndResumedEqualsUninterrupted) {
  TrainOptions a = tiny_options(root / "data", root / "a");
  a.epochs = 3;
  a.steps_per_epoch = 4;
  TrainOptions b = a;
  b.run_dir = (root / "b").string();
  ASSERT_TRUE(train(a).finished);

  // Stop mid-epoch (step 6 of 12), then at the end of epoch 2, then run to the end.
  const TrainResult first = train(b, [](const TrainProgress& p) { return p.global_step < 6; });
  EXPECT_FALSE(first.finished);
  EXPECT_EQ(first.global_step, 6);
  const TrainResult second = resume(b.run_dir, 0, [](const TrainProgress& p) { return !(p.epoch_done && p.epoch == 2); });
  EXPECT_FALSE(second.finished);
  EXPECT_EQ(second.epochs_done, 2);
  const TrainResult third = resume(b.run_dir);
  EXPECT_TRUE(third.finished);
  EXPECT_EQ(third.global_step, 12);
  EXPECT_EQ(metrics_without_seconds(root / "a"), metrics_without_seconds(root / "b"));
  const std::string csv = read_text(root / "a" / "metrics.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);  // header + 3 epochs

  // Resuming a finished run with more epochs extends it.
  const TrainResult more = resume(b.run_dir, 4);
  EXPECT_TRUE(more.finished);
  EXPECT_EQ(more.epochs_done, 4);
  EXPECT_EQ(more.global_step, 16);
}

TEST_F(TrainTest, SplitFolderThePapersWay) {
  TrainOptions o = tiny_options(root / "data", root / "run");
  o.data.val_dir.clear();
  o.data.split = 4;  // names sorted as strings: 0..3 train, 4, 5 validate
  o.epochs = 1;
  o.steps_per_epoch = 1;
  std::vector<std::string> lines;
  const TrainResult r = train(o, {}, [&](const std::string& line) { lines.push_back(line); });
  EXPECT_TRUE(r.finished);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.front().find("training pairs 4, validation pairs 2"), std::string::npos) << lines.front();
  o.data.split = 6;
  o.run_dir = (root / "run2").string();
  try {
    train(o);
    FAIL() << "a split leaving no validation pairs was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("split"), std::string::npos) << e.what();
  }
}

// Each bad-data case stops with an error naming the file; --skip-bad turns it into a warning.
TEST_F(TrainTest, BadPairsAreNamedOrSkipped) {
  const fs::path train_dir = root / "data" / "train";
  struct Case {
    std::string name, file, words;
    std::function<void()> make;
  };
  const std::vector<Case> cases = {
      {"missing partner", (train_dir / "low" / "90.png").string(), "no partner",
       [&] { fs::copy_file(train_dir / "low" / "0.png", train_dir / "low" / "90.png"); }},
      {"unreadable", (train_dir / "low" / "91.png").string(), "",
       [&] {
         std::ofstream(train_dir / "low" / "91.png") << "not a png";
         fs::copy_file(train_dir / "high" / "0.png", train_dir / "high" / "91.png");
       }},
      {"size mismatch", (train_dir / "low" / "92.png").string(), "size",
       [&] {
         cv::imwrite((train_dir / "low" / "92.png").string(), cv::Mat(40, 48, CV_8UC3, cv::Scalar(5, 5, 5)));
         fs::copy_file(train_dir / "high" / "0.png", train_dir / "high" / "92.png");
       }},
      {"smaller than the crop", (train_dir / "low" / "93.png").string(), "smaller than the crop",
       [&] {
         cv::imwrite((train_dir / "low" / "93.png").string(), cv::Mat(16, 16, CV_8UC3, cv::Scalar(5, 5, 5)));
         cv::imwrite((train_dir / "high" / "93.png").string(), cv::Mat(16, 16, CV_8UC3, cv::Scalar(9, 9, 9)));
       }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    c.make();
    TrainOptions o = tiny_options(root / "data", root / ("run-" + std::to_string(&c - cases.data())));
    o.epochs = 1;
    o.steps_per_epoch = 1;
    try {
      train(o);
      ADD_FAILURE() << "bad pair accepted";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(c.file), std::string::npos) << message;
      EXPECT_NE(message.find(c.words), std::string::npos) << message;
    }
    EXPECT_FALSE(fs::exists(fs::path(o.run_dir) / "last.ckpt"));
    o.data.skip_bad = true;
    std::vector<std::string> warnings;
    const TrainResult r = train(o, {}, [&](const std::string& line) {
      if (line.rfind("warning", 0) == 0) warnings.push_back(line);
    });
    EXPECT_TRUE(r.finished);
    ASSERT_FALSE(warnings.empty());
    EXPECT_NE(warnings.back().find(c.file), std::string::npos) << warnings.back();
    for (const auto& entry : fs::directory_iterator(train_dir / "low"))
      if (entry.path().filename().string().rfind("9", 0) == 0) fs::remove(entry.path());
    for (const auto& entry : fs::directory_iterator(train_dir / "high"))
      if (entry.path().filename().string().rfind("9", 0) == 0) fs::remove(entry.path());
  }
}

TEST(TrainOptionsTest, InvalidValuesAreRefusedWithAMessage) {
  auto refused = [](const std::function<void()>& f, const std::string& words) {
    try {
      f();
      ADD_FAILURE() << "accepted; expected an error mentioning " << words;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  TrainOptions o = default_train_options();
  o.data.train_dirs = {"somewhere"};
  EXPECT_NO_THROW(validate(o));
  refused([&] { TrainOptions x = o; x.model.channels = 0; validate(x); }, "channels");
  refused([&] { TrainOptions x = o; x.epochs = 0; validate(x); }, "epochs");
  refused([&] { TrainOptions x = o; x.batch = 0; validate(x); }, "batch");
  refused([&] { TrainOptions x = o; x.lr = -1; validate(x); }, "lr");
  refused([&] { TrainOptions x = o; x.data.crop = 2; validate(x); }, "crop");
  refused([&] { train_options_from_json(R"({"loss": "huber"})", o); }, "huber");
  refused([&] { train_options_from_json(R"({"model": {"channels": 0}})", o); }, "channels");
  refused([&] { train_options_from_json(R"({"epochs": "many"})", o); }, "epochs");
  refused([&] { train_options_from_json(R"({"learning_rate": 0.1})", o); }, "learning_rate");
  refused([&] { train_options_from_json(R"({"data": {"augment": "rotate"}})", o); }, "rotate");
  refused([&] { train_options_from_json("{", o); }, "JSON");
  refused([&] { TrainOptions x = o; x.precision = Precision::F16; validate(x); }, "fp16");
  refused([&] { train_options_from_json(R"({"precision": "int8"})", o); }, "int8");
  EXPECT_EQ(train_options_from_json(R"({"precision": "bf16"})", o).precision, Precision::BF16);

  const TrainOptions parsed = train_options_from_json(
      R"({"model": {"channels": 16, "rrgs": 1, "mrbs": 1}, "loss": "rmse", "lr": 0.001, "schedule": "cosine",
          "data": {"crop": 64, "augment": "flips", "shuffle": false}, "epochs": 7})", o);
  EXPECT_EQ(parsed.model.channels, 16);
  EXPECT_EQ(parsed.model.rrgs, 1);
  EXPECT_EQ(parsed.model.streams, o.model.streams);
  EXPECT_EQ(parsed.loss, Loss::RMSE);
  EXPECT_EQ(parsed.schedule, Schedule::Cosine);
  EXPECT_EQ(parsed.data.crop, 64);
  EXPECT_EQ(parsed.data.augment, Augment::Flips);
  EXPECT_FALSE(parsed.data.shuffle);
  EXPECT_EQ(parsed.epochs, 7);
  EXPECT_EQ(parsed.data.train_dirs, std::vector<std::string>{"somewhere"});
  // to_json and back is the identity.
  const TrainOptions again = train_options_from_json(to_json(parsed), default_train_options());
  EXPECT_EQ(to_json(again), to_json(parsed));
}

// Every experiment config in trainer/experiments parses and is valid once data folders are given.
TEST(TrainOptionsTest, ExperimentConfigsAreValid) {
  const fs::path dir = fs::path(LOWLIGHT_SOURCE_DIR) / "trainer" / "experiments";
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().string());
    TrainOptions o = train_options_from_json(read_text(entry.path()), default_train_options());
    o.data.train_dirs = {"x"};
    EXPECT_NO_THROW(validate(o));
    ++count;
  }
  EXPECT_GE(count, 11);
}

}  // namespace

namespace {

// A rate far too high makes the loss blow up; the run stops naming the step and keeps the last checkpoint.
TEST_F(TrainTest, NonFiniteLossStopsWithTheStep) {
  TrainOptions o = tiny_options(root / "data", root / "run");
  o.loss = Loss::MSE;  // unbounded gradients, unlike Charbonnier's
  o.schedule = Schedule::Cosine;  // its rate follows options.json on resume (plateau's lives in the checkpoint)
  o.epochs = 1;
  ASSERT_TRUE(train(o).finished);
  const std::string good = read_text(root / "run" / "last.ckpt");
  // Continue the same run with a rate that makes the loss explode.
  std::string options = read_text(root / "run" / "options.json");
  const size_t at = options.find("\"lr\": ");
  ASSERT_NE(at, std::string::npos);
  options.replace(at, options.find(',', at) - at, "\"lr\": 9.9");
  std::ofstream(root / "run" / "options.json") << options;
  try {
    resume(o.run_dir, 30);
    FAIL() << "training with lr 9.9 never produced a non-finite loss";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("at step "), std::string::npos) << message;
    EXPECT_NE(message.find("last.ckpt keeps the last good state"), std::string::npos) << message;
  }
  EXPECT_EQ(read_text(root / "run" / "last.ckpt"), good);
}

}  // namespace

// Hardening (issue 17): what resume, a reused folder and diverged states must not do.
namespace {

TEST_F(TrainTest, ResumeRefusesACheckpointOfAnotherConfig) {
  TrainOptions o = tiny_options(root / "data", root / "run");
  o.epochs = 1;
  ASSERT_TRUE(train(o).finished);
  const std::string best = read_text(root / "run" / "best.safetensors");
  std::string options = read_text(root / "run" / "options.json");
  const size_t at = options.find("\"channels\": 4");
  ASSERT_NE(at, std::string::npos) << options;
  options.replace(at, 13, "\"channels\": 8");
  std::ofstream(root / "run" / "options.json") << options;
  try {
    resume(o.run_dir, 3);
    FAIL() << "a checkpoint of C=4 was resumed as C=8";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expects"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_text(root / "run" / "best.safetensors"), best);
}

TEST_F(TrainTest, AFolderThatIsNotARunIsNotOverwritten) {
  fs::create_directories(root / "run");
  std::ofstream(root / "run" / "best.safetensors") << "a good model";
  try {
    train(tiny_options(root / "data", root / "run"));
    FAIL() << "a non-empty folder without a run was used";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not empty"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_text(root / "run" / "best.safetensors"), "a good model");
}

TEST_F(TrainTest, ResumeWithFewerEpochsThanDoneIsRefused) {
  TrainOptions o = tiny_options(root / "data", root / "run");
  o.epochs = 2;
  ASSERT_TRUE(train(o).finished);
  const std::string options = read_text(root / "run" / "options.json");
  EXPECT_THROW(resume(o.run_dir, 1), Error);
  EXPECT_EQ(read_text(root / "run" / "options.json"), options);
}

TEST_F(TrainTest, NonFiniteMetricsRoundTripThroughTheCheckpoint) {
  TrainOptions o = tiny_options(root / "data", root / "run");
  o.epochs = 1;
  ASSERT_TRUE(train(o).finished);
  torch::manual_seed(1);
  MIRNet model(o.model);
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
  lowlight::detail::LoopState state;
  state.best_psnr = INFINITY;
  EpochMetrics m;
  m.epoch = 1;
  m.train_psnr = INFINITY;   // a crop reproduced exactly
  m.val_loss = std::nan("");
  m.val_ssim = -INFINITY;
  state.history = {m};
  const std::string path = (root / "state.ckpt").string();
  lowlight::detail::save_checkpoint(path, *model, adam, state);
  lowlight::detail::LoopState back;
  lowlight::detail::load_checkpoint(path, *model, adam, back);
  ASSERT_EQ(back.history.size(), 1u);
  EXPECT_EQ(back.history[0].train_psnr, INFINITY);
  EXPECT_TRUE(std::isnan(back.history[0].val_loss));
  EXPECT_EQ(back.history[0].val_ssim, -INFINITY);
  EXPECT_EQ(back.best_psnr, INFINITY);

  // A non-finite weight is never checkpointed; the file stays as it was.
  const std::string good = read_text(path);
  {
    torch::NoGradGuard no_grad;
    model->parameters().front().view(-1)[0] = std::nan("");
  }
  try {
    lowlight::detail::save_checkpoint(path, *model, adam, state);
    FAIL() << "a NaN weight was checkpointed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("keeps the last good state"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_text(path), good);
  EXPECT_EQ(std::distance(fs::directory_iterator(root), fs::directory_iterator()), 3) << "a temporary was left";
}

}  // namespace

namespace {

// Several training folders are pooled; the exposure augmentation makes lit crops their own targets and
// changes other inputs' exposure, as a pure function of (seed, epoch, step).
TEST_F(TrainTest, SeveralFoldersAndExposureAugmentation) {
  write_pairs(root / "data" / "more", 4, 50);
  TrainOptions o = tiny_options(root / "data", root / "run");
  o.data.train_dirs = {(root / "data" / "train").string(), (root / "data" / "more").string()};
  const lowlight::detail::Datasets sets = lowlight::detail::load_datasets(o, {});
  EXPECT_EQ(sets.train.size(), 10u);
  const std::vector<int> order = lowlight::detail::epoch_order(10, o.seed, 1, true);

  o.data.identity = 1.0;
  auto batch = lowlight::detail::make_train_batch(sets.train, order, o, 1, 0);
  EXPECT_TRUE(torch::equal(batch.low, batch.high));
  o.data.identity = 0.0;
  o.data.exposure = 0.5;
  batch = lowlight::detail::make_train_batch(sets.train, order, o, 1, 0);
  o.data.exposure = 0.0;
  const auto plain = lowlight::detail::make_train_batch(sets.train, order, o, 1, 0);
  EXPECT_TRUE(torch::equal(batch.high, plain.high));
  EXPECT_FALSE(torch::allclose(batch.low, plain.low));
  o.data.exposure = 0.5;
  EXPECT_TRUE(torch::equal(lowlight::detail::make_train_batch(sets.train, order, o, 1, 0).low, batch.low));

  o.data.identity = 0.3;
  o.ssim_weight = 0.2;
  o.warmup_steps = 3;
  o.epochs = 2;
  const TrainResult r = train(o);
  EXPECT_TRUE(r.finished);
  const TrainOptions back = load_run_options(o.run_dir);
  EXPECT_EQ(back.data.train_dirs, o.data.train_dirs);
  EXPECT_EQ(back.data.identity, 0.3);
  EXPECT_EQ(back.ssim_weight, 0.2);
  EXPECT_EQ(back.warmup_steps, 3);
  // One folder as a plain string, as older configs wrote it; several folders need a validation folder.
  EXPECT_EQ(train_options_from_json(R"({"data": {"train": "x"}})", o).data.train_dirs, std::vector<std::string>{"x"});
  o.data.val_dir.clear();
  EXPECT_THROW(validate(o), Error);
}

}  // namespace
