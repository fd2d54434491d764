// Checks of `nantrack` option values that CLI11's own validators do not
// make. A failed check is a usage error: "--json: ..." and exit status 2.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace nantrack {

// For options that take a FILE or DIR. CLI11 takes whatever follows an
// option as its value, so a forgotten value made the next option, or the
// "--" before the program, the name of a file that was then written. An
// empty value (`--html "$UNSET"`) was taken as no option at all: the file
// the user asked for was silently not written.
// `what`: the value expected, as in "a file name".
CLI::Validator a_path(std::string what = "a file name");

// For counts (--max-leaks, --max-leaked-bytes): digits only. CLI11 reads
// "-1" into an unsigned option as the largest value, without a word.
CLI::Validator a_count();

// For --options: text the library would find problems in (an unknown key,
// a bad value). The library would warn and run on; here nothing runs.
CLI::Validator valid_library_options();

// For --quarantine-bytes: a size as the library's quarantine_bytes takes it.
CLI::Validator quarantine_size();

}  // namespace nantrack
