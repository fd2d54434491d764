// Test helper for the suppression tests: frames, a typical leak stack, and
// rule sets parsed from text.
#pragma once

#include <string>
#include <string_view>

#include "report/suppressions.h"

namespace nantrack::testing {

inline constexpr const char* kApp = "/home/dev/app/build/app";
inline constexpr const char* kLibc = "/lib/x86_64-linux-gnu/libc.so.6";
inline constexpr const char* kLoader = "/lib64/ld-linux-x86-64.so.2";

inline SourceFrame frame(std::string function, std::string file = {}, int line = 0, std::string module = kApp) {
  return {.address = 0x1000,
          .function = std::move(function),
          .file = std::move(file),
          .line = line,
          .module = std::move(module)};
}

// make_buffer() <- load() (inlined) <- main() <- libc.
inline SourceStack leak_stack() {
  SourceStack stack = {frame("make_buffer(unsigned long)", "/home/dev/app/src/buf.cpp", 12),
                       frame("load()", "/home/dev/app/src/load.cpp", 7),
                       frame("main", "/home/dev/app/src/main.cpp", 20), frame("__libc_start_call_main", "", 0, kLibc)};
  stack[1].inlined = true;
  return stack;
}

inline Suppressions parsed(std::string_view text) {
  Suppressions suppressions;
  suppressions.add_text(text, "test.supp");
  return suppressions;
}

// The message a file's parse fails with, or "parsed" when it does not.
inline std::string parse_error(std::string_view text) {
  try {
    parsed(text);
  } catch (const SuppressionsError& error) {
    return error.what();
  }
  return "parsed";
}

inline bool hides_leak(std::string_view text, const SourceStack& stack, LeakKind kind = LeakKind::Definite) {
  return parsed(text).match_leak(kind, stack) != nullptr;
}

inline ErrorFinding error_of(ErrorKind kind, SourceStack stack, SourceStack alloc_stack = {}) {
  return {.event = {.kind = kind}, .stack = std::move(stack), .alloc_stack = std::move(alloc_stack)};
}

inline bool hides_error(std::string_view text, const ErrorFinding& error) {
  return parsed(text).match_error(error) != nullptr;
}

// A Memcheck:Leak block with these frame lines.
inline std::string memcheck_leak(std::string_view frames) {
  return "{\n   my suppression\n   Memcheck:Leak\n" + std::string(frames) + "}\n";
}

}  // namespace nantrack::testing
