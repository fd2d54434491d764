/* old_signal_functions MODE: sets SIGTERM's disposition with an older
 * interface than sigaction, then ends by SIGTERM. Leaks 2101 bytes first.
 * MODE bsd_signal, ssignal or sigset: that function sets SIG_IGN, then
 * SIG_DFL back, and the program raises SIGTERM. MODE sigset_hold: sigset
 * blocks SIGTERM (SIG_HOLD), the program raises it, and sigset(SIG_DFL)
 * unblocks it. Prints what each call said the previous disposition was.
 * Exits 3 if it outlives the signal. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Still in libc, no longer in its headers (POSIX dropped it in 2008). */
extern sighandler_t bsd_signal(int signal_number, sighandler_t handler);
/* sigset is deprecated: exactly why old programs are the ones calling it. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

void* volatile lost;

static const char* name_of(sighandler_t disposition) {
  if (disposition == SIG_DFL) return "default";
  if (disposition == SIG_IGN) return "ignore";
  if (disposition == SIG_HOLD) return "hold";
  if (disposition == SIG_ERR) return "error";
  return "a handler";
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  lost = memset(malloc(2101), 1, 2101);
  lost = NULL;
  const char* mode = argv[1];
  sighandler_t (*set)(int, sighandler_t) = !strcmp(mode, "bsd_signal") ? bsd_signal
                                           : !strcmp(mode, "ssignal")  ? ssignal
                                                                       : sigset;
  const int hold = !strcmp(mode, "sigset_hold");
  printf("before %s: %s\n", hold ? "hold" : "ignore", name_of(set(SIGTERM, hold ? SIG_HOLD : SIG_IGN)));
  if (hold) raise(SIGTERM); /* pending until unblocked */
  fflush(stdout);
  const char* previous = name_of(set(SIGTERM, SIG_DFL));
  if (!hold) {
    printf("before default: %s\n", previous);
    fflush(stdout);
    raise(SIGTERM);
  }
  return 3;
}
