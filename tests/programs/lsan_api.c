// LeakSanitizer's interface and nantrack_check_leaks(), through the
// installed header (weak declarations). argv[1] picks the case; each block
// has its own size so that a test can find it, and what each call returned
// goes to stdout.
//   ignore       4001 ignored, holding the only pointer to 4002; bad
//                pointers given to __lsan_ignore_object
//   disable      4003 allocated while disabled (nested), holding the only
//                pointer to 4004 allocated after; 4005 lost after enable;
//                one enable too many
//   root_region  4006 reachable only from a registered mmap'd region:
//                checked while registered, after unregistering, and with
//                the region unreadable, then unmapped, while registered;
//                bad ranges
//   recoverable  checks without a leak, then with 4007 leaked (its address
//                kept only scrambled, so that it can be freed before exit)
//   leak_check   4008 leaked before __lsan_do_leak_check() (called twice),
//                4009 after it
//   concurrent   threads allocating while two threads check at once, and a
//                check from an atexit handler
#include <nantrack/nantrack.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void* volatile g_sink;

// Returns a block of `size` that nothing points to once the caller drops it.
static __attribute__((noinline)) void** lost_block(size_t size) {
  void** block = malloc(size);
  memset(block, 0, size);
  return block;
}

static void ignore(void) {
  void** parent = lost_block(4001);
  parent[0] = malloc(4002);
  __lsan_ignore_object(parent);
  int local = 0;
  __lsan_ignore_object(&local);                // not a heap block
  __lsan_ignore_object((char*)parent + 8);     // not the start of one
  __lsan_ignore_object(NULL);
}

static void disable(void) {
  __lsan_disable();
  __lsan_disable();
  __lsan_enable();
  void** parent = lost_block(4003);  // still disabled: one level left
  __lsan_enable();
  parent[0] = malloc(4004);
  lost_block(4005);
  __lsan_enable();  // one too many
}

static void root_region(void) {
  void** region = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  region[10] = malloc(4006);
  __lsan_register_root_region(region, 4096);
  printf("registered: %d\n", nantrack_check_leaks());
  __lsan_unregister_root_region(region, 4096);
  printf("unregistered: %d\n", nantrack_check_leaks());
  __lsan_register_root_region(region, 4096);
  mprotect(region, 4096, PROT_NONE);
  printf("unreadable: %d\n", nantrack_check_leaks());
  munmap(region, 4096);
  printf("unmapped: %d\n", nantrack_check_leaks());
  __lsan_unregister_root_region(region, 4096);
  __lsan_unregister_root_region(region, 4096);  // no longer registered
  __lsan_register_root_region(region, 0);
}

static volatile uintptr_t g_scrambled;
static const uintptr_t kScramble = 0x5a5a5a5a5a5a5a5aull;

static void recoverable(void) {
  g_sink = malloc(100);  // reachable from a global: not a leak
  printf("without a leak: %d\n", __lsan_do_recoverable_leak_check());
  g_scrambled = (uintptr_t)lost_block(4007) ^ kScramble;
  printf("with a leak: %d\n", __lsan_do_recoverable_leak_check());
  printf("nantrack_check_leaks: %d\n", nantrack_check_leaks());
  free((void*)(g_scrambled ^ kScramble));
}

static void leak_check(void) {
  lost_block(4008);
  __lsan_do_leak_check();
  __lsan_do_leak_check();  // LSan checks once: nothing happens
  lost_block(4009);
}

static volatile int g_stop;

static void* churn(void* unused) {
  (void)unused;
  while (!g_stop) free(malloc(64));
  return NULL;
}

static void* check(void* unused) {
  (void)unused;
  for (int i = 0; i < 5; ++i)
    if (nantrack_check_leaks() < 0) printf("a check was not made\n");
  return NULL;
}

static void check_at_exit(void) { printf("at exit: %d\n", nantrack_check_leaks()); }

static void concurrent(void) {
  pthread_t churners[2], checker;
  for (int i = 0; i < 2; ++i) pthread_create(&churners[i], NULL, churn, NULL);
  pthread_create(&checker, NULL, check, NULL);
  check(NULL);
  pthread_join(checker, NULL);
  g_stop = 1;
  for (int i = 0; i < 2; ++i) pthread_join(churners[i], NULL);
  atexit(check_at_exit);
}

int main(int argc, char** argv) {
  if (argc < 2 || !nantrack_check_leaks) {
    printf("usage: lsan_api CASE, under nantrack\n");
    return 2;
  }
  static const struct {
    const char* name;
    void (*run)(void);
  } cases[] = {{"ignore", ignore},           {"disable", disable},       {"root_region", root_region},
               {"recoverable", recoverable}, {"leak_check", leak_check}, {"concurrent", concurrent}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    if (strcmp(argv[1], cases[i].name) != 0) continue;
    cases[i].run();
    printf("%s done\n", argv[1]);
    return 0;
  }
  return 2;
}
