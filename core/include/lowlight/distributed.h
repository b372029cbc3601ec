#pragma once
// Data-parallel training over LibTorch's c10d: where a process stands in a multi-process run and how it
// finds the others. Light header (no LibTorch).
//
// One process per rank. Rank 0 hosts the rendezvous (a c10d TCPStore at master_addr:master_port), broadcasts
// the run's settings and starting state, validates and writes every output; every rank trains on its own
// crops and the gradients are averaged by bucketed all-reduce after each backward.
#include <string>

namespace lowlight {

enum class DistBackend { Auto, Gloo, NCCL };  // Auto: NCCL for CUDA, Gloo for CPU

struct DistributedOptions {
  int rank = 0;
  int world_size = 1;                     // 1: no communication at all (the single-process trainer)
  int local_rank = 0;                     // this process's index on its machine: its CUDA device
  int local_world_size = 0;               // processes on this machine (0: unknown); shares the CPU threads
  std::string master_addr = "127.0.0.1";  // rank 0's host name or address
  int master_port = 29500;                // PyTorch's default
  DistBackend backend = DistBackend::Auto;
  // How long a rank waits for the others (rendezvous, each collective) before it stops naming the missing
  // ranks. A rank that dies is noticed at once (its connections close); this bounds a hung or lost one.
  // The other ranks wait while rank 0 validates, so it must exceed one validation. PyTorch's default.
  double timeout_seconds = 1800;
  // Resuming with another world size changes the global batch; refused unless this is set.
  bool allow_world_size_change = false;
};

// The launch as PyTorch's launchers describe it: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT (torchrun and most cluster launchers), else Slurm's SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID,
// SLURM_NTASKS_PER_NODE; variables not set keep `base`'s values. Throws lowlight::Error naming a malformed
// variable.
DistributedOptions distributed_options_from_environment(const DistributedOptions& base = {});

// Throws lowlight::Error naming the first invalid field (rank outside 0..world_size-1, port outside
// 1..65535, NCCL without CUDA, ...).
void validate(const DistributedOptions& options);

DistBackend parse_dist_backend(const std::string& name);  // "auto", "gloo", "nccl"; throws otherwise
const char* dist_backend_name(DistBackend backend);

// Whether this build can train with world_size > 1 (c10d with Gloo found at configure time), and with NCCL.
bool distributed_available();
bool nccl_available();

}  // namespace lowlight
