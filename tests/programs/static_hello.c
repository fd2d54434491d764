// Statically linked: the dynamic loader never runs, so LD_PRELOAD cannot
// reach it; `nantrack run` must say so instead of reporting "no leaks".
#include <stdio.h>
#include <stdlib.h>

void* volatile sink;

int main(void) {
  sink = malloc(100);
  printf("static hello\n");
  return 0;
}
