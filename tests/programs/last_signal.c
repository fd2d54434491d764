/* last_signal PROGRAM [ARGS...]: runs PROGRAM under ptrace and prints the
 * signal that ended it and who sent that last delivery: "kernel" (a fault,
 * si_code > 0) or "user" (kill, raise, abort: si_code <= 0). A crash
 * handler that re-raises a fault changes the second; one that lets the
 * fault happen again does not. */
#include <signal.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  pid_t child = fork();
  if (child < 0) return 2;
  if (child == 0) {
    ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    execvp(argv[1], argv + 1);
    _exit(127);
  }
  int last_code = 0;
  for (;;) {
    int status;
    if (waitpid(child, &status, 0) < 0) return 2;
    if (WIFEXITED(status)) {
      printf("exited %d\n", WEXITSTATUS(status));
      return 0;
    }
    if (WIFSIGNALED(status)) {
      printf("killed by signal %d, last sent by the %s\n", WTERMSIG(status), last_code > 0 ? "kernel" : "user");
      return 0;
    }
    int deliver = WSTOPSIG(status);
    siginfo_t info;
    if (deliver == SIGTRAP) {
      deliver = 0;  /* the stop at exec */
    } else if (ptrace(PTRACE_GETSIGINFO, child, NULL, &info) == 0) {
      last_code = info.si_code;
    }
    ptrace(PTRACE_CONT, child, NULL, (void*)(long)deliver);
  }
}
