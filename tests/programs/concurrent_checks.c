/* concurrent_checks: two threads each keep a block in a local of theirs
 * (3101 and 3102 bytes) and call nantrack_check_leaks() 30 times at once.
 * One thread's check waits while the other's scans, stopped where it
 * waits: its own stack must still be read, or its block looks leaked.
 * Prints how many checks found a leak (there is none). The interface is
 * declared weak, as code written for LeakSanitizer declares it: run
 * plainly, the program finds no checker and says so. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int nantrack_check_leaks(void) __attribute__((weak));

static int leaks_seen[2];

static void* check_repeatedly(void* which) {
  const int index = (int)(long)which;
  char* volatile held = malloc(3101 + index);
  memset(held, 1, 3101 + index);
  for (int i = 0; i < 30; ++i)
    if (nantrack_check_leaks() != 0) ++leaks_seen[index];
  free(held);
  return NULL;
}

int main(void) {
  if (!nantrack_check_leaks) {
    puts("no leak checker");
    return 0;
  }
  pthread_t threads[2];
  for (long i = 0; i < 2; ++i) pthread_create(&threads[i], NULL, check_repeatedly, (void*)i);
  for (int i = 0; i < 2; ++i) pthread_join(threads[i], NULL);
  printf("checks that found a leak: %d\n", leaks_seen[0] + leaks_seen[1]);
  return 0;
}
