// Ordinary C++ that frees what it owns: strings, a map, iostreams and an
// exception. Whatever the runtime keeps (locale, stream buffers, the
// exception pool) must not show as a definite leak.
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

int main() {
  std::map<std::string, int> counts;
  for (const char* word : {"pear", "apple", "a rather long word that does not fit in the small buffer", "pear"})
    ++counts[word];
  std::ostringstream text;
  for (const auto& [word, count] : counts) text << word << '=' << count << '\n';
  try {
    throw std::runtime_error("thrown and caught: " + text.str());
  } catch (const std::exception& error) {
    std::cout << std::string(error.what()).size() << " characters\n";
  }
  return 0;
}
