/* drop_rights setuid | seteuid | setreuid | setresuid | chroot DIR | reuse DIR | killed:
 * gives up what a process
 * needs to create files where it started, as daemons do, then keeps a
 * block of 200 bytes (a leak) and prints what it did.
 *   setuid: as root, becomes nobody (65534); otherwise setuid(getuid()),
 *     which changes nothing but takes the same path. Then prints the
 *     number its next open gets.
 *   seteuid, setreuid, setresuid: the same with that call (as root, the
 *     effective user becomes nobody).
 *   chroot DIR: as root, chroot(DIR); otherwise nothing.
 *   reuse DIR: setuid(getuid()), then, as daemons do, closes every
 *     descriptor above stderr, and opens 600 files of its own in DIR
 *     (numbers 3 to 602, a trace opened before among them), writes a line
 *     to each and leaves them open to the end.
 *   killed: setuid(getuid()), then SIGKILL to itself: it never ends as a
 *     process that can write anything. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void* volatile sink;

static void lose_200_bytes(void) {
  char* block = malloc(200);
  memset(block, 2, 200);
  sink = block;
  sink = NULL;
}

int main(int argc, char** argv) {
  const int root = geteuid() == 0;
  if (argc == 2 && strcmp(argv[1], "setuid") == 0) {
    if (root ? setgid(65534) != 0 || setuid(65534) != 0 : setuid(getuid()) != 0) return 2;
    printf("next descriptor %d\n", open("/dev/null", O_RDONLY));
  } else if (argc == 2 && (strcmp(argv[1], "seteuid") == 0 || strcmp(argv[1], "setreuid") == 0 ||
                           strcmp(argv[1], "setresuid") == 0)) {
    const uid_t to = root ? 65534 : getuid();
    if (root && setgid(65534) != 0) return 2;
    const int failed = strcmp(argv[1], "seteuid") == 0    ? seteuid(to)
                       : strcmp(argv[1], "setreuid") == 0 ? setreuid(to, to)
                                                          : setresuid(to, to, to);
    if (failed) return 2;
  } else if (argc == 3 && strcmp(argv[1], "chroot") == 0) {
    if (root && (chroot(argv[2]) != 0 || chdir("/") != 0)) return 2;
  } else if (argc == 2 && strcmp(argv[1], "killed") == 0) {
    if (setuid(getuid()) != 0) return 2;
    raise(SIGKILL);
  } else if (argc == 3 && strcmp(argv[1], "reuse") == 0) {
    if (setuid(getuid()) != 0) return 2;
    close_range(3, ~0U, 0);
    for (int i = 0; i < 600; ++i) {
      char path[4096];
      snprintf(path, sizeof path, "%s/file%d", argv[2], i);
      int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd < 0 || write(fd, "the program's\n", 14) != 14) return 2;
      /* left open to the end, as the program's own */
    }
  } else {
    fprintf(stderr, "usage: drop_rights setuid | seteuid | setreuid | setresuid | chroot DIR | reuse DIR | killed\n");
    return 2;
  }
  lose_200_bytes();
  puts("done");
  return 0;
}
