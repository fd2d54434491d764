// Test helper: Report objects of known content for the formatter tests (HTML,
// SARIF, the browser test), built directly rather than from traces.
#pragma once

#include <string>
#include <utility>

#include <fmt/format.h>

#include "report/report_model.h"

namespace nantrack::testing {

inline constexpr const char* kSampleSourceRoot = "/home/dev/app";
inline constexpr const char* kSampleExe = "/home/dev/app/build/app";
inline constexpr const char* kLibc = "/usr/lib/x86_64-linux-gnu/libc.so.6";
// Would run script if any part of the page treated trace text as markup.
inline constexpr const char* kHostileFunction = "<script>document.body.dataset.pwned='script'</script>";
inline constexpr const char* kHostileFile = "/home/dev/app/src/<img src=x onerror=\"document.body.dataset.pwned='img'\">.c";

// The sample report's totals over its three processes.
inline constexpr uint64_t kSampleLeakedBytes = 3072 + 1000 + 24 + 100;
inline constexpr uint64_t kSampleLeakedBlocks = 3 + 10 + 1 + 1;
inline constexpr uint64_t kSamplePeakBytes = 1048576;
inline constexpr uint64_t kSampleAllocations = 1200 + 30 + 5;

inline SourceFrame project_frame(std::string function, const std::string& file, int line, bool inlined = false) {
  return {.address = 0x55550000 + static_cast<uint64_t>(line) * 0x10,
          .function = std::move(function),
          .file = std::string(kSampleSourceRoot) + "/" + file,
          .line = line,
          .module = kSampleExe,
          .module_offset = static_cast<uint64_t>(line) * 0x10,
          .inlined = inlined};
}

// A frame in libc without debug info: module+offset only.
inline SourceFrame libc_frame(std::string function, uint64_t offset) {
  return {.address = 0x7f0000000000 + offset, .function = std::move(function), .module = kLibc, .module_offset = offset};
}

inline SourceStack main_stack_from(SourceStack inner) {
  inner.push_back(project_frame("main", "src/main.cpp", 20));
  inner.push_back(libc_frame("__libc_start_call_main", 0x271ca));
  return inner;
}

inline Summary summary_of(const ProcessReport& process, uint64_t allocations, uint64_t peak) {
  Summary summary;
  for (const LeakGroup& leak : process.leaks) {
    summary.leaked_bytes += leak.bytes;
    summary.leaked_blocks += leak.blocks;
    (leak.kind == LeakKind::Definite ? summary.definite_bytes : summary.possible_bytes) += leak.bytes;
  }
  for (const ErrorFinding& error : process.errors)
    count_of(summary.errors, error.event.kind) += error.event.occurrences;
  summary.total_allocations = allocations;
  summary.total_frees = allocations - summary.leaked_blocks;
  summary.total_bytes = allocations * 64;
  summary.peak_bytes = peak;
  return summary;
}

// pid 4242 `./app --input 'data file.txt'`, exit 0: three leak sites and two
// errors. Its biggest leak comes from make_buffer(unsigned long) at
// src/buf.cpp:12, inlined into load() at src/load.cpp:7. The second leak's
// innermost frame is a system header, so its project frame is Cache::put.
inline ProcessReport sample_main_process() {
  ProcessReport process;
  process.process = {.pid = 4242, .ppid = 1, .start_ns = 1'000'000'000, .end_ns = 1'250'000'000,
                     .exit_status = 0, .exe = kSampleExe, .argv = {"./app", "--input", "data file.txt"}};
  process.trace_path = "/tmp/nantrack-run/nantrack.4242.trace";
  process.leaks.push_back({.kind = LeakKind::Definite, .bytes = 3072, .blocks = 3, .stack_id = 1,
                           .stack = main_stack_from({project_frame("make_buffer(unsigned long)", "src/buf.cpp", 12),
                                                     project_frame("load()", "src/load.cpp", 7, true)}),
                           .alloc_kinds = {AllocKind::Malloc}});
  SourceFrame vector_grow{.address = 0x55551234,
                          .function = "std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>",
                          .file = "/usr/include/c++/12/bits/vector.tcc", .line = 123, .module = kSampleExe,
                          .module_offset = 0x1234, .inlined = true};
  process.leaks.push_back({.kind = LeakKind::Possible, .bytes = 1000, .blocks = 10, .stack_id = 2,
                           .stack = main_stack_from({vector_grow, project_frame("Cache::put(std::string const&)",
                                                                                "src/cache.cpp", 40)}),
                           .alloc_kinds = {AllocKind::New, AllocKind::NewArray}});
  SourceFrame hostile{.address = 0x55556666, .function = kHostileFunction, .file = kHostileFile, .line = 66,
                      .module = kSampleExe, .module_offset = 0x6666};
  process.leaks.push_back({.kind = LeakKind::Definite, .bytes = 24, .blocks = 1, .stack_id = 3,
                           .stack = main_stack_from({hostile}), .alloc_kinds = {AllocKind::Calloc}});

  ErrorFinding double_free{
      .event = {.kind = ErrorKind::DoubleFree, .thread = 1, .address = 0x5581a2c0, .block_address = 0x5581a2c0,
                .block_size = 24},
      .stack = main_stack_from({project_frame("Cache::drop()", "src/cache.cpp", 88)}),
      .alloc_stack = main_stack_from({project_frame("Cache::put(std::string const&)", "src/cache.cpp", 40)}),
      .free_stack = main_stack_from({project_frame("Cache::evict()", "src/cache.cpp", 61)})};
  ErrorFinding mismatched{
      .event = {.kind = ErrorKind::MismatchedFree, .alloc_kind = AllocKind::NewArray, .dealloc_kind = DeallocKind::Free,
                .thread = 2, .address = 0x5581b000, .block_address = 0x5581b000, .block_size = 80},
      .stack = main_stack_from({project_frame("release_table(int*)", "src/table.cpp", 31)}),
      .alloc_stack = main_stack_from({project_frame("make_table()", "src/table.cpp", 12)})};
  process.errors = {double_free, mismatched};
  process.notes = {"build-id mismatch: /usr/lib/libfoo.so changed since the run"};
  process.summary = summary_of(process, 1200, kSamplePeakBytes);
  return process;
}

// pid 4243, a forked child killed by SIGSEGV, one leak.
inline ProcessReport sample_crashed_child() {
  ProcessReport process;
  process.process = {.pid = 4243, .ppid = 4242, .signal = 11, .crashed = true, .forked_child = true,
                     .exe = kSampleExe, .argv = {"./app", "--child"}};
  process.leaks.push_back({.kind = LeakKind::Definite, .bytes = 100, .blocks = 1, .stack_id = 1,
                           .stack = main_stack_from({project_frame("child_work()", "src/child.cpp", 5)}),
                           .alloc_kinds = {AllocKind::Malloc}});
  process.summary = summary_of(process, 30, 65536);
  return process;
}

// pid 4244 `/bin/true`: clean.
inline ProcessReport sample_clean_process() {
  ProcessReport process;
  process.process = {.pid = 4244, .ppid = 4242, .exit_status = 0, .exe = "/bin/true", .argv = {"/bin/true"}};
  process.summary = summary_of(process, 5, 4096);
  return process;
}

inline Report sample_report() {
  Report report;
  report.processes = {sample_main_process(), sample_crashed_child(), sample_clean_process()};
  report.suppressions = {{.name = "leak:libfoo.so", .source = "ci.supp", .bytes = 4096, .blocks = 2}};
  return report;
}

// One process with `sites` leak sites: distinct innermost functions over
// shared outer frames, as a big program's leaks look; biggest first.
inline Report many_leak_sites_report(size_t sites) {
  ProcessReport process;
  process.process = {.pid = 5000, .ppid = 1, .exit_status = 0, .exe = kSampleExe, .argv = {"./big"}};
  for (size_t i = 0; i < sites; ++i) {
    const int line = static_cast<int>(i % 500) + 1;
    SourceStack stack = {project_frame(fmt::format("leaky_function_{}(int)", i), fmt::format("src/gen/file_{}.cpp", i % 50), line),
                         project_frame(fmt::format("dispatch_{}()", i % 20), "src/dispatch.cpp", static_cast<int>(i % 20) + 1),
                         project_frame("worker_loop()", "src/worker.cpp", 77)};
    process.leaks.push_back({.kind = LeakKind::Definite, .bytes = (sites - i) * 16, .blocks = sites - i,
                             .stack_id = static_cast<StackId>(i + 1), .stack = main_stack_from(std::move(stack)),
                             .alloc_kinds = {AllocKind::Malloc}});
  }
  process.summary = summary_of(process, sites * sites, 1 << 30);  // more allocations than leaked blocks
  Report report;
  report.processes.push_back(std::move(process));
  return report;
}

}  // namespace nantrack::testing
