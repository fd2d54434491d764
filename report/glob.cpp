#include "report/glob.h"

namespace nantrack {

namespace {

// The literal text a pattern starts with (before any wildcard) and the one it
// ends with (after the last `*`, if no `?` is in it): a text that lacks either
// is rejected without the general loop. Suppression patterns are mostly such
// literals around a `*`, and most texts they meet do not match.
bool literal_ends_fit(std::string_view pattern, std::string_view text) {
  const std::string_view head = pattern.substr(0, pattern.find_first_of("*?"));
  if (head.size() == pattern.size()) return text == pattern;
  const size_t last_star = pattern.rfind('*');
  const std::string_view tail =
      last_star == std::string_view::npos ? std::string_view() : pattern.substr(last_star + 1);
  const bool tail_is_literal = tail.find('?') == std::string_view::npos;
  return text.starts_with(head) && (!tail_is_literal || text.ends_with(tail));
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  if (!literal_ends_fit(pattern, text)) return false;
  size_t p = 0, t = 0;
  // Where to resume after the most recent `*`: the pattern just past it, and
  // the text position it has swallowed up to. Only the latest `*` ever needs
  // to grow, because whatever an earlier one could absorb, this one can too.
  size_t star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t]) && pattern[p] != '*') {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = ++p;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace nantrack
