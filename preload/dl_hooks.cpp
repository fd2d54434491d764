// dlopen and dlclose.
//
// dlopen: a library opened with RTLD_DEEPBIND binds malloc to libc
// directly, so its blocks would reach our free() as unknown pointers (and,
// since we never pass unknown pointers to libc, leak). We clear the flag,
// with a one-line warning, as heaptrack does. The wrapper is a tail jump in
// assembly: glibc finds the caller's RUNPATH and $ORIGIN from dlopen's
// return address, which a C wrapper would replace with ours.
//
// dlclose: the module map is refreshed before a library goes away, so that
// blocks it allocated (and stacks through it) still symbolize at exit.
#include <dlfcn.h>

#include "preload/shim.h"
#include "tracker/stderr_output.h"
#include "tracker/text_buffer.h"

using namespace nantrack;

extern "C" {
// Read by the assembly below; resolved on the first call that needs it.
__attribute__((visibility("hidden"))) void* nantrack_next_dlopen = nullptr;

// The slow path of the stub: resolves the real dlopen, warns about
// RTLD_DEEPBIND. Returns the function to jump to.
__attribute__((visibility("hidden"), used)) void* nantrack_prepare_dlopen(const char* file, int mode) {
  if (!nantrack_next_dlopen) {
    shim::InsideNantrack inside;
    nantrack_next_dlopen = dlsym(RTLD_NEXT, "dlopen");
  }
  if (mode & RTLD_DEEPBIND) {
    InlineText<PATH_MAX + 160> warning;
    warning << "nantrack: dlopen(\"" << (file ? file : "(main program)")
            << "\", RTLD_DEEPBIND): opened without RTLD_DEEPBIND so that its allocations are tracked\n";
    print_to_stderr(warning.view());
  }
  return nantrack_next_dlopen;
}
}

// void* dlopen(const char* file, int mode): jump straight to the real one
// unless it is unresolved or RTLD_DEEPBIND (0x8) is set; then call the slow
// path with the arguments saved, clear the flag, and jump.
asm(R"(
  .text
  .globl dlopen
  .type dlopen, @function
dlopen:
  .cfi_startproc
  movq nantrack_next_dlopen(%rip), %rax
  testq %rax, %rax
  jz 1f
  testl $8, %esi
  jnz 1f
  jmp *%rax
1:
  pushq %rdi
  .cfi_adjust_cfa_offset 8
  pushq %rsi
  .cfi_adjust_cfa_offset 8
  subq $8, %rsp
  .cfi_adjust_cfa_offset 8
  call nantrack_prepare_dlopen
  addq $8, %rsp
  .cfi_adjust_cfa_offset -8
  popq %rsi
  .cfi_adjust_cfa_offset -8
  popq %rdi
  .cfi_adjust_cfa_offset -8
  andl $-9, %esi
  jmp *%rax
  .cfi_endproc
  .size dlopen, .-dlopen
)");

NANTRACK_EXPORT int dlclose(void* handle) {
  using Dlclose = int (*)(void*);
  static Dlclose next;  // constant-initialised: no guard variable
  if (shim::g_ready.load()) {
    shim::InsideNantrack inside;
    tracker().refresh_modules();
  }
  return shim::next_definition(next, "dlclose")(handle);
}
