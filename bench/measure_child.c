/* measure_child RESULT_FILE PROGRAM [ARGS...]: runs PROGRAM as a child, waits,
 * and writes "<wall ns> <max RSS KB> <wait status> <child pid>" to RESULT_FILE.
 *
 * run-bench cannot measure its children directly: the kernel's max RSS of a
 * process includes what it had before exec, so anything forked from Python
 * starts at Python's ~17 MB. Forked from this small program it starts near
 * 1 MB, as when started from a shell. */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: measure_child RESULT_FILE PROGRAM [ARGS...]\n");
    return 2;
  }
  const long long start = now_ns();
  const pid_t child = fork();
  if (child < 0) {
    perror("measure_child: fork");
    return 2;
  }
  if (child == 0) {
    execvp(argv[2], argv + 2);
    fprintf(stderr, "measure_child: cannot run %s: ", argv[2]);
    perror(NULL);
    _exit(127);
  }
  int status;
  struct rusage usage;
  if (wait4(child, &status, 0, &usage) < 0) {
    perror("measure_child: wait4");
    return 2;
  }
  const long long wall_ns = now_ns() - start;
  FILE* result = fopen(argv[1], "w");
  if (!result || fprintf(result, "%lld %ld %d %d\n", wall_ns, usage.ru_maxrss, status, (int)child) < 0 ||
      fclose(result) != 0) {
    perror("measure_child: cannot write the result");
    return 2;
  }
  return 0;
}
