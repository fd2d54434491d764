// The text of report/default_suppressions.supp, compiled into the library
// (report/CMakeLists.txt generates its definition).
#pragma once

#include <string_view>

namespace nantrack {

std::string_view default_suppressions_text();

}  // namespace nantrack
