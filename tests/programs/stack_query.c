/* stack_query: threads whose first allocation is made inside
 * pthread_getattr_np, as the JVM's are (each new thread asks for its own
 * stack before anything else). glibc holds the thread's own lock there
 * while it allocates (the CPU set it reads the affinity into). Each thread
 * then allocates as usual, and leaks 100 bytes. Prints "4 threads know
 * their stacks".
 * alarm(30): a hang ends in SIGALRM rather than in the test's timeout. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

enum { kThreads = 4 };

void* volatile sink;

static void* thread_main(void* unused) {
  (void)unused;
  pthread_attr_t attributes;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0) return NULL;
  void* low = NULL;
  size_t size = 0;
  pthread_attr_getstack(&attributes, &low, &size);
  pthread_attr_destroy(&attributes);
  sink = malloc(100);
  return size > 0 ? (void*)1 : NULL;
}

int main(void) {
  alarm(30);
  pthread_t threads[kThreads];
  for (int i = 0; i < kThreads; ++i)
    if (pthread_create(&threads[i], NULL, thread_main, NULL) != 0) return 1;
  int knowing = 0;
  for (int i = 0; i < kThreads; ++i) {
    void* knows = NULL;
    pthread_join(threads[i], &knows);
    knowing += knows != NULL;
  }
  printf("%d threads know their stacks\n", knowing);
  return 0;
}
