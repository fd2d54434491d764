/* commit_charge: allocates from many call stacks, then prints what strict
 * overcommit (vm.overcommit_memory=2) would charge the process: the size of
 * its private writable mappings, MAP_NORESERVE or not, from
 * /proc/self/smaps, in MiB. A tracker that reserved gigabytes writable
 * would take that much of the system's commit limit from everyone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void* volatile sink;

/* Distinct call stacks: recursion depth and the caller's loop index. */
__attribute__((noinline)) static void allocate_at(int depth) {
  if (depth > 0) {
    allocate_at(depth - 1);
    __asm__ volatile("" ::: "memory");
    return;
  }
  sink = malloc(32);
  free(sink);
}

int main(void) {
  for (int round = 0; round < 100; ++round)
    for (int depth = 0; depth < 40; ++depth) allocate_at(depth);
  FILE* smaps = fopen("/proc/self/smaps", "r");
  if (!smaps) return 2;
  char line[512];
  unsigned long start = 0, end = 0, chargeable = 0;
  while (fgets(line, sizeof line, smaps)) {
    unsigned long a, b;
    if (sscanf(line, "%lx-%lx", &a, &b) == 2) { /* a mapping's first line */
      start = a;
      end = b;
    } else if (strncmp(line, "VmFlags:", 8) == 0 && strstr(line, " wr") && !strstr(line, " sh")) {
      chargeable += end - start;
    }
  }
  fclose(smaps);
  printf("%lu\n", chargeable >> 20);
  return 0;
}
