// Code written for LeakSanitizer, as such code declares its interface:
// weak references, called only when something defines them. Under nantrack
// they resolve to libnantrack.so; run plainly they are null and the program
// runs the same. Leaks 6001 bytes before its check.
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));
extern void __lsan_do_leak_check(void) __attribute__((weak));

static __attribute__((noinline)) void leak(void) { memset(malloc(6001), 0, 6001); }

int main(void) {
  leak();
  if (__lsan_do_recoverable_leak_check)
    printf("recoverable check: %d\n", __lsan_do_recoverable_leak_check());
  else
    printf("no leak checker\n");
  printf("dlsym: %s\n", dlsym(RTLD_DEFAULT, "nantrack_check_leaks") ? "found" : "absent");
  if (__lsan_do_leak_check) __lsan_do_leak_check();
  return 0;
}
