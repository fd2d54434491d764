// The process around the allocator: start-up (our constructor), how the
// process ends (main's return value, exit, _exit, the loader's fini), and
// fork. The trace is written once, by whichever end comes first (see
// finish.h); anything freed after it is appended as late records.
#include <dlfcn.h>
#include <link.h>

#include <cstdlib>
#include <cstring>
#include <unistd.h>

#include "preload/exec_hooks.h"
#include "preload/finish.h"
#include "preload/preload_items.h"
#include "preload/shim.h"
#include "preload/signal_hooks.h"
#include "tracker/module_map.h"

using namespace nantrack;

namespace {

// Set when main returns or exit() is called; read at the end.
constinit int g_exit_status = trace_format::kUnknownExitStatus;
int (*g_program_main)(int, char**, char**) = nullptr;
// The dynamic loader's _dl_fini, which runs every library's destructors.
void (*g_loader_fini)() = nullptr;

using ExitFunction = void (*)(int);
// The real exit functions, resolved at load: calling dlsym at exit time
// could allocate in a vfork child, which shares its parent's heap.
struct NextExitFunctions {
  ExitFunction exit = nullptr;
  ExitFunction underscore_exit = nullptr;
  ExitFunction capital_exit = nullptr;
  ExitFunction quick_exit = nullptr;
};
constinit NextExitFunctions g_next;

// quick_exit runs the at_quick_exit handlers, then ends the process with
// libc's own _exit, which is not ours. Our handler, registered at start,
// runs after the program's (they run in reverse order): the heap is then
// final, and the status is what quick_exit was given.
constinit int g_quick_exit_status = 0;
void write_trace_at_quick_exit() { finish_without_destructors(g_quick_exit_status); }

// libc calls exit() itself too, not through ours: error(status, ...), and
// when the last thread ends after main's pthread_exit. An on_exit handler
// is given the status however exit was called; registered as main starts,
// after libc registered the loader's fini, it runs before that, and so
// before the trace is written.
void note_exit_status(int status, void*) { g_exit_status = status; }

// Whether fork() came while this thread was inside one of our calls (from
// a signal handler that interrupted it): that call resumes afterwards,
// inside nantrack still.
NANTRACK_TLS bool t_inside_before_fork = false;

void before_fork() {
  if (!shim::g_ready.load()) return;
  // The child must not find a lock held by a thread that does not exist
  // there; and while we hold them, allocations by other atfork handlers
  // must not wait for us: they take the untracked path.
  t_inside_before_fork = shim::t_inside;
  shim::t_inside = true;
  tracker().before_fork();
}
void after_fork_in_parent() {
  if (!shim::g_ready.load()) return;
  tracker().after_fork_in_parent();
  shim::t_inside = t_inside_before_fork;
}
void after_fork_in_child() {
  if (!shim::g_ready.load()) return;
  tracker().after_fork_in_child();
  shim::t_inside = t_inside_before_fork;
}

// follow_children=0: take our library out of LD_PRELOAD so that programs
// this one executes run untraced (fork children are handled by the tracker).
void stop_following_children() {
  const char* preload = getenv("LD_PRELOAD");
  if (!preload) return;
  char kept[4096];
  size_t used = 0;
  for_each_preload_item(preload, [&](const char* item, size_t length) {
    if (!is_our_library(item, length) && used + length + 2 < sizeof(kept)) {
      if (used) kept[used++] = ':';
      memcpy(kept + used, item, length);
      used += length;
    }
    return true;
  });
  kept[used] = '\0';
  if (used)
    setenv("LD_PRELOAD", kept, 1);
  else
    unsetenv("LD_PRELOAD");
}

// Whether the program's calls to malloc reach a definition other than ours:
// one in the executable (or a library before us in lookup order) wins over
// a preloaded library, as an allocator linked in statically does. A non-PIE
// executable whose code takes malloc's address holds a canonical PLT entry
// for it: an undefined symbol with an address, which dlsym returns, though
// the program's calls go through it to ours (python3 on Debian;
// tests/programs/malloc_address.c). That is no definition.
bool malloc_defined_before_ours() {
  void* resolved = dlsym(RTLD_DEFAULT, "malloc");
  Dl_info where{}, ours{};
  void* symbol = nullptr;  // an ElfW(Sym)*
  if (!resolved || !dladdr(reinterpret_cast<void*>(&malloc_defined_before_ours), &ours) ||
      !dladdr1(resolved, &where, &symbol, RTLD_DL_SYMENT))
    return false;
  if (symbol && static_cast<const ElfW(Sym)*>(symbol)->st_shndx == SHN_UNDEF) return false;
  return where.dli_fbase != ours.dli_fbase;
}

// glibc passes argc, argv and envp to the constructors of shared objects.
__attribute__((constructor)) void nantrack_on_load(int argc, char** argv, char**) {
  shim::initialize();
  shim::InsideNantrack inside;  // everything below may allocate for itself
  CodeRange own;
  find_code_range(reinterpret_cast<void*>(&nantrack_on_load), own);
  tracker().start(argc, argv, own.begin, own.end);
  shim::next_definition(g_next.exit, "exit");
  shim::next_definition(g_next.underscore_exit, "_exit");
  shim::next_definition(g_next.capital_exit, "_Exit");
  shim::next_definition(g_next.quick_exit, "quick_exit");
  at_quick_exit(write_trace_at_quick_exit);
  pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
  install_signal_handlers();
  prepare_finish();
  start_following_exec(tracker().options().follow_children);
  if (!tracker().options().follow_children) stop_following_children();
  if (malloc_defined_before_ours()) tracker().note_own_allocator();
}

// Only for a process whose end we do not see through the loader's fini
// (no __libc_start_main of ours): the best remaining moment.
__attribute__((destructor)) void nantrack_on_unload() {
  if (!g_loader_fini) finish_process({g_exit_status, 0, 0}, false);
}

// libc registers the loader's fini with atexit before anything else, so it
// runs last: after static destructors, atexit handlers and the destructors
// of every shared library (libcurl, libcrypto, ... free memory there). Only
// then is the heap final, and that is when the trace is written.
void after_loader_fini() {
  g_loader_fini();
  finish_process({g_exit_status, 0, 0}, false);
}

int main_wrapper(int argc, char** argv, char** envp) {
  on_exit(note_exit_status, nullptr);
  g_exit_status = g_program_main(argc, argv, envp);
  tracker().note_program_stack(reinterpret_cast<uintptr_t>(__builtin_frame_address(0)));
  return g_exit_status;
}

}  // namespace

// Wrapping main is the one way to learn its return value: libc calls
// exit() internally when main returns, not through our exit().
NANTRACK_EXPORT int __libc_start_main(int (*main)(int, char**, char**), int argc, char** argv, void (*init)(),
                                      void (*fini)(), void (*rtld_fini)(), void* stack_end) {
  using StartMain = int (*)(int (*)(int, char**, char**), int, char**, void (*)(), void (*)(), void (*)(), void*);
  static StartMain next;  // constant-initialised: no guard variable
  g_program_main = main;
  g_loader_fini = rtld_fini;
  return shim::next_definition(next, "__libc_start_main")(main_wrapper, argc, argv, init, fini, rtld_fini ? after_loader_fini : nullptr, stack_end);
}

NANTRACK_EXPORT void exit(int status) {
  g_exit_status = status;
  tracker().note_program_stack(reinterpret_cast<uintptr_t>(__builtin_frame_address(0)));
  shim::next_definition(g_next.exit, "exit")(status);
  __builtin_unreachable();
}

// _exit and _Exit skip every destructor, ours included: write the trace now.
void nantrack::finish_without_destructors(int status) {
  tracker().note_program_stack(reinterpret_cast<uintptr_t>(__builtin_frame_address(0)));
  finish_process({status, 0, trace_format::kExitedViaUnderscoreExit}, false);
}

namespace {
[[noreturn]] void exit_without_destructors(ExitFunction& slot, const char* name, int status) {
  ExitFunction next = shim::next_definition(slot, name);
  finish_without_destructors(status);
  next(status);
  __builtin_unreachable();
}

}  // namespace

NANTRACK_EXPORT void _exit(int status) { exit_without_destructors(g_next.underscore_exit, "_exit", status); }
NANTRACK_EXPORT void _Exit(int status) { exit_without_destructors(g_next.capital_exit, "_Exit", status); }

NANTRACK_EXPORT void quick_exit(int status) {
  g_quick_exit_status = status;
  shim::next_definition(g_next.quick_exit, "quick_exit")(status);
  __builtin_unreachable();
}
