// A block the program keeps only in a callee-saved register across its call
// to nantrack_check_leaks(), and frees after it: the check must count it
// still reachable, since the program uses it again (argv[1] "kept"). With
// "masked" the register holds the block's address XOR a mask during the
// call, the same code otherwise: the check then finds it leaked, which
// shows that nothing else in the scanned memory points to it.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// check_register.S: calls nantrack_check_leaks() with `block ^ mask` only
// in r12, and returns the block.
void* check_holding(void* block, uintptr_t mask);

static __attribute__((noinline)) void* make(void) {
  char* block = malloc(3003);
  memset(block, 1, 3003);
  return block;
}

int main(int argc, char** argv) {
  const int masked = argc > 1 && strcmp(argv[1], "masked") == 0;
  void* block = check_holding(make(), masked ? (uintptr_t)0x5a5a5a5a5a5a5a5aull : 0);
  free(block);
  puts("check_register done");
  return 0;
}
