// Reads the text of a suppressions file into rules; both dialects and their
// semantics are described in report/suppressions.h.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "report/suppressions.h"

namespace nantrack {

// Throws SuppressionsError naming `source` and the line at fault. Never
// crashes or hangs, whatever the bytes.
std::vector<Suppression> parse_suppressions(std::string_view text, const std::string& source);

}  // namespace nantrack
