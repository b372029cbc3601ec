#pragma once
// Every failure the core reports is a lowlight::Error whose what() is one line of context:
// the file or tensor concerned, what was expected and what was found. Front ends print it as is.
#include <stdexcept>
#include <string>

namespace lowlight {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace lowlight
