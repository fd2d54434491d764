// NANTRACK_OPTIONS="key=value:key=value", parsed without allocating (it runs
// on the first malloc). The keys are defined in options.def.
#pragma once

#include <cstdint>
#include <limits.h>

namespace nantrack {

// A path stored inline: options are read before any allocator is usable.
struct PathOption {
  char text[PATH_MAX] = {};
  constexpr PathOption(const char* initial) {
    for (int i = 0; initial[i] && i < PATH_MAX - 1; ++i) text[i] = initial[i];
  }
};

struct Options {
#define NANTRACK_OPTION_TYPE_Bool bool
#define NANTRACK_OPTION_TYPE_Int int64_t
#define NANTRACK_OPTION_TYPE_Size uint64_t
#define NANTRACK_OPTION_TYPE_Path PathOption
#define NANTRACK_OPTION(type, name, default_value, min, max, help) \
  NANTRACK_OPTION_TYPE_##type name = default_value;
#include "tracker/options.def"
#undef NANTRACK_OPTION
};

// Receives one complete message per problem, e.g.
// "nantrack: unknown option 'stak_depth' in NANTRACK_OPTIONS (ignored; see help=1)".
using OptionErrorSink = void (*)(const char* message);

// Where the text came from, which the messages name: the environment (a
// bad item is skipped and the program runs on) or `nantrack run --options`
// (a bad item is a usage error: the CLI prints the message after its
// "nantrack: ", and runs nothing).
enum class OptionsSource { Environment, RunCommand };

// Parses `text` into `options`, keeping defaults for keys that are missing or
// bad. Returns the number of problems reported to `sink`.
int parse_options(const char* text, Options& options, OptionErrorSink sink,
                  OptionsSource source = OptionsSource::Environment);

// The help text: every option with its default and meaning.
void print_options_help(int fd);

}  // namespace nantrack
