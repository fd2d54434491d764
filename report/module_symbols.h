// The symbols of one module file, read with libdw: source lines and the
// inline chain from DWARF (in the file itself or in a separate debug file),
// else names from the ELF symbol table.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <elfutils/libdwfl.h>

#include "report/function_index.h"
#include "report/source_frame.h"
#include "report/symbol_table.h"
#include "report/trace.h"

namespace nantrack {

class ModuleSymbols {
 public:
  // Opens the module's file, placed where the traced process had it. Returns
  // nullptr and says why in *why_not when the file cannot be used: it is
  // missing, not ELF, or not the file that was traced (build-id differs).
  // debuginfo_path has libdw's syntax (":.debug:/usr/lib/debug" when empty).
  static std::unique_ptr<ModuleSymbols> open(const Module& module, const std::string& debuginfo_path,
                                             std::string* why_not);
  ~ModuleSymbols();
  ModuleSymbols(const ModuleSymbols&) = delete;
  ModuleSymbols& operator=(const ModuleSymbols&) = delete;

  // Innermost first: each inlined call at pc, then the function it is inlined
  // into. Never empty; fields that cannot be found stay empty. Only the
  // function, file, line and inlined fields are filled.
  std::vector<SourceFrame> frames_at(uint64_t pc);
  // Whether the DWARF that frames_at() read came from a separate debug file
  // (a distribution's -dbg package, a .gnu_debuglink): false before it has
  // been looked for and when the module has no DWARF or its own.
  bool has_separate_debug_file() const;

 private:
  explicit ModuleSymbols(const std::string& debuginfo_path);

  std::vector<SourceFrame> inline_chain(uint64_t pc);
  std::string symbol_table_name(uint64_t pc);

  struct DwflDeleter {
    void operator()(Dwfl* dwfl) const;
  };
  // libdw keeps pointers to the callbacks and to the path for the session's
  // whole life, so both live here, beside the session; ModuleSymbols is
  // neither copied nor moved, so their addresses hold.
  std::string debuginfo_path_;
  char* debuginfo_path_pointer_ = nullptr;
  Dwfl_Callbacks callbacks_{};
  // One session per module: modules of a trace may overlap (a library
  // dlclose'd and another mapped in its place), which one session rejects.
  std::unique_ptr<Dwfl, DwflDeleter> dwfl_;
  Dwfl_Module* module_ = nullptr;  // owned by dwfl_
  // Built when a pc first falls in the unit. Keyed by where the unit's DIE
  // lies in memory: unlike offsets, unique across a file and its split DWARF
  // (.dwo) files.
  std::unordered_map<const void*, FunctionIndex> functions_by_unit_;
  std::optional<SymbolTable> symbol_table_;  // built when DWARF first has no function
};

}  // namespace nantrack
