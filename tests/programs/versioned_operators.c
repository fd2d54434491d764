/* versioned_operators: a library with a C++ runtime of its own, as rust's
 * libLLVM links libstdc++ statically: it defines operator new and delete,
 * exports them under a version of its own (versioned_operators.map) and
 * binds its own calls to them (-Bsymbolic). They are written in C here, by
 * their mangled names. */
#include <stdlib.h>

void* _Znwm(size_t size) {
  void* block = malloc(size ? size : 1);
  if (!block) abort();
  return block;
}
void _ZdlPv(void* block) { free(block); }
void _ZdlPvm(void* block, size_t size) {
  (void)size;
  free(block);
}

/* Made and destroyed by the library's own operators. */
void* versioned_create(size_t size) { return _Znwm(size); }
void versioned_destroy(void* block) { _ZdlPv(block); }
