// One block (or structure) per reachability case, each of its own size so
// that a test can find it: leaked cycle 1001 (x2), leaked tree root 1002
// with ten 1003-byte children, only from a global 1004, only from a live
// thread's stack 1005 (the thread is blocked in read() at exit), only from
// TLS 1006, only through an interior pointer 1007, only from a dead stack
// frame 1008, self-pointing 1009. With an argument N, N more threads each
// keep a 1010-byte block only on their stacks, also blocked at exit, and
// leave a 1011-byte one in a dead frame far below. With "masked" after N,
// those threads block every signal, as worker threads that leave signals
// to one sigwait()ing thread do: the scan cannot stop them.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void* volatile g_global;
char* volatile g_interior;
__thread void* volatile t_tls;
static int g_pipe[2];

__attribute__((noinline)) void leak_cycle(void) {
  // volatile: otherwise the compiler drops stores into memory nobody reads.
  void* volatile* a = malloc(1001);
  void* volatile* b = malloc(1001);
  a[0] = (void*)b;
  b[0] = (void*)a;
}

__attribute__((noinline)) void leak_tree(void) {
  void* volatile* root = malloc(1002);
  for (int i = 0; i < 10; ++i) root[i] = malloc(1003);
}

__attribute__((noinline)) void leave_in_dead_frame(void) {
  // volatile: the store happens although nothing reads the frame again.
  void* volatile frame[4] __attribute__((unused));
  frame[1] = malloc(1008);
}

__attribute__((noinline)) void leak_self_pointing(void) {
  void* volatile* self = malloc(1009);
  self[0] = (void*)self;
}

static void* block_and_wait(void* started, size_t size) {
  void* volatile mine = malloc(size);
  char byte;
  write(*(int*)started, "x", 1);
  read(g_pipe[0], &byte, 1);  // never returns: nobody writes
  return (void*)mine;
}

// 4 KiB deep: the frames of block_and_wait() and read() that come after it
// stay well above the pointer.
__attribute__((noinline)) static void leave_deep_in_dead_frame(size_t size) {
  void* volatile frame[512] __attribute__((unused));
  frame[0] = malloc(size);
}

void* blocked_thread(void* started) { return block_and_wait(started, 1005); }
void* another_blocked_thread(void* started) {
  leave_deep_in_dead_frame(1011);
  return block_and_wait(started, 1010);
}

int main(int argc, char** argv) {
  leak_cycle();
  leak_tree();
  g_global = malloc(1004);
  t_tls = malloc(1006);
  g_interior = (char*)malloc(1007) + 16;
  leave_in_dead_frame();
  leak_self_pointing();

  int started[2];
  if (pipe(g_pipe) != 0 || pipe(started) != 0) return 1;
  pthread_t thread;
  pthread_create(&thread, NULL, blocked_thread, &started[1]);
  char byte;
  read(started[0], &byte, 1);
  const int more = argc > 1 ? atoi(argv[1]) : 0;
  sigset_t all, before;
  sigfillset(&all);
  if (argc > 2 && strcmp(argv[2], "masked") == 0) pthread_sigmask(SIG_BLOCK, &all, &before);
  // Small stacks: a thousand threads of 8 MiB each would ask for more
  // memory than a machine with strict overcommit may grant.
  pthread_attr_t small_stack;
  pthread_attr_init(&small_stack);
  pthread_attr_setstacksize(&small_stack, 256 * 1024);
  for (int i = 0; i < more; ++i) {
    if (pthread_create(&thread, &small_stack, another_blocked_thread, &started[1]) != 0) return 1;
    read(started[0], &byte, 1);
  }
  if (argc > 2 && strcmp(argv[2], "masked") == 0) pthread_sigmask(SIG_SETMASK, &before, NULL);
  printf("reachability ready\n");
  return 0;
}
