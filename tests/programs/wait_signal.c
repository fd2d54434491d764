/* wait_signal N: waits for signal N (with a handler), prints "ready" first
 * and "got N" once it came, and exits 0. Gives up after 10 s (exit 1). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t received;
static void on_signal(int signal) { received = signal; }

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const int wanted = atoi(argv[1]);
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  if (sigaction(wanted, &action, NULL) != 0) return 2;
  puts("ready");
  fflush(stdout);
  for (int tenths = 0; !received && tenths < 100; ++tenths) usleep(100000);
  if (!received) return 1;
  printf("got %d\n", (int)received);
  return 0;
}
