#include "tracker/proc_maps.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace nantrack {
namespace {

// The mapping that starts at `start`, read as the leak scan reads them,
// with its name copied out of the reader's buffer.
struct FoundMapping {
  Mapping mapping;
  std::string name;
};
FoundMapping find_mapping(uintptr_t start) {
  ProcMaps maps;
  Mapping mapping;
  while (maps.next(mapping))
    if (mapping.start == start) return {mapping, std::string(mapping.name)};
  return {};
}

TEST(ProcMapsTest, ReadsRangePermissionsAndName) {
  void* anonymous = mmap(nullptr, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(anonymous, MAP_FAILED);
  const auto start = reinterpret_cast<uintptr_t>(anonymous);
  ASSERT_EQ(mprotect(static_cast<char*>(anonymous) + 2 * 4096, 4096, PROT_READ), 0);
  const FoundMapping writable = find_mapping(start);
  EXPECT_EQ(writable.mapping.end, start + 2 * 4096);
  EXPECT_TRUE(writable.mapping.readable);
  EXPECT_TRUE(writable.mapping.writable);
  EXPECT_EQ(writable.name, "");
  const FoundMapping read_only = find_mapping(start + 2 * 4096);
  EXPECT_EQ(read_only.mapping.end, start + 3 * 4096);
  EXPECT_TRUE(read_only.mapping.readable);
  EXPECT_FALSE(read_only.mapping.writable);
  munmap(anonymous, 3 * 4096);
}

// A path longer than the line buffer is cut short; the lines after it are
// read as they are.
TEST(ProcMapsTest, ALongPathIsCutAndTheNextLinesStayWhole) {
  const std::string dir = ::testing::TempDir() + std::string(200, 'd');
  ASSERT_TRUE(mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST);
  const std::string path = dir + "/" + std::string(240, 'f');
  const int fd = open(path.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 4096), 0);
  void* file = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
  ASSERT_NE(file, MAP_FAILED);
  const FoundMapping mapped = find_mapping(reinterpret_cast<uintptr_t>(file));
  EXPECT_EQ(mapped.mapping.end, reinterpret_cast<uintptr_t>(file) + 4096);
  EXPECT_FALSE(mapped.name.empty());
  EXPECT_EQ(path.substr(0, mapped.name.size()), mapped.name);
  EXPECT_LT(mapped.name.size(), path.size());
  // The stack, listed after the file: still found by its name.
  ProcMaps maps;
  Mapping mapping;
  bool stack = false;
  while (maps.next(mapping)) stack |= mapping.name == "[stack]";
  EXPECT_TRUE(stack);
  munmap(file, 4096);
  close(fd);
  unlink(path.c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace nantrack
