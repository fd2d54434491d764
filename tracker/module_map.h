// Every module (executable, shared library, vdso) seen in the process, with
// what offline symbolization needs: path, build-id, load bias and PT_LOAD
// segments. Modules are remembered when first seen, so one dlclose'd before
// exit is still in the trace and its addresses still symbolize.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tracker/sync.h"
#include "tracker/trace_format.h"

struct dl_phdr_info;

namespace nantrack {

class TraceWriter;

class ModuleMap {
 public:
  constexpr ModuleMap() = default;
  ModuleMap(const ModuleMap&) = delete;
  ModuleMap& operator=(const ModuleMap&) = delete;

  // `exe_path` names the main program (dl_iterate_phdr gives it no name).
  bool init(const char* exe_path);
  // Adds the modules loaded now. Call after dlopen and before dlclose.
  void refresh();
  // Writes one Module record per module ever seen, flagging those no longer
  // loaded. Takes the loader's lock: call before taking any tracker lock
  // that a malloc inside the loader could wait for.
  void write(TraceWriter& writer);

  Mutex& mutex() { return mutex_; }

 private:
  static constexpr size_t kMaxModules = 4096;
  static constexpr size_t kMaxSegments = 16;
  static constexpr size_t kMaxBuildId = 64;
  static constexpr size_t kPathArenaSize = size_t{4} << 20;

  struct Entry {
    uintptr_t load_bias;
    uint32_t path_offset;
    uint32_t path_length;
    uint32_t build_id_length;
    uint32_t segment_count;
    bool loaded_now;
    uint8_t build_id[kMaxBuildId];
    trace_format::Segment segments[kMaxSegments];
  };

  friend int add_module_callback(::dl_phdr_info*, size_t, void*);
  void add_or_mark(::dl_phdr_info* info);
  Entry* find(uintptr_t load_bias, const char* path, size_t path_length);

  Mutex mutex_;
  Entry* entries_ = nullptr;
  size_t count_ = 0;
  char* paths_ = nullptr;
  size_t paths_used_ = 0;
  const char* exe_path_ = "";
};

// A module's executable code, [begin, end); empty by default.
struct CodeRange {
  uintptr_t begin = 0;
  uintptr_t end = 0;
  bool contains(uintptr_t pc) const { return pc - begin < end - begin; }
};

// The code of the module containing `address`; false (and `range` left
// as it was) if no loaded module contains it.
bool find_code_range(const void* address, CodeRange& range);
// Whether `address` lies in a loaded module's (readable) segments.
bool is_module_address(uintptr_t address);
// The readable PT_LOAD segment of a loaded module that contains `address`;
// false (and `segment` left as it was) if there is none.
bool find_readable_segment(uintptr_t address, CodeRange& segment);

}  // namespace nantrack
