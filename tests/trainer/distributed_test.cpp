// Data-parallel lowlight-train (issue 19) on 127.0.0.1: several built `lowlight-train` processes, launched as
// torchrun or Slurm would (flags and environment), against single-process runs of the same trainer.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "lowlight/distributed.h"
#include "lowlight/image.h"
#include "lowlight/model.h"
#include "lowlight/train.h"
#include "../core/src/train_internal.h"
#include "support/tiny_weights.h"
#include "support/training_pairs.h"
#include "support/files.h"

extern char** environ;

namespace fs = std::filesystem;
using namespace lowlight;
using Clock = std::chrono::steady_clock;

namespace {

// `count` 32x32 pairs, high = 2 * low + 20. Crops of the whole image (32) without augmentation make a
// batch depend only on which pairs it holds, not on the crop seed: the rank-dependent seeds then draw the
// same samples as one process, and a 2 x B run must match a 1 x 2B run.
void write_pairs(const fs::path& dir, int count, unsigned seed) {
  test::write_training_pairs(dir, count, seed, 32);
}

// A port that was free a moment ago (the kernel's choice), for one run's rendezvous.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t size = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// One lowlight-train process: stdout discarded, stderr to a file, `env` ("NAME=value") added to ours.
struct Trainer {
  pid_t pid = -1;
  fs::path err;
  int code = -1;          // exit status, -1 until finished (or if killed by a signal)
  double seconds = 0;     // from start() (or from mark()) to the exit

  void start(const std::vector<std::string>& args, const fs::path& err_file, const std::vector<std::string>& env = {}) {
    err = err_file;
    std::vector<std::string> argv_text = {LOWLIGHT_TRAIN_EXE};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    // Set here, the trainer need not re-execute itself to set it (prefer_passive_openmp): half the start-up.
    std::vector<std::string> env_text = env;
    env_text.push_back("OMP_WAIT_POLICY=PASSIVE");
    for (char** e = environ; *e; ++e) env_text.push_back(*e);
    std::vector<char*> envp;
    for (auto& e : env_text) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&files, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_EQ(posix_spawn(&pid, argv[0], &files, nullptr, argv.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&files);
    started = Clock::now();
  }
  void mark() { started = Clock::now(); }
  // Waits at most `limit` seconds; a process still running then is killed (and the test fails on it).
  void wait(double limit = 120) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(limit);
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        ADD_FAILURE() << "lowlight-train did not end within " << limit << " s: " << test::slurp(err);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    seconds = std::chrono::duration<double>(Clock::now() - started).count();
    code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string text() const { return test::slurp(err); }

 private:
  Clock::time_point started;
};

bool one_error_line(const std::string& err) {
  return err.rfind("lowlight-train: error: ", 0) == 0 && std::count(err.begin(), err.end(), '\n') == 1;
}

// metrics.csv without the wall-time column.
std::string metrics_without_seconds(const fs::path& run) {
  std::istringstream in(test::slurp(run / "metrics.csv"));
  std::string line, out;
  while (std::getline(in, line)) out += line.substr(0, line.rfind(',')) + "\n";
  return out;
}

// The weights in a run's last.ckpt, read the way resume reads them.
std::vector<torch::Tensor> checkpoint_weights(const fs::path& run) {
  MIRNet model(test::tiny_config(4));
  auto optimizer = lowlight::detail::make_optimizer(*model, 1e-3);
  lowlight::detail::LoopState state;
  lowlight::detail::load_checkpoint((run / "last.ckpt").string(), *model, *optimizer, state);
  std::vector<torch::Tensor> weights;
  for (const auto& p : model->parameters()) weights.push_back(p.detach().clone());
  return weights;
}

double max_difference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, (a[i] - b[i]).abs().max().item<double>());
  return worst;
}

class Distributed : public ::testing::Test {
 protected:
  void SetUp() override {
    // An optional build feature (core/CMakeLists.txt: LOWLIGHT_WITH_DISTRIBUTED, on with libgloo-dev).
    if (!distributed_available()) GTEST_SKIP() << "built without c10d's Gloo headers (libgloo-dev)";
    root = test::temp_dir(std::string("dist-") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    write_pairs(root / "train", 6, 1);
    write_pairs(root / "val", 2, 2);
  }
  void TearDown() override {
    if (!root.empty()) fs::remove_all(root);
  }

  // A tiny run (C=4, one group, crops of the whole 32x32 image, 3 steps per epoch, one thread per process).
  std::vector<std::string> flags(const fs::path& run, int batch, int epochs, int steps = 3) const {
    return {"--train", (root / "train").string(), "--val", (root / "val").string(), "--out", run.string(),
            "--channels", "4", "--rrgs", "1", "--mrbs", "1", "--crop", "32", "--val-crop", "32", "--samples", "1",
            "--batch", std::to_string(batch), "--steps", std::to_string(steps), "--epochs", std::to_string(epochs),
            "--lr", "2e-3", "--schedule", "plateau", "--device", "cpu", "--threads", "1"};
  }
  static std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }
  // Runs `world` ranks of one command to their end, rank r with `rank_args(r)` added; returns them.
  std::vector<Trainer> run_ranks(int world, const std::vector<std::string>& args, const std::string& name,
                                 double limit = 120) {
    const std::string port = std::to_string(free_port());
    std::vector<Trainer> ranks(world);
    for (int r = 0; r < world; ++r)
      ranks[r].start(with(args, {"--world-size", std::to_string(world), "--rank", std::to_string(r), "--master-port",
                                 port, "--dist-timeout", "60"}),
                     root / (name + "-rank" + std::to_string(r) + ".err"));
    for (auto& t : ranks) t.wait(limit);
    return ranks;
  }
  fs::path root;
};

// Two processes with batch 2 each take the same steps as one with batch 4: same weights within float
// tolerance, the same training curve; one process with batch 2 (half the global batch) does not.
TEST_F(Distributed, TwoRanksMatchOneProcessWithTheGlobalBatch) {
  Trainer one, half;
  one.start(flags(root / "one", 4, 2), root / "one.err");
  half.start(flags(root / "half", 2, 2), root / "half.err");
  const auto ranks = run_ranks(2, flags(root / "two", 2, 2), "two");
  one.wait();
  half.wait();
  ASSERT_EQ(one.code, 0) << one.text();
  ASSERT_EQ(half.code, 0) << half.text();
  for (const auto& r : ranks) ASSERT_EQ(r.code, 0) << r.text();
  EXPECT_NE(ranks[0].text().find("global batch 4 (2 per rank)"), std::string::npos) << ranks[0].text();
  EXPECT_EQ(ranks[1].text(), "") << "only rank 0 reports";

  const auto w1 = checkpoint_weights(root / "one"), w2 = checkpoint_weights(root / "two"),
             wh = checkpoint_weights(root / "half");
  const double same = max_difference(w1, w2), other = max_difference(w1, wh);
  EXPECT_LT(same, 2e-5) << "2 x 2 against 1 x 4";
  EXPECT_GT(other, 100 * std::max(same, 1e-7)) << "1 x 2 against 1 x 4: the comparison must tell them apart";
  // The logged training loss is the global batch's.
  std::istringstream a(metrics_without_seconds(root / "one")), b(metrics_without_seconds(root / "two"));
  std::string la, lb;
  std::getline(a, la);
  std::getline(b, lb);
  while (std::getline(a, la) && std::getline(b, lb)) {
    const double loss_a = std::stod(la.substr(la.find(',', la.find(',') + 1) + 1));
    const double loss_b = std::stod(lb.substr(lb.find(',', lb.find(',') + 1) + 1));
    EXPECT_NEAR(loss_a, loss_b, 1e-6 * loss_a) << la << " / " << lb;
  }
  EXPECT_NE(test::slurp(root / "two" / "options.json").find("\"world_size\": 2"), std::string::npos);
}

// A 2-rank run stopped after 1 epoch and resumed by 2 ranks draws the same curve as one that never stopped;
// a single process refuses to resume it unless told to.
TEST_F(Distributed, ResumedTwoRankRunContinuesTheSameCurve) {
  const auto straight = run_ranks(2, flags(root / "straight", 2, 3), "straight");
  const auto first = run_ranks(2, flags(root / "stopped", 2, 1), "first");
  for (const auto& r : straight) ASSERT_EQ(r.code, 0) << r.text();
  for (const auto& r : first) ASSERT_EQ(r.code, 0) << r.text();

  Trainer alone;
  alone.start({"--resume", (root / "stopped").string()}, root / "alone.err");
  alone.wait();
  EXPECT_EQ(alone.code, 1);
  EXPECT_TRUE(one_error_line(alone.text())) << alone.text();
  EXPECT_NE(alone.text().find("trained by 2 process(es), this launch has 1"), std::string::npos) << alone.text();
  EXPECT_NE(alone.text().find("--allow-world-size-change"), std::string::npos) << alone.text();

  // Rank 1 needs no run folder: rank 0 sends it the settings and the checkpoint.
  const std::string port = std::to_string(free_port());
  Trainer r0, r1;
  r0.start({"--resume", (root / "stopped").string(), "--epochs", "3"}, root / "resume0.err",
           {"RANK=0", "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + port});
  r1.start({"--resume", (root / "elsewhere").string(), "--epochs", "3"}, root / "resume1.err",
           {"SLURM_PROCID=1", "SLURM_NTASKS=2", "SLURM_LOCALID=0", "MASTER_PORT=" + port});
  r0.wait();
  r1.wait();
  ASSERT_EQ(r0.code, 0) << r0.text();
  ASSERT_EQ(r1.code, 0) << r1.text();
  EXPECT_EQ(metrics_without_seconds(root / "stopped"), metrics_without_seconds(root / "straight"));
}

// A rank killed mid-run makes the survivor stop, non-zero and naming it, well within the timeout, with the
// last checkpoint intact; a rank that never arrives is named after the timeout.
TEST_F(Distributed, AKilledRankStopsTheSurvivorWithinTheTimeout) {
  const std::string port = std::to_string(free_port());
  const double timeout = 30;
  std::vector<Trainer> ranks(2);
  for (int r = 0; r < 2; ++r)
    ranks[r].start(with(flags(root / "run", 2, 1000, 20), {"--world-size", "2", "--rank", std::to_string(r),
                                                           "--master-port", port, "--dist-timeout", "30"}),
                   root / ("rank" + std::to_string(r) + ".err"));
  // Once the first epoch is checkpointed, kill rank 1 mid-epoch.
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (!fs::exists(root / "run" / "last.ckpt") && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(fs::exists(root / "run" / "last.ckpt")) << ranks[0].text();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(ranks[1].pid, SIGKILL);
  ranks[0].mark();
  ranks[0].wait(timeout + 30);
  ranks[1].wait();
  EXPECT_NE(ranks[0].code, 0);
  EXPECT_LT(ranks[0].seconds, timeout);
  const std::string err = ranks[0].text();
  const std::string last = err.substr(err.rfind("lowlight-train: error: "));
  EXPECT_NE(last.find("rank 1 stopped or cannot be reached"), std::string::npos) << err;
  EXPECT_EQ(std::count(last.begin(), last.end(), '\n'), 1) << err;
  EXPECT_GE(checkpoint_weights(root / "run").size(), 1u);  // still loads

  Trainer lonely;
  lonely.start(with(flags(root / "lonely", 2, 1), {"--world-size", "2", "--rank", "0", "--master-port",
                                                  std::to_string(free_port()), "--dist-timeout", "2"}),
               root / "lonely.err");
  lonely.wait(30);
  EXPECT_EQ(lonely.code, 1);
  EXPECT_LT(lonely.seconds, 15);
  EXPECT_TRUE(one_error_line(lonely.text())) << lonely.text();
  EXPECT_NE(lonely.text().find("rank 1 of 2 did not join within 2 s"), std::string::npos) << lonely.text();
}

// Launch mistakes are one line each: a bad port or variable exits 2 before anything starts; an
// address that does not resolve and a rendezvous nobody hosts exit 1.
TEST_F(Distributed, BadLaunchSettingsAreOneClearError) {
  struct Case {
    std::vector<std::string> args, env;
    int code;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--world-size", "2", "--rank", "0", "--master-port", "70000"}, {}, 2, "master port 70000: expected 1..65535"},
      {{}, {"RANK=one", "WORLD_SIZE=2"}, 2, "RANK='one' is not a whole number"},
      {{"--world-size", "2", "--rank", "1", "--master-addr", "no-such-host.invalid"}, {}, 1,
       "cannot resolve the master address 'no-such-host.invalid'"},
      {{"--world-size", "2", "--rank", "1", "--master-port", std::to_string(free_port()), "--dist-timeout", "1"}, {}, 1,
       "cannot reach rank 0's rendezvous at 127.0.0.1:"},
  };
  for (const Case& c : cases) {
    Trainer t;
    t.start(with(flags(root / "run", 2, 1), c.args), root / "bad.err", c.env);
    t.wait(30);
    SCOPED_TRACE(c.says);
    EXPECT_EQ(t.code, c.code) << t.text();
    EXPECT_TRUE(one_error_line(t.text())) << t.text();
    EXPECT_NE(t.text().find(c.says), std::string::npos) << t.text();
    EXPECT_FALSE(fs::exists(root / "run" / "last.ckpt"));
  }
}

}  // namespace
