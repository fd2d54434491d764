// The function symbols of one module, sorted by address: the names frames
// get when there is no DWARF. libdw's dwfl_module_addrinfo scans the whole
// symbol table on every call, which a module without DWARF would pay per pc.
#pragma once

#include <elfutils/libdwfl.h>

#include <cstddef>
#include <cstdint>
#include <tuple>
#include <vector>

namespace nantrack {

class SymbolTable {
 public:
  explicit SymbolTable(Dwfl_Module* module);

  // The raw (mangled) name of the function symbol covering the runtime
  // address, or nullptr. Names live as long as the module's Dwfl session.
  const char* name_at(uint64_t address) const;

 private:
  struct Symbol {
    uint64_t start = 0;
    uint64_t end = 0;  // exclusive
    const char* name = nullptr;
    std::tuple<bool, int, size_t> rank;  // among aliases at one address, the lowest is shown
  };
  std::vector<Symbol> symbols_;  // sorted by start, one per start
};

}  // namespace nantrack
