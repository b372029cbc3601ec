#include "messages.h"

namespace lowlight::plugin {

std::string error_text(const std::string& detail) {
  std::string line = detail.substr(0, detail.find('\n'));
  return std::string(kTitle) + ": " + line;
}

std::string error_text(const std::exception& error) { return error_text(std::string(error.what())); }

}  // namespace lowlight::plugin
