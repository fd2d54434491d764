#include "report/function_index.h"

#include <dwarf.h>

#include <algorithm>

namespace nantrack {
namespace {

// Scopes that code inside a function can sit in; lookups descend through them.
bool is_code_scope(int tag) {
  return tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block || tag == DW_TAG_try_block ||
         tag == DW_TAG_catch_block;
}

}  // namespace

FunctionIndex::FunctionIndex(Dwarf_Die* unit) {
  add_functions_under(unit);
  std::sort(functions_.begin(), functions_.end(),
            [](const Function& a, const Function& b) { return a.low < b.low; });
}

// Definitions sit at the top of the unit or in namespaces; classes and
// function bodies are walked too, for the code of local classes, lambdas and
// C nested functions wherever a compiler puts it. Declarations and abstract
// instances of inline functions have no address range and are skipped.
void FunctionIndex::add_functions_under(Dwarf_Die* parent) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return;
  do {
    switch (dwarf_tag(&child)) {
      case DW_TAG_subprogram: {
        Dwarf_Addr base = 0, low = 0, high = 0;
        for (ptrdiff_t offset = 0; (offset = dwarf_ranges(&child, offset, &base, &low, &high)) > 0;)
          functions_.push_back({low, high, child});
        add_functions_under(&child);
        break;
      }
      case DW_TAG_namespace:
      case DW_TAG_class_type:
      case DW_TAG_structure_type:
      case DW_TAG_union_type:
      case DW_TAG_lexical_block:
        add_functions_under(&child);
        break;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

std::vector<Dwarf_Die> FunctionIndex::scopes_at(Dwarf_Addr address) const {
  // Functions do not overlap, so only the last one starting at or before the
  // address can cover it.
  auto after = std::upper_bound(functions_.begin(), functions_.end(), address,
                                [](Dwarf_Addr a, const Function& function) { return a < function.low; });
  if (after == functions_.begin() || address >= std::prev(after)->high) return {};

  std::vector<Dwarf_Die> scopes = {std::prev(after)->die};
  Dwarf_Die scope = scopes.front();
  Dwarf_Die child;
  bool descended = true;
  while (descended && dwarf_child(&scope, &child) == 0) {
    descended = false;
    do {
      int tag = dwarf_tag(&child);
      if (is_code_scope(tag) && dwarf_haspc(&child, address) > 0) {
        if (tag == DW_TAG_inlined_subroutine) scopes.push_back(child);
        scope = child;
        descended = true;
        break;
      }
    } while (dwarf_siblingof(&child, &child) == 0);
  }
  std::reverse(scopes.begin(), scopes.end());
  return scopes;
}

}  // namespace nantrack
