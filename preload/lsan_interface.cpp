// LeakSanitizer's interface (sanitizer/lsan_interface.h), so that code
// written for LSan works unchanged under nantrack, and nantrack_check_leaks().
// Declared for users in preload/include/nantrack/nantrack.h, where each function's
// meaning under nantrack is documented. Every bad argument gets one line
// on stderr and is otherwise ignored: LSan would abort on some of them, but
// nantrack never ends the program it watches.
#include <climits>
#include <cstddef>
#include <cstdint>

#include "preload/leak_check.h"
#include "preload/shim.h"
#include "tracker/stderr_output.h"
#include "tracker/text_buffer.h"

using namespace nantrack;

namespace {

void complain(const char* function, const void* address, const char* problem, size_t size = SIZE_MAX) {
  InlineText<256> line;
  line << "nantrack: " << function << '(';
  line.hex(reinterpret_cast<uintptr_t>(address));
  if (size != SIZE_MAX) line << ", " << uint64_t{size};
  line << "): " << problem << '\n';
  print_to_stderr(line.view());
}

// The tables these calls change are ours: a call from code that interrupted
// nantrack on this thread (a signal handler) could deadlock on them.
bool may_enter(const char* function) {
  if (!shim::t_inside && tracker().initialized()) return true;
  InlineText<192> line;
  line << "nantrack: " << function
       << " called while this thread is inside nantrack (from a signal handler?) or before it started: ignored\n";
  print_to_stderr(line.view());
  return false;
}

// check_leaks_now()'s count as an int (-1: no check made). Blocks not
// scanned count as definite, as in the report.
int leaked_blocks(int64_t lost) { return lost > INT_MAX ? INT_MAX : static_cast<int>(lost); }

// Where the program called a leak check from (preload/leak_check_entry.S).
LeakRoots::ProgramState program_state(const LeakRoots::CalleeSavedRegisters* registers, const void* program_stack) {
  return {.stack = reinterpret_cast<uintptr_t>(program_stack), .registers = registers};
}

}  // namespace

NANTRACK_EXPORT void __lsan_ignore_object(const void* block) {
  if (!may_enter("__lsan_ignore_object()")) return;
  shim::InsideNantrack inside;
  if (!tracker().ignore_block(block))
    complain("__lsan_ignore_object", block, "no live heap block starts there; nothing is ignored");
}

NANTRACK_EXPORT void __lsan_disable(void) { ++t_leak_checks_disabled; }

NANTRACK_EXPORT void __lsan_enable(void) {
  if (t_leak_checks_disabled == 0) {
    print_to_stderr(
        "nantrack: __lsan_enable() without a matching __lsan_disable() on this thread: ignored "
        "(LeakSanitizer would abort here)\n");
    return;
  }
  --t_leak_checks_disabled;
}

NANTRACK_EXPORT void __lsan_register_root_region(const void* begin, size_t size) {
  if (!may_enter("__lsan_register_root_region()")) return;
  uintptr_t end = 0;
  if (size == 0 || __builtin_add_overflow(reinterpret_cast<uintptr_t>(begin), size, &end)) {
    complain("__lsan_register_root_region", begin, "not a range of memory; nothing registered", size);
    return;
  }
  shim::InsideNantrack inside;
  if (!tracker().add_root_region(reinterpret_cast<uintptr_t>(begin), size))
    complain("__lsan_register_root_region", begin, "too many root regions registered; this one is not scanned",
             size);
}

NANTRACK_EXPORT void __lsan_unregister_root_region(const void* begin, size_t size) {
  if (!may_enter("__lsan_unregister_root_region()")) return;
  shim::InsideNantrack inside;
  if (!tracker().remove_root_region(reinterpret_cast<uintptr_t>(begin), size))
    complain("__lsan_unregister_root_region", begin, "no such region is registered; nothing removed", size);
}

// The leak checks: preload/leak_check_entry.S exports them and calls these
// with the caller's callee-saved registers and stack.
extern "C" int nantrack_check_leaks_from(const LeakRoots::CalleeSavedRegisters* registers,
                                         const void* program_stack) {
  if (!may_enter("nantrack_check_leaks()")) return -1;
  return leaked_blocks(
      check_leaks_now(SnapshotTrigger::Check, "nantrack_check_leaks()", program_state(registers, program_stack)));
}

extern "C" int nantrack_lsan_recoverable_leak_check_from(const LeakRoots::CalleeSavedRegisters* registers,
                                                         const void* program_stack) {
  if (!may_enter("__lsan_do_recoverable_leak_check()")) return 0;
  return check_leaks_now(SnapshotTrigger::Check, "__lsan_do_recoverable_leak_check()",
                         program_state(registers, program_stack)) > 0
             ? 1
             : 0;
}

extern "C" void nantrack_lsan_leak_check_from(const LeakRoots::CalleeSavedRegisters* registers,
                                              const void* program_stack) {
  if (!may_enter("__lsan_do_leak_check()")) return;
  check_leaks_now(SnapshotTrigger::LeakCheck, "__lsan_do_leak_check()", program_state(registers, program_stack));
}
