// Suppressions: findings the user (or nantrack itself, for the C and C++
// runtimes) has decided not to report. One file type holds two dialects,
// told apart entry by entry, so existing LeakSanitizer and valgrind files
// work as they are:
//
//   # LeakSanitizer style, one KIND:PATTERN per line. KIND is leak,
//   # double_free, invalid_free, mismatched_free, heap_overflow or
//   # write_after_free ('-' may stand for '_'). As in LeakSanitizer, PATTERN
//   # matches a substring (an implicit * at both ends) unless it starts with
//   # ^ or ends with $, and hides the finding if ANY frame's function
//   # (demangled, with or without its parameter list), source file, module
//   # path or module file name matches.
//   leak:libfontconfig.so
//   double_free:^Cache::drop
//
//   # valgrind style: a block matched frame by frame from the innermost.
//   {
//      name shown in the report's list of suppressions used
//      Memcheck:Leak                  (Memcheck:Free: double, invalid and
//      match-leak-kinds: definite     mismatched frees; nantrack:KIND: one
//      fun:make_buffer*               of the KINDs above)
//      ...
//      obj:*/libplugin.so
//   }
//
// In a block, fun: matches the demangled function name with or without its
// parameter list (a mangled _Z name is demangled first: valgrind writes
// mangled names; with a wildcard only its leading names can be, so
// "_ZN5boost6detail*" means "boost::detail*"); obj: matches the module's full
// path; src: matches the source file's path or file name, then an optional
// :LINE; "..." matches any number of frames, also none. The stack must start
// with the frames listed (frames after them do not matter). valgrind's stacks
// start inside malloc or free, ours at its caller: a Memcheck block's first
// line is dropped when it names an allocation or deallocation function.
// Blocks of other valgrind tools, and Memcheck kinds nantrack never reports
// (Cond, Value8, Param, Addr4...), are accepted and never match.
//
// Patterns use * and ? (report/glob.h). Lines starting with # and blank lines
// are ignored everywhere.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "report/report_model.h"

namespace nantrack {

// what() is one line without the tool's prefix, like TraceError:
// "suppressions file 'ci.supp' line 7: unknown kind 'leek' (expected leak, ...)".
class SuppressionsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A demangled function name without its parameter list and what follows it:
// "Cache::put(std::string const&) const" -> "Cache::put",
// "(anonymous namespace)::pool::pool()" -> "(anonymous namespace)::pool::pool";
// "main" stays "main".
std::string_view without_parameters(std::string_view function);

// One line of a valgrind block.
struct FramePattern {
  enum class Field : uint8_t { Function, Object, Source, AnyFrames };
  Field field = Field::AnyFrames;
  std::string glob;
  int line = 0;  // src:FILE:LINE; 0 for any line
};

struct Suppression {
  enum class Dialect : uint8_t { LeakSanitizer, Valgrind };

  std::string name;    // as the report lists it: "leak:libfoo.so", or the block's name
  std::string source;  // the file
  int line = 0;        // where the entry starts in it
  Dialect dialect = Dialect::LeakSanitizer;
  uint8_t leak_kinds = 0;            // bit (1 << LeakKind) for each kind hidden
  uint8_t error_kinds = 0;           // bit (1 << ErrorKind) for each kind hidden
  std::string any_frame_glob;        // LeakSanitizer: with the implicit *s already added
  std::vector<FramePattern> frames;  // valgrind: innermost first

  bool applies_to(LeakKind kind) const { return leak_kinds & (1u << static_cast<unsigned>(kind)); }
  bool applies_to(ErrorKind kind) const { return error_kinds & (1u << static_cast<unsigned>(kind)); }
  bool matches(const SourceStack& stack) const;
};

// The stack an error's suppressions are matched against: the bad call's, or
// when there is none (damage found at exit) the block's allocation stack.
const SourceStack& suppressed_stack(const ErrorFinding& error);

class Suppressions {
 public:
  // A new set with one file's rules. Throws SuppressionsError.
  static Suppressions load_file(const std::string& path);

  // Appends a file's rules, or rules given as text (`source` names them in
  // messages and in the report). Throws SuppressionsError; on error nothing
  // is added.
  void add_file(const std::string& path);
  void add_text(std::string_view text, const std::string& source);

  // The first rule, in the order added, that hides a leak of this kind with
  // this allocation stack; nullptr if none does.
  const Suppression* match_leak(LeakKind kind, const SourceStack& alloc_stack) const;
  // Whether any rule hides leaks of this kind at all.
  bool may_hide(LeakKind kind) const;
  // The same for an error, matched against suppressed_stack(error).
  const Suppression* match_error(const ErrorFinding& error) const;

  const std::vector<Suppression>& rules() const { return rules_; }

 private:
  std::vector<Suppression> rules_;
};

// --gen-suppressions (gen_suppressions.cpp): a ready suppression for each
// finding of a report, in the valgrind block form with nantrack's own types,
// so that it hides exactly that kind of finding (valgrind skips blocks of
// tools other than its own, so the file can be shared with it):
//
//   # pid 4242: 3,072 bytes in 3 blocks leaked (definite)
//   {
//      leak from make_buffer(unsigned long)
//      nantrack:leak
//      match-leak-kinds: definite
//      fun:make_buffer(unsigned long)
//   }
//
// The frames run from the innermost to the innermost one in the program's own
// code (report/project_frame.h), so that the suppression hides the finding
// however that code was reached; without such a frame, the first 12.
// A frame without a function name is matched by its module (obj:), one
// without either by "...".
//
// Errors and then leaks of each process, in the text report's order, all of
// them (also the leak sites the text report leaves out); a block that would
// repeat one already written is left out.
void write_generated_suppressions(const Report& report, std::ostream& out);

}  // namespace nantrack
