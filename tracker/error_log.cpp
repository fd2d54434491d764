#include "tracker/error_log.h"

#include <dlfcn.h>

#include "tracker/internal_memory.h"
#include "tracker/stderr_output.h"
#include "tracker/text_buffer.h"

namespace nantrack {

bool ErrorLog::init() {
  records_ = static_cast<ErrorRecord*>(map_memory(kCapacity * sizeof(ErrorRecord), true));
  return records_ != nullptr;
}

void ErrorLog::add(const ErrorRecord& error) {
  LockGuard guard(mutex_);
  if (records_ && count_ < kCapacity) {
    records_[count_++] = error;
    return;
  }
  if (!full_) {
    full_ = true;
    print_to_stderr("nantrack: more than 65,536 errors: later ones are printed here but not kept in the trace\n");
  }
}

namespace {

std::string_view basename_of(const char* path) {
  std::string_view p(path ? path : "");
  size_t slash = p.rfind('/');
  if (slash != std::string_view::npos) p.remove_prefix(slash + 1);
  return p;
}

void print_stack(TextBuffer& out, const StackDepot& depot, StackId id) {
  StackView stack = depot.get(id);
  if (stack.depth == 0) {
    out << "    (no stack recorded)\n";
    return;
  }
  for (uint32_t i = 0; i < stack.depth; ++i) {
    uintptr_t pc = stack.pcs[i];
    out << "    #" << i << ' ';
    out.hex(pc);
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(pc), &info) && info.dli_fname) {
      if (info.dli_sname) out << " in " << info.dli_sname;
      out << " (" << basename_of(info.dli_fname) << '+';
      out.hex(pc - reinterpret_cast<uintptr_t>(info.dli_fbase)) << ')';
    }
    out << '\n';
  }
}

// "heap overflow: 1 byte after the 24-byte block at 0x... was changed (first
// at offset 24)", "write after free: 8 bytes at offset 0 of the freed ...":
// the words of report/error_description.cpp.
void print_damage(TextBuffer& out, const ErrorRecord& e) {
  const char* plural = e.bytes_changed == 1 ? " byte" : " bytes";
  if (e.kind == ErrorKind::WriteAfterFree) {
    out << "write after free: " << e.bytes_changed << plural << " at offset " << e.first_changed_offset
        << " of the freed " << e.block_size << "-byte block at ";
    out.hex(e.block_address);
  } else {
    const bool before = e.overflow_side == OverflowSide::Before;
    out << "heap overflow: " << e.bytes_changed << plural << (before ? " before" : " after") << " the "
        << e.block_size << "-byte block at ";
    out.hex(e.block_address) << (e.bytes_changed == 1 ? " was" : " were") << " changed (";
    if (before)
      out << "nearest the block: " << e.first_changed_offset << " before its start)";
    else
      out << "first at offset " << e.first_changed_offset << ')';
  }
  if (e.dealloc_kind != DeallocKind::None) out << ", found by " << name_of(e.dealloc_kind);
  out << " in thread " << e.thread << '\n';
}

void print_headline(TextBuffer& out, const ErrorRecord& e) {
  if (e.kind == ErrorKind::HeapOverflow || e.kind == ErrorKind::WriteAfterFree) {
    print_damage(out, e);
    return;
  }
  switch (e.kind) {
    case ErrorKind::DoubleFree:
      out << "double free of ";
      break;
    case ErrorKind::MismatchedFree:
      out << "mismatched free of ";
      break;
    default:
      out << "invalid free of ";
      break;
  }
  out.hex(e.address);
  if (e.kind == ErrorKind::InvalidFree) {
    out << " (" << name_of(e.invalid_pointer);
    if (e.invalid_pointer == InvalidPointer::Interior) {
      out << ": " << (e.address - e.block_address) << " bytes into the " << e.block_size << "-byte block at ";
      out.hex(e.block_address);
    }
    out << ')';
  } else {
    out << " (" << e.block_size << " bytes)";
  }
  if (e.kind == ErrorKind::MismatchedFree && e.alloc_kind)
    out << ": allocated by " << name_of(static_cast<AllocKind>(e.alloc_kind)) << ", released by "
        << name_of(e.dealloc_kind);
  else
    out << " by " << name_of(e.dealloc_kind);
  out << " in thread " << e.thread << '\n';
}

}  // namespace

void print_error(const ErrorRecord& error, const StackDepot& depot, uint32_t pid) {
  // One write per error, so reports from several threads do not interleave.
  static char storage[64 * 1024];
  static Mutex print_mutex;
  LockGuard guard(print_mutex);
  TextBuffer out(storage, sizeof(storage));
  out << "==" << pid << "== nantrack: ";
  print_headline(out, error);
  print_stack(out, depot, error.stack);
  if (error.free_stack != kNoStack) {
    out << (error.kind == ErrorKind::DoubleFree ? "  first freed here:\n" : "  freed here:\n");
    print_stack(out, depot, error.free_stack);
  }
  if (error.alloc_stack != kNoStack) {
    out << "  allocated here:\n";
    print_stack(out, depot, error.alloc_stack);
  }
  out << '\n';
  print_to_stderr(out.view());
}

}  // namespace nantrack
