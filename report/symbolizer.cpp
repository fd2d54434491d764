#include "report/symbolizer.h"

#include <algorithm>

#include "report/module_symbols.h"
#include "report/symbol_cache.h"

namespace nantrack {

Symbolizer::Symbolizer(std::vector<Module> modules, std::string debuginfo_path, SymbolCache* cache)
    : modules_(std::move(modules)),
      index_(modules_),
      debuginfo_path_(std::move(debuginfo_path)),
      cache_(cache),
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

  const Module& where = modules_[*module];
  const uint64_t offset = pc - where.load_bias;
  std::vector<SourceFrame> frames;
  if (const std::vector<SourceFrame>* kept = cache_ ? cache_->find(where.build_id, offset) : nullptr) {
    frames = *kept;
  } else {
    ModuleSymbols* symbols = symbols_of(*module);
    frames = symbols ? symbols->frames_at(pc) : std::vector<SourceFrame>(1);
    if (cache_ && symbols && symbols->has_separate_debug_file()) cache_->remember(where.build_id, offset, frames);
  }
  for (SourceFrame& frame : frames) {
    frame.address = pc;
    frame.module = where.path;
    frame.module_offset = offset;
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
