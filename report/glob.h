// Shell-style wildcard matching for suppression patterns: `*` matches any run
// of characters (also none), `?` exactly one; every other character matches
// itself. There is no escape and no character class, as in LeakSanitizer's and
// valgrind's suppression files.
#pragma once

#include <string_view>

namespace nantrack {

// Whether `pattern` matches the whole of `text`. Linear in practice and
// O(pattern × text) at worst: a failed match after a `*` only moves that one
// `*` forward, so no input makes it backtrack exponentially.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace nantrack
