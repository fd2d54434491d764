// SARIF locations for source frames: artifact URIs relative to a source root,
// physical and logical locations, and whole stacks (SARIF 2.1.0 §3.4, §3.28,
// §3.44). Used by report/format_sarif.cpp.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "report/report_model.h"

namespace nantrack {

inline constexpr std::string_view kSourceRootId = "%SRCROOT%";

class SarifLocations {
 public:
  // root: absolute; files under it get URIs relative to kSourceRootId.
  explicit SarifLocations(std::filesystem::path root);

  // {"%SRCROOT%": {"uri": "file:///root/"}}, for run.originalUriBaseIds.
  nlohmann::json original_uri_base_ids() const;

  // {"uri": ..., "uriBaseId": ...} for a frame's file (which must be known).
  nlohmann::json artifact_location(const std::string& file) const;

  // A location object for the frame at `position` in its stack:
  // physicalLocation when the file is known, the function as a logical
  // location, the text report's frame line ("#0 0x… in f file:line") as message.
  nlohmann::json location(const SourceFrame& frame, size_t position) const;

  // A stack object: the caption as message, frames innermost first.
  nlohmann::json stack(std::string_view caption, const SourceStack& frames) const;

 private:
  std::filesystem::path root_;
};

// A path as a URI reference: bytes other than unreserved characters and "/"
// percent-encoded (RFC 3986), so spaces, "#", "%" and non-UTF-8 bytes survive.
std::string percent_encode_path(std::string_view path);

}  // namespace nantrack
