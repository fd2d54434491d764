#include "report/suppression_parser.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

#include <fmt/format.h>

#include "report/glob.h"
#include "report/mangled_pattern.h"

namespace nantrack {
namespace {

constexpr std::array kLeakKinds = {LeakKind::Definite, LeakKind::Indirect, LeakKind::Possible, LeakKind::Reachable};
constexpr uint8_t kAllLeakKinds = 0b1111;  // one bit per LeakKind
constexpr uint8_t bit_of(ErrorKind kind) { return static_cast<uint8_t>(1u << static_cast<unsigned>(kind)); }
constexpr uint8_t kBadFreeKinds =
    bit_of(ErrorKind::DoubleFree) | bit_of(ErrorKind::InvalidFree) | bit_of(ErrorKind::MismatchedFree);

constexpr std::string_view kKindList =
    "leak, double_free, invalid_free, mismatched_free, heap_overflow, write_after_free";

// valgrind tools whose suppressions may share a file with Memcheck's; their
// blocks are accepted and ignored.
constexpr std::array<std::string_view, 5> kOtherValgrindTools = {"Addrcheck", "Helgrind", "DRD", "exp-sgcheck",
                                                                 "exp-ptrcheck"};
// Memcheck kinds for errors nantrack does not detect (uninitialised values,
// invalid reads and writes, syscall parameters...): accepted, never matching.
constexpr std::array<std::string_view, 19> kOtherMemcheckKinds = {
    "Value1", "Value2", "Value4", "Value8", "Value16", "Value32", "Cond",        "Addr1",       "Addr2",     "Addr4",
    "Addr8",  "Addr16", "Addr32", "Jump",   "Param",   "Overlap", "ClientCheck", "Realloczero", "FishyValue"};

// The functions valgrind's stacks start in (its malloc and free replacements);
// ours start at their caller.
constexpr std::array<std::string_view, 14> kAllocatorFunctions = {
    "malloc", "calloc",        "realloc", "reallocarray", "free",           "memalign",        "posix_memalign",
    "valloc", "aligned_alloc", "pvalloc", "operator new", "operator new[]", "operator delete", "operator delete[]"};

template <size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view word) {
  return std::ranges::find(list, word) != list.end();
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\v\f";
  const size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

// Text from the file as a message quotes it: printable, and short enough
// that the message stays one line whatever the file holds.
std::string shown(std::string_view text) {
  constexpr size_t kLongest = 60;
  std::string out;
  for (const char c : text.substr(0, kLongest)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  if (text.size() > kLongest) out += "...";
  return out;
}

// A KIND of the LeakSanitizer dialect or of nantrack:KIND blocks, as
// (leak kinds, error kinds) bits.
std::optional<std::pair<uint8_t, uint8_t>> kind_bits(std::string_view kind) {
  if (kind == "leak") return std::pair<uint8_t, uint8_t>{kAllLeakKinds, 0};
  for (uint8_t value = 1; value <= kMaxErrorKind; ++value) {
    const auto error = static_cast<ErrorKind>(value);
    if (kind == name_of(error)) return std::pair<uint8_t, uint8_t>{0, bit_of(error)};
  }
  return std::nullopt;
}

// Whether a block's first frame line stands for valgrind's own malloc or
// free replacement, which our stacks leave out.
bool names_allocator_frame(const FramePattern& pattern) {
  if (pattern.field == FramePattern::Field::Object)
    return pattern.glob.find("vgpreload") != std::string::npos ||
           glob_match(pattern.glob, "/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so");
  if (pattern.field != FramePattern::Field::Function) return false;
  return std::ranges::any_of(kAllocatorFunctions, [&](std::string_view function) {
    return glob_match(pattern.glob, function) || glob_match(without_parameters(pattern.glob), function);
  });
}

class Parser {
 public:
  Parser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  std::vector<Suppression> parse() {
    size_t start = 0;
    while (start <= text_.size()) {
      const size_t end = std::min(text_.find('\n', start), text_.size());
      ++line_;
      const std::string_view line = trim(text_.substr(start, end - start));
      if (!line.empty() && !line.starts_with('#')) block_ ? block_line(line) : top_level_line(line);
      start = end + 1;
    }
    if (block_)
      fail(block_->rule.line,
           block_->rule.name.empty()
               ? std::string("the suppression opened here is never closed (missing '}')")
               : fmt::format("suppression '{}' is never closed (missing '}}')", shown(block_->rule.name)));
    return std::move(rules_);
  }

 private:
  // A valgrind block being read.
  struct OpenBlock {
    enum class Expect : uint8_t { Name, Type, Frames };
    Expect expect = Expect::Name;
    bool ignored = false;   // another tool's, or a Memcheck kind we never report
    bool memcheck = false;  // its stacks start inside valgrind's malloc or free
    Suppression rule;
  };

  [[noreturn]] void fail(int line, std::string_view what) const {
    throw SuppressionsError(fmt::format("suppressions file '{}' line {}: {}", source_, line, what));
  }

  void top_level_line(std::string_view line) {
    if (line == "{") {
      block_.emplace();
      block_->rule = {.source = source_, .line = line_, .dialect = Suppression::Dialect::Valgrind};
      return;
    }
    if (line == "}") fail(line_, "'}' without a '{' before it");
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos)
      fail(line_, fmt::format("expected KIND:PATTERN or a valgrind '{{' block, got '{}'", shown(line)));

    std::string kind(trim(line.substr(0, colon)));
    std::ranges::replace(kind, '-', '_');  // DESIGN.md spells them double-free
    const auto bits = kind_bits(kind);
    if (!bits) fail(line_, fmt::format("unknown kind '{}' (expected {})", shown(kind), kKindList));

    std::string_view pattern = trim(line.substr(colon + 1));
    const bool anchored_start = pattern.starts_with('^');
    if (anchored_start) pattern.remove_prefix(1);
    const bool anchored_end = pattern.ends_with('$');
    if (anchored_end) pattern.remove_suffix(1);
    if (pattern.empty()) fail(line_, fmt::format("empty pattern after '{}:'", shown(kind)));

    rules_.push_back(
        {.name = std::string(line),
         .source = source_,
         .line = line_,
         .dialect = Suppression::Dialect::LeakSanitizer,
         .leak_kinds = bits->first,
         .error_kinds = bits->second,
         .any_frame_glob = fmt::format("{}{}{}", anchored_start ? "" : "*", pattern, anchored_end ? "" : "*")});
  }

  void block_line(std::string_view line) {
    OpenBlock& block = *block_;
    if (line == "{")
      fail(line_, fmt::format("'{{' inside the suppression opened on line {} (missing '}}'?)", block.rule.line));
    if (line == "}") return close_block();
    switch (block.expect) {
      case OpenBlock::Expect::Name:
        block.rule.name = line;
        block.expect = OpenBlock::Expect::Type;
        return;
      case OpenBlock::Expect::Type:
        read_type(line);
        block.expect = OpenBlock::Expect::Frames;
        return;
      case OpenBlock::Expect::Frames:
        if (!block.ignored) read_frame_line(line);
        return;
    }
  }

  // "Memcheck:Leak", "Memcheck:Free", "nantrack:double_free", "Helgrind:Race",
  // and valgrind's tool lists such as "Memcheck,Addrcheck:Leak".
  void read_type(std::string_view line) {
    OpenBlock& block = *block_;
    const size_t colon = line.find(':');
    const std::string_view kind = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    bool memcheck = false, nantrack = false, other_tool = false;
    for (size_t start = 0; colon != std::string_view::npos && start <= colon;) {
      const size_t end = std::min(line.find(',', start), colon);
      const std::string_view tool = trim(line.substr(start, end - start));
      memcheck |= tool == "Memcheck";
      nantrack |= tool == "nantrack";
      other_tool |= contains(kOtherValgrindTools, tool);
      start = end + 1;
    }
    if (nantrack && kind_bits(kind)) {
      std::tie(block.rule.leak_kinds, block.rule.error_kinds) = *kind_bits(kind);
    } else if (memcheck && kind == "Leak") {
      block.rule.leak_kinds = kAllLeakKinds;
      block.memcheck = true;
    } else if (memcheck && kind == "Free") {
      block.rule.error_kinds = kBadFreeKinds;
      block.memcheck = true;
    } else if ((memcheck && contains(kOtherMemcheckKinds, kind)) || other_tool) {
      block.ignored = true;
    } else {
      fail(line_, fmt::format("unknown suppression type '{}' in '{}' (expected Memcheck:Leak, Memcheck:Free or "
                              "nantrack:KIND with KIND one of {})",
                              shown(line), shown(block.rule.name), kKindList));
    }
  }

  void read_frame_line(std::string_view line) {
    Suppression& rule = block_->rule;
    if (line.starts_with("match-leak-kinds:")) return read_leak_kinds(line.substr(17));
    FramePattern pattern;
    if (line == "...") {
      rule.frames.push_back(pattern);
      return;
    }
    const std::string_view glob = line.substr(std::min<size_t>(4, line.size()));
    if (line.starts_with("fun:")) {
      pattern = {.field = FramePattern::Field::Function, .glob = demangled_pattern(glob)};
    } else if (line.starts_with("obj:")) {
      pattern = {.field = FramePattern::Field::Object, .glob = std::string(glob)};
    } else if (line.starts_with("src:")) {
      pattern = source_pattern(glob);
    } else {
      fail(line_, fmt::format("expected fun:, obj:, src: or '...' in suppression '{}', got '{}'", shown(rule.name),
                              shown(line)));
    }
    if (pattern.glob.empty()) fail(line_, fmt::format("empty pattern in '{}'", shown(line)));
    rule.frames.push_back(std::move(pattern));
  }

  // "file.cpp" or "file.cpp:42".
  static FramePattern source_pattern(std::string_view glob) {
    FramePattern pattern{.field = FramePattern::Field::Source, .glob = std::string(glob)};
    const size_t colon = glob.rfind(':');
    const std::string_view digits = colon == std::string_view::npos ? std::string_view() : glob.substr(colon + 1);
    if (!digits.empty() && digits.size() <= 9 && std::ranges::all_of(digits, ::isdigit)) {
      pattern.glob = glob.substr(0, colon);
      pattern.line = std::stoi(std::string(digits));
    }
    return pattern;
  }

  // valgrind's "match-leak-kinds: definite,possible" (also "all", "none").
  void read_leak_kinds(std::string_view list) {
    Suppression& rule = block_->rule;
    if (!rule.leak_kinds) fail(line_, "match-leak-kinds: is only for leak suppressions");
    if (!rule.frames.empty()) fail(line_, "match-leak-kinds: must come before the frame lines");
    rule.leak_kinds = 0;
    for (size_t start = 0; start <= list.size();) {
      const size_t end = std::min(list.find(',', start), list.size());
      const std::string_view word = trim(list.substr(start, end - start));
      start = end + 1;
      if (word == "all") {
        rule.leak_kinds = kAllLeakKinds;
        continue;
      }
      if (word == "none") continue;
      const auto known = std::ranges::find_if(kLeakKinds, [word](LeakKind kind) { return name_of(kind) == word; });
      if (known == kLeakKinds.end())
        fail(line_, fmt::format("unknown leak kind '{}' in match-leak-kinds (expected definite, indirect, "
                                "possible, reachable, all or none)",
                                shown(word)));
      rule.leak_kinds |= static_cast<uint8_t>(1u << static_cast<unsigned>(*known));
    }
  }

  void close_block() {
    OpenBlock block = std::move(*block_);
    block_.reset();
    if (block.expect == OpenBlock::Expect::Name) fail(line_, "empty suppression block (no name, no type)");
    if (block.expect == OpenBlock::Expect::Type)
      fail(line_, fmt::format("suppression '{}' has no type line such as Memcheck:Leak", shown(block.rule.name)));
    if (block.ignored) return;
    std::vector<FramePattern>& frames = block.rule.frames;
    if (frames.empty())
      fail(line_, fmt::format("suppression '{}' has no fun:, obj:, src: or '...' line", shown(block.rule.name)));
    if (block.memcheck && names_allocator_frame(frames.front())) frames.erase(frames.begin());
    rules_.push_back(std::move(block.rule));
  }

  std::string_view text_;
  const std::string& source_;
  int line_ = 0;
  std::optional<OpenBlock> block_;
  std::vector<Suppression> rules_;
};

}  // namespace

std::vector<Suppression> parse_suppressions(std::string_view text, const std::string& source) {
  return Parser(text, source).parse();
}

}  // namespace nantrack
