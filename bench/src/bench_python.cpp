// The Python eager side of the benchmark: bench/infer_torch.py spawned once per model and driven over pipes,
// so its start-up (importing torch) is paid once and its runs interleave with the C++ ones.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "bench_internal.h"
#include "lowlight/error.h"
#include "lowlight/models.h"

extern char** environ;

namespace lowlight::bench {

std::string default_python_script() {
  // The script lives in the source tree and is not installed: an installed binary looks in the current folder.
  const std::string source = source_tree_dir();
  return (std::filesystem::path(source.empty() ? "." : source) / "bench" / "infer_torch.py").string();
}

PythonSide::PythonSide(const std::string& python, const std::string& script, const std::string& weights,
                       int threads, bool nchw, const std::string& device, const std::string& precision) {
  // A Python side that dies must surface as an error on the next write, not kill us with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  std::error_code ec;
  if (!std::filesystem::exists(script, ec)) throw Error("Python benchmark script not found: " + script);
  err_path_ = (std::filesystem::temp_directory_path() / ("lowlight-bench-py-" + std::to_string(getpid()) + ".log")).string();
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) throw Error("cannot create pipes for the Python side");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  for (int fd : {in[0], in[1], out[0], out[1]}) posix_spawn_file_actions_addclose(&actions, fd);
  std::vector<std::string> args = {python, script, "--weights", weights, "--threads", std::to_string(threads)};
  if (nchw) args.push_back("--nchw");
  args.insert(args.end(), {"--device", device, "--precision", precision});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int rc = posix_spawnp(&pid_, python.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    pid_ = -1;
    throw Error("cannot start the Python side '" + python + "': " + std::strerror(rc));
  }
  to_ = fdopen(in[1], "w");
  from_ = fdopen(out[0], "r");
  hello_ = read_reply("start-up");
}

PythonSide::~PythonSide() {
  if (to_) {
    std::fputs("quit\n", to_);
    std::fclose(to_);
  }
  if (from_) std::fclose(from_);
  if (pid_ > 0) {
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  std::error_code ec;
  if (!err_path_.empty()) std::filesystem::remove(err_path_, ec);
}

nlohmann::json PythonSide::call(const std::string& command) {
  if (std::fputs((command + "\n").c_str(), to_) < 0 || std::fflush(to_) != 0)
    throw Error("Python side: cannot send '" + command + "' (it exited): " + stderr_tail());
  return read_reply(command);
}

nlohmann::json PythonSide::read_reply(const std::string& command) {
  char* line = nullptr;
  size_t capacity = 0;
  const ssize_t n = getline(&line, &capacity, from_);
  const std::string text = n > 0 ? std::string(line, n) : std::string();
  std::free(line);
  if (n <= 0) {
    std::string how = "exited";
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, 0) == pid_) {
      pid_ = -1;
      how = WIFSIGNALED(status) ? "was killed by signal " + std::to_string(WTERMSIG(status))
                                : "exited with status " + std::to_string(WEXITSTATUS(status));
    }
    throw Error("Python side " + how + " during '" + command + "': " + stderr_tail());
  }
  nlohmann::json reply;
  try {
    reply = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    throw Error("Python side: unreadable reply to '" + command + "': " + text.substr(0, 200));
  }
  if (reply.contains("error"))
    throw Error("Python side failed on '" + command + "': " + reply["error"].get<std::string>());
  return reply;
}

std::string PythonSide::stderr_tail() const {
  std::ifstream file(err_path_);
  std::string line, last;
  while (std::getline(file, line))
    if (!line.empty()) last = line;
  return last.empty() ? "(no message)" : last;
}

}  // namespace lowlight::bench
