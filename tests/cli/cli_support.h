#pragma once
// Running the `lowlight` binary from tests and reading back what it did.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/files.h"

namespace lowlight::test {

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `lowlight ARGS` through the shell (arguments are the caller's, unquoted paths without spaces),
// with `env` prepended (e.g. "LOWLIGHT_MODEL_PATH=/x").
inline RunResult run_lowlight(const std::string& args, const std::filesystem::path& scratch,
                              const std::string& env = "") {
  const auto out = scratch / "stdout.txt";
  const auto err = scratch / "stderr.txt";
  const std::string command = env + (env.empty() ? "" : " ") + std::string(LOWLIGHT_EXE) + " " + args + " >" +
                              out.string() + " 2>" + err.string();
  const int status = std::system(command.c_str());
  RunResult result;
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = slurp(out);
  result.err = slurp(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return result;
}

}  // namespace lowlight::test
