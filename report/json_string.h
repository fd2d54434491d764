// Strings as JSON string literals. Names from a trace (functions, paths, argv)
// are bytes, not necessarily UTF-8: invalid sequences become U+FFFD so that
// the document stays valid JSON whatever the traced program held.
#pragma once

#include <string>
#include <string_view>

namespace nantrack {

// Appends `text` to `out` quoted and escaped: "a\"b\n".
void append_json_string(std::string& out, std::string_view text);

}  // namespace nantrack
