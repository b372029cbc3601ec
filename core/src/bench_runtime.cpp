// Process-level runtime settings found by the benchmark (see prefer_passive_openmp in bench.h).
#include <unistd.h>

#include <cstdlib>

#include "lowlight/bench.h"

namespace lowlight {

void prefer_passive_openmp(char** argv) {
  if (argv == nullptr || argv[0] == nullptr || std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
  execv("/proc/self/exe", argv);
  // exec failed: carry on with the policy libgomp already chose; the variable stays for child processes.
}

}  // namespace lowlight
