/* mapped_roots MODE: where the only pointer to a block is kept, against the
 * leak scan's reading of the memory a program maps for itself. Each block
 * has a size of its own; each is filled, so that its stale bytes point
 * nowhere. Modes:
 *   arena    a block of 2001 bytes kept only in a page the program mmaps
 *            (a custom allocator's arena, CPython's object pools), and one
 *            of 2002 bytes kept nowhere;
 *   exited   a block of 2003 bytes kept only in a local of a thread that
 *            has exited (glibc keeps its stack for the next thread);
 *   freed    a block of 2004 bytes kept only in a freed block of 1 MiB
 *            (mapped by glibc for itself), and one of 2005 bytes kept only
 *            in a freed small block of another thread's arena (run with
 *            free_fill=-1, so that the freed blocks keep the pointers);
 *   fork     a thread waits with a block of 2006 bytes kept only on its
 *            stack while main forks; the child ends with _exit(), where
 *            that thread does not exist;
 *   many     a thousand mappings of the program's, each keeping a block of
 *            2007 bytes. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void* filled(size_t size) { return memset(malloc(size), 0x5a, size); }

static void* keep_on_stack_and_exit(void* unused) {
  (void)unused;
  void* volatile local = filled(2003);
  (void)local;
  return NULL;
}

static void* free_in_own_arena(void* unused) {
  (void)unused;
  void** holder = malloc(64);
  holder[0] = filled(2005);
  free(holder);
  return NULL;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t forked = PTHREAD_COND_INITIALIZER, holding = PTHREAD_COND_INITIALIZER;
static int state;  /* 1: the thread holds its block; 2: main has forked */

static void* hold_while_main_forks(void* unused) {
  (void)unused;
  void* volatile local = filled(2006);
  pthread_mutex_lock(&lock);
  state = 1;
  pthread_cond_signal(&holding);
  while (state != 2) pthread_cond_wait(&forked, &lock);
  pthread_mutex_unlock(&lock);
  free(local);
  return NULL;
}

static void* program_mapping(size_t bytes) {
  void* page = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) exit(2);
  return page;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  pthread_t thread;
  if (!strcmp(mode, "arena")) {
    void** arena = program_mapping(1 << 16);
    arena[100] = filled(2001);
    filled(2002);
  } else if (!strcmp(mode, "exited")) {
    pthread_create(&thread, NULL, keep_on_stack_and_exit, NULL);
    pthread_join(thread, NULL);
  } else if (!strcmp(mode, "freed")) {
    void** big = malloc(1 << 20);
    big[1000] = filled(2004);
    free(big);
    pthread_create(&thread, NULL, free_in_own_arena, NULL);
    pthread_join(thread, NULL);
  } else if (!strcmp(mode, "fork")) {
    pthread_create(&thread, NULL, hold_while_main_forks, NULL);
    pthread_mutex_lock(&lock);
    while (state != 1) pthread_cond_wait(&holding, &lock);
    pthread_mutex_unlock(&lock);
    pid_t child = fork();
    if (child == 0) _exit(0);
    waitpid(child, NULL, 0);
    pthread_mutex_lock(&lock);
    state = 2;
    pthread_cond_signal(&forked);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
  } else if (!strcmp(mode, "many")) {
    for (int i = 0; i < 1000; ++i) {
      void** mapping = program_mapping(4096 * (1 + i % 3));
      mapping[i % 512] = filled(2007);
    }
  } else {
    fprintf(stderr, "usage: mapped_roots arena|exited|freed|fork|many\n");
    return 2;
  }
  printf("%s done\n", mode);
  return 0;
}
