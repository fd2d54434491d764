/* descriptors list: prints the numbers of its open file descriptors.
 * descriptors calls: makes pipes with pipe() and pipe2() and uses them
 * through syscall(), whose hooks must pass the program's calls on.
 * descriptors exhaust: lowers its soft descriptor limit to 64, opens
 * /dev/null until open() fails, keeps a block of 777 bytes and exits.
 * descriptors reuse DIR: closes every descriptor above stderr, as ssh and
 * daemons do, opens 8 files of its own in DIR (they get the lowest
 * numbers), allocates through code without unwind information (so that
 * libunwind tests the addresses it reads) and checks that its files still
 * hold what it wrote and are still read from their start. It keeps one
 * block of 1,234 bytes from there to the end. Exit status 1 if a file
 * changed.
 * descriptors stderr-file FILE [close]: closes stderr if asked, opens FILE
 * (which gets descriptor 2 when stderr is closed), writes a line to it,
 * keeps a block of 555 bytes, frees another twice (an error under us,
 * an abort without us), and exits with FILE still open on its descriptor.
 * Prints that descriptor's number. */
#define _GNU_SOURCE /* pipe2 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

void* malloc_without_unwind_info(size_t size);
void* volatile kept;

enum { kFiles = 8 };
static const char kContents[] = "ABCDEFGH";

static int list(void) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return 2;
  struct dirent* entry;
  while ((entry = readdir(dir)))
    if (entry->d_name[0] != '.' && atoi(entry->d_name) != dirfd(dir)) printf("%s ", entry->d_name);
  puts("");
  closedir(dir);
  return 0;
}

static int calls(void) {
  int plain[2], flagged[2];
  if (pipe(plain) != 0 || pipe2(flagged, O_CLOEXEC | O_NONBLOCK) != 0) return 2;
  printf("pipe2 flags: cloexec %d, nonblock %d\n", (fcntl(flagged[0], F_GETFD) & FD_CLOEXEC) != 0,
         (fcntl(flagged[0], F_GETFL) & O_NONBLOCK) != 0);
  long written = syscall(SYS_write, plain[1], "through", 7);
  char buffer[16] = {0};
  long got = syscall(SYS_read, plain[0], buffer, sizeof buffer);
  printf("syscall write %ld, read %ld: %s\n", written, got, buffer);
  long empty = syscall(SYS_read, flagged[0], buffer, 1);
  printf("empty pipe: %ld, EAGAIN %d\n", empty, empty == -1 && errno == EAGAIN);
  long bad = syscall(SYS_write, -3, "x", 1);
  printf("write to -3: %ld, EBADF %d\n", bad, bad == -1 && errno == EBADF);
  /* All six arguments: mmap's descriptor and offset are the fifth and sixth. */
  char* page = (char*)syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  printf("mmap: %s\n", page == MAP_FAILED ? "failed" : (page[0] = 'y', "a page"));
  printf("getpid agrees: %d\n", syscall(SYS_getpid) == getpid());
  return 0;
}

static int exhaust(void) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 2;
  limit.rlim_cur = 64;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return 2;
  kept = malloc(777);
  int opened = 0;
  while (open("/dev/null", O_RDONLY) >= 0) ++opened;
  printf("opened up to the limit: %d\n", opened > 0 && errno == EMFILE);
  return 0;
}

/* Not inlined, so that the leak's stack shows a frame of C code above the
 * one without unwind information. */
__attribute__((noinline)) static void* allocate_from_unknown_code(size_t size) {
  void* block = malloc_without_unwind_info(size);
  __asm__ volatile("" ::: "memory");
  return block;
}

static int reuse(const char* dir) {
  for (int fd = 3; fd < 256; ++fd) close(fd);
  int fds[kFiles];
  for (int i = 0; i < kFiles; ++i) {
    char path[4096];
    snprintf(path, sizeof path, "%s/file%d", dir, i);
    fds[i] = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fds[i] < 0 || write(fds[i], kContents, 8) != 8 || lseek(fds[i], 0, SEEK_SET) != 0) return 2;
  }
  for (int i = 0; i < 100; ++i) free(allocate_from_unknown_code(100 + (size_t)i));
  kept = allocate_from_unknown_code(1234);
  int changed = 0;
  for (int i = 0; i < kFiles; ++i) {
    char contents[16] = {0};
    off_t at = lseek(fds[i], 0, SEEK_CUR);
    struct stat status;
    if (fstat(fds[i], &status) != 0 || pread(fds[i], contents, sizeof contents, 0) != 8 ||
        memcmp(contents, kContents, 8) != 0 || at != 0 || status.st_size != 8) {
      printf("descriptor %d: %lld bytes, read offset %lld\n", fds[i], (long long)status.st_size, (long long)at);
      changed = 1;
    }
  }
  puts(changed ? "files changed" : "files intact");
  return changed;
}

static int stderr_file(const char* path, int close_stderr) {
  if (close_stderr) close(2);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  static const char kLine[] = "the program's own line\n";
  if (fd < 0 || write(fd, kLine, sizeof kLine - 1) != sizeof kLine - 1) return 2;
  printf("file on descriptor %d\n", fd);
  fflush(stdout);
  kept = malloc(555);
  void* volatile twice = malloc(10);
  free(twice);
  free(twice);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "list") == 0) return list();
  if (argc == 2 && strcmp(argv[1], "calls") == 0) return calls();
  if (argc == 2 && strcmp(argv[1], "exhaust") == 0) return exhaust();
  if (argc == 3 && strcmp(argv[1], "reuse") == 0) return reuse(argv[2]);
  if ((argc == 3 || argc == 4) && strcmp(argv[1], "stderr-file") == 0)
    return stderr_file(argv[2], argc == 4 && strcmp(argv[3], "close") == 0);
  fprintf(stderr, "usage: descriptors list | calls | exhaust | reuse DIR | stderr-file FILE [close]\n");
  return 2;
}
