#include "tracker/internal_memory.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

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

}  // namespace
}  // namespace nantrack
