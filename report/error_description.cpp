#include "report/error_description.h"

#include <fmt/format.h>

namespace nantrack {
namespace {

std::string block_text(const ErrorEvent& event) {
  return fmt::format("the {}-byte block at {:#x}", event.block_size, event.block_address);
}

std::string invalid_free_text(const ErrorEvent& event) {
  std::string text = fmt::format("invalid {} of {:#x}", name_of(event.dealloc_kind), event.address);
  if (event.invalid_pointer != InvalidPointer::None) text += fmt::format(": {}", name_of(event.invalid_pointer));
  if (event.invalid_pointer == InvalidPointer::Interior && event.block_size != 0)
    text += fmt::format(" ({})", block_text(event));
  return text;
}

std::string mismatched_free_text(const ErrorEvent& event) {
  const std::string_view allocator = event.alloc_kind ? name_of(*event.alloc_kind) : std::string_view("?");
  return fmt::format("mismatched free of {:#x} ({} bytes): allocated with {}, released with {}", event.address,
                     event.block_size, allocator, name_of(event.dealloc_kind));
}

std::string bytes_text(uint64_t count) { return fmt::format("{} byte{}", count, count == 1 ? "" : "s"); }

// "heap overflow: 1 byte after the 24-byte block at 0x5581a2c0 was changed (at offset 24)"
std::string heap_overflow_text(const ErrorEvent& event) {
  const bool before = event.overflow_side == OverflowSide::Before;
  const std::string where = before ? fmt::format("nearest the block: {} before its start", event.first_changed_offset)
                                   : fmt::format("first at offset {}", event.first_changed_offset);
  return fmt::format("heap overflow: {} {} {} {} changed ({})", bytes_text(event.bytes_changed),
                     before ? "before" : "after", block_text(event), event.bytes_changed == 1 ? "was" : "were", where);
}

// "write after free: 8 bytes at offset 0 of the freed 24-byte block at 0x5581a2c0"
std::string write_after_free_text(const ErrorEvent& event) {
  return fmt::format("write after free: {} at offset {} of the freed {}-byte block at {:#x}",
                     bytes_text(event.bytes_changed), event.first_changed_offset, event.block_size,
                     event.block_address);
}

std::string error_text(const ErrorEvent& event) {
  switch (event.kind) {
    case ErrorKind::DoubleFree:
      return fmt::format("double free of {:#x} ({} bytes)", event.address, event.block_size);
    case ErrorKind::InvalidFree: return invalid_free_text(event);
    case ErrorKind::MismatchedFree: return mismatched_free_text(event);
    case ErrorKind::HeapOverflow: return heap_overflow_text(event);
    case ErrorKind::WriteAfterFree: return write_after_free_text(event);
  }
  return fmt::format("unknown error {} at {:#x}", static_cast<int>(event.kind), event.address);
}

}  // namespace

std::string describe_error(const ErrorEvent& event) {
  return fmt::format("{} in thread {}", error_text(event), event.thread);
}

std::string_view bad_call_caption(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::DoubleFree: return "double free here";
    case ErrorKind::InvalidFree: return "invalid free here";
    case ErrorKind::MismatchedFree: return "released here";
    case ErrorKind::HeapOverflow:
    case ErrorKind::WriteAfterFree: return "detected here";
  }
  return "here";
}

std::string_view free_stack_caption(ErrorKind kind) {
  return kind == ErrorKind::DoubleFree ? "first freed here" : "freed here";
}

std::vector<CaptionedStack> captioned_stacks(const ErrorFinding& error) {
  const ErrorKind kind = error.event.kind;
  std::vector<CaptionedStack> stacks;
  for (const CaptionedStack& captioned : {CaptionedStack{bad_call_caption(kind), &error.stack},
                                          CaptionedStack{free_stack_caption(kind), &error.free_stack},
                                          CaptionedStack{kAllocStackCaption, &error.alloc_stack}}) {
    if (!captioned.stack->empty()) stacks.push_back(captioned);
  }
  return stacks;
}

}  // namespace nantrack
