#include "tests/e2e/traced_run.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report/trace_reader.h"

extern char** environ;

namespace nantrack::testing {
namespace fs = std::filesystem;

std::string program(const std::string& name) { return std::string(NANTRACK_BUILD_DIR) + "/tests/programs/" + name; }
std::string bench_program(const std::string& name) { return std::string(NANTRACK_BUILD_DIR) + "/bench/" + name; }
std::string library_path() { return std::string(NANTRACK_BUILD_DIR) + "/lib/libnantrack.so"; }
std::string nantrack_cli() { return std::string(NANTRACK_BUILD_DIR) + "/bin/nantrack"; }

namespace {

std::string make_trace_dir() {
  std::string pattern = (fs::temp_directory_path() / "nantrack-e2e-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

// Reads both pipes until the child closes them (no deadlock on full pipes).
void drain(int out_fd, int err_fd, std::string& out, std::string& err) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&out, &err};
  int open_count = 2;
  char buffer[65536];
  while (open_count) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
}

// The environment a run's program gets: ours without LD_PRELOAD and
// NANTRACK_OPTIONS, then the library's when traced (writing into
// `trace_dir`), then `options.environment`.
std::vector<std::string> environment_for(const RunOptions& options, const std::string& trace_dir) {
  std::vector<std::string> environment;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    if (entry.rfind("LD_PRELOAD=", 0) == 0 || entry.rfind("NANTRACK_OPTIONS=", 0) == 0) continue;
    environment.push_back(entry);
  }
  if (options.traced) {
    environment.push_back("LD_PRELOAD=" + library_path());
    // The tests read the traces themselves; report=1 has its own tests.
    std::string nantrack_options = "output_dir=" + trace_dir + ":report=0";
    if (!options.nantrack_options.empty()) nantrack_options += ":" + options.nantrack_options;
    environment.push_back("NANTRACK_OPTIONS=" + nantrack_options);
  }
  // Extra entries replace inherited ones of the same name; a bare NAME
  // removes it.
  for (const std::string& extra : options.environment) {
    const size_t equals = extra.find('=');
    const std::string name = equals == std::string::npos ? extra + "=" : extra.substr(0, equals + 1);
    std::erase_if(environment, [&](const std::string& e) { return e.rfind(name, 0) == 0; });
    if (equals != std::string::npos) environment.push_back(extra);
  }
  return environment;
}

// execve's arrays, pointing into `strings`.
std::vector<char*> c_array(const std::vector<std::string>& strings) {
  std::vector<char*> array;
  for (const std::string& s : strings) array.push_back(const_cast<char*>(s.c_str()));
  array.push_back(nullptr);
  return array;
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
  RunResult result;
  result.trace_dir = make_trace_dir();
  const std::vector<std::string> environment = environment_for(options, result.trace_dir);
  std::vector<char*> c_argv = c_array(argv), c_env = c_array(environment);

  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) throw std::runtime_error("pipe failed");
  pid_t child = fork();
  if (child == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    close(out_pipe[0]);
    close(err_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (chdir(result.trace_dir.c_str()) != 0) _exit(126);
    if (options.address_space_limit) {
      rlimit limit{};
      getrlimit(RLIMIT_AS, &limit);
      limit.rlim_cur = options.address_space_limit;
      if (setrlimit(RLIMIT_AS, &limit) != 0) _exit(126);
    }
    execvpe(c_argv[0], c_argv.data(), c_env.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  drain(out_pipe[0], err_pipe[0], result.out, result.err);
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);

  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(result.trace_dir))
    if (entry.path().extension() == ".trace") files.push_back(entry.path());
  if (options.read_traces)
    for (const fs::path& file : files) result.traces.push_back(read_trace(file.string()));
  // A process's snapshots first, in order, then its own trace.
  const auto order = [](const Trace& trace) {
    return std::pair{trace.process.pid, trace.process.snapshot ? trace.process.snapshot->sequence : UINT32_MAX};
  };
  std::sort(result.traces.begin(), result.traces.end(),
            [&](const Trace& a, const Trace& b) { return order(a) < order(b); });
  fs::remove_all(result.trace_dir);
  return result;
}

RunResult expect_same_output_as_without_us(const std::vector<std::string>& argv, const std::string& expected_out) {
  const RunResult native = run(argv, {.traced = false});
  RunResult traced = run(argv);
  EXPECT_EQ(native.out, expected_out) << native.err;
  EXPECT_EQ(traced.out, native.out) << traced.err;
  EXPECT_EQ(traced.exit_code, 0) << traced.err;
  return traced;
}

RunResult nantrack(std::vector<std::string> arguments, std::vector<std::string> environment) {
  arguments.insert(arguments.begin(), nantrack_cli());
  return run(arguments, {.traced = false, .environment = std::move(environment)});
}

RunResult nantrack_as_printed(const std::string& err, const std::string& printed, const std::string& more) {
  const size_t at = err.find(printed);
  if (at == std::string::npos) return {};
  const size_t from = at + printed.size();
  const std::string arguments = err.substr(from, err.find('\n', from) - from);
  return run({"/bin/sh", "-c", "exec \"$0\" " + arguments + " " + more, nantrack_cli()}, {.traced = false});
}

pid_t start_nantrack(std::vector<std::string> arguments, std::vector<std::string> environment, int stderr_fd) {
  arguments.insert(arguments.begin(), nantrack_cli());
  const std::vector<std::string> full_environment = environment_for({.traced = false, .environment = environment}, "");
  std::vector<char*> c_argv = c_array(arguments), c_env = c_array(full_environment);
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(stderr_fd >= 0 ? stderr_fd : null, STDERR_FILENO);
    signal(SIGINT, SIG_DFL);
    execve(c_argv[0], c_argv.data(), c_env.data());
    _exit(127);
  }
  return pid;
}

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "nantrack-cli-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() { fs::remove_all(path_); }

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

const Trace& RunResult::trace_of(uint32_t pid) const {
  for (const Trace& trace : traces)
    if (trace.process.pid == pid) return trace;
  ADD_FAILURE() << "no trace for pid " << pid;
  throw std::runtime_error("no such trace");
}

const Trace& RunResult::only_trace() const {
  if (traces.size() != 1) {
    ADD_FAILURE() << "expected one trace, found " << traces.size() << "\nstderr:\n" << err;
    throw std::runtime_error("not exactly one trace");
  }
  return traces[0];
}

const Trace& RunResult::final_trace() const {
  const Trace* found = nullptr;
  size_t count = 0;
  for (const Trace& trace : traces)
    if (!trace.process.snapshot) found = (++count, &trace);
  if (count != 1) {
    ADD_FAILURE() << "expected one process trace besides the snapshots, found " << count << "\nstderr:\n" << err;
    throw std::runtime_error("not exactly one process trace");
  }
  return *found;
}

std::vector<const Trace*> RunResult::snapshots() const {
  std::vector<const Trace*> found;
  for (const Trace& trace : traces)
    if (trace.process.snapshot) found.push_back(&trace);
  return found;
}

uint64_t leaked_bytes(const Trace& trace) {
  uint64_t total = 0;
  for (const LiveBlock& block : trace.live_blocks) total += block.size;
  return total;
}

std::vector<const LiveBlock*> blocks_of_size(const Trace& trace, uint64_t size) {
  std::vector<const LiveBlock*> found;
  for (const LiveBlock& block : trace.live_blocks)
    if (block.size == size) found.push_back(&block);
  return found;
}

std::string leak_kinds_of_size(const Trace& trace, uint64_t size) {
  std::vector<int> values;
  for (const LiveBlock* block : blocks_of_size(trace, size)) values.push_back(block->leak_kind);
  std::sort(values.begin(), values.end());
  std::string kinds;
  for (int value : values) kinds += (kinds.empty() ? "" : " ") + std::to_string(value);
  return kinds;
}

std::vector<std::string> function_names(const Trace& trace, StackId stack) {
  Symbolizer symbolizer(trace.modules);
  std::vector<std::string> names;
  for (uint64_t pc : trace.stack(stack))
    for (const SourceFrame& frame : symbolizer.symbolize(pc)) names.push_back(frame.function);
  return names;
}

bool stack_has(const Trace& trace, StackId stack, const std::string& function) {
  // C++ names come demangled with their parameters: "second_free(void*)".
  for (const std::string& name : function_names(trace, stack))
    if (name == function || name.rfind(function + "(", 0) == 0) return true;
  return false;
}

}  // namespace nantrack::testing
