/* For the programs that run a thread short of stack (tight_stack,
 * no_stack_left): starting one with the smallest stack glibc allows, and
 * how much of it lies below a frame. The including file defines
 * _GNU_SOURCE first (pthread_getattr_np). */
#pragma once
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* pthread_create()'s result, for `routine` on a PTHREAD_STACK_MIN stack. */
static int start_with_smallest_stack(pthread_t* thread, void* (*routine)(void*)) {
  pthread_attr_t attributes;
  int result = pthread_attr_init(&attributes);
  if (result != 0) return result;
  result = pthread_attr_setstacksize(&attributes, PTHREAD_STACK_MIN);
  if (result == 0) result = pthread_create(thread, &attributes, routine, NULL);
  pthread_attr_destroy(&attributes);
  return result;
}

/* How much of the calling thread's stack lies below `here` (an address in
 * the caller's frame); 0 when it cannot be told. Asking glibc allocates
 * (pthread_getattr_np). */
static size_t stack_below(uintptr_t here) {
  pthread_attr_t attributes;
  void* low = NULL;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0) return 0;
  const int got = pthread_attr_getstack(&attributes, &low, &size);
  pthread_attr_destroy(&attributes);
  return got == 0 && here > (uintptr_t)low ? here - (uintptr_t)low : 0;
}
