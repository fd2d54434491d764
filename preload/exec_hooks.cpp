// The exec family and posix_spawn, passed on to libc's with LD_PRELOAD and
// NANTRACK_OPTIONS put back into an environment that leaves them out.
//
// Children are followed through the environment. A program that runs
// another with an environment of its own making (`env -i`, Python's
// subprocess with env=, a test harness that starts each test clean) drops
// both, and that child would run untraced, its leaks unseen. valgrind
// follows such children, and so does nantrack when follow_children=1 (the
// default): our library is put first in the child's LD_PRELOAD, ahead of
// any the program sets (as `nantrack run` does), and NANTRACK_OPTIONS is
// added unless the program set its own. Nothing else in the environment
// changes, and nothing at all when both are there.
//
// These may run in a vfork child, which shares the parent's memory: no
// allocation (the new environment is built on the stack), and libc's
// functions are looked up as the library loads.
#include <spawn.h>
#include <unistd.h>

#include <alloca.h>
#include <cerrno>
#include <cstdarg>
#include <cstring>

#include "preload/exec_hooks.h"
#include "preload/preload_items.h"
#include "preload/shim.h"
#include "tracker/internal_memory.h"

using namespace nantrack;

namespace {

constexpr char kPreloadKey[] = "LD_PRELOAD=";
constexpr char kOptionsKey[] = "NANTRACK_OPTIONS=";
constexpr size_t kPreloadKeyLength = sizeof kPreloadKey - 1;
constexpr size_t kOptionsKeyLength = sizeof kOptionsKey - 1;
// Beyond this the environment is passed on as it is: the stack of a vfork
// child is its parent's.
constexpr size_t kMaxRoom = size_t{1} << 20;

// Set as the library loads, when children are followed: the LD_PRELOAD
// entry that names our library, and the whole "NANTRACK_OPTIONS=..." entry
// (empty when there was none).
constinit const char* g_our_library = nullptr;
constinit size_t g_our_library_length = 0;
constinit const char* g_options_entry = nullptr;

struct NextFunctions {
  int (*execve)(const char*, char* const[], char* const[]);
  int (*execvpe)(const char*, char* const[], char* const[]);
  int (*execv)(const char*, char* const[]);
  int (*execvp)(const char*, char* const[]);
  int (*fexecve)(int, char* const[], char* const[]);
  int (*execveat)(int, const char*, char* const[], char* const[], int);
  int (*posix_spawn)(pid_t*, const char*, const posix_spawn_file_actions_t*, const posix_spawnattr_t*,
                     char* const[], char* const[]);
  int (*posix_spawnp)(pid_t*, const char*, const posix_spawn_file_actions_t*, const posix_spawnattr_t*,
                      char* const[], char* const[]);
};
// libc's functions: looked up as the library loads (start_following_exec),
// or at the first call if a constructor that ran before ours starts a
// program.
constinit NextFunctions g_next = {};

// Whether an LD_PRELOAD value names our library (any build of it).
bool names_our_library(const char* value) {
  bool ours = false;
  for_each_preload_item(value, [&](const char* item, size_t length) {
    ours = is_our_library(item, length);
    return !ours;
  });
  return ours;
}

// What an environment lacks, and what the new one takes.
struct Lack {
  char* const* old_preload = nullptr;  // its LD_PRELOAD entry without our library
  bool preload = false;
  bool options = false;
  size_t entries = 0;
  size_t bytes = 0;  // the room the new environment needs; 0: none needed
};

Lack lack_of(char* const* envp) {
  Lack lack;
  bool has_preload = false, has_options = false;
  for (char* const* entry = envp; entry && *entry; ++entry, ++lack.entries) {
    if (strncmp(*entry, kPreloadKey, kPreloadKeyLength) == 0) {
      has_preload = true;
      if (!names_our_library(*entry + kPreloadKeyLength)) lack.old_preload = entry;
    } else if (strncmp(*entry, kOptionsKey, kOptionsKeyLength) == 0) {
      has_options = true;
    }
  }
  lack.preload = !has_preload || lack.old_preload;
  lack.options = !has_options && g_options_entry[0];
  if (!lack.preload && !lack.options) return lack;
  lack.bytes = (lack.entries + 3) * sizeof(char*);
  if (lack.preload)
    lack.bytes += kPreloadKeyLength + g_our_library_length + 2 +
                  (lack.old_preload ? strlen(*lack.old_preload + kPreloadKeyLength) : 0);
  return lack;
}

// The new environment, in `room` (lack.bytes of it).
char* const* rebuilt(char* const* envp, const Lack& lack, void* room) {
  auto** entries = static_cast<char**>(room);
  char* text = reinterpret_cast<char*>(entries + lack.entries + 3);
  size_t count = 0;
  for (char* const* entry = envp; entry && *entry; ++entry)
    if (entry != lack.old_preload) entries[count++] = *entry;
  if (lack.preload) {
    entries[count++] = text;
    memcpy(text, kPreloadKey, kPreloadKeyLength);
    text += kPreloadKeyLength;
    memcpy(text, g_our_library, g_our_library_length);
    text += g_our_library_length;
    if (lack.old_preload) {
      const char* theirs = *lack.old_preload + kPreloadKeyLength;
      *text++ = ':';
      const size_t length = strlen(theirs);
      memcpy(text, theirs, length);
      text += length;
    }
    *text = '\0';
  }
  if (lack.options) entries[count++] = const_cast<char*>(g_options_entry);
  entries[count] = nullptr;
  return entries;
}

// Calls `call` with `envp`, or with it rebuilt in this frame when it lacks
// our entries.
template <typename Call>
int with_our_environment(char* const* envp, Call&& call) {
  if (!g_our_library) return call(envp);
  const Lack lack = lack_of(envp);
  if (!lack.bytes || lack.bytes > kMaxRoom) return call(envp);
  return call(rebuilt(envp, lack, alloca(lack.bytes)));
}

// A variadic exec's arguments, up to the null pointer, as an argv in this
// frame, passed to `call`.
template <typename Call>
int with_argv(const char* first, va_list arguments, Call&& call) {
  va_list counting;
  va_copy(counting, arguments);
  size_t count = 1;
  while (va_arg(counting, const char*)) ++count;
  va_end(counting);
  auto** argv = static_cast<char**>(alloca((count + 1) * sizeof(char*)));
  argv[0] = const_cast<char*>(first);
  for (size_t i = 1; i <= count; ++i) argv[i] = va_arg(arguments, char*);
  return call(argv);
}

int exec_v(const char* path, char* const argv[]) {
  return with_our_environment(environ, [&](char* const* envp) {
    if (envp == environ) return shim::next_definition(g_next.execv, "execv")(path, argv);
    return shim::next_definition(g_next.execve, "execve")(path, argv, envp);
  });
}

int exec_vp(const char* file, char* const argv[]) {
  return with_our_environment(environ, [&](char* const* envp) {
    if (envp == environ) return shim::next_definition(g_next.execvp, "execvp")(file, argv);
    return shim::next_definition(g_next.execvpe, "execvpe")(file, argv, envp);
  });
}

int exec_ve(const char* path, char* const argv[], char* const envp[]) {
  return with_our_environment(
      envp, [&](char* const* env) { return shim::next_definition(g_next.execve, "execve")(path, argv, env); });
}

// `key` and `length` bytes of `text`, '\0'-terminated, in memory of our
// own: the program may change its environment later.
const char* kept_entry(const char* key, const char* text, size_t length) {
  const size_t key_length = strlen(key);
  auto* copy = static_cast<char*>(map_memory(key_length + length + 1));
  if (!copy) return nullptr;
  memcpy(copy, key, key_length);
  memcpy(copy + key_length, text, length);
  return copy;
}

}  // namespace

namespace nantrack {

void start_following_exec(bool follow_children) {
  shim::next_definition(g_next.execve, "execve");
  shim::next_definition(g_next.execvpe, "execvpe");
  shim::next_definition(g_next.execv, "execv");
  shim::next_definition(g_next.execvp, "execvp");
  shim::next_definition(g_next.fexecve, "fexecve");
  shim::next_definition(g_next.execveat, "execveat");
  shim::next_definition(g_next.posix_spawn, "posix_spawn");
  shim::next_definition(g_next.posix_spawnp, "posix_spawnp");
  if (!follow_children) return;
  // Our own item of LD_PRELOAD, as the loader read it.
  const char* library = nullptr;
  size_t length = 0;
  for_each_preload_item(getenv("LD_PRELOAD"), [&](const char* item, size_t item_length) {
    if (!is_our_library(item, item_length)) return true;
    library = item;
    length = item_length;
    return false;
  });
  if (!library) return;
  const char* options = getenv("NANTRACK_OPTIONS");
  g_options_entry = options ? kept_entry(kOptionsKey, options, strlen(options)) : "";
  g_our_library = g_options_entry ? kept_entry("", library, length) : nullptr;
  g_our_library_length = length;
}

}  // namespace nantrack

NANTRACK_EXPORT int execve(const char* path, char* const argv[], char* const envp[]) {
  return exec_ve(path, argv, envp);
}

NANTRACK_EXPORT int execvpe(const char* file, char* const argv[], char* const envp[]) {
  return with_our_environment(
      envp, [&](char* const* env) { return shim::next_definition(g_next.execvpe, "execvpe")(file, argv, env); });
}

NANTRACK_EXPORT int execv(const char* path, char* const argv[]) { return exec_v(path, argv); }

NANTRACK_EXPORT int execvp(const char* file, char* const argv[]) { return exec_vp(file, argv); }

NANTRACK_EXPORT int execl(const char* path, const char* arg, ...) {
  va_list arguments;
  va_start(arguments, arg);
  const int result = with_argv(arg, arguments, [&](char* const* argv) { return exec_v(path, argv); });
  va_end(arguments);
  return result;
}

NANTRACK_EXPORT int execlp(const char* file, const char* arg, ...) {
  va_list arguments;
  va_start(arguments, arg);
  const int result = with_argv(arg, arguments, [&](char* const* argv) { return exec_vp(file, argv); });
  va_end(arguments);
  return result;
}

NANTRACK_EXPORT int execle(const char* path, const char* arg, ...) {
  va_list arguments;
  va_start(arguments, arg);
  const int result = with_argv(arg, arguments, [&](char* const* argv) {
    // The environment follows the argv's null pointer.
    char* const* envp = va_arg(arguments, char* const*);
    return exec_ve(path, argv, envp);
  });
  va_end(arguments);
  return result;
}

NANTRACK_EXPORT int fexecve(int fd, char* const argv[], char* const envp[]) {
  return with_our_environment(
      envp, [&](char* const* env) { return shim::next_definition(g_next.fexecve, "fexecve")(fd, argv, env); });
}

NANTRACK_EXPORT int execveat(int dirfd, const char* path, char* const argv[], char* const envp[], int flags) {
  if (!shim::next_definition(g_next.execveat, "execveat")) {  // a libc before 2.34
    errno = ENOSYS;
    return -1;
  }
  return with_our_environment(envp, [&](char* const* env) { return g_next.execveat(dirfd, path, argv, env, flags); });
}

NANTRACK_EXPORT int posix_spawn(pid_t* pid, const char* path, const posix_spawn_file_actions_t* actions,
                                const posix_spawnattr_t* attributes, char* const argv[], char* const envp[]) {
  return with_our_environment(
      envp, [&](char* const* env) {
        return shim::next_definition(g_next.posix_spawn, "posix_spawn")(pid, path, actions, attributes, argv, env);
      });
}

NANTRACK_EXPORT int posix_spawnp(pid_t* pid, const char* file, const posix_spawn_file_actions_t* actions,
                                 const posix_spawnattr_t* attributes, char* const argv[], char* const envp[]) {
  return with_our_environment(
      envp, [&](char* const* env) {
        return shim::next_definition(g_next.posix_spawnp, "posix_spawnp")(pid, file, actions, attributes, argv, env);
      });
}
