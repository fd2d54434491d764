/* busy_threads_at_exit: main leaks a block of 2101 bytes and returns while
 * four threads allocate and free without a pause, each holding up to 16
 * blocks of 48 to 63 bytes in a local array. The trace is written at exit
 * while those threads still run, and they allocate after it until the
 * process ends: every block of theirs is in their hands, none leaked.
 * Prints "done". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void* volatile lost;

static void* allocate_forever(void* unused) {
  (void)unused;
  for (;;) {
    void* volatile blocks[16];
    for (int i = 0; i < 16; ++i) blocks[i] = malloc(48 + i);
    for (int i = 0; i < 16; ++i) free(blocks[i]);
  }
  return NULL;
}

int main(void) {
  lost = memset(malloc(2101), 1, 2101);
  lost = NULL;
  for (int i = 0; i < 4; ++i) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, allocate_forever, NULL) != 0) return 2;
  }
  usleep(100000);
  puts("done");
  return 0;
}
