#pragma once
// Reading a whole file in tests (what a test compares before and after a run).
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace lowlight::test {

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace lowlight::test
