#include "preload/finish.h"

#include <atomic>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <dlfcn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "preload/shim.h"
#include "tracker/sandbox.h"
#include "tracker/shell_word.h"
#include "tracker/stack_switch.h"
#include "tracker/stderr_output.h"
#include "tracker/text_buffer.h"

extern char** environ;

namespace nantrack {
namespace {

char g_cli_path[PATH_MAX];
void (*g_libstdcxx_freeres)() = nullptr;

// Threads inside finish_process, and whether this one is.
constinit std::atomic<int> g_finishing{0};
NANTRACK_TLS bool t_finishing = false;

class FinishingHere {
 public:
  FinishingHere() : outer_(t_finishing) {
    if (outer_) return;
    t_finishing = true;
    g_finishing.fetch_add(1);
  }
  ~FinishingHere() {
    if (outer_) return;
    g_finishing.fetch_sub(1);
    t_finishing = false;
  }
  FinishingHere(const FinishingHere&) = delete;
  FinishingHere& operator=(const FinishingHere&) = delete;

 private:
  bool outer_;
};

void print_residue_banner(int fd) {
  InlineText<512> banner;
  banner << "      __\n"
            "  __( o)>  A real programmer\n"
            "  \\ <_ )      manages his own memory.\n"
            "   `---'              - A wise duck\n"
            "     ||\n"
            "   ==^^==   ";
  banner.grouped(tracker().unfreed_bytes()) << " bytes in ";
  banner.grouped(tracker().unfreed_blocks()) << (tracker().unfreed_blocks() == 1 ? " block" : " blocks")
                                             << " left unfreed\n";
  write_all(fd, banner.view());
}

// Runs `nantrack report TRACE` with its output on our stderr and waits for
// it. Only async-signal-safe calls: it also runs from a fatal-signal
// handler. The CLI runs without LD_PRELOAD, so it is not traced itself.
void run_report(const char* trace_path, int fd) {
  if (!g_cli_path[0]) {
    write_all(fd, "nantrack: cannot find the nantrack CLI (set NANTRACK_CLI); the trace is in ");
    write_all(fd, trace_path);
    write_all(fd, "\n");
    return;
  }
  constexpr size_t kMaxEnvironment = 4096;
  static char* environment[kMaxEnvironment];
  size_t count = 0;
  for (char** entry = environ; entry && *entry && count + 1 < kMaxEnvironment; ++entry)
    if (strncmp(*entry, "LD_PRELOAD=", 11) != 0 && strncmp(*entry, "NANTRACK_OPTIONS=", 17) != 0)
      environment[count++] = *entry;
  environment[count] = nullptr;
  char* argv[] = {g_cli_path, const_cast<char*>("report"), const_cast<char*>(trace_path), nullptr};
  pid_t child = _Fork();
  if (child == 0) {
    if (fd != 2) dup2(fd, 2);
    dup2(2, 1);
    // The CLI needs none of the program's descriptors, and a program that
    // used up its limit would leave it none to load its libraries with.
    close_range(3, ~0U, 0);
    // The system call itself: our execve would put LD_PRELOAD back.
    syscall(SYS_execve, g_cli_path, argv, environment);
    _exit(127);
  }
  if (child < 0) return;
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
}

// libstdc++ keeps a 72,704-byte emergency pool for exceptions thrown when
// memory runs out, allocated before our constructor and never freed.
// valgrind calls __gnu_cxx::__freeres() at the end for it; so do we, after
// every destructor has run (it frees only that pool). The function is
// looked up at start: a dlsym at exit would clear the program's pending
// dlerror() message. A libstdc++ first dlopen'd later keeps its pool,
// which the leak scan finds reachable anyway.
void find_libstdcxx_freeres() {
  shim::InsideNantrack inside;  // dlsym's own dlerror buffer is not the program's
  g_libstdcxx_freeres = reinterpret_cast<void (*)()>(dlsym(RTLD_DEFAULT, "_ZN9__gnu_cxx9__freeresEv"));
}

}  // namespace

void prepare_finish() {
  find_libstdcxx_freeres();
  if (const char* configured = getenv("NANTRACK_CLI")) {
    if (strlen(configured) < sizeof(g_cli_path)) strcpy(g_cli_path, configured);
    return;
  }
  Dl_info self{};
  char library[PATH_MAX];
  if (!dladdr(reinterpret_cast<void*>(&prepare_finish), &self) || !self.dli_fname ||
      !realpath(self.dli_fname, library))
    return;
  InlineText<PATH_MAX> cli;
  char* slash = strrchr(library, '/');
  if (slash) *slash = '\0';
  cli << library << "/../bin/nantrack";
  if (!cli.truncated() && access(cli.c_str(), X_OK) == 0) strcpy(g_cli_path, cli.c_str());
}

namespace {

// `program`: where this thread left the program's stack for ours.
void finish_on_this_stack(const ExitInfo& exit, bool from_signal, LeakRoots::ProgramState program) {
  if (!tracker().write_trace(exit, from_signal, program)) return;
  tracker().print_unwind_check();
  // Nowhere to print (stderr was a pipe the program closed, or its number
  // now holds a file of the program's): the trace alone is left.
  StderrOutput output;
  if (output.fd() < 0) return;
  if (tracker().options().residue) print_residue_banner(output.fd());
  if (!tracker().options().report) return;
  if (in_sandbox()) {  // fork and execve would kill it (tracker/sandbox.h)
    InlineText<PATH_MAX + 160> line;
    line << "nantrack: this process confined itself with seccomp, so its report is not printed here: nantrack report ";
    append_shell_word(tracker().trace_path(), [&](std::string_view piece) { line << piece; });
    line << '\n';
    write_all(output.fd(), line.view());
    return;
  }
  run_report(tracker().trace_path(), output.fd());
}

}  // namespace

void finish_process(const ExitInfo& exit, bool from_signal, const ucontext_t* interrupted) {
  // A vfork child shares its parent's memory: it writes nothing of ours.
  if (!shim::g_ready.load() || !tracker().owns_process()) return;
  FinishingHere finishing;
  // Process the pool's free as the program's own (tracked) free; not when
  // a signal ends the process, which frees nothing.
  if (!from_signal && exit.flags == 0 && exit.signal == 0 && g_libstdcxx_freeres) g_libstdcxx_freeres();
  shim::InsideNantrack inside;
  LeakRoots::CalleeSavedRegisters registers;
  const LeakRoots::ProgramState program =
      interrupted ? LeakRoots::ProgramState{.interrupted = interrupted} : program_state_here(registers);
  // The signal that ends the process may find a thread with a small stack.
  call_on_fresh_stack([&] { finish_on_this_stack(exit, from_signal, program); });
}

void wait_while_another_thread_finishes() {
  if (!tracker().owns_process()) return;  // a vfork child: the count is its parent's
  constexpr int kLongestWaitMs = 60'000;  // a huge heap's scan and report take seconds
  for (int waited = 0; g_finishing.load() > (t_finishing ? 1 : 0) && waited < kLongestWaitMs; ++waited) {
    const struct timespec millisecond = {0, 1'000'000};
    nanosleep(&millisecond, nullptr);
  }
}

}  // namespace nantrack
