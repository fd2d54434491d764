// fork: the parent leaks 111 bytes before and 222 after the fork, the child
// leaks 333 and exits 0 (or, with "exec PROGRAM ARGS...", execs PROGRAM).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void* volatile sink;

int main(int argc, char** argv) {
  sink = malloc(111);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    if (argc > 2 && strcmp(argv[1], "exec") == 0) {
      execv(argv[2], argv + 2);
      perror("execv");
      _exit(127);
    }
    sink = malloc(333);
    printf("child %d\n", (int)getpid());
    return 0;
  }
  sink = malloc(222);
  int status = 0;
  waitpid(child, &status, 0);
  printf("parent %d child-status %d\n", (int)getpid(), WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return 0;
}
