/* versioned_operators_user: uses the library of versioned_operators.c as a
 * program linked with it does (rust-lld with libLLVM): its calls to
 * operator new and delete are references to the library's versioned ones
 * (_Znwm@OWNCXX_1). Blocks cross between the library's code and its own:
 * made inside the library and deleted here, made here and destroyed
 * inside. Each pair matches; leaks one block of 77 bytes made here. */
#include <stdio.h>
#include <string.h>

void* versioned_create(size_t size);
void versioned_destroy(void* block);
void* _Znwm(size_t size);
void _ZdlPv(void* block);

int main(void) {
  for (int i = 0; i < 10; ++i) {
    void* made_inside = versioned_create(40);
    memset(made_inside, 1, 40);
    _ZdlPv(made_inside);
    void* made_here = _Znwm(24);
    memset(made_here, 2, 24);
    versioned_destroy(made_here);
  }
  memset(_Znwm(77), 3, 77);
  printf("done\n");
  return 0;
}
