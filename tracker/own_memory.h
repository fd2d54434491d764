// Reading the process's own memory where a plain load could fault.
#pragma once

#include <cstddef>

namespace nantrack {

// Copies up to `bytes` from `from`, in this process, to `to`, with
// process_vm_readv: it stops at the first page that cannot be read
// (unmapped, PROT_NONE, past the end of a file mapping). Returns the bytes
// copied. Addressed to this thread's ID, not the process's: once the main
// thread has ended (pthread_exit) while others run on, the process ID
// names a zombie that has no memory any more, and every read failed.
size_t read_own_memory(void* to, const void* from, size_t bytes);

}  // namespace nantrack
