/* loaded_objects: prints the file name (without its directory) of every
 * object loaded in the process, one per line, as dl_iterate_phdr lists
 * them: what a C program carries with it. */
#define _GNU_SOURCE
#include <link.h>
#include <stdio.h>
#include <string.h>

static int print_name(struct dl_phdr_info* info, size_t size, void* unused) {
  (void)size;
  (void)unused;
  const char* slash = strrchr(info->dlpi_name, '/');
  if (info->dlpi_name[0]) puts(slash ? slash + 1 : info->dlpi_name);
  return 0;
}

int main(void) {
  dl_iterate_phdr(print_name, NULL);
  return 0;
}
