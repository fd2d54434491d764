// A path or argument written so that a POSIX shell reads it back as one
// word, unchanged: for the commands nantrack prints for the user to paste
// ("report them again with: nantrack report DIR"). A directory named
// "my traces" must not come back as two. Header-only and allocation-free:
// the preload library prints such commands too, from an exiting process.
#pragma once

#include <string>
#include <string_view>

namespace nantrack {

// Whether no shell gives `c` a meaning in a word (the characters of most
// paths), so a word of only these needs no quotes.
constexpr bool is_plain_shell_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("_-./:=+,@%").find(c) != std::string_view::npos;
}

// Hands `word`, quoted where it needs to be, to `append` in pieces
// (append(std::string_view)): plain words as they are, others in single
// quotes, inside which only the single quote itself needs care ('\'').
template <typename Append>
void append_shell_word(std::string_view word, Append&& append) {
  bool plain = !word.empty();
  for (char c : word) plain = plain && is_plain_shell_char(c);
  if (plain) return append(word);
  append("'");
  for (size_t start = 0; start <= word.size();) {
    const size_t quote = word.find('\'', start);
    append(word.substr(start, quote - start));
    if (quote == std::string_view::npos) break;
    append("'\\''");
    start = quote + 1;
  }
  append("'");
}

// The same as a string, for code that may allocate (the CLI, the tests).
inline std::string shell_word(std::string_view word) {
  std::string quoted;
  append_shell_word(word, [&](std::string_view piece) { quoted += piece; });
  return quoted;
}

}  // namespace nantrack
