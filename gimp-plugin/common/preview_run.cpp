#include "preview_run.h"

#include <fcntl.h>
#include <signal.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "lowlight/device.h"
#include "lowlight/error.h"

namespace lowlight::plugin {
namespace {

// The child's message: one status byte ('k' done, 'e' error), the model time as a double, then either
// the context's length (uint64) and bytes (serialize()) and the enhanced floats, or the error text.
void write_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    size -= static_cast<size_t>(n);
  }
}

[[noreturn]] void child(int fd, const std::string& path, const EnhanceSettings& settings, RegionPixels& region,
                        std::optional<EnhanceContext>& context, const RegionPixels* context_pixels) {
  char status = 'e';
  double seconds = 0;
  std::string error, context_bytes;
  try {
    const Enhancer enhancer(path, settings);
    const auto start = std::chrono::steady_clock::now();
    if (!context && context_pixels) context = layer_context(enhancer, *context_pixels);
    if (enhance_region(enhancer, region, {}, context ? &*context : nullptr)) status = 'k';
    else error = "cancelled";
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (context) context_bytes = serialize(*context);
  } catch (const std::exception& e) {
    error = e.what();
  }
  write_all(fd, &status, 1);
  write_all(fd, &seconds, sizeof seconds);
  if (status == 'k') {
    const uint64_t length = context_bytes.size();
    write_all(fd, &length, sizeof length);
    write_all(fd, context_bytes.data(), context_bytes.size());
    write_all(fd, region.enhanced.data(), region.enhanced.size() * sizeof(float));
  } else {
    write_all(fd, error.data(), error.size());
  }
  ::close(fd);
  _exit(0);  // no atexit handlers: they belong to the parent (GIMP's wire, GTK)
}

}  // namespace

PreviewRun::PreviewRun(const std::string& weights_path, const EnhanceSettings& settings, RegionPixels region,
                       std::optional<EnhanceContext> context, std::shared_ptr<const RegionPixels> context_pixels)
    : region_(std::move(region)), context_(std::move(context)) {
  int fds[2];
  if (::pipe(fds) != 0) throw Error(std::string("cannot start the preview: pipe: ") + std::strerror(errno));
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw Error(std::string("cannot start the preview: fork: ") + std::strerror(errno));
  }
  if (pid_ == 0) {
#ifdef __linux__
    // A preview must not outlive the plug-in (GIMP ends plug-ins by killing them).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(1);
#endif
    ::close(fds[0]);
    child(fds[1], weights_path, settings, region_, context_, context_pixels.get());
  }
  ::close(fds[1]);
  fd_ = fds[0];
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

PreviewRun::~PreviewRun() { cancel(); }

void PreviewRun::cancel() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!finished_) {
    finished_ = true;
    ok_ = false;
    error_.clear();
  }
}

bool PreviewRun::poll() {
  if (finished_) return true;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n > 0) {
      received_.insert(received_.end(), buffer, buffer + n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    break;  // end of file (or a read error): the child is done
  }
  finish();
  return true;
}

void PreviewRun::finish() {
  ::close(fd_);
  fd_ = -1;
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  finished_ = true;
  constexpr size_t kHeader = 1 + sizeof(double);
  if (received_.size() < kHeader) {
    error_ = WIFSIGNALED(status) ? "the preview process died (signal " + std::to_string(WTERMSIG(status)) + ")"
                                 : "the preview process ended without a result";
    return;
  }
  std::memcpy(&seconds_, received_.data() + 1, sizeof seconds_);
  const char* payload = received_.data() + kHeader;
  size_t size = received_.size() - kHeader;
  if (received_[0] != 'k') {
    error_.assign(payload, size);
    return;
  }
  uint64_t length = 0;
  if (size < sizeof length) {
    error_ = "the preview process sent a truncated result";
    return;
  }
  std::memcpy(&length, payload, sizeof length);
  payload += sizeof length;
  size -= sizeof length;
  if (length > size) {
    error_ = "the preview process sent a truncated context";
    return;
  }
  try {
    if (length > 0) context_ = parse_context(std::string(payload, length));
  } catch (const std::exception& e) {
    error_ = e.what();
    return;
  }
  payload += length;
  size -= length;
  if (size != region_.original.size() * sizeof(float)) {
    error_ = "the preview process sent " + std::to_string(size) + " bytes instead of " +
             std::to_string(region_.original.size() * sizeof(float));
    return;
  }
  region_.enhanced.resize(region_.original.size());
  std::memcpy(region_.enhanced.data(), payload, size);
  ok_ = true;
}

bool probe_cuda() {
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) _exit(cuda_available() ? 0 : 1);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace lowlight::plugin
