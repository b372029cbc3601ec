#pragma once
// Writing a file so that it is either complete or absent: the one writer behind every output of Lowlight
// (images, weights, checkpoints, run outputs, benchmark JSON). Light header.
//
//   lowlight::write_file_atomic("out/result.png", bytes, lowlight::Overwrite::No);
//
// The bytes go to a fresh temporary file beside the target (".NAME.tmp-PID-N", so the final move stays on
// one file system), which is flushed to disk (fsync) and then moved into place; the folder is flushed too.
// Every error path removes the temporary. Temporaries left by a killed process of this program (their PID
// no longer runs) are removed the next time the same target is written.
#include <cstddef>
#include <string>
#include <vector>

namespace lowlight {

// Overwrite::No never replaces a file, not even one created while the bytes were written (two runs racing
// for one output: the second to finish gets an error and the first one's file stays).
enum class Overwrite { No, Yes };

struct ByteRange {
  const void* data;
  size_t size;
};

// Throws lowlight::Error naming `path` (no space, no permission, exists with Overwrite::No, ...).
void write_file_atomic(const std::string& path, const std::vector<ByteRange>& parts, Overwrite overwrite);
void write_file_atomic(const std::string& path, const std::string& bytes, Overwrite overwrite);

// Throws lowlight::Error unless a new file could be created in path's folder now (it exists, is a folder,
// and is writable): the early check front ends make before loading a model.
void check_writable_folder(const std::string& path);

}  // namespace lowlight
