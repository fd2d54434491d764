/* sandboxed prctl|syscall [double-free|bad-free|fork|threads]: confines itself with a
 * seccomp filter like sshd's privilege-separated child or a browser's
 * renderer: it allows what a program that allocates and prints needs
 * (read, write, mmap, munmap, brk, futex, getpid, ...) and kills the
 * process (SIGSYS) at any other call: no openat, madvise,
 * process_vm_readv, execve. The filter goes on through prctl() or, as
 * libseccomp does, through syscall(SYS_seccomp).
 *
 * Then it allocates from call stacks it has not used before, keeps a block
 * of 444 bytes in a global (reachable) and loses one of 333 bytes (a
 * definite leak), and prints "done". With double-free it also frees a block
 * twice (an abort without us, an error under us); with bad-free it frees
 * the address of a local and of a global (errors under us, which tell the
 * two apart); with fork the filter
 * also allows clone and wait4 (and any program set_robust_list, which a
 * forked child makes), and a child allocates, loses 222 bytes and
 * exits. With threads it also allows what pthread_create and a thread's
 * end need (clone3, rseq, rt_sigaction, madvise), and two threads started
 * inside the sandbox each allocate and lose 111 bytes. */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define ALLOW(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

void* volatile kept;
void* volatile sink;

static int confine(int through_syscall, int may_fork, int may_thread) {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      ALLOW(__NR_read), ALLOW(__NR_write), ALLOW(__NR_close), ALLOW(__NR_exit), ALLOW(__NR_exit_group),
      ALLOW(__NR_brk), ALLOW(__NR_mmap), ALLOW(__NR_munmap), ALLOW(__NR_mprotect), ALLOW(__NR_mremap),
      ALLOW(__NR_rt_sigreturn), ALLOW(__NR_rt_sigprocmask), ALLOW(__NR_futex), ALLOW(__NR_getpid),
      ALLOW(__NR_gettid), ALLOW(__NR_getrandom), ALLOW(__NR_newfstatat), ALLOW(__NR_fstat), ALLOW(__NR_clock_gettime),
      ALLOW(__NR_set_robust_list),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 1), BPF_STMT(BPF_RET | BPF_K, may_fork ? SECCOMP_RET_ALLOW : SECCOMP_RET_KILL_PROCESS),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_wait4, 0, 1), BPF_STMT(BPF_RET | BPF_K, may_fork ? SECCOMP_RET_ALLOW : SECCOMP_RET_KILL_PROCESS),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1), BPF_STMT(BPF_RET | BPF_K, may_thread ? SECCOMP_RET_ALLOW : SECCOMP_RET_KILL_PROCESS),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rseq, 0, 1), BPF_STMT(BPF_RET | BPF_K, may_thread ? SECCOMP_RET_ALLOW : SECCOMP_RET_KILL_PROCESS),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rt_sigaction, 0, 1), BPF_STMT(BPF_RET | BPF_K, may_thread ? SECCOMP_RET_ALLOW : SECCOMP_RET_KILL_PROCESS),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_madvise, 0, 1), BPF_STMT(BPF_RET | BPF_K, may_thread ? SECCOMP_RET_ALLOW : SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
  };
  struct sock_fprog program = {sizeof filter / sizeof filter[0], filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  if (through_syscall) return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program);
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program);
}

/* Each level a call stack of its own, first seen inside the sandbox. */
__attribute__((noinline)) static void* allocate_at(int depth, size_t size) {
  if (depth > 0) {
    void* block = allocate_at(depth - 1, size);
    __asm__ volatile("" ::: "memory");
    return block;
  }
  return malloc(size);
}

__attribute__((noinline)) static void lose_a_block(size_t size) {
  char* block = allocate_at(3, size);
  memset(block, 1, size);
  sink = block;
  sink = NULL;
}

__attribute__((noinline)) static void* lose_111_bytes(void* unused) {
  for (int depth = 0; depth < 4; ++depth)
    for (int i = 0; i < 50; ++i) free(allocate_at(depth, 24 + (size_t)i));
  lose_a_block(111);
  return unused;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: sandboxed prctl|syscall [double-free|bad-free|fork|threads]\n");
    return 2;
  }
  const char* extra = argc > 2 ? argv[2] : "";
  if (confine(strcmp(argv[1], "syscall") == 0, strcmp(extra, "fork") == 0, strcmp(extra, "threads") == 0) != 0) {
    perror("seccomp");
    return 2;
  }
  for (int depth = 0; depth < 8; ++depth)
    for (int i = 0; i < 100; ++i) free(allocate_at(depth, 16 + (size_t)i * 8));
  kept = allocate_at(2, 444);
  lose_a_block(333);
  if (strcmp(extra, "double-free") == 0) {
    void* volatile twice = allocate_at(1, 10);
    free(twice);
    free(twice);
  }
  if (strcmp(extra, "bad-free") == 0) {
    int local = 0;
    void* volatile on_stack = &local;
    free(on_stack);
    void* volatile global = (void*)&kept;
    free(global);
  }
  if (strcmp(extra, "threads") == 0) {
    pthread_t threads[2];
    for (int i = 0; i < 2; ++i)
      if (pthread_create(&threads[i], NULL, lose_111_bytes, NULL) != 0) return 3;
    for (int i = 0; i < 2; ++i) pthread_join(threads[i], NULL);
  }
  if (strcmp(extra, "fork") == 0) {
    pid_t child = fork();
    if (child == 0) {
      lose_a_block(222);
      exit(0);
    }
    int status;
    if (child < 0 || waitpid(child, &status, 0) != child || status != 0) return 3;
  }
  printf("done\n");
  return 0;
}
