// Data-parallel training over LibTorch's c10d: the launch environment, the rendezvous (a TCPStore on rank 0),
// the process group (Gloo on CPU, NCCL on CUDA), the collectives the trainer needs and the bucketed gradient
// averaging. LibTorch 1.13 (Debian 12) and 2.6 (Debian 13) expose the same calls used here; where they differ
// (ProcessGroup became Backend in 2.0, TCPStore's libuv option) the code adapts.
#include "distributed.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <thread>

#include "lowlight/device.h"
#include "lowlight/error.h"

#if LOWLIGHT_WITH_DISTRIBUTED
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1  // what LibTorch was built with; its headers hide the Gloo group without it
#endif
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#if LOWLIGHT_WITH_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#endif

namespace lowlight {
namespace {

// An integer environment variable; false when unset or empty. `leading`: only the leading digits count
// (Slurm writes tasks per node as "2(x3)").
bool env_int(const char* name, int& out, bool leading = false) {
  const char* text = std::getenv(name);
  if (!text || !*text) return false;
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (end == text || (!leading && *end) || errno || value < INT_MIN || value > INT_MAX)
    throw Error(std::string("environment variable ") + name + "='" + text + "' is not a whole number");
  out = static_cast<int>(value);
  return true;
}

}  // namespace

DistributedOptions distributed_options_from_environment(const DistributedOptions& base) {
  DistributedOptions o = base;
  // torchrun's variables first: a torchrun inside a Slurm job sets both, and its own are the ones that hold.
  if (std::getenv("RANK") || std::getenv("WORLD_SIZE")) {
    env_int("RANK", o.rank);
    env_int("WORLD_SIZE", o.world_size);
    env_int("LOCAL_RANK", o.local_rank);
    env_int("LOCAL_WORLD_SIZE", o.local_world_size);
  } else if (std::getenv("SLURM_PROCID")) {
    // An srun step's own task count (SLURM_STEP_NUM_TASKS) wins over the job's: a batch script that runs
    // the trainer without srun is one task, whatever the allocation.
    env_int("SLURM_PROCID", o.rank);
    if (!env_int("SLURM_STEP_NUM_TASKS", o.world_size)) env_int("SLURM_NTASKS", o.world_size);
    env_int("SLURM_LOCALID", o.local_rank);
    if (!env_int("SLURM_STEP_TASKS_PER_NODE", o.local_world_size, true))
      env_int("SLURM_NTASKS_PER_NODE", o.local_world_size, true);
  }
  if (const char* addr = std::getenv("MASTER_ADDR"); addr && *addr) o.master_addr = addr;
  env_int("MASTER_PORT", o.master_port);
  return o;
}

void validate(const DistributedOptions& o) {
  auto fail = [](const std::string& what) { throw Error("invalid distributed setting: " + what); };
  if (o.world_size < 1) fail("world size " + std::to_string(o.world_size) + ": expected >= 1");
  if (o.rank < 0 || o.rank >= o.world_size)
    fail("rank " + std::to_string(o.rank) + ": expected 0.." + std::to_string(o.world_size - 1) + " for world size " +
         std::to_string(o.world_size));
  if (o.local_rank < 0) fail("local rank " + std::to_string(o.local_rank) + ": expected >= 0");
  if (o.local_world_size < 0) fail("local world size " + std::to_string(o.local_world_size) + ": expected >= 0");
  if (o.master_port < 1 || o.master_port > 65535)
    fail("master port " + std::to_string(o.master_port) + ": expected 1..65535");
  if (o.master_addr.empty()) fail("master address is empty");
  if (!(o.timeout_seconds > 0 && o.timeout_seconds <= 7 * 86400))
    fail("timeout " + std::to_string(o.timeout_seconds) + " s: expected > 0 and at most a week");
  if (o.world_size > 1 && !distributed_available())
    throw Error("this build has no distributed training (LibTorch's c10d Gloo headers were not found when it was "
                "configured: install libgloo-dev and configure again)");
  if (o.backend == DistBackend::NCCL && !nccl_available())
    fail("backend nccl: this build has no NCCL (it needs a CUDA LibTorch and nccl.h); use gloo");
}

DistBackend parse_dist_backend(const std::string& name) {
  for (DistBackend b : {DistBackend::Auto, DistBackend::Gloo, DistBackend::NCCL})
    if (name == dist_backend_name(b)) return b;
  throw Error("unknown distributed backend '" + name + "': expected auto, gloo or nccl");
}

const char* dist_backend_name(DistBackend backend) {
  switch (backend) {
    case DistBackend::Auto: return "auto";
    case DistBackend::Gloo: return "gloo";
    case DistBackend::NCCL: return "nccl";
  }
  return "?";
}

bool distributed_available() {
#if LOWLIGHT_WITH_DISTRIBUTED
  return true;
#else
  return false;
#endif
}

bool nccl_available() {
#if LOWLIGHT_WITH_NCCL
  return true;
#else
  return false;
#endif
}

namespace detail {
namespace {

// The first line of an exception's text (c10 errors append a backtrace).
std::string first_line(const std::exception& e) {
  std::string text = e.what();
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) text = c10->what_without_backtrace();
  const size_t end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end);
}

std::string ranks_text(const std::vector<int>& ranks) {
  std::string text = ranks.size() == 1 ? "rank " : "ranks ";
  for (size_t i = 0; i < ranks.size(); ++i) text += (i ? ", " : "") + std::to_string(ranks[i]);
  return text;
}

std::string seconds_text(double s) {
  std::ostringstream out;
  out << s << " s";
  return out.str();
}

}  // namespace

#if LOWLIGHT_WITH_DISTRIBUTED

#if TORCH_VERSION_MAJOR >= 2
using Group = c10d::Backend;  // 2.0 split ProcessGroup into a dispatcher and per-device Backends
#else
using Group = c10d::ProcessGroup;
#endif

namespace {

using Millis = std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::vector<uint8_t> bytes_of(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

// TCPStore's libuv server (2.2+, the default from 2.4) is absent from Debian's LibTorch: use the classic one.
template <typename T>
auto classic_server(T& options, int) -> decltype(options.useLibUV = false, void()) {
  options.useLibUV = false;
}
template <typename T>
void classic_server(T&, long) {}

void check_resolves(const std::string& host) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int status = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (status != 0)
    throw Error("distributed training: cannot resolve the master address '" + host +
                "' (MASTER_ADDR or --master-addr): " + ::gai_strerror(status));
  ::freeaddrinfo(found);
}

// c10d logs every failed bind and every connection retry to stderr (glog lines, dozens while rank 0 is
// still starting); the exception it throws at the end says what matters, reported as one line.
class QuietStderr {
 public:
  QuietStderr() {
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved_ >= 0 && null >= 0) ::dup2(null, STDERR_FILENO);
    if (null >= 0) ::close(null);
  }
  ~QuietStderr() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
  }
  QuietStderr(const QuietStderr&) = delete;
  QuietStderr& operator=(const QuietStderr&) = delete;

 private:
  int saved_ = -1;
};

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

// The network device Gloo binds to: GLOO_SOCKET_IFNAME as in PyTorch, the loopback for a run on one machine
// addressed through it, else the address this machine's host name resolves to.
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master) {
  if (const char* names = std::getenv("GLOO_SOCKET_IFNAME"); names && *names) {
    const std::string all(names);
    return c10d::ProcessGroupGloo::createDeviceForInterface(all.substr(0, all.find(',')));
  }
  if (is_loopback(master)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

}  // namespace

struct Communicator::Impl {
  DistributedOptions options;
  DistBackend backend = DistBackend::Gloo;
  torch::Device device{torch::kCPU};
  Millis timeout{0};
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Group> group;
  bool broken = false;
  std::string failure;  // the first failure's message: later calls repeat it
  std::mutex fail_mutex;

  std::string where() const { return options.master_addr + ":" + std::to_string(options.master_port); }

  // Waits until the counter `key` reaches world_size or `limit` passes; returns the ranks that have not set
  // `key`/<rank> by then.
  std::vector<int> wait_for_all(const std::string& key, Millis limit) {
    const auto deadline = Clock::now() + limit;
    while (store->add(key, 0) < options.world_size && Clock::now() < deadline)
      std::this_thread::sleep_for(Millis(50));
    std::vector<int> missing;
    if (store->add(key, 0) >= options.world_size) return missing;
    for (int r = 0; r < options.world_size; ++r)
      if (!store->check({key + "/" + std::to_string(r)})) missing.push_back(r);
    return missing;
  }

  // Marks this rank present under `key` and waits for the others.
  std::vector<int> roll_call(const std::string& key, Millis limit) {
    store->set(key + "/" + std::to_string(options.rank), bytes_of("1"));
    store->add(key, 1);
    return wait_for_all(key, limit);
  }

  // After a failed collective: a short roll call in the store names the ranks that are gone. Rank 0 hosts
  // the store, so it stays for the whole roll call; if the store itself is unreachable, rank 0 is gone.
  [[noreturn]] void fail(const std::string& what, const std::string& cause) {
    std::lock_guard<std::mutex> lock(fail_mutex);
    if (broken) throw Error(failure);
    broken = true;
    const Millis grace = std::min(timeout, Millis(5000));
    std::string who;
    try {
      const auto start = Clock::now();
      const std::vector<int> missing = roll_call("lowlight/alive", grace);
      if (!missing.empty()) who = ranks_text(missing);
      if (options.rank == 0) std::this_thread::sleep_until(start + grace);  // the others may still call
    } catch (const std::exception&) {
      if (options.rank != 0) who = "rank 0 (the rendezvous host)";
    }
    const std::string me = "rank " + std::to_string(options.rank) + " of " + std::to_string(options.world_size);
    if (who.empty()) failure = "distributed training: " + me + " failed while " + what + ": " + cause;
    else
      failure = "distributed training: " + who + " stopped or cannot be reached (noticed by " + me + " while " + what +
                "; timeout " + seconds_text(options.timeout_seconds) + "): " + cause;
    throw Error(failure);
  }

  void run(const std::string& what, const std::function<c10::intrusive_ptr<c10d::Work>()>& start) {
    if (broken) throw Error(failure);
    try {
      start()->wait();
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      fail(what, first_line(e));
    }
  }

  void connect_store() {
    check_resolves(options.master_addr);
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(options.master_port);
    so.isServer = options.rank == 0;
    so.numWorkers = static_cast<size_t>(options.world_size);
    so.waitWorkers = false;  // the join below waits, naming whoever is missing
    so.timeout = timeout;
    classic_server(so, 0);
    try {
      QuietStderr quiet;
      store = c10::make_intrusive<c10d::TCPStore>(options.master_addr, so);
    } catch (const std::exception& e) {
      if (options.rank == 0)
        throw Error("distributed training: rank 0 cannot host the rendezvous on port " +
                    std::to_string(options.master_port) + " (in use by another run? choose another MASTER_PORT or "
                    "--master-port): " + first_line(e));
      throw Error("distributed training: rank " + std::to_string(options.rank) +
                  " cannot reach rank 0's rendezvous at " + where() + " within " +
                  seconds_text(options.timeout_seconds) + " (is rank 0 running, and the address and port right?): " +
                  first_line(e));
    }
  }

  // Every rank announces itself; all wait for the full world, then check that they agree on its size.
  void join() {
    try {
      store->set("lowlight/world/" + std::to_string(options.rank), bytes_of(std::to_string(options.world_size)));
      const std::vector<int> missing = roll_call("lowlight/joined", timeout);
      if (!missing.empty())
        throw Error("distributed training: " + ranks_text(missing) + " of " + std::to_string(options.world_size) +
                    " did not join within " + seconds_text(options.timeout_seconds) + " (rendezvous at " + where() +
                    ")");
      const std::vector<uint8_t> world = store->get("lowlight/world/0");
      const std::string text(world.begin(), world.end());
      if (text != std::to_string(options.world_size))
        throw Error("distributed training: rank 0 was started with world size " + text + ", rank " +
                    std::to_string(options.rank) + " with " + std::to_string(options.world_size));
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Error("distributed training: rendezvous at " + where() + " failed: " + first_line(e));
    }
  }

  void make_group() {
    try {
      if (backend == DistBackend::NCCL) {
#if LOWLIGHT_WITH_NCCL
        auto o = c10d::ProcessGroupNCCL::Options::create();
        o->timeout = timeout;
        group = c10::make_intrusive<c10d::ProcessGroupNCCL>(c10::make_intrusive<c10d::PrefixStore>("nccl", store),
                                                            options.rank, options.world_size, o);
#endif
      } else {
        auto o = c10d::ProcessGroupGloo::Options::create(timeout);
        o->devices.push_back(gloo_device(options.master_addr));
        o->threads = 2;
        group = c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>("gloo", store),
                                                            options.rank, options.world_size, o);
      }
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      fail(std::string("connecting the ranks (") + (backend == DistBackend::NCCL ? "NCCL" : "Gloo") + ")",
           first_line(e));
    }
  }
};

std::unique_ptr<Communicator> Communicator::connect(const DistributedOptions& options) {
  validate(options);
  // A peer that dies leaves sockets that raise SIGPIPE when written; that must be an error naming the rank,
  // not the silent death of this process too.
  std::signal(SIGPIPE, SIG_IGN);
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->timeout = Millis(static_cast<int64_t>(options.timeout_seconds * 1000));
  impl->backend = options.backend;
  if (impl->backend == DistBackend::Auto)
    impl->backend = nccl_available() && cuda_available() ? DistBackend::NCCL : DistBackend::Gloo;
  if (impl->backend == DistBackend::NCCL) impl->device = torch::Device(torch::kCUDA, options.local_rank);
  impl->connect_store();
  impl->join();
  impl->make_group();
  return std::unique_ptr<Communicator>(new Communicator(std::move(impl)));
}

Communicator::~Communicator() {
  // After a failure a Gloo worker may still wait on a dead peer; joining it would hang the exit, so the group
  // and store are left to the process's end.
  if (impl_ && impl_->broken) {
    impl_->group.release();
    impl_->store.release();
  }
}

std::string Communicator::describe() const {
  return std::string(impl_->backend == DistBackend::NCCL ? "NCCL" : "Gloo") + ", rank " + std::to_string(rank()) +
         " of " + std::to_string(world_size()) + ", rendezvous " + impl_->where() + ", timeout " +
         seconds_text(impl_->options.timeout_seconds);
}

void Communicator::broadcast(torch::Tensor& tensor, const std::string& what) {
  std::vector<at::Tensor> v{tensor.to(impl_->device).contiguous()};
  c10d::BroadcastOptions o;
  o.rootRank = 0;
  impl_->run(what, [&] { return impl_->group->broadcast(v, o); });
  if (!v[0].is_same(tensor)) tensor.copy_(v[0]);
}

void Communicator::average(torch::Tensor& tensor, const std::string& what) {
  std::vector<at::Tensor> v{tensor.to(impl_->device).contiguous()};
  impl_->run(what, [&] { return impl_->group->allreduce(v); });
  v[0].div_(world_size());
  if (!v[0].is_same(tensor)) tensor.copy_(v[0]);
}

Communicator::Pending Communicator::start_sum(const torch::Tensor& tensor, const std::string& what) {
  Impl* impl = impl_.get();
  if (impl->broken) throw Error(impl->failure);
  c10::intrusive_ptr<c10d::Work> work;
  try {
    std::vector<at::Tensor> v{tensor};
    work = impl->group->allreduce(v);
  } catch (const std::exception& e) {
    impl->fail(what, first_line(e));
  }
  return [impl, work, what] { impl->run(what, [&] { return work; }); };
}

int Communicator::rank() const { return impl_->options.rank; }
int Communicator::world_size() const { return impl_->options.world_size; }
torch::Device Communicator::device() const { return impl_->device; }

#else  // no c10d: validate() refuses world sizes above 1 before anything here is reached

struct Communicator::Impl {
  DistributedOptions options;
};

std::unique_ptr<Communicator> Communicator::connect(const DistributedOptions& options) {
  validate(options);
  throw Error("this build has no distributed training");
}
Communicator::~Communicator() = default;
std::string Communicator::describe() const { return "none"; }
void Communicator::broadcast(torch::Tensor&, const std::string&) {}
void Communicator::average(torch::Tensor&, const std::string&) {}
Communicator::Pending Communicator::start_sum(const torch::Tensor&, const std::string&) {
  return [] {};
}
int Communicator::rank() const { return impl_->options.rank; }
int Communicator::world_size() const { return impl_->options.world_size; }
torch::Device Communicator::device() const { return torch::kCPU; }

#endif

Communicator::Communicator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

void Communicator::broadcast(std::string& bytes, const std::string& what) {
  torch::Tensor size = torch::tensor({static_cast<int64_t>(bytes.size())}, torch::kInt64);
  broadcast(size, what);
  const int64_t n = size.item<int64_t>();
  torch::Tensor data = torch::empty({n}, torch::kUInt8);
  if (rank() == 0 && n > 0) std::memcpy(data.data_ptr(), bytes.data(), static_cast<size_t>(n));
  if (n > 0) broadcast(data, what);
  if (rank() != 0) bytes.assign(static_cast<const char*>(data.data_ptr()), static_cast<size_t>(n));
}

bool Communicator::any(bool flag, const std::string& what) {
  torch::Tensor t = torch::tensor({flag ? 1.0f : 0.0f});
  average(t, what);
  return t.item<float>() > 0;
}

void broadcast_module(Communicator& comm, torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  std::map<torch::ScalarType, std::vector<torch::Tensor>> by_type;
  for (const auto& p : module.parameters()) by_type[p.scalar_type()].push_back(p);
  for (const auto& b : module.buffers()) by_type[b.scalar_type()].push_back(b);
  for (auto& [type, tensors] : by_type) {
    std::vector<torch::Tensor> flat_parts;
    for (const auto& t : tensors) flat_parts.push_back(t.contiguous().view(-1));
    torch::Tensor flat = torch::cat(flat_parts);
    comm.broadcast(flat, "sending rank 0's weights");
    int64_t offset = 0;
    for (auto& t : tensors) {
      t.copy_(flat.narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
}

// ---- GradientAverager ----

namespace {
// DDP's bucket sizes: a small first bucket so that communication starts early in the backward.
constexpr size_t kFirstBucketBytes = size_t(1) << 20;
constexpr size_t kBucketBytes = size_t(25) << 20;
}  // namespace

GradientAverager::GradientAverager(Communicator& comm, const std::vector<torch::Tensor>& parameters) : comm_(comm) {
  for (const auto& p : parameters)
    if (p.requires_grad()) parameters_.push_back(p);
  const size_t n = parameters_.size();
  bucket_of_.assign(n, 0);
  offset_of_.assign(n, 0);
  arrived_.assign(n, false);
  std::vector<int64_t> sizes;
  size_t bytes = 0;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = n - 1 - k;  // the backward produces the last parameters' gradients first
    const torch::Tensor& p = parameters_[i];
    const size_t cap = buckets_.size() <= 1 ? kFirstBucketBytes : kBucketBytes;
    if (buckets_.empty() || (bytes > 0 && bytes + p.nbytes() > cap)) {
      buckets_.emplace_back();
      sizes.push_back(0);
      bytes = 0;
    }
    bucket_of_[i] = buckets_.size() - 1;
    offset_of_[i] = static_cast<size_t>(sizes.back());
    buckets_.back().members.push_back(i);
    sizes.back() += p.numel();
    bytes += p.nbytes();
  }
  for (size_t b = 0; b < buckets_.size(); ++b)
    buckets_[b].flat =
        torch::zeros({sizes[b]}, parameters_[buckets_[b].members[0]].options().device(comm_.device()));
  for (size_t i = 0; i < n; ++i)
    hooks_.push_back(parameters_[i].register_hook([this, i](const torch::Tensor& grad) { on_gradient(i, grad); }));
}

GradientAverager::~GradientAverager() {
  for (size_t i = 0; i < hooks_.size(); ++i) parameters_[i].remove_hook(hooks_[i]);
}

void GradientAverager::begin(const std::string& what) {
  std::lock_guard<std::mutex> lock(mutex_);
  what_ = what;
  armed_ = true;
  next_bucket_ = 0;
  error_ = nullptr;
  std::fill(arrived_.begin(), arrived_.end(), false);
  for (auto& b : buckets_) {
    b.pending = static_cast<int>(b.members.size());
    b.work = nullptr;
  }
}

void GradientAverager::on_gradient(size_t index, const torch::Tensor& grad) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!armed_ || arrived_[index]) return;
  arrived_[index] = true;
  Bucket& b = buckets_[bucket_of_[index]];
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor& p = parameters_[index];
    b.flat.narrow(0, static_cast<int64_t>(offset_of_[index]), p.numel()).view(p.sizes()).copy_(grad);
  }
  if (--b.pending == 0) start_ready_buckets();
}

void GradientAverager::start_ready_buckets() {
  // Never throws into the backward: a failure is kept for finish().
  try {
    while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].pending == 0) {
      Bucket& b = buckets_[next_bucket_++];
      b.work = comm_.start_sum(b.flat, what_);
    }
  } catch (...) {
    if (!error_) error_ = std::current_exception();
  }
}

void GradientAverager::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = false;
  torch::NoGradGuard no_grad;
  for (auto& b : buckets_) {
    if (b.pending == 0) continue;
    for (size_t i : b.members)
      if (!arrived_[i]) b.flat.narrow(0, static_cast<int64_t>(offset_of_[i]), parameters_[i].numel()).zero_();
    b.pending = 0;
  }
  start_ready_buckets();
  if (error_) std::rethrow_exception(error_);
  const double world = comm_.world_size();
  for (auto& b : buckets_) {
    b.work();
    b.work = nullptr;
    b.flat.div_(world);
    for (size_t i : b.members) {
      torch::Tensor& p = parameters_[i];
      const torch::Tensor mean = b.flat.narrow(0, static_cast<int64_t>(offset_of_[i]), p.numel()).view(p.sizes());
      if (p.grad().defined()) p.mutable_grad().copy_(mean);
      else p.mutable_grad() = mean.to(p.device(), /*non_blocking=*/false, /*copy=*/true);
    }
  }
}

}  // namespace detail
}  // namespace lowlight
