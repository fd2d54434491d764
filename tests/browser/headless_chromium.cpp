#include "tests/browser/headless_chromium.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace nantrack::testing {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string file_url(const fs::path& page) { return "file://" + fs::absolute(page).string(); }

// Waits for pid until the deadline; kills its whole process group (chromium
// forks zygote, renderer and utility processes) if it is not done by then.
// Returns the wait status, or nullopt on timeout.
std::optional<int> wait_with_deadline(pid_t pid, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

std::optional<fs::path> HeadlessChromium::find() {
  const char* path = getenv("PATH");
  std::istringstream directories(path ? path : "/usr/bin:/bin");
  for (std::string directory; std::getline(directories, directory, ':');) {
    const fs::path candidate = fs::path(directory) / "chromium";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

HeadlessChromium::HeadlessChromium(fs::path executable, fs::path scratch_dir, std::chrono::seconds timeout)
    : executable_(std::move(executable)), scratch_dir_(std::move(scratch_dir)), timeout_(timeout) {
  fs::create_directories(scratch_dir_);
}

std::string HeadlessChromium::dump_dom(const fs::path& page) const { return run({"--dump-dom", file_url(page)}); }

void HeadlessChromium::screenshot(const fs::path& page, const fs::path& png, int width, int height) const {
  fs::remove(png);
  run({"--screenshot=" + fs::absolute(png).string(), "--window-size=" + std::to_string(width) + "," + std::to_string(height),
       "--hide-scrollbars", file_url(page)});
  if (!fs::exists(png)) throw std::runtime_error("chromium wrote no screenshot at " + png.string());
}

std::string HeadlessChromium::run(const std::vector<std::string>& extra) const {
  std::string profile_template = (scratch_dir_ / "profile.XXXXXX").string();
  if (mkdtemp(profile_template.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  const fs::path profile = profile_template;
  const fs::path out = profile / "stdout.txt";
  const fs::path err = profile / "stderr.txt";

  // Root needs --no-sandbox; the rest keeps chromium off the network and away
  // from anything (GPU, first-run UI, updaters) a CI machine does not have.
  std::vector<std::string> args = {executable_.string(), "--headless", "--no-sandbox", "--disable-gpu",
                                   "--disable-quic", "--no-first-run", "--disable-background-networking",
                                   "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                                   "--user-data-dir=" + profile.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&files, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);  // its own group, to kill it whole
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0], &files, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) throw std::runtime_error("cannot start " + executable_.string() + ": " + std::strerror(spawned));

  const std::optional<int> status = wait_with_deadline(pid, std::chrono::steady_clock::now() + timeout_);
  std::string output = read_file(out);
  const std::string errors = read_file(err);
  fs::remove_all(profile);
  if (!status) throw std::runtime_error("chromium timed out after " + std::to_string(timeout_.count()) + " s:\n" + errors);
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
    throw std::runtime_error("chromium failed (wait status " + std::to_string(*status) + "):\n" + errors);
  return output;
}

}  // namespace nantrack::testing
