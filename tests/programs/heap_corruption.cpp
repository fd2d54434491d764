// Writes past either end of a block and into freed blocks, one kind per
// mode (argv[1]). Under nantrack each is reported with its stacks and the
// program still exits 0: the damage only touches guard or freed bytes.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <malloc.h>

void* volatile sink;

extern "C" {
__attribute__((noinline)) char* allocate_here(size_t size) {
  char* block = static_cast<char*>(std::malloc(size));
  sink = block;
  return block;
}

// Through a volatile pointer: the compiler may not drop or move the write.
__attribute__((noinline)) void poke(char* block, long offset, size_t count) {
  volatile char* bytes = block + offset;
  for (size_t i = 0; i < count; ++i) bytes[i] = 0x42;
}

__attribute__((noinline)) void release_here(char* block) { std::free(block); }
}

namespace {

// Frees enough small blocks that every quarantine shard evicts.
void churn() {
  for (int i = 0; i < 20000; ++i) std::free(allocate_here(48));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "malloc_after") {
    char* block = allocate_here(24);
    poke(block, 24, 1);
    release_here(block);
  } else if (mode == "malloc_before") {
    char* block = allocate_here(24);
    poke(block, -1, 1);
    release_here(block);
  } else if (mode == "new_array_after") {
    char* block = new char[40];
    sink = block;
    poke(block, 40, 1);
    delete[] block;
  } else if (mode == "new_array_before") {
    char* block = new char[40];
    sink = block;
    poke(block, -2, 2);
    delete[] block;
  } else if (mode == "aligned_after") {
    char* block = static_cast<char*>(std::aligned_alloc(64, 64));
    sink = block;
    poke(block, 64, 1);
    release_here(block);
  } else if (mode == "aligned_before") {
    char* block = static_cast<char*>(std::aligned_alloc(64, 64));
    sink = block;
    poke(block, -1, 1);
    release_here(block);
  } else if (mode == "live_after") {
    char* block = allocate_here(24);
    poke(block, 24, 3);  // the block stays live: found at exit
  } else if (mode == "write_after_free_evicted") {
    char* block = allocate_here(32);
    release_here(block);
    poke(block, 8, 8);
    churn();
  } else if (mode == "write_after_free_at_exit") {
    char* block = allocate_here(32);
    release_here(block);
    poke(block, 0, 8);
  } else if (mode == "realloc_shrink_after") {
    // Shrunk in place: the back redzone moves to the new end.
    char* block = allocate_here(40);
    std::memset(block, 7, 40);
    char* shrunk = static_cast<char*>(std::realloc(block, 8));
    sink = shrunk;
    std::puts(shrunk == block ? "in place" : "moved");
    if (shrunk[7] != 7) std::puts("contents lost");
    poke(shrunk, 8, 1);
    release_here(shrunk);
  } else if (mode == "realloc_grow_before") {
    // Grown in place within libc's slack; the damage is found by realloc.
    char* block = allocate_here(20);
    std::memset(block, 7, 20);
    poke(block, -1, 1);
    char* grown = static_cast<char*>(std::realloc(block, 24));
    sink = grown;
    std::puts(grown == block ? "in place" : "moved");
    if (grown[19] != 7) std::puts("contents lost");
    release_here(grown);
  } else if (mode == "usable_size") {
    // Writing up to malloc_usable_size is allowed and must not trip a guard.
    char* block = allocate_here(13);
    std::memset(block, 1, malloc_usable_size(block));
    release_here(block);
  } else {
    std::fprintf(stderr, "usage: heap_corruption MODE\n");
    return 2;
  }
  std::puts("survived");
  return 0;
}
