#include "report/symbol_cache.h"

#include <link.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string_view>

#include <fmt/format.h>

#include "report/trace.h"
#include "tracker/build_id_note.h"

namespace nantrack {
namespace {

namespace fs = std::filesystem;

constexpr int kFormatVersion = 1;
// Bounds for a file that is not what we wrote: beyond them it is ignored.
constexpr uintmax_t kMaxFileBytes = uintmax_t{32} << 20;
constexpr size_t kMaxFramesPerPc = 256;
// A module's file stops growing here: reports need few pcs of a library,
// and a file much larger would take as long to read as the DWARF.
constexpr size_t kMaxPcsPerModule = 65536;

// The running executable's build-id, in hex; empty if it has none. It
// changes whenever the symbolizer's code does.
std::string own_build_id() {
  std::string found;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        uint8_t build_id[64];
        const uint32_t length = read_build_id(info, build_id, sizeof(build_id));
        *static_cast<std::string*>(data) = hex_of({reinterpret_cast<const char*>(build_id), length});
        return 1;  // the first module is the executable
      },
      &found);
  return found;
}

// Fields are tab-separated on one line: a name holding either (no real
// one does) is not cached.
bool storable(std::string_view text) { return text.find_first_of("\t\n\r") == std::string_view::npos; }

template <typename Number>
bool parse_number(std::string_view text, Number& value, int base = 10) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

// One frame line: inlined, line, function, file.
std::optional<SourceFrame> parse_frame(std::string_view text) {
  std::string_view fields[4];
  for (int i = 0; i < 3; ++i) {
    const size_t tab = text.find('\t');
    if (tab == std::string_view::npos) return std::nullopt;
    fields[i] = text.substr(0, tab);
    text.remove_prefix(tab + 1);
  }
  fields[3] = text;
  SourceFrame frame;
  if (fields[0] != "0" && fields[0] != "1") return std::nullopt;
  frame.inlined = fields[0] == "1";
  if (!parse_number(fields[1], frame.line) || frame.line < 0 || !storable(fields[3])) return std::nullopt;
  frame.function = fields[2];
  frame.file = fields[3];
  return frame;
}

// The whole file or nothing: a file cut short or edited is not trusted.
std::optional<std::unordered_map<uint64_t, std::vector<SourceFrame>>> parse(std::string_view text,
                                                                             std::string_view header) {
  auto next_line = [&text]() -> std::optional<std::string_view> {
    const size_t end = text.find('\n');
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    return line;
  };
  if (next_line() != header) return std::nullopt;
  std::unordered_map<uint64_t, std::vector<SourceFrame>> by_offset;
  for (;;) {
    const std::optional<std::string_view> line = next_line();
    if (!line) return std::nullopt;
    if (*line == "end") break;
    const size_t space = line->find(' ');
    uint64_t offset = 0;
    size_t count = 0;
    if (!line->starts_with('@') || space == std::string_view::npos || !parse_number(line->substr(1, space - 1), offset, 16) ||
        !parse_number(line->substr(space + 1), count) || count == 0 || count > kMaxFramesPerPc ||
        by_offset.size() >= kMaxPcsPerModule)
      return std::nullopt;
    std::vector<SourceFrame>& frames = by_offset[offset];
    frames.clear();
    for (size_t i = 0; i < count; ++i) {
      const std::optional<std::string_view> frame_line = next_line();
      std::optional<SourceFrame> frame = frame_line ? parse_frame(*frame_line) : std::nullopt;
      if (!frame) return std::nullopt;
      frames.push_back(std::move(*frame));
    }
  }
  if (!text.empty()) return std::nullopt;
  return by_offset;
}

std::optional<std::string> read_file(const fs::path& path) {
  std::error_code error;
  if (!fs::is_regular_file(path, error) || fs::file_size(path, error) > kMaxFileBytes || error) return std::nullopt;
  std::ifstream file(path, std::ios::binary);
  if (!file) return std::nullopt;
  std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  if (file.bad()) return std::nullopt;
  return text;
}

}  // namespace

std::optional<fs::path> SymbolCache::directory_from_environment() {
  if (const char* chosen = std::getenv("NANTRACK_SYMBOL_CACHE")) {
    if (*chosen == '\0' || std::string_view(chosen) == "off") return std::nullopt;
    return fs::path(chosen);
  }
  if (const char* cache_home = std::getenv("XDG_CACHE_HOME"); cache_home && *cache_home == '/')
    return fs::path(cache_home) / "nantrack" / "symbols";
  if (const char* home = std::getenv("HOME"); home && *home == '/')
    return fs::path(home) / ".cache" / "nantrack" / "symbols";
  return std::nullopt;
}

SymbolCache::SymbolCache(fs::path directory)
    : directory_(std::move(directory)), header_(fmt::format("nantrack-symbols {} {}", kFormatVersion, own_build_id())) {}

fs::path SymbolCache::file_of(const std::string& build_id) const { return directory_ / (hex_of(build_id) + ".symbols"); }

SymbolCache::ModuleFrames& SymbolCache::module(const std::string& build_id) {
  ModuleFrames& frames = modules_[build_id];
  if (!frames.loaded) {
    frames.loaded = true;
    if (const std::optional<std::string> text = read_file(file_of(build_id))) {
      if (auto parsed = parse(*text, header_)) frames.by_offset = std::move(*parsed);
    }
  }
  return frames;
}

const std::vector<SourceFrame>* SymbolCache::find(const std::string& build_id, uint64_t offset) {
  if (build_id.empty()) return nullptr;
  const ModuleFrames& frames = module(build_id);
  const auto found = frames.by_offset.find(offset);
  return found == frames.by_offset.end() ? nullptr : &found->second;
}

void SymbolCache::remember(const std::string& build_id, uint64_t offset, const std::vector<SourceFrame>& frames) {
  if (build_id.empty() || frames.empty() || frames.size() > kMaxFramesPerPc) return;
  for (const SourceFrame& frame : frames) {
    if (!storable(frame.function) || !storable(frame.file) || frame.line < 0) return;
  }
  ModuleFrames& module_frames = module(build_id);
  if (module_frames.by_offset.size() >= kMaxPcsPerModule) return;
  std::vector<SourceFrame>& kept = module_frames.by_offset[offset];
  kept.clear();
  for (const SourceFrame& frame : frames)
    kept.push_back({.function = frame.function, .file = frame.file, .line = frame.line, .inlined = frame.inlined});
  module_frames.changed = true;
}

void SymbolCache::save() {
  std::error_code error;
  for (auto& [build_id, frames] : modules_) {
    if (!frames.changed) continue;
    frames.changed = false;
    fs::create_directories(directory_, error);
    std::string text = header_ + "\n";
    for (const auto& [offset, stack] : frames.by_offset) {
      text += fmt::format("@{:x} {}\n", offset, stack.size());
      for (const SourceFrame& frame : stack)
        text += fmt::format("{}\t{}\t{}\t{}\n", frame.inlined ? 1 : 0, frame.line, frame.function, frame.file);
    }
    text += "end\n";
    const fs::path file = file_of(build_id);
    const fs::path temporary = fs::path(file).concat(fmt::format(".{}.tmp", getpid()));
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (out) fs::rename(temporary, file, error);
    if (!out || error) fs::remove(temporary, error);
  }
}

}  // namespace nantrack
