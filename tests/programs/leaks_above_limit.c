/* leaks_above_limit [count]: lifts its own soft address-space limit
 * (RLIMIT_AS) to the hard one, then leaks `count` small blocks (default
 * 1,000,000). Started under a low soft limit, the program has room for
 * them while what else runs under that limit (nantrack run, reporting on
 * them) has not. */
#include <stdlib.h>
#include <sys/resource.h>

static void* volatile sink;

int main(int argc, char** argv) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_AS, &limit) != 0) return 2;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_AS, &limit) != 0) return 2;
  const long count = argc > 1 ? atol(argv[1]) : 1000000;
  for (long i = 0; i < count; ++i) sink = malloc(24);
  return 0;
}
