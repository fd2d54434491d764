// The functions of one compilation unit by address, and the chain of inlined
// calls at an address inside one of them.
//
// libdw's dwarf_getscopes answers the same question but walks the whole unit
// (every namespace and class in it) on each call: ~0.7 ms a pc in a unit that
// includes big headers. Indexing a unit once makes a lookup a binary search
// plus a walk down one function.
#pragma once

#include <elfutils/libdw.h>

#include <vector>

namespace nantrack {

class FunctionIndex {
 public:
  explicit FunctionIndex(Dwarf_Die* unit);

  // Innermost first: each inlined subroutine covering address, then the
  // subprogram holding them. Empty when no function of the unit covers it.
  // address is a DWARF address (runtime address minus the module's bias).
  std::vector<Dwarf_Die> scopes_at(Dwarf_Addr address) const;

 private:
  struct Function {
    Dwarf_Addr low = 0;
    Dwarf_Addr high = 0;  // exclusive
    Dwarf_Die die;
  };
  void add_functions_under(Dwarf_Die* parent);

  std::vector<Function> functions_;  // one per address range, sorted by low
};

}  // namespace nantrack
