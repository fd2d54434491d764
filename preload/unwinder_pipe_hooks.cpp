// pipe, pipe2 and syscall(SYS_write), passed on to libc's, except for
// libunwind's memory test: libunwind gets a pipe that holds no file
// descriptor, and its test is answered without one (syscall() itself is
// in syscall_hook.cpp).
//
// libunwind (src/x86_64/Ginit.c) tests whether an address is readable
// (every address it reads, in Debian's build) by write()ing one byte from it
// into a pipe, after a read() that drains the byte of the test before. It
// opens the pipe when it starts and keeps its two descriptors for the life
// of the process: two of the program's own numbers (3-6, the first free
// ones) for each libunwind library we load. The program then saw
// descriptors it never opened (in /proc/self/fd, against its
// RLIMIT_NOFILE), and one that closes every descriptor and opens files of
// its own (ssh, a daemon, a shell's `exec 4>file`) got those numbers for
// its files while libunwind went on using them: its next test read a byte
// of one of the program's files and wrote a byte of memory over another
// (libunwind issues #274 and #291).
//
// So libunwind's pipe2 returns two numbers no descriptor can have. Its
// read() of the first fails (EBADF), which makes it ask for the pipe again
// (our numbers again, after two close() calls that fail as harmlessly), and
// its syscall(SYS_write) into the second is answered here: 1 if the byte is
// readable, as the kernel would have answered, -1 (EFAULT) if not. The
// test is rare (libunwind remembers the last pages it found readable; a
// compiler run makes two), so its extra system calls cost nothing
// measurable.
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload/shim.h"
#include "preload/unwinder_pipe_hooks.h"
#include "tracker/internal_memory.h"
#include "tracker/module_map.h"
#include "tracker/own_memory.h"
#include "tracker/sandbox.h"
#include "tracker/thread_unwind_state.h"

using namespace nantrack;

namespace {

// What libunwind's pipe is made of: numbers that are no descriptor (and
// not -1, which libunwind takes for "no pipe yet").
constexpr int kTestReadEnd = -2, kTestWriteEnd = -3;

using PipeFunction = int (*)(int*);
using Pipe2Function = int (*)(int*, int);
using MincoreFunction = int (*)(void*, size_t, unsigned char*);
constinit PipeFunction g_next_pipe = nullptr;
constinit Pipe2Function g_next_pipe2 = nullptr;
constinit MincoreFunction g_next_mincore = nullptr;

bool called_by_libunwind(const void* return_address) {
  return tracker().initialized() && tracker().is_unwinder_code(reinterpret_cast<uintptr_t>(return_address));
}

int hand_out_test_pipe(int fds[2]) {
  fds[0] = kTestReadEnd;
  fds[1] = kTestWriteEnd;
  return 0;
}

// Whether the byte at `address` can be read, in a seccomp sandbox, whose
// filter would kill the process for process_vm_readv (tracker/sandbox.h):
// libunwind reads stack words and unwind tables, so this thread's stack
// and the modules' segments, which are mapped while they are loaded.
bool readable_in_sandbox(uintptr_t address) {
  if (is_module_address(address)) return true;
  if (StackBounds stack; this_thread_stack_bounds(stack)) return stack.contains(address);
  // A thread started inside the sandbox has no state, so no bounds: its
  // live stack runs from here up to its thread descriptor, which glibc puts
  // at the top of a thread's stack (static TLS in between, mapped too).
  const auto here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  return address >= here && address < static_cast<uintptr_t>(pthread_self());
}

// The kernel's answer to write(pipe, address, 1), without a pipe: whether
// the byte at `address` can be read.
long test_readable(const void* address) {
  char byte;
  if (in_sandbox() ? readable_in_sandbox(reinterpret_cast<uintptr_t>(address))
                   : read_own_memory(&byte, address, 1) == 1) {
    errno = 0;  // libunwind retries while errno is EINTR, even after a success
    return 1;
  }
  errno = EFAULT;
  return -1;
}

// Looked up as the library loads, not at the first call, which may come
// from a signal handler, where dlsym could deadlock (syscall_hook.cpp).
[[gnu::constructor]] void find_next_definitions() {
  shim::next_definition(g_next_pipe, "pipe");
  shim::next_definition(g_next_pipe2, "pipe2");
  shim::next_definition(g_next_mincore, "mincore");
}

}  // namespace

NANTRACK_EXPORT int pipe(int fds[2]) {
  if (called_by_libunwind(__builtin_return_address(0))) return hand_out_test_pipe(fds);
  return shim::next_definition(g_next_pipe, "pipe")(fds);
}

// libunwind asks mincore() first whether the page is resident, then tests
// the byte. In a seccomp sandbox that call would kill the process: the
// page's answer comes from readable_in_sandbox() instead. Memory is mapped
// by whole pages, so a page is readable if either end of it is: the range
// of a stack read without bounds starts mid-page, at the current frame.
NANTRACK_EXPORT int mincore(void* address, size_t length, unsigned char* resident) {
  if (in_sandbox() && called_by_libunwind(__builtin_return_address(0))) {
    const uintptr_t first = reinterpret_cast<uintptr_t>(address) & ~(kPageSize - 1);
    const size_t pages = (reinterpret_cast<uintptr_t>(address) + length - first + kPageSize - 1) / kPageSize;
    for (size_t page = 0; page < pages; ++page) {
      const uintptr_t start = first + page * kPageSize;
      if (!readable_in_sandbox(start) && !readable_in_sandbox(start + kPageSize - 1)) {
        errno = ENOMEM;
        return -1;
      }
      resident[page] = 1;
    }
    return 0;
  }
  return shim::next_definition(g_next_mincore, "mincore")(address, length, resident);
}

NANTRACK_EXPORT int pipe2(int fds[2], int flags) {
  if (called_by_libunwind(__builtin_return_address(0))) return hand_out_test_pipe(fds);
  return shim::next_definition(g_next_pipe2, "pipe2")(fds, flags);
}

bool nantrack::shim::answer_libunwind_memory_test(long number, const long* args, const void* return_address,
                                                   long& result) {
  // The descriptor is an int: only the register's low half carries it.
  if (number != SYS_write || static_cast<int>(args[0]) != kTestWriteEnd || !called_by_libunwind(return_address))
    return false;
  result = test_readable(reinterpret_cast<const void*>(args[1]));
  return true;
}
