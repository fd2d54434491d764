// Turns the pcs of a trace into source frames, offline, from the module map
// the trace recorded: function (demangled), file:line, the chain of inlined
// calls, module and offset.
//
//   Symbolizer symbolizer(trace.modules);
//   for (uint64_t pc : trace.stack(id))
//     for (const SourceFrame& frame : symbolizer.symbolize(pc)) print(frame);
//   for (const std::string& note : symbolizer.warnings()) print_note(note);
//
// A module's file is opened only when a pc first falls in it, and each pc is
// symbolized once. A file that is missing, not ELF, or has another build-id
// than the traced one is never used (its frames get module+offset only) and
// is reported once in warnings(); pcs the symbol cache answers need no file.
// Module paths that are not absolute (the vdso, "[anon]"-style names) are
// not files: module+offset, no warning.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "report/module_index.h"
#include "report/source_frame.h"
#include "report/trace.h"

namespace nantrack {

class ModuleSymbols;
class SymbolCache;

class Symbolizer {
 public:
  // debuginfo_path: where to look for separate debug files, in libdw's syntax;
  // empty means libdw's default ":.debug:/usr/lib/debug" (the build-id tree
  // /usr/lib/debug/.build-id, then the .gnu_debuglink name beside the file,
  // in its .debug/ and under /usr/lib/debug).
  // With a `cache`, frames of modules with a separate debug file are taken
  // from it when it has them (their DWARF is then never loaded) and added to
  // it when it has not (report/symbol_cache.h); the caller saves it.
  explicit Symbolizer(std::vector<Module> modules, std::string debuginfo_path = {}, SymbolCache* cache = nullptr);
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // Innermost first: each inlined call at pc as its own frame (inlined=true,
  // located where the next inner one was called from, as addr2line -i shows
  // it), then the real function. Never empty: at least module+offset. The
  // reference stays valid for the Symbolizer's life.
  const std::vector<SourceFrame>& symbolize(uint64_t pc);

  // Why modules could not be used, one line each, for the report's notes,
  // e.g. "build-id mismatch: /usr/lib/x.so changed since the run".
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  // A module's file, opened on first use; symbols stays null if unusable.
  struct ModuleFile {
    bool opened = false;
    std::unique_ptr<ModuleSymbols> symbols;
  };

  std::vector<SourceFrame> symbolize_uncached(uint64_t pc);
  ModuleSymbols* symbols_of(size_t module);

  std::vector<Module> modules_;
  ModuleIndex index_;
  std::string debuginfo_path_;
  SymbolCache* cache_;
  std::vector<ModuleFile> files_;  // parallel to modules_
  std::unordered_map<uint64_t, std::vector<SourceFrame>> frames_by_pc_;
  std::vector<std::string> warnings_;
};

}  // namespace nantrack
