/* How much of the calling thread's stack lies below `here` (an address in
 * the caller's frame), for the programs that use all of it but a little
 * (tight_stack, no_stack_left); 0 when it cannot be told. Asking glibc
 * allocates (pthread_getattr_np). */
#pragma once
/* pthread_getattr_np: the including file defines _GNU_SOURCE first. */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

static size_t stack_below(uintptr_t here) {
  pthread_attr_t attributes;
  void* low = NULL;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0) return 0;
  const int got = pthread_attr_getstack(&attributes, &low, &size);
  pthread_attr_destroy(&attributes);
  return got == 0 && here > (uintptr_t)low ? here - (uintptr_t)low : 0;
}
