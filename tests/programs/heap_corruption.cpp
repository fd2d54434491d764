// Writes past either end of a block and into freed blocks, one kind per
// mode (argv[1]). Under nantrack each is reported with its stacks and the
// program still exits 0: the damage only touches guard or freed bytes.
#include <cerrno>
#include <cstdint>
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

// Returns its argument through a volatile: the compiler forgets where it came from.
__attribute__((noinline)) void* sink_of(void* block) {
  sink = block;
  return sink;
}
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
  } else if (mode == "realloc_large_grow") {
    // A buffer grown 4 KiB at a time from 128 KiB to 128 MiB: resized by
    // libc (mremap), as without nantrack; moving it every time would copy
    // terabytes. Its guard bytes follow it.
    constexpr size_t kStep = 4096, kFirst = size_t{128} << 10, kFinal = size_t{128} << 20;
    char* buffer = allocate_here(kFirst);
    std::memset(buffer, 0, kFirst);
    for (size_t size = kFirst; size < kFinal; size += kStep) {
      buffer = static_cast<char*>(std::realloc(buffer, size + kStep));
      if (!buffer) return 1;
      std::memset(buffer + size, static_cast<char>(size / kStep), kStep);
    }
    for (size_t page = kFirst / kStep; page < kFinal / kStep; ++page) {
      if (buffer[page * kStep] != static_cast<char>(page)) {
        std::puts("contents lost");
        break;
      }
    }
    poke(buffer, kFinal, 1);
    release_here(buffer);
  } else if (mode == "realloc_large_refused") {
    // libc cannot grow it: realloc fails, the block stays as it was.
    constexpr size_t kSize = size_t{256} << 10;
    char* block = allocate_here(kSize);
    std::memset(block, 5, kSize);
    errno = 0;
    void* grown = std::realloc(block, SIZE_MAX / 4);
    sink = grown;
    std::puts(grown == nullptr && errno == ENOMEM ? "refused" : "granted");
    if (grown) return 1;
    // The compiler cannot know realloc failed: it would warn of use after free.
    char* kept = static_cast<char*>(sink_of(block));
    if (kept[0] != 5 || kept[kSize - 1] != 5) std::puts("contents lost");
    release_here(kept);
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
