// A death test's shape: the child loses 100 bytes and aborts, as the test
// expects of it; the parent checks that it died so, and exits 0 with
// nothing lost.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

void* volatile sink;

int main(void) {
  fflush(stdout);
  const pid_t child = fork();
  if (child == 0) {
    sink = malloc(100);
    sink = NULL;
    abort();
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child) return 2;
  printf("child killed by signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT ? 0 : 1;
}
