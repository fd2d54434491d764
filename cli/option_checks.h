// Checks of `nantrack` option values that CLI11's own validators do not
// make. A failed check is a usage error: "--json: ..." and exit status 2.
#pragma once

#include <CLI/CLI.hpp>

namespace nantrack {

// For options that take a FILE or DIR. CLI11 takes whatever follows an
// option as its value, so a forgotten value made the next option, or the
// "--" before the program, the name of a file that was then written.
CLI::Validator not_an_option();

// For --options: text the library would find problems in (an unknown key,
// a bad value). The library would warn and run on; here nothing runs.
CLI::Validator valid_library_options();

// For --quarantine-bytes: a size as the library's quarantine_bytes takes it.
CLI::Validator quarantine_size();

}  // namespace nantrack
