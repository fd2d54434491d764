// pthread_create, passed on to libc's with the new thread's start routine
// wrapped: before the program's routine runs, the thread takes its unwind
// state, and with it an alternate signal stack (tracker/signal_stack.h).
// Without this a thread got them at its first malloc or free, and one that
// overflowed its stack before that (a recursive worker that only computes)
// was killed with no trace. Threads libc starts for itself (SIGEV_THREAD
// timers, for one) do not come through here: they get theirs at their
// first malloc or free, as every thread did before.
#include <pthread.h>

#include "preload/shim.h"

using namespace nantrack;

namespace {

using PthreadCreateFunction = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
constinit PthreadCreateFunction g_next_pthread_create = nullptr;

// What the new thread is to run, in memory from the real allocator (not
// tracked): the parent allocates it, the thread frees it.
struct ThreadStart {
  void* (*routine)(void*);
  void* argument;
};

void* start_thread_prepared(void* opaque) {
  const ThreadStart start = *static_cast<const ThreadStart*>(opaque);
  g_real.free(opaque);
  {
    shim::InsideNantrack inside;  // taking the state may allocate
    tracker().prepare_thread();
  }
  return start.routine(start.argument);
}

}  // namespace

NANTRACK_EXPORT int pthread_create(pthread_t* thread, const pthread_attr_t* attributes, void* (*routine)(void*),
                                   void* argument) {
  const PthreadCreateFunction next = shim::next_definition(g_next_pthread_create, "pthread_create");
  auto* start = shim::g_ready.load(std::memory_order_acquire) && g_real.malloc
                    ? static_cast<ThreadStart*>(g_real.malloc(sizeof(ThreadStart)))
                    : nullptr;
  if (!start) return next(thread, attributes, routine, argument);
  *start = {routine, argument};
  const int result = next(thread, attributes, start_thread_prepared, start);
  if (result != 0) g_real.free(start);
  return result;
}
