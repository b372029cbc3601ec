#pragma once
// Pieces of the training loop shared between core/src/train*.cpp and dataset.cpp (not installed).
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lowlight/atomic_file.h"
#include "lowlight/model.h"
#include "lowlight/train.h"

namespace lowlight::detail {

// ---- data (dataset.cpp) ----
// One decoded pair, RGB, 8 bits, interleaved (height x width x 3), kept for the whole run.
struct PairImage {
  std::string name;
  int width = 0;
  int height = 0;
  std::vector<uint8_t> low, high;
};

struct Datasets {
  std::vector<PairImage> train, val;
};

// Lists, pairs and decodes both sets. Bad pairs throw lowlight::Error naming the file, or are skipped
// with a warning through `log` under data.skip_bad.
Datasets load_datasets(const TrainOptions& options, const LogFn& log);

struct Batch {
  torch::Tensor low, high;  // N x 3 x H x W float in [0,1], CPU (channels-last strides if asked)
};

// A mixing function for deriving independent seeds from (seed, a, b).
uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b);

// The visiting order of the training pairs in `epoch` (a fixed function of seed and epoch).
std::vector<int> epoch_order(int pairs, uint64_t seed, int epoch, bool shuffle);

// The batch of `step` in `epoch`: a pure function of (data, options, epoch, step), so a prefetching
// thread and a resumed run see exactly the same batches.
Batch make_train_batch(const std::vector<PairImage>& train, const std::vector<int>& order,
                       const TrainOptions& options, int epoch, int step);

// Fixed validation batches: seeded crops grouped by the batch size, or one whole image per batch.
std::vector<Batch> make_val_batches(const std::vector<PairImage>& val, const TrainOptions& options);

// ---- data parallelism (train.cpp) ----
// Rank `rank`'s share of the global batch of `step`: the rank-th slice of the pairs a single process with
// the global batch (batch x world) would visit, cropped and augmented from a rank-dependent seed (rank 0
// keeps the run's). With world 1 it is make_train_batch.
Batch make_rank_batch(const std::vector<PairImage>& train, const std::vector<int>& order, const TrainOptions& options,
                      int epoch, int step, int rank, int world);

class GradientAverager;  // distributed.h

// ---- the step (train_step.cpp; lowlight_train_step, which lowlight bench --train links too) ----
// The pixel loss of `options` (validation reports it without the SSIM term the step adds).
torch::Tensor compute_loss(const TrainOptions& options, const torch::Tensor& out, const torch::Tensor& target);

// The trainer's optimizer (also `lowlight bench --train`'s): Adam with Keras' epsilon.
std::unique_ptr<torch::optim::Adam> make_optimizer(torch::nn::Module& model, double lr);

struct StepResult {
  double loss = 0;       // the objective on the (global) batch
  double psnr = 0;       // the batch's PSNR before the update
  bool stepped = false;  // false: the loss was not finite and the weights were left as they were
};

// One optimisation step, the trainer's and the benchmark's alike: forward (bf16 autocast when asked),
// objective, backward, Adam. With `ranks` the loss and PSNR are averaged over the ranks before the backward
// (so that every rank sees a non-finite loss and stops together) and the gradients after it; `what` names
// the step in the errors of those collectives.
StepResult train_step(MIRNetImpl& model, torch::optim::Optimizer& optimizer, const TrainOptions& options,
                      const torch::Tensor& low, const torch::Tensor& high, bool autocast,
                      GradientAverager* ranks = nullptr, const std::string& what = "");

// ---- state kept across a checkpoint (train_checkpoint.cpp) ----
struct LoopState {
  int epochs_done = 0;         // completed epochs
  int step_in_epoch = 0;       // steps done in the current (epochs_done + 1) epoch
  int64_t global_step = 0;
  double epoch_loss_sum = 0;   // over the steps done in the current epoch
  double epoch_psnr_sum = 0;
  double lr = 0;               // the plateau schedule's current rate
  double plateau_best = -1e300;
  int plateau_wait = 0;
  double best_psnr = -1e300;
  int best_epoch = 0;
  double seconds = 0;          // wall time of earlier sessions of this run
  std::vector<EpochMetrics> history;
};

void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                     const LoopState& state);
void load_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                     LoopState& state);

// ---- outputs (train_outputs.cpp) ----
void write_metrics_csv(const std::string& path, const std::vector<EpochMetrics>& history);
void write_curves(const std::string& path, const std::vector<EpochMetrics>& history);
// Rows of low | enhanced | ground truth, each 3 x H x W float in [0,1].
void write_samples(const std::string& path, const std::vector<std::vector<torch::Tensor>>& rows);

}  // namespace lowlight::detail
