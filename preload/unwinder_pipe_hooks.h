// libunwind's memory test, answered without a pipe (unwinder_pipe_hooks.cpp).
#pragma once

namespace nantrack::shim {

// For syscall(): true if this call is libunwind's write() into the pipe we
// gave it, with `result` the answer the kernel would have given.
bool answer_libunwind_memory_test(long number, const long* args, const void* return_address, long& result);

}  // namespace nantrack::shim
