#include "report/sarif_location.h"

#include <fmt/format.h>

#include "report/frame_format.h"

namespace nantrack {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// "/root" -> "file:///root/": a base URI must end with a slash for relative
// URIs to resolve under it, not beside it.
std::string directory_uri(const fs::path& directory) {
  std::string path = directory.generic_string();
  if (!path.ends_with('/')) path += '/';
  return "file://" + percent_encode_path(path);
}

}  // namespace

std::string percent_encode_path(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (unsigned char c : path) {
    if (is_unreserved(c) || c == '/') out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

SarifLocations::SarifLocations(fs::path root) : root_(std::move(root).lexically_normal()) {}

json SarifLocations::original_uri_base_ids() const {
  return {{kSourceRootId, {{"uri", directory_uri(root_)}}}};
}

json SarifLocations::artifact_location(const std::string& file) const {
  const fs::path path = fs::path(file).lexically_normal();
  if (path.is_relative()) return {{"uri", percent_encode_path(path.generic_string())}, {"uriBaseId", kSourceRootId}};
  const fs::path relative = path.lexically_relative(root_);
  if (!relative.empty() && *relative.begin() != "..")
    return {{"uri", percent_encode_path(relative.generic_string())}, {"uriBaseId", kSourceRootId}};
  return {{"uri", "file://" + percent_encode_path(path.generic_string())}};
}

json SarifLocations::location(const SourceFrame& frame, size_t position) const {
  json out = {{"message", {{"text", format_frame(position, frame)}}}};
  if (!frame.file.empty()) {
    json& physical = out["physicalLocation"] = {{"artifactLocation", artifact_location(frame.file)}};
    if (frame.line > 0) physical["region"] = {{"startLine", frame.line}};
  }
  if (!frame.function.empty())
    out["logicalLocations"] = json::array({{{"fullyQualifiedName", frame.function}, {"kind", "function"}}});
  return out;
}

json SarifLocations::stack(std::string_view caption, const SourceStack& frames) const {
  json out_frames = json::array();
  for (size_t position = 0; position < frames.size(); ++position) {
    const SourceFrame& frame = frames[position];
    json out = {{"location", location(frame, position)}};
    if (!frame.module.empty()) out["module"] = fs::path(frame.module).filename().string();
    out_frames.push_back(std::move(out));
  }
  return {{"message", {{"text", caption}}}, {"frames", std::move(out_frames)}};
}

}  // namespace nantrack
