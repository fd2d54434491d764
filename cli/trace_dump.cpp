#include "cli/trace_dump.h"

#include <elf.h>
#include <string.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <iterator>
#include <map>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "tracker/trace_format.h"

namespace nantrack {
namespace {

// The live blocks that share one allocation stack.
struct BlockGroup {
  StackId stack = 0;
  uint64_t blocks = 0;
  uint64_t bytes = 0;
  uint32_t kinds = 0;  // bit N set: a block came from AllocKind N
};

// Biggest first, like the text report, so the top of the dump is what matters;
// ties in stack-id order, so two dumps of one trace are the same.
std::vector<BlockGroup> group_by_stack(const std::vector<LiveBlock>& live_blocks) {
  std::map<StackId, BlockGroup> by_stack;
  for (const LiveBlock& block : live_blocks) {
    BlockGroup& group = by_stack[block.stack];
    group.stack = block.stack;
    ++group.blocks;
    group.bytes += block.size;
    group.kinds |= 1u << static_cast<unsigned>(block.kind);
  }
  std::vector<BlockGroup> groups;
  groups.reserve(by_stack.size());
  for (const auto& [stack, group] : by_stack) groups.push_back(group);
  std::ranges::stable_sort(groups, [](const BlockGroup& a, const BlockGroup& b) {
    return a.bytes != b.bytes ? a.bytes > b.bytes : a.blocks > b.blocks;
  });
  return groups;
}

std::string kind_names(uint32_t kinds) {
  std::vector<std::string_view> names;
  for (unsigned kind = 1; kind <= kMaxAllocKind; ++kind) {
    if (kinds & (1u << kind)) names.push_back(name_of(static_cast<AllocKind>(kind)));
  }
  return fmt::format("{}", fmt::join(names, ", "));
}

// Quoted the way a shell would need it, so an argv can be pasted back.
std::string shell_quoted(std::string_view arg) {
  const bool plain = !arg.empty() && std::ranges::all_of(arg, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("_-./=:,+@%").find(c) != std::string_view::npos;
  });
  if (plain) return std::string(arg);
  std::string quoted = "'";
  for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string_view basename_of(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string stack_label(StackId id) {
  return id == trace_format::kNoStack ? "no stack" : fmt::format("stack {}", id);
}

std::string signal_name(int32_t signal) {
  const char* abbreviation = sigabbrev_np(signal);
  return abbreviation ? fmt::format("{} (SIG{})", signal, abbreviation) : fmt::to_string(signal);
}

std::string segment_permissions(uint32_t flags) {
  return {flags & PF_R ? 'r' : '-', flags & PF_W ? 'w' : '-', flags & PF_X ? 'x' : '-'};
}

class TraceDumper {
 public:
  TraceDumper(const Trace& trace, size_t limit) : trace_(trace), limit_(limit) {}

  std::string dump() && {
    line(0, "trace {}", trace_.path);
    process();
    counters();
    modules();
    line(0, "stacks {}", trace_.stacks.size());
    live_blocks();
    errors();
    return fmt::to_string(out_);
  }

 private:
  template <typename... Args>
  void line(int indent, fmt::format_string<Args...> format, Args&&... args) {
    fmt::format_to(std::back_inserter(out_), "{:{}}", "", indent * 2);
    fmt::format_to(std::back_inserter(out_), format, std::forward<Args>(args)...);
    out_.push_back('\n');
  }

  void process() {
    const ProcessInfo& process = trace_.process;
    line(0, "process");
    line(1, "pid {}, parent {}", process.pid, process.ppid);
    line(1, "exe {}", process.exe);
    std::vector<std::string> argv;
    std::ranges::transform(process.argv, std::back_inserter(argv), shell_quoted);
    line(1, "argv {}", fmt::join(argv, " "));
    line(1, "exit status {}, signal {}",
         process.exit_status ? fmt::to_string(*process.exit_status) : "unknown",
         process.signal ? signal_name(process.signal) : "none");
    std::vector<std::string_view> flags;
    if (process.crashed) flags.push_back("crashed");
    if (process.exited_via_underscore_exit) flags.push_back("_exit");
    if (process.forked_child) flags.push_back("forked child");
    if (process.own_allocator) flags.push_back("own malloc (not seen)");
    if (process.live_blocks_unknown) flags.push_back("live blocks unknown");
    line(1, "flags {}", flags.empty() ? "none" : fmt::format("{}", fmt::join(flags, ", ")));
    if (process.start_ns > 0 && process.end_ns >= process.start_ns) {
      line(1, "duration {:.3f} s", static_cast<double>(process.end_ns - process.start_ns) / 1e9);
    } else {
      line(1, "duration unknown");
    }
  }

  void counters() {
    const Counters& counters = trace_.counters;
    line(0, "counters");
    line(1, "allocations {}, frees {}, bytes allocated {}, peak live bytes {}", counters.allocations,
         counters.frees, counters.bytes_allocated, counters.peak_live_bytes);
  }

  void modules() {
    line(0, "modules {}", trace_.modules.size());
    for (const Module& module : trace_.modules) {
      line(1, "{}{}", module.path, module.unloaded ? " (unloaded)" : "");
      line(2, "build-id {}, load bias {:#x}", module.build_id.empty() ? "none" : hex_of(module.build_id),
           module.load_bias);
      for (const Segment& segment : module.segments) {
        line(2, "segment {:#x}-{:#x} {} file offset {:#x}", segment.start, segment.start + segment.size,
             segment_permissions(segment.flags), segment.file_offset);
      }
    }
  }

  void live_blocks() {
    const std::vector<BlockGroup> groups = group_by_stack(trace_.live_blocks);
    uint64_t bytes = 0;
    for (const BlockGroup& group : groups) bytes += group.bytes;
    line(0, "live blocks {} ({} bytes), {} groups by stack", trace_.live_blocks.size(), bytes, groups.size());
    const size_t shown = shown_count(groups.size());
    for (size_t i = 0; i < shown; ++i) {
      const BlockGroup& group = groups[i];
      line(1, "{} bytes in {} block{} ({}), {}", group.bytes, group.blocks, group.blocks == 1 ? "" : "s",
           kind_names(group.kinds), stack_label(group.stack));
      stack(2, group.stack);
    }
    more(groups.size() - shown, "groups");
  }

  void errors() {
    line(0, "errors {}", trace_.errors.size());
    const size_t shown = shown_count(trace_.errors.size());
    for (size_t i = 0; i < shown; ++i) error(trace_.errors[i]);
    more(trace_.errors.size() - shown, "errors");
  }

  void error(const ErrorEvent& error) {
    std::string what = fmt::format("{} of {:#x}", name_of(error.kind), error.address);
    if (error.dealloc_kind != DeallocKind::None) what += fmt::format(" by {}", name_of(error.dealloc_kind));
    what += fmt::format(" in thread {}", error.thread);
    if (error.overflow_side != OverflowSide::None || error.bytes_changed != 0) {
      what += fmt::format("; {} bytes changed, side {}, offset {}", error.bytes_changed,
                          static_cast<int>(error.overflow_side), error.first_changed_offset);
    }
    if (error.block_address != 0 || error.alloc_kind) {
      what += fmt::format("; block {:#x} ({} bytes) allocated by {}", error.block_address, error.block_size,
                          error.alloc_kind ? name_of(*error.alloc_kind) : "?");
    }
    if (error.invalid_pointer != InvalidPointer::None) {
      what += fmt::format("; pointer: {}", name_of(error.invalid_pointer));
    }
    if (error.occurrences > 1) what += fmt::format("; {} times in all", error.occurrences);
    line(1, "{}", what);
    labelled_stack("bad call", error.stack);
    labelled_stack("allocated", error.alloc_stack);
    labelled_stack("freed", error.free_stack);
  }

  void labelled_stack(std::string_view label, StackId id) {
    line(2, "{}, {}", label, stack_label(id));
    stack(3, id);
  }

  // Frames as `#N 0xPC module+0xOFFSET`, the offset being what addr2line and
  // the symbolizer take.
  void stack(int indent, StackId id) {
    const Stack& pcs = trace_.stack(id);
    if (pcs.empty() && id != trace_format::kNoStack) line(indent, "(no frames)");
    for (size_t i = 0; i < pcs.size(); ++i) {
      const Module* module = trace_.module_at(pcs[i]);
      if (module) {
        line(indent, "#{} {:#x} {}+{:#x}", i, pcs[i], basename_of(module->path), pcs[i] - module->load_bias);
      } else {
        line(indent, "#{} {:#x} ??", i, pcs[i]);
      }
    }
  }

  size_t shown_count(size_t total) const { return limit_ == 0 ? total : std::min(total, limit_); }

  void more(size_t hidden, std::string_view what) {
    if (hidden > 0) line(1, "... {} more {} (--limit 0 shows all)", hidden, what);
  }

  const Trace& trace_;
  size_t limit_;
  fmt::memory_buffer out_;
};

}  // namespace

std::string format_trace_dump(const Trace& trace, size_t limit) { return TraceDumper(trace, limit).dump(); }

}  // namespace nantrack
