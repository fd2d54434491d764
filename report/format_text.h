// The text report (DESIGN.md "The text report"), as LeakSanitizer and valgrind
// users expect it: for each process with findings, its errors with their
// stacks, then its leaks grouped by stack, biggest first; then the
// suppressions that hid something; then one SUMMARY line per process.
//
//   ==4242== nantrack: 3,072 bytes in 3 blocks leaked (definite), allocated from:
//       #0 0x55819a11 in make_buffer(unsigned long) src/buf.cpp:12 (app+0x1a11)
//       #1 0x55819b02 in main src/main.cpp:20 (app+0x1b02)
//
//   SUMMARY: nantrack: 3,072 bytes leaked in 3 blocks; 1 error (1 double free).
//
// When the report holds several processes (a run that followed children),
// each one with findings starts with a line naming its pid, parent and argv,
// and each SUMMARY line names its process: "SUMMARY: nantrack: pid 4243
// (sort -n): no leaks, no errors."
#pragma once

#include <cstddef>
#include <ostream>

#include "report/report_model.h"

namespace nantrack {

struct TextOptions {
  size_t max_frames = 20;  // per stack; the rest is one "... N more frames" line; 0: all
  // Leak sites shown per process, biggest first; the rest are summed up in
  // one line so that 10,000 sites stay readable; 0: all.
  size_t max_leak_groups = 100;
};

void write_text_report(const Report& report, std::ostream& out, const TextOptions& options = {});

}  // namespace nantrack
