// A program taking away its own rights, seen on the way
// (confinement_hooks.cpp).
#pragma once

namespace nantrack::shim {

// For syscall(SYS_seccomp, ...), the way libseccomp asks for a filter:
// makes the call through libc's syscall `next`, with nantrack made ready
// before and the sandbox noted after.
long seccomp_with_sandbox_noted(const long* args, long (*next)(long, ...));

}  // namespace nantrack::shim
