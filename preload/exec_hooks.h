// The exec family and posix_spawn (exec_hooks.cpp): children started with
// an environment of the program's making are followed too.
#pragma once

namespace nantrack {

// From our constructor: looks up libc's functions (they may be called in
// a vfork child, where dlsym must not run) and, when children are
// followed, keeps our LD_PRELOAD item and NANTRACK_OPTIONS to put back.
void start_following_exec(bool follow_children);

}  // namespace nantrack
