// The atomic writer (see lowlight/atomic_file.h).
#include "lowlight/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "lowlight/error.h"

namespace fs = std::filesystem;

namespace lowlight {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

fs::path folder_of(const std::string& path) {
  const fs::path target(path);
  return target.has_parent_path() ? target.parent_path() : fs::path(".");
}

std::string temp_prefix(const std::string& path) { return "." + fs::path(path).filename().string() + ".tmp-"; }

// Removes ".NAME.tmp-PID-..." files of processes that no longer run (a SIGKILL mid-write leaves them).
void remove_stale_temporaries(const std::string& path) {
  const std::string prefix = temp_prefix(path);
  std::error_code ec;
  for (fs::directory_iterator it(folder_of(path), ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      fs::remove(it->path(), ec);
  }
}

int open_temp_beside(const std::string& path, std::string& temp) {
  static std::atomic<unsigned> counter{0};
  const fs::path dir = folder_of(path);
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp = (dir / (temp_prefix(path) + std::to_string(::getpid()) + "-" + std::to_string(counter++))).string();
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return fd;
    if (errno != EEXIST)
      throw Error(path + ": cannot create a temporary file in " + dir.string() + " (" + errno_text(errno) + ")");
  }
  throw Error(path + ": cannot create a unique temporary file in " + dir.string());
}

void write_all(int fd, const ByteRange& part, const std::string& path) {
  const char* p = static_cast<const char*>(part.data);
  size_t left = part.size;
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(path + ": write failed (" + errno_text(errno) + ")");
    p += n;
    left -= static_cast<size_t>(n);
  }
}

// Moves `temp` to `path`; without overwrite only if `path` does not exist at that moment.
void move_into_place(const std::string& temp, const std::string& path, Overwrite overwrite) {
  if (overwrite == Overwrite::Yes) {
    if (::rename(temp.c_str(), path.c_str()) != 0)
      throw Error(path + ": cannot move the finished file into place (" + errno_text(errno) + ")");
    return;
  }
#ifdef SYS_renameat2
  constexpr unsigned kNoReplace = 1;  // RENAME_NOREPLACE
  if (::syscall(SYS_renameat2, AT_FDCWD, temp.c_str(), AT_FDCWD, path.c_str(), kNoReplace) == 0) return;
  if (errno == EEXIST) throw Error(path + ": exists (created while this ran); not replaced without overwrite");
  if (errno != EINVAL && errno != ENOSYS)
    throw Error(path + ": cannot move the finished file into place (" + errno_text(errno) + ")");
#endif
  // File systems without RENAME_NOREPLACE: link() refuses an existing name just the same.
  if (::link(temp.c_str(), path.c_str()) != 0) {
    if (errno == EEXIST) throw Error(path + ": exists (created while this ran); not replaced without overwrite");
    throw Error(path + ": cannot move the finished file into place (" + errno_text(errno) + ")");
  }
  ::unlink(temp.c_str());
}

}  // namespace

void write_file_atomic(const std::string& path, const std::vector<ByteRange>& parts, Overwrite overwrite) {
  if (path.empty()) throw Error("no output path given");
  if (overwrite == Overwrite::No && fs::exists(fs::symlink_status(path)))
    throw Error(path + ": exists; not replaced without overwrite");
  remove_stale_temporaries(path);
  std::string temp;
  int fd = open_temp_beside(path, temp);
  try {
    for (const ByteRange& part : parts) write_all(fd, part, path);
    if (::fsync(fd) != 0) throw Error(path + ": flushing to disk failed (" + errno_text(errno) + ")");
    const int closed = ::close(fd);
    fd = -1;
    if (closed != 0) throw Error(path + ": close failed (" + errno_text(errno) + ")");
    move_into_place(temp, path, overwrite);
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  // Persist the move itself; a failure here leaves a complete file, so it is not an error.
  const int dir = ::open(folder_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void write_file_atomic(const std::string& path, const std::string& bytes, Overwrite overwrite) {
  write_file_atomic(path, std::vector<ByteRange>{{bytes.data(), bytes.size()}}, overwrite);
}

void check_writable_folder(const std::string& path) {
  const fs::path dir = folder_of(path);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(path + ": folder " + dir.string() + " does not exist");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw Error(path + ": cannot write into " + dir.string() + " (" + errno_text(errno) + ")");
}

}  // namespace lowlight
