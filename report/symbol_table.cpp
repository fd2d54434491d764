#include "report/symbol_table.h"

#include <algorithm>
#include <cstring>
#include <tuple>

namespace nantrack {
namespace {

// Aliases share an address (getenv and glibc's internal __GI_getenv): show
// one with a size, then the exported one, and of several exported ones the
// least underscored (malloc rather than __libc_malloc).
std::tuple<bool, int, size_t> alias_rank(const GElf_Sym& symbol, const char* name) {
  int binding = GELF_ST_BIND(symbol.st_info);
  return {symbol.st_size == 0, binding == STB_GLOBAL ? 0 : binding == STB_WEAK ? 1 : 2, std::strspn(name, "_")};
}

}  // namespace

SymbolTable::SymbolTable(Dwfl_Module* module) {
  int count = dwfl_module_getsymtab(module);
  for (int i = 1; i < count; ++i) {  // entry 0 is the null symbol
    GElf_Sym symbol;
    GElf_Addr address = 0;
    GElf_Word section = 0;
    const char* name = dwfl_module_getsym_info(module, i, &symbol, &address, &section, nullptr, nullptr);
    int type = GELF_ST_TYPE(symbol.st_info);
    if (name == nullptr || *name == '\0' || section == SHN_UNDEF || (type != STT_FUNC && type != STT_GNU_IFUNC))
      continue;
    symbols_.push_back({address, address + symbol.st_size, name, alias_rank(symbol, name)});
  }
  std::sort(symbols_.begin(), symbols_.end(), [](const Symbol& a, const Symbol& b) {
    return a.start != b.start ? a.start < b.start : a.rank < b.rank;
  });
  symbols_.erase(std::unique(symbols_.begin(), symbols_.end(),
                             [](const Symbol& a, const Symbol& b) { return a.start == b.start; }),
                 symbols_.end());
  // Symbols without a size (crt's frame_dummy, some assembly) reach up to
  // the next symbol; the last one only covers its first byte.
  for (size_t i = 0; i < symbols_.size(); ++i) {
    if (symbols_[i].end == symbols_[i].start)
      symbols_[i].end = i + 1 < symbols_.size() ? symbols_[i + 1].start : symbols_[i].start + 1;
  }
}

const char* SymbolTable::name_at(uint64_t address) const {
  auto after = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                                [](uint64_t a, const Symbol& symbol) { return a < symbol.start; });
  if (after == symbols_.begin() || address >= std::prev(after)->end) return nullptr;
  return std::prev(after)->name;
}

}  // namespace nantrack
