// What was called and what went wrong: the small enums that the tracker
// records and the report prints. Their numeric values are stored in trace
// files, so they are append-only.
#pragma once

#include <cstdint>
#include <string_view>

namespace nantrack {

// Which function returned a block.
enum class AllocKind : uint8_t {
  Malloc = 1,
  Calloc = 2,
  Realloc = 3,  // realloc and reallocarray
  PosixMemalign = 4,
  AlignedAlloc = 5,
  Memalign = 6,
  Valloc = 7,
  Pvalloc = 8,
  New = 9,
  NewArray = 10,
  NewAligned = 11,
  NewArrayAligned = 12,
};

// Which function gave a block back.
enum class DeallocKind : uint8_t {
  None = 0,  // no deallocation call: damage found on leaving quarantine or at exit
  Free = 1,  // free, free_sized, free_aligned_sized
  Realloc = 2,
  Delete = 3,
  DeleteArray = 4,
  DeleteAligned = 5,
  DeleteArrayAligned = 6,
};

// The error kinds, with the names the JSON report uses.
enum class ErrorKind : uint8_t {
  DoubleFree = 1,
  InvalidFree = 2,
  MismatchedFree = 3,
  HeapOverflow = 4,
  WriteAfterFree = 5,
};

// Which guard bytes of a block a heap overflow changed.
enum class OverflowSide : uint8_t {
  None = 0,
  Before = 1,  // the front redzone
  After = 2,   // the back redzone
};

// Why a pointer handed to a deallocation function was not a live block.
enum class InvalidPointer : uint8_t {
  None = 0,
  NeverAllocated = 1,   // not a heap block we know of
  Interior = 2,         // points inside a live block, not at its start
  StackAddress = 3,     // inside the calling thread's stack
  GlobalAddress = 4,    // inside a loaded module's data
};

// Why a snapshot trace was written while the process went on.
enum class SnapshotTrigger : uint8_t {
  Check = 1,      // nantrack_check_leaks() or __lsan_do_recoverable_leak_check()
  LeakCheck = 2,  // __lsan_do_leak_check(): the process's leak check, made early
  Signal = 3,     // the snapshot_signal option's signal
};

inline constexpr uint8_t kMaxAllocKind = 12;
inline constexpr uint8_t kMaxDeallocKind = 6;
inline constexpr uint8_t kMaxErrorKind = 5;
inline constexpr uint8_t kMaxInvalidPointer = 4;
inline constexpr uint8_t kMaxOverflowSide = 2;
inline constexpr uint8_t kMaxSnapshotTrigger = 3;

// Blocks of one family must be released by that family's deallocator:
// malloc-family ↔ free/realloc, new ↔ delete, new[] ↔ delete[], and the
// aligned forms only with their aligned partners.
enum class AllocFamily : uint8_t { Malloc, New, NewArray, NewAligned, NewArrayAligned };

constexpr AllocFamily family_of(AllocKind kind) {
  switch (kind) {
    case AllocKind::New: return AllocFamily::New;
    case AllocKind::NewArray: return AllocFamily::NewArray;
    case AllocKind::NewAligned: return AllocFamily::NewAligned;
    case AllocKind::NewArrayAligned: return AllocFamily::NewArrayAligned;
    default: return AllocFamily::Malloc;
  }
}

constexpr AllocFamily family_of(DeallocKind kind) {
  switch (kind) {
    case DeallocKind::Delete: return AllocFamily::New;
    case DeallocKind::DeleteArray: return AllocFamily::NewArray;
    case DeallocKind::DeleteAligned: return AllocFamily::NewAligned;
    case DeallocKind::DeleteArrayAligned: return AllocFamily::NewArrayAligned;
    default: return AllocFamily::Malloc;
  }
}

constexpr bool deallocation_matches(AllocKind alloc, DeallocKind dealloc) {
  return family_of(alloc) == family_of(dealloc);
}

// The function names users know, for messages and reports.
constexpr std::string_view name_of(AllocKind kind) {
  switch (kind) {
    case AllocKind::Malloc: return "malloc";
    case AllocKind::Calloc: return "calloc";
    case AllocKind::Realloc: return "realloc";
    case AllocKind::PosixMemalign: return "posix_memalign";
    case AllocKind::AlignedAlloc: return "aligned_alloc";
    case AllocKind::Memalign: return "memalign";
    case AllocKind::Valloc: return "valloc";
    case AllocKind::Pvalloc: return "pvalloc";
    case AllocKind::New: return "operator new";
    case AllocKind::NewArray: return "operator new[]";
    case AllocKind::NewAligned: return "operator new(align_val_t)";
    case AllocKind::NewArrayAligned: return "operator new[](align_val_t)";
  }
  return "?";
}

constexpr std::string_view name_of(DeallocKind kind) {
  switch (kind) {
    case DeallocKind::None: return "";
    case DeallocKind::Free: return "free";
    case DeallocKind::Realloc: return "realloc";
    case DeallocKind::Delete: return "operator delete";
    case DeallocKind::DeleteArray: return "operator delete[]";
    case DeallocKind::DeleteAligned: return "operator delete(align_val_t)";
    case DeallocKind::DeleteArrayAligned: return "operator delete[](align_val_t)";
  }
  return "?";
}

// snake_case names: the JSON report's keys and the suppression prefixes.
constexpr std::string_view name_of(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::DoubleFree: return "double_free";
    case ErrorKind::InvalidFree: return "invalid_free";
    case ErrorKind::MismatchedFree: return "mismatched_free";
    case ErrorKind::HeapOverflow: return "heap_overflow";
    case ErrorKind::WriteAfterFree: return "write_after_free";
  }
  return "?";
}

// The JSON report's names.
constexpr std::string_view name_of(SnapshotTrigger trigger) {
  switch (trigger) {
    case SnapshotTrigger::Check: return "check";
    case SnapshotTrigger::LeakCheck: return "leak_check";
    case SnapshotTrigger::Signal: return "signal";
  }
  return "?";
}

constexpr std::string_view name_of(InvalidPointer why) {
  switch (why) {
    case InvalidPointer::None: return "";
    case InvalidPointer::NeverAllocated: return "not allocated by malloc or new";
    case InvalidPointer::Interior: return "points inside a heap block, not at its start";
    case InvalidPointer::StackAddress: return "a stack address";
    case InvalidPointer::GlobalAddress: return "a global (module data) address";
  }
  return "?";
}

}  // namespace nantrack
