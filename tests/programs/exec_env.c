/* exec_env MODE: starts itself again as "exec_env child" with an
 * environment of its own making, which holds FOO=bar and nothing of
 * nantrack's, the way `env -i` and test harnesses do:
 *   execle:  execle() with {FOO=bar};
 *   execvp:  clearenv(), setenv FOO, execvp() (what `env -i` does);
 *   spawn:   posix_spawn() with {FOO=bar}, then waits;
 *   vfork:   vfork() and execve() with {FOO=bar}, then waits;
 *   preload: execve() with {FOO=bar, LD_PRELOAD=libm.so.6}.
 * The child prints "child FOO=bar" and leaks 10 bytes; a parent that
 * waited prints "child exited 0". */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void* volatile sink;

static int wait_for(pid_t child) {
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child) return 1;
  printf("child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* mode = argv[1];
  if (strcmp(mode, "child") == 0) {
    sink = malloc(10);
    sink = NULL;
    const char* foo = getenv("FOO");
    printf("child FOO=%s\n", foo ? foo : "(unset)");
    return 0;
  }
  char* self = realpath("/proc/self/exe", NULL);
  char* child_argv[] = {"exec_env", "child", NULL};
  char* environment[] = {"FOO=bar", NULL};
  fflush(stdout);
  if (strcmp(mode, "execle") == 0) {
    execle(self, "exec_env", "child", (char*)NULL, environment);
  } else if (strcmp(mode, "execvp") == 0) {
    clearenv();
    setenv("FOO", "bar", 1);
    execvp(self, child_argv);
  } else if (strcmp(mode, "spawn") == 0) {
    pid_t child = -1;
    if (posix_spawn(&child, self, NULL, NULL, child_argv, environment) != 0) return 1;
    free(self);
    return wait_for(child);
  } else if (strcmp(mode, "vfork") == 0) {
    pid_t child = vfork();
    if (child == 0) {
      execve(self, child_argv, environment);
      _exit(127);
    }
    free(self);
    return wait_for(child);
  } else if (strcmp(mode, "preload") == 0) {
    char* with_preload[] = {"FOO=bar", "LD_PRELOAD=libm.so.6", NULL};
    execve(self, child_argv, with_preload);
  }
  perror("exec");
  return 1;
}
