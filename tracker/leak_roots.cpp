#include "tracker/leak_roots.h"

#include <algorithm>

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <ucontext.h>
#include <unistd.h>

#include "tracker/internal_memory.h"
#include "tracker/mapped_roots.h"
#include "tracker/module_map.h"
#include "tracker/platform.h"
#include "tracker/proc_maps.h"
#include "tracker/sandbox.h"
#include "tracker/thread_stop.h"
#include "tracker/thread_unwind_state.h"

namespace nantrack {
namespace {

// sizeof(struct pthread), the TCB at the thread pointer, in glibc 2.36 on
// x86-64 (measured: a thread's stack mapping ends that far above it). It
// holds pthread_setspecific values and the dtv pointer.
constexpr size_t kTcbBytes = 2368;
// The x86-64 ABI lets a leaf function keep data below its stack pointer.
constexpr size_t kRedZoneBytes = 128;
// tcbhead_t::dtv, the thread's TLS vector, in glibc on x86-64.
constexpr size_t kDtvOffset = 8;
// A dtv_t entry: {void* val; void* to_free;}.
constexpr size_t kDtvEntryBytes = 16;
// More modules with TLS than this means we are not reading a TLS vector.
constexpr uintptr_t kMaxDtvLength = uintptr_t{1} << 16;

// A question for find_mapping_ends(): the end of the mapping that holds
// `address`.
struct MappingQuery {
  uintptr_t address;
  uintptr_t* end;
};

// Answers every query, 0 where no mapping holds the address, from one read
// of /proc/self/maps. Its lines come in address order, so the queries are
// sorted and met in a single pass. One read per scan rather than one per
// thread: a process with 1,000 threads lists 2,000 mappings, and reading
// them once for each thread made its exit take 0.5 s. In a seccomp sandbox, where
// openat may kill the process, only the end of this thread's stack is known.
void find_mapping_ends(MappingQuery* queries, size_t count) {
  for (size_t i = 0; i < count; ++i) *queries[i].end = 0;
  if (in_sandbox()) {
    StackBounds stack;
    if (this_thread_stack_bounds(stack))
      for (size_t i = 0; i < count; ++i)
        if (stack.contains(queries[i].address)) *queries[i].end = stack.high;
    return;
  }
  std::sort(queries, queries + count,
            [](const MappingQuery& a, const MappingQuery& b) { return a.address < b.address; });
  ProcMaps maps;
  Mapping mapping;
  size_t next = 0;  // the first query not answered yet
  while (next < count && maps.next(mapping)) {
    while (next < count && queries[next].address < mapping.start) ++next;  // in no mapping
    for (; next < count && queries[next].address < mapping.end; ++next) *queries[next].end = mapping.end;
  }
}

// The TLS blocks of dlopen'd modules: glibc mallocs one per thread and
// module on first access and points to it only from the thread's DTV. A
// thread's DTV is a calloc'd block that its TCB points into (one entry past
// its start); the main thread's comes from the loader's own allocator,
// which no root covers. Either way the DTV itself is scanned as a root, and
// its start is marked, so neither it nor what it holds looks lost.
void scan_dynamic_tls(ReachabilityScan& scan, uintptr_t thread_pointer) {
  uintptr_t dtv = 0, length = 0;
  if (!read_word_safely(thread_pointer + kDtvOffset, dtv) || dtv < kDtvEntryBytes) return;
  // dtv[-1] holds the number of module slots after the generation, dtv[0].
  const uintptr_t start = dtv - kDtvEntryBytes;
  if (!read_word_safely(start, length) || length > kMaxDtvLength) return;
  scan.scan_root(start, dtv + (length + 1) * kDtvEntryBytes);
  scan.scan_root_pointer(start);
}

}  // namespace

void LeakRoots::init(bool scan_mappings) {
  scan_mappings_ = scan_mappings;
  // GLIBC_PRIVATE, but stable since glibc 2.0 and what LeakSanitizer uses.
  using GetTlsStaticInfo = void (*)(size_t*, size_t*);
  auto get = reinterpret_cast<GetTlsStaticInfo>(dlsym(RTLD_DEFAULT, "_dl_get_tls_static_info"));
  size_t align = 0;
  if (!get) return;
  // glibc's static TLS size counts the TCB, which lies above the thread
  // pointer: below it are that many bytes fewer. Taking them all read the
  // TCB's size past the start of the TLS, into whatever is mapped there
  // (for the main thread, another mapping: its stale heap addresses made
  // leaked blocks reachable in 1-2% of runs of tests/programs/threads).
  size_t with_tcb = 0;
  get(&with_tcb, &align);
  static_tls_bytes_ = with_tcb > kTcbBytes ? with_tcb - kTcbBytes : 0;
  find_code_range(reinterpret_cast<const void*>(get), loader_code_);
}

namespace {

// Calls visit(range, own) for each writable segment of every loaded
// module; `own`: of the one containing `own_address`.
template <typename Visit>
void for_each_writable_segment(uintptr_t own_address, Visit&& visit) {
  struct Context {
    uintptr_t own_address;
    Visit* visit;
  } context{own_address, &visit};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        const Context& self = *static_cast<Context*>(data);
        LeakRoots::Range writable[16];
        size_t count = 0;
        bool own = false;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& header = info->dlpi_phdr[i];
          if (header.p_type != PT_LOAD) continue;
          const uintptr_t begin = info->dlpi_addr + header.p_vaddr;
          if (self.own_address - begin < header.p_memsz) own = true;
          if ((header.p_flags & PF_W) && count < 16) writable[count++] = {begin, begin + header.p_memsz};
        }
        for (size_t i = 0; i < count; ++i) (*self.visit)(writable[i], own);
        return 0;
      },
      &context);
}

}  // namespace

void LeakRoots::collect_globals(uintptr_t own_address) {
  // Counted first, and the table mapped to fit: a process may have
  // thousands of modules loaded.
  size_t segments = 0;
  for_each_writable_segment(own_address, [&](const Range&, bool) { ++segments; });
  const size_t wanted = segments + kGlobalsToSpare;  // modules loaded meanwhile
  if (wanted > global_capacity_) {
    if (auto* globals = static_cast<Range*>(map_memory(wanted * sizeof(Range)))) {
      unmap_memory(globals_, global_capacity_ * sizeof(Range));
      globals_ = globals;
      global_capacity_ = wanted;
    }
  }
  global_count_ = 0;
  own_segment_count_ = 0;
  for_each_writable_segment(own_address, [&](const Range& segment, bool own) {
    if (own && own_segment_count_ < kMaxOwnSegments)
      own_segments_[own_segment_count_++] = segment;
    else if (!own && global_count_ < global_capacity_)
      globals_[global_count_++] = segment;
  });
}

bool LeakRoots::add_region(uintptr_t begin, size_t size) {
  if (region_count_ == kMaxRegions) return false;
  regions_[region_count_++] = {begin, begin + size};
  for (size_t i = 0; i < released_count_;)
    if (released_[i].begin < begin + size && begin < released_[i].end)
      released_[i] = released_[--released_count_];
    else
      ++i;
  return true;
}

bool LeakRoots::remove_region(uintptr_t begin, size_t size) {
  for (size_t i = 0; i < region_count_; ++i) {
    if (regions_[i].begin != begin || regions_[i].end != begin + size) continue;
    regions_[i] = regions_[--region_count_];
    if (released_count_ < kMaxRegions) released_[released_count_++] = {begin, begin + size};
    return true;
  }
  return false;
}

LeakRoots::Range LeakRoots::static_tls_of(uintptr_t thread_pointer) const {
  return {thread_pointer - static_tls_bytes_, thread_pointer + kTcbBytes};
}

void LeakRoots::scan_thread(ReachabilityScan& scan, uintptr_t stack_pointer, uintptr_t stack_end,
                            uintptr_t thread_pointer, const void* registers, size_t register_bytes) const {
  const auto registers_begin = reinterpret_cast<uintptr_t>(registers);
  scan.scan_root(registers_begin, registers_begin + register_bytes);
  const Range tls = static_tls_of(thread_pointer);
  scan.scan_root(tls.begin, tls.end);
  scan_dynamic_tls(scan, thread_pointer);
  if (stack_end) scan.scan_root(stack_pointer, stack_end);
}

// The caller's frame and those above it are live: the stack is scanned
// from here up. Frames below (the scan's own) are not, nor are stale frames
// left below by calls that have returned: they must not hide leaks.
LeakRoots::CalleeSavedRegisters LeakRoots::callee_saved_registers(const mcontext_t& context) {
  const greg_t* saved = context.gregs;
  CalleeSavedRegisters registers;
  int i = 0;
  for (int name : {REG_RBX, REG_RBP, REG_R12, REG_R13, REG_R14, REG_R15})
    registers.values[i++] = static_cast<uintptr_t>(saved[name]);
  return registers;
}

void LeakRoots::scan_mappings(ReachabilityScan& scan, const uintptr_t* stack_pointers, size_t threads,
                              HeapExtents heap) const {
  // Besides the modules' segments, the regions the program unregistered.
  MappedArray<Range> left_out(global_count_ + own_segment_count_ + released_count_);
  if (!left_out) return;
  Range* end = std::copy(globals_, globals_ + global_count_, left_out.data());
  end = std::copy(own_segments_, own_segments_ + own_segment_count_, end);
  std::copy(released_, released_ + released_count_, end);
  scan_program_mappings(scan, {stack_pointers, threads, left_out.data(), left_out.size(), heap.ranges, heap.count});
}

NANTRACK_NOINLINE void LeakRoots::scan(ReachabilityScan& scan, ProgramState program, HeapExtents heap) const {
  CalleeSavedRegisters registers;
  if (program.registers) {
    registers = *program.registers;
  } else if (!program.interrupted) {
    ucontext_t context;
    getcontext(&context);
    registers = callee_saved_registers(context.uc_mcontext);
  }
  // Set after getcontext() returns, which may be twice (-Wclobbered).
  const void* register_block = registers.values;
  size_t register_bytes = sizeof(registers.values);
  uintptr_t stack_pointer = program.stack ? program.stack : reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  if (program.interrupted) {
    const mcontext_t& interrupted = program.interrupted->uc_mcontext;
    register_block = interrupted.gregs;
    register_bytes = sizeof(interrupted.gregs);
    stack_pointer = static_cast<uintptr_t>(interrupted.gregs[REG_RSP]) - kRedZoneBytes;
    // The vector registers too (the legacy area: x87 and xmm0-15), as when
    // the signal frame lay on the thread's own stack and was read with it.
    if (interrupted.fpregs) {
      const auto vector_registers = reinterpret_cast<uintptr_t>(interrupted.fpregs);
      scan.scan_root(vector_registers, vector_registers + sizeof(*interrupted.fpregs));
    }
  }

  for (size_t i = 0; i < global_count_; ++i) scan.scan_root(globals_[i].begin, globals_[i].end);
  // In a seccomp sandbox (sandbox.h) the scan runs only in a process that
  // never had a second thread, and reads with plain loads: registered
  // regions, which may be unmapped by now, are left out.
  const bool sandboxed = in_sandbox();
  if (!sandboxed)
    for (size_t i = 0; i < region_count_; ++i) scan.scan_root(regions_[i].begin, regions_[i].end);
  const size_t stopped = sandboxed ? 0 : stop_other_threads();
  const size_t blocked = sandboxed ? 0 : blocked_threads();
  // Where each stack ends: the stopped threads' first, then those blocked
  // in a system call, this thread's last. Mapped: there may be thousands,
  // and a thread's stack may be small.
  const size_t threads = stopped + blocked + 1;
  MappedArray<MappingQuery> queries(threads);
  MappedArray<uintptr_t> stack_ends(threads);
  auto stack_pointer_of = [&](size_t i) {
    if (i < stopped) return stopped_thread(i).stack_pointer - kRedZoneBytes;
    if (i < stopped + blocked) return blocked_thread(i - stopped).stack_pointer - kRedZoneBytes;
    return stack_pointer;
  };
  if (queries && stack_ends) {
    for (size_t i = 0; i < threads; ++i) queries[i] = {stack_pointer_of(i), &stack_ends[i]};
    find_mapping_ends(queries.data(), threads);
  }
  auto stack_end = [&](size_t i) -> uintptr_t { return queries && stack_ends ? stack_ends[i] : 0; };
  for (size_t i = 0; i < stopped; ++i) {
    StoppedThread thread = stopped_thread(i);
    scan_thread(scan, stack_pointer_of(i), stack_end(i), thread.thread_pointer, thread.registers,
                thread.register_bytes);
  }
  // Their TLS and thread descriptor lie above their stacks, in the same
  // mapping (glibc's threads): the stack scan reads them too.
  for (size_t i = stopped; i < stopped + blocked; ++i)
    if (stack_end(i)) scan.scan_root(stack_pointer_of(i), stack_end(i));
  scan_thread(scan, stack_pointer, stack_end(threads - 1), static_cast<uintptr_t>(pthread_self()), register_block,
              register_bytes);
  // Without every thread's stack pointer, a stack could not be told from
  // the program's own mappings.
  if (scan_mappings_ && heap.known && !sandboxed && queries && stack_ends) {
    MappedArray<uintptr_t> stack_pointers(threads);
    if (stack_pointers) {
      for (size_t i = 0; i < threads; ++i) stack_pointers[i] = queries[i].address;  // sorted by find_mapping_ends
      scan_mappings(scan, stack_pointers.data(), threads, heap);
    }
  }
  scan.scan_root_blocks();
  if (!sandboxed) resume_other_threads();
}

}  // namespace nantrack
