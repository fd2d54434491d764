// Test helper: Debian's `chromium` run headless, as CI can run it (as root,
// no display, no network, a fresh profile each time), bounded by a timeout
// so that a hung browser fails the test instead of stalling CI.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace nantrack::testing {

class HeadlessChromium {
 public:
  // The `chromium` on PATH, or nullopt.
  static std::optional<std::filesystem::path> find();

  // scratch_dir: where the throwaway profiles go.
  HeadlessChromium(std::filesystem::path executable, std::filesystem::path scratch_dir,
                   std::chrono::seconds timeout = std::chrono::seconds(60));

  // The page's DOM, serialized after its scripts ran (--dump-dom).
  std::string dump_dom(const std::filesystem::path& page) const;

  // A PNG of the page's first width x height pixels.
  void screenshot(const std::filesystem::path& page, const std::filesystem::path& png, int width, int height) const;

 private:
  // Runs chromium with the common flags plus `extra`; returns its stdout.
  // Throws std::runtime_error with chromium's stderr on failure or timeout.
  std::string run(const std::vector<std::string>& extra) const;

  std::filesystem::path executable_;
  std::filesystem::path scratch_dir_;
  std::chrono::seconds timeout_;
};

}  // namespace nantrack::testing
