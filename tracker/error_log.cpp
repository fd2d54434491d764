#include "tracker/error_log.h"

#include <dlfcn.h>

#include "tracker/internal_memory.h"
#include "tracker/stderr_output.h"
#include "tracker/text_buffer.h"

namespace nantrack {

bool ErrorLog::init() {
  records_ = static_cast<ErrorRecord*>(map_memory(kCapacity * sizeof(ErrorRecord), true));
  occurrences_ = static_cast<uint64_t*>(map_memory(kCapacity * sizeof(uint64_t), true));
  index_ = static_cast<uint32_t*>(map_memory(kIndexSlots * sizeof(uint32_t), true));
  return records_ && occurrences_ && index_;
}

void ErrorLog::release() {
  unmap_memory(records_, kCapacity * sizeof(ErrorRecord));
  unmap_memory(occurrences_, kCapacity * sizeof(uint64_t));
  unmap_memory(index_, kIndexSlots * sizeof(uint32_t));
  records_ = nullptr;
  occurrences_ = nullptr;
  index_ = nullptr;
  count_ = 0;
  full_ = false;
}

// The same mistake: the kind, the call that made it and the block's
// stacks. Addresses may differ (a loop freeing the same wrong pointer of
// each object it visits).
bool ErrorLog::same_error(const ErrorRecord& a, const ErrorRecord& b) {
  return a.kind == b.kind && a.alloc_kind == b.alloc_kind && a.dealloc_kind == b.dealloc_kind &&
         a.invalid_pointer == b.invalid_pointer && a.overflow_side == b.overflow_side && a.stack == b.stack &&
         a.alloc_stack == b.alloc_stack && a.free_stack == b.free_stack;
}

uint64_t ErrorLog::hash_of(const ErrorRecord& error) {
  uint64_t h = static_cast<uint64_t>(error.kind) | uint64_t{error.alloc_kind} << 8 |
               uint64_t{static_cast<uint8_t>(error.dealloc_kind)} << 16 |
               uint64_t{static_cast<uint8_t>(error.invalid_pointer)} << 24 |
               uint64_t{static_cast<uint8_t>(error.overflow_side)} << 32;
  for (uint64_t stack : {error.stack, error.alloc_stack, error.free_stack}) {
    h ^= stack + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xbf58476d1ce4e5b9ull;
  }
  return h ^ (h >> 31);
}

ErrorLog::Added ErrorLog::add(const ErrorRecord& error, size_t& index) {
  LockGuard guard(mutex_);
  if (records_ && occurrences_ && index_) {
    size_t slot = hash_of(error) & (kIndexSlots - 1);
    for (; index_[slot]; slot = (slot + 1) & (kIndexSlots - 1)) {
      const size_t kept = index_[slot] - 1;
      if (same_error(records_[kept], error)) {
        ++occurrences_[kept];
        index = kept;
        return Added::Repeat;
      }
    }
    // The index has twice the records' room: a free slot is always found.
    if (count_ < kCapacity) {
      records_[count_] = error;
      occurrences_[count_] = 1;
      index_[slot] = static_cast<uint32_t>(count_ + 1);
      index = count_++;
      return Added::New;
    }
  }
  if (!full_) {
    full_ = true;
    print_to_stderr(
        "nantrack: more than 65,536 different errors: later new ones are printed here but not kept in the trace\n");
  }
  return Added::NotKept;
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
