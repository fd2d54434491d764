#include "report/symbolizer.h"

#include <algorithm>

#include "report/module_symbols.h"

namespace nantrack {

Symbolizer::Symbolizer(std::vector<Module> modules, std::string debuginfo_path)
    : modules_(std::move(modules)),
      index_(modules_),
      debuginfo_path_(std::move(debuginfo_path)),
      files_(modules_.size()) {}

Symbolizer::~Symbolizer() = default;

const std::vector<SourceFrame>& Symbolizer::symbolize(uint64_t pc) {
  auto [entry, inserted] = frames_by_pc_.try_emplace(pc);
  if (inserted) [[unlikely]]
    entry->second = symbolize_uncached(pc);
  return entry->second;
}

std::vector<SourceFrame> Symbolizer::symbolize_uncached(uint64_t pc) {
  std::optional<size_t> module = index_.find(pc);
  if (!module) return {SourceFrame{.address = pc, .module_offset = pc}};

  ModuleSymbols* symbols = symbols_of(*module);
  std::vector<SourceFrame> frames = symbols ? symbols->frames_at(pc) : std::vector<SourceFrame>(1);
  for (SourceFrame& frame : frames) {
    frame.address = pc;
    frame.module = modules_[*module].path;
    frame.module_offset = pc - modules_[*module].load_bias;
  }
  return frames;
}

ModuleSymbols* Symbolizer::symbols_of(size_t module) {
  ModuleFile& file = files_[module];
  if (file.opened) return file.symbols.get();
  file.opened = true;

  const std::string& path = modules_[module].path;
  if (!path.starts_with('/')) return nullptr;
  std::string why_not;
  file.symbols = ModuleSymbols::open(modules_[module], debuginfo_path_, &why_not);
  // The same file can appear more than once in a module map (loaded, closed
  // and loaded again): one note is enough.
  if (!file.symbols && std::find(warnings_.begin(), warnings_.end(), why_not) == warnings_.end())
    warnings_.push_back(std::move(why_not));
  return file.symbols.get();
}

}  // namespace nantrack
