#include "tracker/reachability.h"

#include <sys/mman.h>

#include <cstdint>
#include <initializer_list>

#include <gtest/gtest.h>

namespace nantrack {
namespace {

// A fake heap: blocks are slots of this array, each 4 words, so the test
// writes pointers into them as the program would.
struct Heap {
  alignas(64) uintptr_t words[64][4] = {};
  uintptr_t at(int block, int word = 0) const { return reinterpret_cast<uintptr_t>(&words[block][word]); }
  void point(int from, int to, int interior_word = 0) { words[from][0] = at(to, interior_word); }
};

class ReachabilityTest : public ::testing::Test {
 protected:
  void add(std::initializer_list<int> blocks) {
    ASSERT_TRUE(scan.reserve(64));
    for (int block : blocks) scan.add_block(heap.at(block), sizeof(heap.words[0]));
    scan.seal();
  }
  void root(uintptr_t value) {
    roots[root_count++] = value;
    scan.scan_root(reinterpret_cast<uintptr_t>(&roots[root_count - 1]),
                   reinterpret_cast<uintptr_t>(&roots[root_count]));
  }
  LeakClass of(int block) const { return scan.class_of(heap.at(block)); }

  Heap heap;
  uintptr_t roots[16] = {};
  int root_count = 0;
  ReachabilityScan scan;
};

TEST_F(ReachabilityTest, StartPointerFromRootIsReachableAndSoIsWhatItPointsTo) {
  add({0, 1, 2});
  heap.point(0, 1);
  root(heap.at(0));
  scan.classify_leaks();
  EXPECT_EQ(of(0), LeakClass::Reachable);
  EXPECT_EQ(of(1), LeakClass::Reachable);
  EXPECT_EQ(of(2), LeakClass::Definite);
}

TEST_F(ReachabilityTest, InteriorPointerMakesPossibleAndSoAreItsChildren) {
  add({0, 1, 2});
  heap.point(0, 1);
  root(heap.at(0, 2));
  scan.classify_leaks();
  EXPECT_EQ(of(0), LeakClass::Possible);
  EXPECT_EQ(of(1), LeakClass::Possible);
  EXPECT_EQ(of(2), LeakClass::Definite);
}

TEST_F(ReachabilityTest, StartPointerUpgradesAPossibleBlockAndItsChildren) {
  add({0, 1});
  heap.point(0, 1);
  root(heap.at(0, 1));
  root(heap.at(0));
  scan.classify_leaks();
  EXPECT_EQ(of(0), LeakClass::Reachable);
  EXPECT_EQ(of(1), LeakClass::Reachable);
}

TEST_F(ReachabilityTest, LeakedTreeHasOneDefiniteRootAndIndirectChildren) {
  add({0, 1, 2, 3, 4});
  heap.words[0][0] = heap.at(1);
  heap.words[0][1] = heap.at(2);
  heap.words[0][2] = heap.at(3);
  heap.words[3][0] = heap.at(4);
  scan.classify_leaks();
  EXPECT_EQ(of(0), LeakClass::Definite);
  for (int child : {1, 2, 3, 4}) EXPECT_EQ(of(child), LeakClass::Indirect) << child;
}

TEST_F(ReachabilityTest, LeakedCycleHasOneDefiniteBlockLikeValgrind) {
  add({0, 1});
  heap.point(0, 1);
  heap.point(1, 0);
  scan.classify_leaks();
  EXPECT_EQ(of(0), LeakClass::Definite);  // the lower address leads
  EXPECT_EQ(of(1), LeakClass::Indirect);
}

TEST_F(ReachabilityTest, LaterLeaderTakesOverAnEarlierOne) {
  // 0 is scanned first and leads alone; 5 points to it, so 0 becomes
  // indirect and 5 is the only definite leak of the tree.
  add({0, 5});
  heap.point(5, 0);
  scan.classify_leaks();
  EXPECT_EQ(of(5), LeakClass::Definite);
  EXPECT_EQ(of(0), LeakClass::Indirect);
}

TEST_F(ReachabilityTest, SelfPointingBlockIsDefinite) {
  add({0});
  heap.point(0, 0);
  scan.classify_leaks();
  EXPECT_EQ(of(0), LeakClass::Definite);
}

TEST_F(ReachabilityTest, PointerPastTheEndReachesNothing) {
  add({0});
  root(heap.at(0) + sizeof(heap.words[0]));
  scan.classify_leaks();
  EXPECT_EQ(of(0), LeakClass::Definite);
}

// The scan skips words outside the span of all blocks without a search:
// the first block's start and the last block's last byte are inside it.
TEST_F(ReachabilityTest, TheLowestAndHighestBlocksAreReachedAtTheirEdges) {
  add({2, 5, 9});
  root(heap.at(2));
  root(heap.at(9) + sizeof(heap.words[0]) - 1);
  root(heap.at(2) - 1);
  scan.classify_leaks();
  EXPECT_EQ(of(2), LeakClass::Reachable);
  EXPECT_EQ(of(9), LeakClass::Possible);
  EXPECT_EQ(of(5), LeakClass::Definite);
}

TEST_F(ReachabilityTest, EmptyBlockIsReachedThroughItsStart) {
  ASSERT_TRUE(scan.reserve(4));
  scan.add_block(heap.at(3), 0);
  scan.seal();
  root(heap.at(3));
  scan.classify_leaks();
  EXPECT_EQ(of(3), LeakClass::Reachable);
}

TEST_F(ReachabilityTest, AddressThatIsNoBlockStartIsNotScanned) {
  add({0});
  scan.classify_leaks();
  EXPECT_EQ(scan.class_of(heap.at(0, 1)), LeakClass::NotScanned);
}

TEST_F(ReachabilityTest, UnreadableAndUnmappedRootsAreSkippedNotFatal) {
  add({0, 1});
  const size_t page = 4096;
  auto* pages = static_cast<uintptr_t*>(
      mmap(nullptr, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(pages, MAP_FAILED);
  const uintptr_t base = reinterpret_cast<uintptr_t>(pages);
  pages[page / sizeof(uintptr_t) * 3] = heap.at(1);  // in the last page, after the holes
  ASSERT_EQ(mprotect(pages + page / sizeof(uintptr_t), page, PROT_NONE), 0);
  ASSERT_EQ(munmap(pages + page / sizeof(uintptr_t) * 2, page), 0);
  scan.scan_root(base, base + 4 * page);
  scan.scan_root(0, 4 * page);  // the null page
  scan.classify_leaks();
  EXPECT_EQ(of(1), LeakClass::Reachable);
  EXPECT_EQ(of(0), LeakClass::Definite);
  munmap(pages, page);
  munmap(pages + page / sizeof(uintptr_t) * 3, page);
  munmap(pages + page / sizeof(uintptr_t), page);
}

// Blocks far apart, as libc's heaps and the blocks it maps lie among the
// program's own mappings: the scan looks among groups of nearby blocks
// first. Pointers into the gaps between them reach nothing, a chain from
// the first reaches every block, and the one no pointer reaches is
// definite; with more blocks than the scan keeps groups, as well.
class FarApartBlocks : public ::testing::TestWithParam<int> {};

TEST_P(FarApartBlocks, AreFoundAndTheGapsBetweenThemPointNowhere) {
  const int count = GetParam();
  // Neighbours more than the smallest gap (64 KiB) apart: each block a
  // group of its own until there are too many. Only the blocks' pages are
  // made writable, so that the test takes little memory even where the
  // kernel charges every writable page (vm.overcommit_memory=2).
  constexpr size_t kSpacing = size_t{68} << 10;
  const size_t bytes = count * kSpacing;
  auto* area = static_cast<char*>(mmap(nullptr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
  ASSERT_NE(area, MAP_FAILED);
  for (int i = 0; i < count; ++i) ASSERT_EQ(mprotect(area + i * kSpacing, 4096, PROT_READ | PROT_WRITE), 0);
  auto block = [&](int i) { return reinterpret_cast<uintptr_t*>(area + i * kSpacing); };
  ReachabilityScan scan;
  ASSERT_TRUE(scan.reserve(count));
  for (int i = count - 1; i >= 0; --i) scan.add_block(reinterpret_cast<uintptr_t>(block(i)), 32);
  scan.seal();
  // 0 -> 1 -> ... -> count-2; count-1 is left out. Every block also holds a
  // pointer into the gap after it, which reaches nothing.
  for (int i = 0; i < count; ++i) {
    block(i)[1] = reinterpret_cast<uintptr_t>(block(i)) + kSpacing / 2;
    if (i + 2 < count) block(i)[0] = reinterpret_cast<uintptr_t>(block(i + 1));
  }
  uintptr_t roots[] = {reinterpret_cast<uintptr_t>(block(0)), reinterpret_cast<uintptr_t>(block(count - 1)) + 64};
  scan.scan_root(reinterpret_cast<uintptr_t>(&roots[0]), reinterpret_cast<uintptr_t>(&roots[2]));
  scan.classify_leaks();
  for (int i = 0; i + 1 < count; ++i)
    ASSERT_EQ(scan.class_of(reinterpret_cast<uintptr_t>(block(i))), LeakClass::Reachable) << i;
  EXPECT_EQ(scan.class_of(reinterpret_cast<uintptr_t>(block(count - 1))), LeakClass::Definite);
  munmap(area, bytes);
}

INSTANTIATE_TEST_SUITE_P(Counts, FarApartBlocks, ::testing::Values(2, 100, 3000));

}  // namespace
}  // namespace nantrack
