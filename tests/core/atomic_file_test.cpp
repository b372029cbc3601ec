// The one atomic writer behind every output: complete or absent, never over a file without being allowed,
// no temporaries left, stale ones of killed runs cleaned up.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lowlight/atomic_file.h"
#include "lowlight/error.h"
#include "support/tiny_weights.h"
#include "support/files.h"

namespace fs = std::filesystem;

namespace lowlight {
namespace {

size_t entries(const fs::path& dir) { return std::distance(fs::directory_iterator(dir), fs::directory_iterator()); }

TEST(AtomicFile, WritesReplacesOnlyWhenAllowedAndLeavesNoTemporaries) {
  const fs::path dir = test::temp_dir("atomic");
  const std::string path = (dir / "out.bin").string();
  write_file_atomic(path, "first", Overwrite::No);
  EXPECT_EQ(test::slurp(path), "first");
  try {
    write_file_atomic(path, "second", Overwrite::No);
    FAIL() << "an existing file was replaced";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_EQ(test::slurp(path), "first");
  write_file_atomic(path, std::vector<ByteRange>{{"sec", 3}, {"ond", 3}}, Overwrite::Yes);
  EXPECT_EQ(test::slurp(path), "second");
  EXPECT_EQ(entries(dir), 1u);
  EXPECT_THROW(write_file_atomic((dir / "missing" / "x").string(), "x", Overwrite::Yes), Error);
  EXPECT_THROW(write_file_atomic("", "x", Overwrite::Yes), Error);
  EXPECT_EQ(entries(dir), 1u);
  fs::remove_all(dir);
}

TEST(AtomicFile, TemporariesOfKilledRunsAreRemovedOnTheNextWrite) {
  const fs::path dir = test::temp_dir("atomic-stale");
  // PID 2^22 + 1 is above Linux's pid_max limit, so no process has it.
  const fs::path stale = dir / ".out.png.tmp-4194305-0";
  const fs::path mine = dir / (".out.png.tmp-" + std::to_string(::getpid()) + "-999");  // a live process's
  const fs::path other = dir / ".other.png.tmp-4194305-0";                               // another target's
  for (const auto& p : {stale, mine, other}) std::ofstream(p) << "partial";
  write_file_atomic((dir / "out.png").string(), "done", Overwrite::No);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(mine));
  EXPECT_TRUE(fs::exists(other));
  fs::remove_all(dir);
}

TEST(AtomicFile, TheOutputFolderIsCheckedUpFront) {
  const fs::path dir = test::temp_dir("atomic-folder");
  EXPECT_NO_THROW(check_writable_folder((dir / "x.png").string()));
  EXPECT_THROW(check_writable_folder((dir / "no" / "x.png").string()), Error);
  std::ofstream(dir / "file") << "x";
  EXPECT_THROW(check_writable_folder((dir / "file" / "x.png").string()), Error);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lowlight
