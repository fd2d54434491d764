// dlclose: the module map is refreshed before a library goes away, so that
// blocks it allocated (and stacks through it) still symbolize at exit.
// dlopen itself is not wrapped: glibc resolves the caller's RUNPATH and
// $ORIGIN from dlopen's return address, which a wrapper would change.
#include <dlfcn.h>

#include "preload/shim.h"

using namespace nantrack;

NANTRACK_EXPORT int dlclose(void* handle) {
  using Dlclose = int (*)(void*);
  static Dlclose next;  // constant-initialised: no guard variable
  {
    shim::InsideNantrack inside;
    if (!next) next = reinterpret_cast<Dlclose>(dlsym(RTLD_NEXT, "dlclose"));
    if (shim::g_ready.load()) tracker().refresh_modules();
  }
  return next(handle);
}
