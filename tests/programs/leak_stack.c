// Leaks with known stacks: 3 blocks of 1024 bytes from leak_kilobytes(), and
// one 77-byte block at the bottom of a 40-deep recursion (depth_N names the
// frames). With an argument "clean" it frees everything and leaks nothing.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void* volatile sink[8];

__attribute__((noinline)) void* leak_kilobytes(int i) {
  void* p = malloc(1024);
  sink[i] = p;
  return p;
}

__attribute__((noinline)) void* recurse(int depth) {
  if (depth == 0) return malloc(77);
  void* p = recurse(depth - 1);
  sink[7] = p;  // keeps the call from being a tail call
  return p;
}

int main(int argc, char** argv) {
  int clean = argc > 1 && strcmp(argv[1], "clean") == 0;
  void* blocks[4];
  for (int i = 0; i < 3; ++i) blocks[i] = leak_kilobytes(i);
  blocks[3] = recurse(39);
  if (clean)
    for (int i = 0; i < 4; ++i) free(blocks[i]);
  // The sink only keeps the compiler from deleting the mallocs: cleared, the
  // blocks are truly lost (definite leaks), not still reachable.
  for (int i = 0; i < 8; ++i) sink[i] = NULL;
  printf("leak_stack %s\n", clean ? "clean" : "leaky");
  return 0;
}
