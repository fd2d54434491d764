// Symbolized frames kept between runs of the CLI, for modules whose DWARF is
// costly to load: those with a separate debug file, as distributions ship
// them (libc6-dbg's libc: 4 MB of compressed DWARF, which libdw inflates
// whole, ~80 ms, for every report with a frame in libc). One file per
// module build-id in the cache directory:
//
//   nantrack-symbols 1 <build-id of the nantrack binary that wrote it, hex>
//   @<module offset, hex> <frame count>
//   <inlined 0|1>\t<line>\t<function>\t<file>      (one line per frame)
//
// A build-id names one exact file, so its frames never go stale; the
// writer's own build-id in the header makes another build of nantrack (whose
// symbolizer may name things differently) ignore and replace the file. The
// files are untrusted input: one that does not parse in full is ignored
// whole. Writes go to a temporary file renamed into place, so concurrent
// reports never see half a file (one of them may lose its additions: the
// cache only saves time). Failing to read or write it is never an error.
//
//   SymbolCache cache(dir);
//   if (const auto* frames = cache.find(build_id, offset)) use(*frames);
//   else cache.remember(build_id, offset, frames_from_dwarf);
//   cache.save();
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "report/source_frame.h"

namespace nantrack {

class SymbolCache {
 public:
  // Where the cache lives: $NANTRACK_SYMBOL_CACHE ("off" or empty: no cache),
  // else $XDG_CACHE_HOME/nantrack/symbols, else ~/.cache/nantrack/symbols.
  static std::optional<std::filesystem::path> directory_from_environment();

  explicit SymbolCache(std::filesystem::path directory);

  // The frames remembered for this offset of the module with this build-id
  // (function, file, line and inlined only), or nullptr. A module without
  // a build-id is never cached.
  const std::vector<SourceFrame>* find(const std::string& build_id, uint64_t offset);
  void remember(const std::string& build_id, uint64_t offset, const std::vector<SourceFrame>& frames);
  // Writes the file of each module that got new frames.
  void save();

 private:
  struct ModuleFrames {
    bool loaded = false;
    bool changed = false;
    std::unordered_map<uint64_t, std::vector<SourceFrame>> by_offset;
  };

  ModuleFrames& module(const std::string& build_id);
  std::filesystem::path file_of(const std::string& build_id) const;

  std::filesystem::path directory_;
  std::string header_;
  std::unordered_map<std::string, ModuleFrames> modules_;
};

}  // namespace nantrack
