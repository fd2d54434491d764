/* nantrack's interface for programs: leak checks on demand, and
 * LeakSanitizer's interface (sanitizer/lsan_interface.h), which
 * libnantrack.so exports so that code written for LSan works unchanged.
 *
 * Every function is declared weak: a program that uses them links without
 * nantrack and runs without it, where each function's address is null.
 * Test before calling:
 *
 *     if (nantrack_check_leaks) nantrack_check_leaks();
 *
 * (A weak reference is bound at load time, so the program must be linked
 * as a position-independent executable, the default of Debian's gcc, or
 * look the function up with dlsym(RTLD_DEFAULT, "nantrack_check_leaks").)
 *
 * A leak check made while the program runs writes a snapshot trace,
 * <output_dir>/nantrack.<pid>.snapshot-<n>.trace (n = 1, 2, ...), next to
 * the process's own trace; `nantrack run` reports it, marked as snapshot n,
 * and only the process's own trace counts for the CI gate (but see
 * __lsan_do_leak_check). With plain LD_PRELOAD and report=1 one line on
 * stderr says what the check found and where the trace went. Other threads
 * are stopped while the heap is scanned; suppressions are applied by the
 * report, not here. C and C++. */
#ifndef NANTRACK_NANTRACK_H
#define NANTRACK_NANTRACK_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Scans the heap now and writes a snapshot trace. Returns the number of
 * leaked blocks found (definite, indirect and possible; still reachable
 * ones do not count), or -1 when no check was made: called from a signal
 * handler that interrupted nantrack, or in a process nantrack does not
 * trace. */
int nantrack_check_leaks(void) __attribute__((weak));

/* LeakSanitizer's interface. */

/* The block that starts at `p` (a live block allocated by malloc, new, ...)
 * is never reported as a leak, and is a root of the scan: what it points to
 * is reachable. It is reported as still reachable. Any other pointer is
 * reported on stderr and ignored. */
void __lsan_ignore_object(const void* p) __attribute__((weak));

/* Blocks this thread allocates between __lsan_disable() and the matching
 * __lsan_enable() are treated like ignored objects. Calls nest (a counter
 * per thread); an __lsan_enable() without a matching __lsan_disable() is
 * reported on stderr and ignored (LSan aborts there). */
void __lsan_disable(void) __attribute__((weak));
void __lsan_enable(void) __attribute__((weak));

/* [p, p + size) is scanned like the program's globals (read safely: it may
 * be unmapped by the time of a scan). At most 256 regions at once; unregister
 * takes exactly the p and size that were registered. Bad ranges and unknown
 * regions are reported on stderr and ignored. */
void __lsan_register_root_region(const void* p, size_t size) __attribute__((weak));
void __lsan_unregister_root_region(const void* p, size_t size) __attribute__((weak));

/* Like nantrack_check_leaks(); returns 1 if leaked blocks were found, 0 if
 * not (also when no check could be made). */
int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

/* The process's leak check, made now instead of at exit, as in LSan: its
 * snapshot trace is the one whose leaks count for the CI gate, and blocks
 * still live at exit are reported without counting. Made once: later
 * calls do nothing. Unlike LSan it never ends the program; the gate of
 * `nantrack run --error-exitcode` decides the exit status. */
void __lsan_do_leak_check(void) __attribute__((weak));

#ifdef __cplusplus
}
#endif

#endif /* NANTRACK_NANTRACK_H */
