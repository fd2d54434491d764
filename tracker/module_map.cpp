#include "tracker/module_map.h"

#include <cstring>
#include <elf.h>
#include <link.h>

#include "tracker/build_id_note.h"
#include "tracker/internal_memory.h"
#include "tracker/trace_writer.h"

namespace nantrack {
namespace {

struct CodeRangeQuery {
  uintptr_t address;
  uintptr_t begin = 0;
  uintptr_t end = 0;
  bool found = false;
};

int code_range_callback(dl_phdr_info* info, size_t, void* data) {
  auto* query = static_cast<CodeRangeQuery*>(data);
  bool contains = false;
  uintptr_t begin = UINTPTR_MAX, end = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& phdr = info->dlpi_phdr[i];
    if (phdr.p_type != PT_LOAD) continue;
    uintptr_t start = info->dlpi_addr + phdr.p_vaddr;
    if (query->address >= start && query->address < start + phdr.p_memsz) contains = true;
    if (phdr.p_flags & PF_X) {
      if (start < begin) begin = start;
      if (start + phdr.p_memsz > end) end = start + phdr.p_memsz;
    }
  }
  if (!contains) return 0;
  query->found = true;
  query->begin = begin;
  query->end = end;
  return 1;
}

struct SegmentQuery {
  uintptr_t address;
  CodeRange segment;
  bool found = false;
};

int readable_segment_callback(dl_phdr_info* info, size_t, void* data) {
  auto* query = static_cast<SegmentQuery*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& phdr = info->dlpi_phdr[i];
    if (phdr.p_type != PT_LOAD || !(phdr.p_flags & PF_R)) continue;
    const uintptr_t start = info->dlpi_addr + phdr.p_vaddr;
    if (query->address - start >= phdr.p_memsz) continue;
    query->segment = {start, start + phdr.p_memsz};
    query->found = true;
    return 1;
  }
  return 0;
}

}  // namespace

int add_module_callback(dl_phdr_info* info, size_t, void* data) {
  static_cast<ModuleMap*>(data)->add_or_mark(info);
  return 0;
}

bool ModuleMap::init(const char* exe_path) {
  exe_path_ = exe_path;
  entries_ = static_cast<Entry*>(map_memory(kMaxModules * sizeof(Entry), true));
  paths_ = static_cast<char*>(map_memory(kPathArenaSize, true));
  if (entries_ && paths_) return true;
  // Both or neither: the other functions test entries_ alone.
  unmap_memory(entries_, kMaxModules * sizeof(Entry));
  unmap_memory(paths_, kPathArenaSize);
  entries_ = nullptr;
  paths_ = nullptr;
  return false;
}

ModuleMap::Entry* ModuleMap::find(uintptr_t load_bias, const char* path, size_t path_length) {
  for (size_t i = 0; i < count_; ++i) {
    Entry& e = entries_[i];
    if (e.load_bias == load_bias && e.path_length == path_length &&
        std::memcmp(paths_ + e.path_offset, path, path_length) == 0)
      return &e;
  }
  return nullptr;
}

void ModuleMap::add_or_mark(dl_phdr_info* info) {
  const char* path = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : exe_path_;
  size_t path_length = std::strlen(path);
  if (Entry* known = find(info->dlpi_addr, path, path_length)) {
    known->loaded_now = true;
    return;
  }
  if (count_ == kMaxModules || paths_used_ + path_length > kPathArenaSize) return;
  Entry& e = entries_[count_++];
  e.load_bias = info->dlpi_addr;
  e.path_offset = static_cast<uint32_t>(paths_used_);
  e.path_length = static_cast<uint32_t>(path_length);
  std::memcpy(paths_ + paths_used_, path, path_length);
  paths_used_ += path_length;
  e.build_id_length = read_build_id(info, e.build_id, kMaxBuildId);
  e.segment_count = 0;
  for (int i = 0; i < info->dlpi_phnum && e.segment_count < kMaxSegments; ++i) {
    const ElfW(Phdr)& phdr = info->dlpi_phdr[i];
    if (phdr.p_type != PT_LOAD) continue;
    e.segments[e.segment_count++] = {info->dlpi_addr + phdr.p_vaddr, phdr.p_memsz, phdr.p_offset, phdr.p_flags};
  }
  e.loaded_now = true;
}

void ModuleMap::refresh() {
  if (!entries_) return;
  LockGuard guard(mutex_);
  dl_iterate_phdr(add_module_callback, this);
}

void ModuleMap::write(TraceWriter& writer) {
  if (!entries_) return;
  // Not if this thread holds it: a signal handler that ends the process
  // interrupted our dlopen hook's refresh() (sync.h).
  const bool locked = mutex_.lock_unless_held_here();
  for (size_t i = 0; i < count_; ++i) entries_[i].loaded_now = false;
  dl_iterate_phdr(add_module_callback, this);
  for (size_t i = 0; i < count_; ++i) {
    const Entry& e = entries_[i];
    writer.begin(trace_format::RecordType::Module);
    writer.put_u64(e.load_bias);
    writer.put_u32(e.loaded_now ? 0u : uint32_t{trace_format::kUnloaded});
    writer.put_string({paths_ + e.path_offset, e.path_length});
    writer.put_string({reinterpret_cast<const char*>(e.build_id), e.build_id_length});
    writer.put_u32(e.segment_count);
    for (uint32_t s = 0; s < e.segment_count; ++s) {
      writer.put_u64(e.segments[s].start);
      writer.put_u64(e.segments[s].size);
      writer.put_u64(e.segments[s].file_offset);
      writer.put_u32(e.segments[s].flags);
    }
    writer.end();
  }
  if (locked) mutex_.unlock();
}

bool find_code_range(const void* address, CodeRange& range) {
  CodeRangeQuery query{reinterpret_cast<uintptr_t>(address)};
  dl_iterate_phdr(code_range_callback, &query);
  if (query.found) range = {query.begin, query.end};
  return query.found;
}

bool is_module_address(uintptr_t address) {
  CodeRange segment;
  return find_readable_segment(address, segment);
}

bool find_readable_segment(uintptr_t address, CodeRange& segment) {
  SegmentQuery query{address};
  dl_iterate_phdr(readable_segment_callback, &query);
  if (query.found) segment = query.segment;
  return query.found;
}

}  // namespace nantrack
