#include "report/frame_format.h"

#include <fmt/format.h>

namespace nantrack {

std::string with_thousands(uint64_t number) {
  std::string digits = std::to_string(number);
  for (size_t separator = digits.size() > 3 ? digits.size() - 3 : 0; separator > 0;
       separator = separator > 3 ? separator - 3 : 0)
    digits.insert(separator, 1, ',');
  return digits;
}

std::string counted(uint64_t number, std::string_view singular, std::string_view plural) {
  return fmt::format("{} {}", with_thousands(number), number == 1 ? singular : plural);
}

std::string format_frame(size_t index, const SourceFrame& frame) {
  std::string line = fmt::format("#{} {:#x}", index, frame.address);
  if (!frame.function.empty()) line += fmt::format(" in {}", frame.function);
  if (!frame.file.empty()) line += frame.line > 0 ? fmt::format(" {}:{}", frame.file, frame.line) : " " + frame.file;
  if (!frame.module.empty()) {
    const size_t slash = frame.module.rfind('/');
    const std::string_view name =
        slash == std::string::npos ? std::string_view(frame.module) : std::string_view(frame.module).substr(slash + 1);
    line += fmt::format(" ({}+{:#x})", name, frame.module_offset);
  }
  if (frame.inlined) line += " [inlined]";
  return line;
}

}  // namespace nantrack
