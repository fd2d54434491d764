// The HTML report's page template, style sheet and script, compiled in from
// report/html/ at build time (report/html/embed_assets.cmake), so the sources
// stay ordinary .html/.css/.js files and the report needs no file at run time.
#pragma once

#include <string_view>

namespace nantrack::html_assets {

extern const std::string_view kTemplate;  // report.html, with {{placeholders}}
extern const std::string_view kStyle;     // report.css
extern const std::string_view kScript;    // the .js files, concatenated in dependency order

}  // namespace nantrack::html_assets
