#include "tracker/own_memory.h"

#include <sys/uio.h>
#include <unistd.h>

namespace nantrack {

size_t read_own_memory(void* to, const void* from, size_t bytes) {
  iovec local{to, bytes};
  iovec remote{const_cast<void*>(from), bytes};
  const ssize_t got = process_vm_readv(gettid(), &local, 1, &remote, 1, 0);
  return got > 0 ? static_cast<size_t>(got) : 0;
}

}  // namespace nantrack
