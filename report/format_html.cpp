#include "report/format_html.h"

#include <algorithm>
#include <initializer_list>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "report/html_assets.h"
#include "report/html_data.h"
#include "version.h"

namespace nantrack {
namespace {

struct Placeholder {
  std::string_view name;
  std::string_view value;
};

// Replaces each {{name}} of the template in one pass, so that a value which
// itself contains "{{...}}" (a function name could) is never expanded.
std::string fill_template(std::string_view page, std::initializer_list<Placeholder> values) {
  std::string out;
  size_t done = 0;
  for (size_t open = page.find("{{"); open != std::string_view::npos; open = page.find("{{", done)) {
    const size_t close = page.find("}}", open);
    if (close == std::string_view::npos) break;
    const std::string_view name = page.substr(open + 2, close - open - 2);
    const auto* value = std::find_if(values.begin(), values.end(), [&](const Placeholder& p) { return p.name == name; });
    if (value == values.end()) throw std::logic_error(fmt::format("report.html: unknown placeholder {{{{{}}}}}", name));
    out.append(page.substr(done, open - done)).append(value->value);
    done = close + 2;
  }
  return out.append(page.substr(done));
}

// JSON that can sit inside <script type="application/json">: a "<" there
// could start "</script>" or "<!--" and change how the page is parsed, and
// "\u003c" means the same to JSON.parse. Text from traces need not be UTF-8;
// invalid bytes become U+FFFD rather than an exception.
std::string embeddable_json(const nlohmann::json& data) {
  const std::string json = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(json.size() + json.size() / 64);
  for (char c : json) {
    if (c == '<') out += "\\u003c";
    else out += c;
  }
  return out;
}

std::string page_title(const Report& report) {
  if (report.processes.empty() || report.processes.front().process.argv.empty()) return "nantrack report";
  std::string title = "nantrack: " + report.processes.front().process.argv.front();
  if (report.processes.size() > 1) title += fmt::format(" and {} more processes", report.processes.size() - 1);
  return title;
}

}  // namespace

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_html_report(const Report& report) {
  return fill_template(html_assets::kTemplate, {{"title", escape_html(page_title(report))},
                                                {"version", kVersion},
                                                {"style", html_assets::kStyle},
                                                {"data", embeddable_json(report_to_html_data(report))},
                                                {"script", html_assets::kScript}});
}

}  // namespace nantrack
