/* Waits 300 ms, then writes one byte past a 20-byte block (into libc's
 * rounding slack: harmless without a tracker, a heap overflow to nantrack)
 * and frees it, writing nothing itself, and returns 3. Run with its stderr
 * on a pipe whose reader has gone, it shows that nantrack's report of the
 * overflow does not kill it with SIGPIPE. */
#include <stdlib.h>
#include <unistd.h>

int main(void) {
  usleep(300 * 1000);
  char* volatile block = malloc(20);
  block[20] = 1;
  free(block);
  return 3;
}
