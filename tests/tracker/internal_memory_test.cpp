#include "tracker/internal_memory.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <vector>

namespace nantrack {
namespace {

size_t resident_pages(void* address, size_t bytes) {
  std::vector<unsigned char> residency(round_up_to_page(bytes) / kPageSize);
  EXPECT_EQ(mincore(address, bytes, residency.data()), 0);
  size_t resident = 0;
  for (unsigned char page : residency) resident += page & 1;
  return resident;
}

TEST(InternalMemoryTest, PlainMappingsAreNotFaultedInUntilTouched) {
  constexpr size_t kBytes = 1 << 20;
  auto* memory = static_cast<unsigned char*>(map_memory(kBytes));
  ASSERT_NE(memory, nullptr);
  EXPECT_EQ(resident_pages(memory, kBytes), 0u);
  unmap_memory(memory, kBytes);
}

// A table about to be rehashed into gets all its pages at once.
TEST(InternalMemoryTest, PopulatedMappingsAreResidentZeroedAndWritable) {
  constexpr size_t kBytes = 1 << 20;
  auto* memory = static_cast<unsigned char*>(map_populated_memory(kBytes));
  ASSERT_NE(memory, nullptr);
  EXPECT_EQ(resident_pages(memory, kBytes), kBytes / kPageSize);
  for (size_t i = 0; i < kBytes; i += 4096) ASSERT_EQ(memory[i], 0) << i;
  memory[kBytes - 1] = 1;
  unmap_memory(memory, kBytes);
}

bool listed(uintptr_t start, uintptr_t end) {
  std::vector<OwnMapping> mappings(1 << 14);
  bool complete = false;
  const size_t count = list_own_mappings(mappings.data(), mappings.size(), complete);
  EXPECT_TRUE(complete);
  for (size_t i = 0; i < std::min(count, mappings.size()); ++i)
    if (mappings[i].start == start && mappings[i].end == end) return true;
  return false;
}

// The leak scan leaves nantrack's own mappings out of the program's: each
// is listed, with its page-rounded length, until it is unmapped.
TEST(InternalMemoryTest, EveryMappingIsListedUntilUnmapped) {
  void* plain = map_memory(5000);
  void* reserved = reserve_address_space(1 << 20);
  ASSERT_NE(plain, nullptr);
  ASSERT_NE(reserved, nullptr);
  const auto plain_start = reinterpret_cast<uintptr_t>(plain), reserved_start = reinterpret_cast<uintptr_t>(reserved);
  EXPECT_TRUE(listed(plain_start, plain_start + 8192));
  EXPECT_TRUE(listed(reserved_start, reserved_start + (1 << 20)));
  unmap_memory(plain, 5000);
  unmap_memory(reserved, 1 << 20);
  EXPECT_FALSE(listed(plain_start, plain_start + 8192));
  EXPECT_FALSE(listed(reserved_start, reserved_start + (1 << 20)));
  // Mapped and unmapped many times over: removed entries are found again.
  for (int i = 0; i < 20000; ++i) unmap_memory(map_memory(4096), 4096);
  void* last = map_memory(4096);
  EXPECT_TRUE(listed(reinterpret_cast<uintptr_t>(last), reinterpret_cast<uintptr_t>(last) + 4096));
  unmap_memory(last, 4096);
}

}  // namespace
}  // namespace nantrack
