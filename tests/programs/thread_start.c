/* What a program sees of the threads it creates, which nantrack starts
 * through a routine of its own: the argument arrives, the value returned
 * or given to pthread_exit comes back to pthread_join, a thread has no
 * alternate signal stack of its own before it allocates, a creation that
 * fails returns its error, and pthread_self inside is what pthread_create
 * gave. Prints each. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

static void* returns_argument_plus_one(void* argument) { return (void*)((intptr_t)argument + 1); }

static void* exits_with_argument(void* argument) { pthread_exit(argument); }

static void* looks_at_itself(void* unused) {
  (void)unused;
  stack_t current;
  sigaltstack(NULL, &current);
  printf("alternate stack at start: disabled %d\n", (current.ss_flags & SS_DISABLE) != 0);
  return (void*)pthread_self();
}

int main(void) {
  pthread_t thread;
  void* result = NULL;
  pthread_create(&thread, NULL, returns_argument_plus_one, (void*)41);
  pthread_join(thread, &result);
  printf("returned %ld\n", (long)(intptr_t)result);

  pthread_create(&thread, NULL, exits_with_argument, (void*)7);
  pthread_join(thread, &result);
  printf("pthread_exit gave %ld\n", (long)(intptr_t)result);

  pthread_create(&thread, NULL, looks_at_itself, NULL);
  pthread_join(thread, &result);
  printf("pthread_self inside was the id created: %d\n", pthread_equal((pthread_t)result, thread) != 0);

  pthread_attr_t huge;
  pthread_attr_init(&huge);
  pthread_attr_setstacksize(&huge, (size_t)1 << 50);
  printf("a thread with a 1 PiB stack: error %d\n", pthread_create(&thread, &huge, returns_argument_plus_one, NULL));
  pthread_attr_destroy(&huge);
  return 0;
}
