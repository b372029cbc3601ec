#pragma once
// The trainer's collectives over c10d, behind a small interface so that the training loop needs no c10d
// header (not installed). Every failure of a collective becomes a lowlight::Error that names the ranks that
// are gone, found by a roll call in the rendezvous store; where c10d with Gloo was not found at configure
// time, connect() refuses with a message saying so.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "lowlight/distributed.h"

namespace lowlight::detail {

class Communicator {
 public:
  // Finishes a collective started by start_sum (throws as the others do).
  using Pending = std::function<void()>;

  // Joins the run: rank 0 hosts the rendezvous store at master_addr:master_port, every rank waits until all
  // have arrived (naming the missing ones after the timeout), then the backend's process group is made.
  // Collectives run on device(): NCCL on the rank's CUDA device (LOCAL_RANK), Gloo on the CPU; the calls
  // below move tensors there and back when needed.
  static std::unique_ptr<Communicator> connect(const DistributedOptions& options);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const;
  int world_size() const;
  torch::Device device() const;
  std::string describe() const;  // "Gloo, rank 0 of 2, rendezvous 127.0.0.1:29500"

  // Rank 0's value into every rank's, in place. `what` names the operation in errors.
  void broadcast(torch::Tensor& tensor, const std::string& what);
  void broadcast(std::string& bytes, const std::string& what);
  // In place: the mean over the ranks (floating-point tensors).
  void average(torch::Tensor& tensor, const std::string& what);
  // True on every rank when `flag` is true on any (also the cheapest barrier).
  bool any(bool flag, const std::string& what);
  // Starts summing `tensor` (contiguous) over the ranks in place; call the result to wait for it.
  Pending start_sum(const torch::Tensor& tensor, const std::string& what);

  struct Impl;

 private:
  explicit Communicator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Rank 0's parameters and buffers into every rank's module.
void broadcast_module(Communicator& comm, torch::nn::Module& module);

// Averages the gradients of a module's parameters over the ranks after each backward, as DDP's reducer does:
// the parameters are grouped into buckets (in reverse order, the order the backward produces them), and a
// bucket's all-reduce starts from a gradient hook as soon as its last gradient is ready, overlapping the rest
// of the backward. Buckets start strictly in order, so every rank issues the same collectives in the same order.
class GradientAverager {
 public:
  GradientAverager(Communicator& comm, const std::vector<torch::Tensor>& parameters);
  ~GradientAverager();  // removes the hooks
  GradientAverager(const GradientAverager&) = delete;
  GradientAverager& operator=(const GradientAverager&) = delete;

  Communicator& communicator() { return comm_; }
  // Around one backward: begin() before it (`what` names the step in errors), finish() after it, which
  // starts any bucket still waiting (a parameter without a gradient counts as zero), waits for all and
  // writes the averaged gradients into the parameters' .grad.
  void begin(const std::string& what);
  void finish();

 private:
  struct Bucket {
    std::vector<size_t> members;  // parameter indices
    torch::Tensor flat;           // their gradients, concatenated
    int pending = 0;              // gradients still to arrive this backward
    Communicator::Pending work;   // set once started
  };
  void on_gradient(size_t index, const torch::Tensor& grad);
  void start_ready_buckets();  // with mutex_ held

  Communicator& comm_;
  std::vector<torch::Tensor> parameters_;
  std::vector<size_t> bucket_of_, offset_of_;
  std::vector<bool> arrived_;
  std::vector<Bucket> buckets_;
  std::vector<unsigned> hooks_;
  size_t next_bucket_ = 0;  // the next bucket to start
  bool armed_ = false;      // between begin() and finish()
  std::string what_;
  std::exception_ptr error_;  // a failure inside a hook, rethrown by finish()
  std::mutex mutex_;
};

}  // namespace lowlight::detail
