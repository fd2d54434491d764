#include "report/module_symbols.h"

#include <dwarf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "report/demangle.h"

namespace nantrack {
namespace {

// C++ and Rust functions: the demangled linkage name, which has the
// signature (C++) or the whole path (Rust). Others (C, main): the name in
// the source, not the linkage name, which for C is an assembler alias such
// as glibc's __GI_getenv. Inlined instances and
// out-of-line definitions of methods carry neither themselves:
// dwarf_attr_integrate follows DW_AT_abstract_origin and DW_AT_specification.
std::string function_name(Dwarf_Die* function) {
  Dwarf_Attribute attribute;
  const char* linkage = dwarf_formstring(dwarf_attr_integrate(function, DW_AT_linkage_name, &attribute));
  if (linkage == nullptr)
    linkage = dwarf_formstring(dwarf_attr_integrate(function, DW_AT_MIPS_linkage_name, &attribute));
  if (linkage != nullptr) {
    if (std::optional<std::string> demangled = demangle(linkage)) return *demangled;
  }
  const char* name = dwarf_formstring(dwarf_attr_integrate(function, DW_AT_name, &attribute));
  return name ? name : linkage ? linkage : "";
}

struct CallSite {
  std::string file;
  int line = 0;
};

// Where an inlined call was made: the location to show in the frame of the
// function it was inlined into.
CallSite call_site_of(Dwarf_Die* inlined) {
  CallSite site;
  Dwarf_Attribute attribute;
  Dwarf_Word value = 0;
  if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attribute), &value) == 0)
    site.line = static_cast<int>(value);
  Dwarf_Die unit;
  Dwarf_Files* files = nullptr;
  size_t file_count = 0;
  if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attribute), &value) == 0 &&
      dwarf_diecu(inlined, &unit, nullptr, nullptr) != nullptr &&
      dwarf_getsrcfiles(&unit, &files, &file_count) == 0 && value < file_count) {
    if (const char* file = dwarf_filesrc(files, value, nullptr, nullptr)) site.file = file;
  }
  return site;
}

std::string_view build_id_of(Dwfl_Module* module) {
  const unsigned char* bits = nullptr;
  GElf_Addr note_address = 0;
  int length = dwfl_module_build_id(module, &bits, &note_address);
  if (length <= 0) return {};
  return {reinterpret_cast<const char*>(bits), static_cast<size_t>(length)};
}

}  // namespace

void ModuleSymbols::DwflDeleter::operator()(Dwfl* dwfl) const { dwfl_end(dwfl); }

ModuleSymbols::ModuleSymbols(const std::string& debuginfo_path)
    : debuginfo_path_(debuginfo_path),
      debuginfo_path_pointer_(debuginfo_path_.empty() ? nullptr : debuginfo_path_.data()) {
  // The standard finder tries the build-id tree (.build-id/xx/yyyy.debug under
  // each absolute path element) first, then the .gnu_debuglink name.
  callbacks_.find_elf = dwfl_build_id_find_elf;
  callbacks_.find_debuginfo = dwfl_standard_find_debuginfo;
  callbacks_.section_address = dwfl_offline_section_address;
  callbacks_.debuginfo_path = &debuginfo_path_pointer_;
  dwfl_.reset(dwfl_begin(&callbacks_));
}

ModuleSymbols::~ModuleSymbols() = default;

std::unique_ptr<ModuleSymbols> ModuleSymbols::open(const Module& module,
                                                   const std::string& debuginfo_path,
                                                   std::string* why_not) {
  const char* path = module.path.c_str();
  // O_NONBLOCK so that a FIFO named by a corrupt trace cannot hang us.
  int fd = ::open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    *why_not = fmt::format("cannot open {}: {}", module.path, std::strerror(errno));
    return nullptr;
  }
  struct stat status;
  if (fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
    ::close(fd);
    *why_not = fmt::format("cannot read {}: not a regular file", module.path);
    return nullptr;
  }

  std::unique_ptr<ModuleSymbols> symbols(new ModuleSymbols(debuginfo_path));
  if (symbols->dwfl_) {
    // With add_p_vaddr, libdw's bias is exactly the load bias (dlpi_addr) the
    // tracker recorded, so libdw addresses are the traced process' addresses,
    // prelinked libraries included. For ET_EXEC libdw ignores the base.
    symbols->module_ = dwfl_report_elf(symbols->dwfl_.get(), path, path, fd, module.load_bias, true);
  }
  if (symbols->module_ == nullptr) {
    ::close(fd);  // libdw takes the descriptor only on success
    *why_not = fmt::format("cannot read {}: {}", module.path, dwfl_errmsg(-1));
    return nullptr;
  }
  dwfl_report_end(symbols->dwfl_.get(), nullptr, nullptr);

  // Without a recorded build-id there is nothing to check against.
  if (!module.build_id.empty() && build_id_of(symbols->module_) != module.build_id) {
    *why_not = fmt::format("build-id mismatch: {} changed since the run", module.path);
    return nullptr;
  }
  return symbols;
}

std::vector<SourceFrame> ModuleSymbols::frames_at(uint64_t pc) {
  std::vector<SourceFrame> frames = inline_chain(pc);
  if (frames.empty()) frames.emplace_back();
  // The DIEs only know call sites; the innermost location is the line table's.
  if (Dwfl_Line* row = dwfl_module_getsrc(module_, pc)) {
    int line = 0;
    if (const char* file = dwfl_lineinfo(row, nullptr, &line, nullptr, nullptr, nullptr)) {
      frames.front().file = file;
      frames.front().line = line;
    }
  }
  if (frames.back().function.empty()) frames.back().function = symbol_table_name(pc);
  return frames;
}

bool ModuleSymbols::has_separate_debug_file() const {
  const char* main_file = nullptr;
  const char* debug_file = nullptr;
  dwfl_module_info(module_, nullptr, nullptr, nullptr, nullptr, nullptr, &main_file, &debug_file);
  return main_file && debug_file && std::strcmp(main_file, debug_file) != 0;
}

// Each inlined subroutine at pc is a frame, located where the previous
// (inner) one was called from; the innermost location is the line table's.
std::vector<SourceFrame> ModuleSymbols::inline_chain(uint64_t pc) {
  Dwarf_Addr bias = 0;
  Dwarf_Die* unit = dwfl_module_addrdie(module_, pc, &bias);
  if (unit == nullptr) return {};
  const FunctionIndex& functions = functions_by_unit_.try_emplace(unit->addr, unit).first->second;

  std::vector<SourceFrame> frames;
  CallSite location;
  for (Dwarf_Die& scope : functions.scopes_at(pc - bias)) {
    bool inlined = dwarf_tag(&scope) == DW_TAG_inlined_subroutine;
    frames.push_back({.function = function_name(&scope),
                      .file = location.file,
                      .line = location.line,
                      .inlined = inlined});
    if (inlined) location = call_site_of(&scope);
  }
  return frames;
}

std::string ModuleSymbols::symbol_table_name(uint64_t pc) {
  if (!symbol_table_) symbol_table_.emplace(module_);
  const char* name = symbol_table_->name_at(pc);
  if (name == nullptr) return "";
  return demangle(name).value_or(name);
}

}  // namespace nantrack
