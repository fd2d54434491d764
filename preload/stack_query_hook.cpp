// pthread_getattr_np, passed on to libc's, with this thread marked as
// inside it meanwhile (tracker/thread_unwind_state.h).
//
// glibc holds the thread's own descriptor lock in there while it allocates
// (the CPU set it reads the affinity into), and the JVM's threads, among
// others, call it before they allocate anything else. Such a first
// allocation is where the tracker sets up the thread's unwind state, which
// asks pthread_getattr_np for the thread's stack: the same lock again, and
// the thread waited for itself for good. Marked, it goes without a state
// for that call.
#include <pthread.h>

#include "preload/shim.h"
#include "tracker/thread_unwind_state.h"

using namespace nantrack;

namespace {
using GetattrFunction = int (*)(pthread_t, pthread_attr_t*);
constinit GetattrFunction g_next_getattr = nullptr;
}  // namespace

NANTRACK_EXPORT int pthread_getattr_np(pthread_t thread, pthread_attr_t* attributes) {
  const bool was_inside = t_in_stack_query;
  t_in_stack_query = true;
  const int result = shim::next_definition(g_next_getattr, "pthread_getattr_np")(thread, attributes);
  t_in_stack_query = was_inside;
  return result;
}
