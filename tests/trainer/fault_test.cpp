// The trainer under faults (issue 17): a full disk while a checkpoint is written, SIGTERM, bad command
// lines. The disk is "full" through RLIMIT_FSIZE with SIGXFSZ ignored: writes past the limit fail with EFBIG
// exactly as ENOSPC would, without root or a small file system.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "lowlight/error.h"
#include "lowlight/image.h"
#include "lowlight/train.h"
#include "../core/src/train_internal.h"
#include "support/tiny_weights.h"
#include "support/training_pairs.h"
#include "support/files.h"

extern char** environ;

namespace fs = std::filesystem;
using namespace lowlight;

namespace {

// Files a writer left behind: the atomic writer's temporaries are ".NAME.tmp-PID-N".
std::vector<std::string> temporaries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) names.push_back(e.path().filename());
  return names;
}

// `count` 48x48 pairs, high = 2 * low + 20.
void write_pairs(const fs::path& dir, int count, unsigned seed) {
  test::write_training_pairs(dir, count, seed, 48);
}

// Soft RLIMIT_FSIZE for this process while in scope, SIGXFSZ ignored (so a write past it fails with EFBIG).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit saved_{};
  void (*old_handler_)(int) = nullptr;
};

struct Outcome {
  int code = -1;
  std::string err;
};

// Runs `lowlight-train ARGS` through the shell with `prefix` before it (e.g. "ulimit -f 8;").
Outcome run_trainer(const std::string& args, const fs::path& scratch, const std::string& prefix = "") {
  const fs::path err = scratch / "stderr.txt";
  const std::string command = "bash -c \"" + prefix + " exec " + LOWLIGHT_TRAIN_EXE + " " + args + "\" >/dev/null 2>" +
                              err.string();
  const int status = std::system(command.c_str());
  Outcome r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, test::slurp(err)};
  fs::remove(err);
  return r;
}

class TrainerFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    root = test::temp_dir(std::string("fault-") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    write_pairs(root / "train", 4, 1);
    write_pairs(root / "val", 2, 2);
  }
  void TearDown() override { fs::remove_all(root); }
  // A tiny run's flags (C=4, one group, 5 steps of 2 crops of 32 per epoch).
  std::string flags(const fs::path& run, int epochs) const {
    return "--train " + (root / "train").string() + " --val " + (root / "val").string() + " --out " + run.string() +
           " --channels 4 --rrgs 1 --mrbs 1 --crop 32 --val-crop 32 --batch 2 --steps 5 --samples 1 --device cpu"
           " --epochs " +
           std::to_string(epochs);
  }
  fs::path root;
};

bool one_error_line(const std::string& err) {
  return err.rfind("lowlight-train: error: ", 0) == 0 && std::count(err.begin(), err.end(), '\n') == 1;
}

// A run's stderr (its log lines first) that ends in exactly one error line, and nothing like an abort.
bool ends_in_one_error_line(const std::string& err) {
  const size_t start = err.rfind('\n', err.size() >= 2 ? err.size() - 2 : 0);
  const std::string last = start == std::string::npos ? err : err.substr(start + 1);
  size_t errors = 0;
  for (size_t at = err.find("error"); at != std::string::npos; at = err.find("error", at + 1)) ++errors;
  return one_error_line(last) && errors == 1 && err.find("terminate") == std::string::npos;
}

TEST_F(TrainerFaults, CheckpointOnAFullDiskIsOneErrorAndKeepsThePreviousOne) {
  torch::manual_seed(1);
  MIRNet model(test::tiny_config(4));
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
  lowlight::detail::LoopState state;
  state.epochs_done = 1;
  const fs::path dir = root / "run";
  fs::create_directories(dir);
  const std::string path = (dir / "last.ckpt").string();
  lowlight::detail::save_checkpoint(path, *model, adam, state);
  const std::string good = test::slurp(path);
  ASSERT_GT(good.size(), 8192u);

  state.epochs_done = 2;
  try {
    FileSizeLimit full(4096);
    lowlight::detail::save_checkpoint(path, *model, adam, state);
    FAIL() << "a checkpoint larger than the disk's room was written";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("previous one is kept"), std::string::npos) << message;
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_EQ(test::slurp(path), good);
  EXPECT_EQ(temporaries(dir), std::vector<std::string>{});
  lowlight::detail::LoopState back;
  lowlight::detail::load_checkpoint(path, *model, adam, back);
  EXPECT_EQ(back.epochs_done, 1);
}

// The whole trainer with a file-size limit between its other outputs and the checkpoint: the checkpoint
// write is the one that fails (an uncaught c10::Error aborted it before), and the run resumes afterwards.
TEST_F(TrainerFaults, TrainerOnAFullDiskStopsCleanlyAndResumes) {
  const fs::path run = root / "run";
  Outcome r = run_trainer(flags(run, 1), root);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string good = test::slurp(run / "last.ckpt");
  uintmax_t others = 0;
  for (const char* name : {"best.safetensors", "curves.png", "samples.png", "metrics.csv", "options.json"})
    others = std::max(others, fs::file_size(run / name));
  ASSERT_GT(good.size(), others + 4096) << "the checkpoint must be the largest output for this test";
  const uintmax_t limit_kib = (others + good.size()) / 2 / 1024;

  r = run_trainer("--resume " + run.string() + " --epochs 2", root,
                  "trap '' XFSZ; ulimit -f " + std::to_string(limit_kib) + ";");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(ends_in_one_error_line(r.err)) << r.err;
  EXPECT_NE(r.err.find("last.ckpt"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("previous one is kept"), std::string::npos) << r.err;
  EXPECT_EQ(test::slurp(run / "last.ckpt"), good);
  EXPECT_EQ(temporaries(run), std::vector<std::string>{});

  r = run_trainer("--resume " + run.string() + " --epochs 2", root);
  EXPECT_EQ(r.code, 0) << r.err;
  const std::string csv = test::slurp(run / "metrics.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3) << csv;  // header + 2 epochs
}

// SIGTERM (kill, a batch system's time limit) is handled like Ctrl-C: checkpoint, exit 143, resumable.
TEST_F(TrainerFaults, SigtermCheckpointsAndExits143) {
  const fs::path run = root / "run";
  const fs::path err = root / "train-stderr.txt";
  std::vector<std::string> args = {LOWLIGHT_TRAIN_EXE};
  std::istringstream words(flags(run, 100000));
  for (std::string w; words >> w;) args.push_back(w);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &files, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&files);
  // Once an epoch has been reported the run is in its loop; then stop it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (test::slurp(err).find("epoch 1/") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  const std::string text = test::slurp(err);
  ASSERT_TRUE(WIFEXITED(status)) << text;
  EXPECT_EQ(WEXITSTATUS(status), 143) << text;
  EXPECT_NE(text.find("continue with: lowlight-train --resume"), std::string::npos) << text;
  EXPECT_EQ(temporaries(run), std::vector<std::string>{});

  // Completed epochs were reported one line each; resuming one epoch further finishes.
  int done = 0;
  for (size_t at = text.find("\nepoch "); at != std::string::npos; at = text.find("\nepoch ", at + 1)) ++done;
  if (text.rfind("epoch ", 0) == 0) ++done;
  const Outcome r = run_trainer("--resume " + run.string() + " --epochs " + std::to_string(done + 1), root);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("done: best validation PSNR"), std::string::npos) << r.err;
}

// Command-line mistakes: one line, exit 2 (CLI11's own codes were 105-114 with several lines of text).
TEST_F(TrainerFaults, ParseErrorsAreOneLineWithExit2) {
  for (const std::string args : {"--no-such-flag", "--epochs many --out x", "--resume /no/such/run",
                                 "--train a --out x --loss"}) {
    SCOPED_TRACE(args);
    const Outcome r = run_trainer(args, root);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_TRUE(one_error_line(r.err)) << r.err;
  }
  const Outcome missing = run_trainer("--channels 4", root);  // parses, but no run folder
  EXPECT_EQ(missing.code, 1) << missing.err;
  EXPECT_TRUE(one_error_line(missing.err)) << missing.err;
}


// The data loader reads with the same checks as `lowlight enhance`: a truncated JPEG (libjpeg would decode
// it with a grey lower half) stops the run naming the file, or is skipped with a warning under --skip-bad.
TEST_F(TrainerFaults, TruncatedJpegPairIsNamedOrSkipped) {
  Image low(48, 48, 3, SampleType::U8);
  for (size_t k = 0; k < low.bytes.size(); ++k) low.bytes[k] = static_cast<uint8_t>(k * 7 % 50);
  const fs::path bad = root / "train" / "low" / "9.jpg";
  write_image(bad.string(), low.view());
  const std::string jpeg = test::slurp(bad);
  std::ofstream(bad, std::ios::binary | std::ios::trunc) << jpeg.substr(0, jpeg.size() / 2);
  write_image((root / "train" / "high" / "9.jpg").string(), low.view());
  TrainOptions o = default_train_options();
  o.model = test::tiny_config(4);
  o.data.train_dirs = {(root / "train").string()};
  o.data.val_dir = (root / "val").string();
  o.data.crop = o.data.val_crop = 32;
  o.data.samples = 1;
  o.batch = 2;
  o.steps_per_epoch = 1;
  o.epochs = 1;
  o.device = DeviceKind::CPU;
  o.run_dir = (root / "run").string();
  try {
    train(o);
    FAIL() << "a truncated JPEG was trained on";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(bad.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("truncated JPEG"), std::string::npos) << e.what();
  }
  o.data.skip_bad = true;
  std::vector<std::string> warnings;
  EXPECT_TRUE(train(o, {}, [&](const std::string& line) {
                if (line.rfind("warning", 0) == 0) warnings.push_back(line);
              }).finished);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("truncated JPEG"), std::string::npos) << warnings[0];
}

}  // namespace
