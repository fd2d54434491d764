/* strict_iso_signal MODE: built with -std=c11 and no feature macros, so
 * glibc's <signal.h> makes signal() its System V one (__sysv_signal): a
 * handler is reset to the default when it runs. Leaks 2101 bytes, then
 * ends by SIGTERM after MODE "handler" (a handler that says it ran and
 * raises the signal again, as node's do) or "default" (SIG_IGN, then
 * SIG_DFL put back). Exits 3 if it outlives the signal. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void* volatile lost;

static void say_and_raise_again(int signal_number) {
  puts("handler ran");
  fflush(stdout);
  raise(signal_number);
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  lost = memset(malloc(2101), 1, 2101);
  lost = NULL;
  if (!strcmp(argv[1], "handler")) {
    signal(SIGTERM, say_and_raise_again);
  } else {
    signal(SIGTERM, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
  }
  raise(SIGTERM);
  return 3;
}
