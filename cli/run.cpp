// `nantrack run [options] -- PROGRAM [ARGS...]`: runs PROGRAM under
// libnantrack.so, waits, reports, and exits with PROGRAM's status (or dies
// of the signal that killed it) unless the CI gate trips.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/library_path.h"
#include "cli/option_checks.h"
#include "cli/program_lookup.h"
#include "cli/removed_on_interrupt.h"
#include "cli/report_request.h"
#include "cli/say.h"

extern char** environ;

namespace nantrack {
namespace {
namespace fs = std::filesystem;

struct RunOptions {
  std::vector<std::string> command;  // PROGRAM ARGS...
  std::string output_dir;            // empty: a temporary one
  bool keep_traces = false;
  bool follow_children = true;
  bool residue = false;
  int stack_depth = 0;  // 0: the library's default
  std::string quarantine_bytes;
  bool abort_on_error = false;
  std::string extra_options;  // passed through to NANTRACK_OPTIONS
  ReportRequest report;
};

// A value for NANTRACK_OPTIONS, where ':' separates options: a path that
// holds one goes in quotes (tracker/options.cpp).
std::string option_value(const std::string& value) {
  if (value.find(':') == std::string::npos) return value;
  if (value.find('"') == std::string::npos) return '"' + value + '"';
  if (value.find('\'') == std::string::npos) return '\'' + value + '\'';
  throw UsageError(fmt::format("'{}' holds ':' and both kinds of quotes: NANTRACK_OPTIONS cannot carry it", value));
}

// NANTRACK_OPTIONS for the traced program: the user's own first, ours last
// (later keys win), so a run's output_dir and report=0 always hold.
std::string library_options(const RunOptions& options, const std::string& trace_dir) {
  std::vector<std::string> items;
  if (const char* inherited = std::getenv("NANTRACK_OPTIONS"); inherited && *inherited) items.push_back(inherited);
  if (!options.extra_options.empty()) items.push_back(options.extra_options);
  if (options.stack_depth) items.push_back(fmt::format("stack_depth={}", options.stack_depth));
  if (!options.quarantine_bytes.empty()) items.push_back("quarantine_bytes=" + options.quarantine_bytes);
  if (options.abort_on_error) items.push_back("abort_on_error=1");
  if (!options.follow_children) items.push_back("follow_children=0");
  if (options.residue) items.push_back("residue=1");
  items.push_back("output_dir=" + option_value(trace_dir));
  items.push_back("report=0");  // we report, once, for every process
  return fmt::format("{}", fmt::join(items, ":"));
}

std::vector<std::string> child_environment(const std::string& library, const std::string& nantrack_options) {
  std::vector<std::string> environment;
  std::string preload = library;
  for (char** entry = environ; *entry; ++entry) {
    std::string_view e = *entry;
    if (e.starts_with("NANTRACK_OPTIONS=")) continue;
    if (e.starts_with("LD_PRELOAD=")) {
      if (e.size() > 11) preload += ":" + std::string(e.substr(11));
      continue;
    }
    environment.emplace_back(e);
  }
  environment.push_back("LD_PRELOAD=" + preload);
  environment.push_back("NANTRACK_OPTIONS=" + nantrack_options);
  return environment;
}

// Like a shell running a foreground job: ^C and ^\ go to the program (it
// shares our terminal's process group), and we stay to report. Signals a
// supervisor sends to our pid, thinking it the program's (stop, reload,
// reopen your logs), are passed on to it.
pid_t g_child = 0;
void forward_signal(int signal) {
  if (g_child > 0) kill(g_child, signal);
}

constexpr int kIgnoredWhileWaiting[] = {SIGINT, SIGQUIT};
constexpr int kForwarded[] = {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2};

// From before the fork to the end of the wait: a signal that comes before
// the program's pid is known is held (blocked), not lost nor taken with
// its default action, and passed on once it is known. The child gets the
// dispositions and mask nantrack run had, before it execs.
class SignalsPassedOn {
 public:
  SignalsPassedOn() {
    sigset_t ours;
    sigemptyset(&ours);
    for (int signal : kIgnoredWhileWaiting) sigaddset(&ours, signal);
    for (int signal : kForwarded) sigaddset(&ours, signal);
    sigprocmask(SIG_BLOCK, &ours, &previous_mask_);
    struct sigaction ignore {}, forward{};
    ignore.sa_handler = SIG_IGN;
    forward.sa_handler = forward_signal;
    size_t changed = 0;
    for (int signal : kIgnoredWhileWaiting) sigaction(signal, &ignore, &previous_[changed++]);
    for (int signal : kForwarded) sigaction(signal, &forward, &previous_[changed++]);
  }
  ~SignalsPassedOn() {
    restore_dispositions();
    g_child = 0;
    sigprocmask(SIG_SETMASK, &previous_mask_, nullptr);
  }
  SignalsPassedOn(const SignalsPassedOn&) = delete;
  SignalsPassedOn& operator=(const SignalsPassedOn&) = delete;

  // In the child, before exec.
  void give_back() {
    restore_dispositions();
    sigprocmask(SIG_SETMASK, &previous_mask_, nullptr);
  }
  // In the parent once the program runs: what was held goes to it now.
  void pass_to(pid_t child) {
    g_child = child;
    sigprocmask(SIG_SETMASK, &previous_mask_, nullptr);
  }

 private:
  void restore_dispositions() {
    size_t changed = 0;
    for (int signal : kIgnoredWhileWaiting) sigaction(signal, &previous_[changed++], nullptr);
    for (int signal : kForwarded) sigaction(signal, &previous_[changed++], nullptr);
  }

  sigset_t previous_mask_;
  struct sigaction previous_[std::size(kIgnoredWhileWaiting) + std::size(kForwarded)];
};

int wait_for(pid_t child) {
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// How the program ended: its exit status, or the signal that ended it; or
// the errno of an exec that failed (the program never ran).
struct Spawned {
  int status = 0;  // 128+N for signal N, as shells say
  int signal = 0;
  int exec_error = 0;
};

// The program died of a signal: so does nantrack run, after its report,
// so that whoever waits sees what it would see without us (a shell prints
// "Segmentation fault", Python's returncode is -11, ctest says SEGFAULT,
// a script stops at ^C). Without a core dump of ours: the program's own
// was written when it died.
int die_like_the_program(int signal) {
  std::cout.flush();
  std::fflush(nullptr);
  const struct rlimit no_core {};
  setrlimit(RLIMIT_CORE, &no_core);
  std::signal(signal, SIG_DFL);
  sigset_t just_it;
  sigemptyset(&just_it);
  sigaddset(&just_it, signal);
  sigprocmask(SIG_UNBLOCK, &just_it, nullptr);
  raise(signal);
  return 128 + signal;  // still here: a signal that does not end a process
}

Spawned spawn(const std::string& path, const std::vector<std::string>& argv,
              const std::vector<std::string>& environment) {
  std::vector<char*> c_argv, c_environment;
  for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  // An executable file that is not a binary nor has a #! line is a shell
  // script to shells and to execvp(): /bin/sh runs it, with the path first.
  std::vector<char*> shell_argv{const_cast<char*>("/bin/sh"), const_cast<char*>(path.c_str())};
  shell_argv.insert(shell_argv.end(), c_argv.begin() + 1, c_argv.end());
  for (const std::string& e : environment) c_environment.push_back(const_cast<char*>(e.c_str()));
  c_environment.push_back(nullptr);
  // The child writes exec's errno here if exec fails; a successful exec
  // closes it (close-on-exec), and the program never sees it.
  int exec_result[2];
  if (pipe2(exec_result, O_CLOEXEC) != 0)
    throw std::runtime_error(fmt::format("cannot start '{}': {}", argv[0], std::strerror(errno)));
  std::cout.flush();
  std::cerr.flush();
  SignalsPassedOn signals;
  pid_t child = fork();
  if (child < 0) throw std::runtime_error(fmt::format("cannot start '{}': {}", argv[0], std::strerror(errno)));
  if (child == 0) {
    signals.give_back();
    close(exec_result[0]);
    execve(path.c_str(), c_argv.data(), c_environment.data());
    if (errno == ENOEXEC) execve(shell_argv[0], shell_argv.data(), c_environment.data());
    const int error = errno;
    (void)!write(exec_result[1], &error, sizeof(error));
    _exit(error == ENOENT ? 127 : 126);  // as shells say
  }
  close(exec_result[1]);
  signals.pass_to(child);
  Spawned spawned;
  ssize_t got;
  while ((got = read(exec_result[0], &spawned.exec_error, sizeof(spawned.exec_error))) < 0 && errno == EINTR) {
  }
  if (got != sizeof(spawned.exec_error)) spawned.exec_error = 0;
  close(exec_result[0]);
  const int status = wait_for(child);
  if (WIFSIGNALED(status)) {
    spawned.signal = WTERMSIG(status);
    spawned.status = 128 + spawned.signal;
  } else {
    spawned.status = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  }
  return spawned;
}

// A trace file this run's processes left. Empty: opened early (before a
// setuid, a chroot or a seccomp sandbox, preload/confinement_hooks.cpp) by
// a process that never got to write it.
struct TraceFile {
  std::string path;
  bool empty = false;
};

std::vector<TraceFile> traces_in(const std::string& directory) {
  std::vector<TraceFile> traces;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("nantrack.") || entry.path().extension() != ".trace") continue;
    struct stat status {};
    if (stat(entry.path().c_str(), &status) != 0) continue;
    traces.push_back({entry.path().string(), status.st_size == 0});
  }
  std::sort(traces.begin(), traces.end(), [](const TraceFile& a, const TraceFile& b) { return a.path < b.path; });
  return traces;
}

// The traces to report on; an empty one is said, and left out.
std::vector<std::string> traces_to_report(const std::vector<TraceFile>& found, bool& any_empty) {
  std::vector<std::string> written;
  any_empty = false;
  for (const TraceFile& trace : found) {
    any_empty |= trace.empty;
    if (trace.empty)
      say("nantrack: the process of {} ended before it wrote its trace (killed with SIGKILL?)\n",
          fs::path(trace.path).filename().string());
    else
      written.push_back(trace.path);
  }
  return written;
}

// Where a run's processes write their traces: always a fresh directory of
// its own, so that every trace in it is this run's, and so is every process
// whose NANTRACK_OPTIONS name it. Without --output-dir it is a temporary
// one, removed after reporting. With it, it is a hidden one inside that
// directory, and the traces move up into it once the program has ended: an
// --output-dir may hold earlier runs' traces, or be shared with runs going
// on at the same time (ctest -j, each test under nantrack run), and theirs
// are not this run's findings (nor its gate's).
struct TraceDirectory {
  std::string own;
  std::string output_dir;  // absolute; empty: `own` is temporary
  bool temporary() const { return output_dir.empty(); }
};

std::string make_fresh_directory(const fs::path& parent, const std::string& name) {
  std::string pattern = (parent / (name + "-XXXXXX")).string();
  return mkdtemp(pattern.data()) ? pattern : "";
}

TraceDirectory prepare_trace_dir(const RunOptions& options) {
  if (!options.output_dir.empty()) {
    std::error_code error;
    fs::create_directories(options.output_dir, error);
    // Canonical, as the messages name it: "traces kept in /src/traces",
    // not "/src/build/../traces".
    std::error_code not_canonical;
    fs::path canonical = fs::canonical(options.output_dir, not_canonical);
    const std::string output_dir = (not_canonical ? fs::absolute(options.output_dir) : canonical).string();
    const bool writable = !error && access(output_dir.c_str(), W_OK) == 0;
    const std::string own = writable ? make_fresh_directory(output_dir, ".nantrack-run") : "";
    if (own.empty())
      throw UsageError(
          fmt::format("cannot write traces to --output-dir '{}': {}", options.output_dir,
                      error ? error.message() : std::strerror(errno)));
    return {own, output_dir};
  }
  // temp_directory_path() is $TMPDIR, else /tmp; its own error names only
  // itself.
  std::error_code error;
  const fs::path temp = fs::temp_directory_path(error);
  std::string own = error ? "" : make_fresh_directory(temp, "nantrack");
  if (own.empty()) {
    const char* tmpdir = std::getenv("TMPDIR");
    throw std::runtime_error(fmt::format("cannot create a temporary directory for the traces in '{}': {} ({}; or "
                                         "give --output-dir)",
                                         error ? (tmpdir ? tmpdir : "/tmp") : temp.string(),
                                         error ? error.message() : std::strerror(errno),
                                         tmpdir ? "TMPDIR names it" : "set TMPDIR"));
  }
  return {own, ""};
}

// Moves the traces up from the run's own directory into --output-dir,
// where the user asked for them (one of a pid an earlier run had is
// replaced, as the library itself would replace it). One that cannot be
// moved is said, and reported from where it is.
void move_into(std::vector<TraceFile>& traces, const std::string& output_dir) {
  for (TraceFile& trace : traces) {
    const std::string moved = (fs::path(output_dir) / fs::path(trace.path).filename()).string();
    if (std::rename(trace.path.c_str(), moved.c_str()) == 0)
      trace.path = moved;
    else
      say("nantrack: cannot move {} into {}: {}\n", trace.path, output_dir, std::strerror(errno));
  }
}

// What /proc/PID/environ says of a process: it holds `wanted` in its
// NANTRACK_OPTIONS, or not, or nothing can be read yet (a process in the
// middle of an execve, whose memory is being replaced). One whose file
// cannot be opened (another user's, or gone) is not ours; nor is one with
// nothing in it and no program (a kernel thread, a zombie): taken for one
// mid-execve, every run waited 20 ms for a second look at them.
enum class Environment { Matches, Other, Unreadable };

Environment environment_of(const fs::path& process, const std::string& wanted) {
  std::ifstream environ_file(process / "environ", std::ios::binary);
  if (!environ_file) return Environment::Other;
  std::string variable;
  bool any = false;
  while (std::getline(environ_file, variable, '\0')) {
    any = true;
    if (variable.starts_with("NANTRACK_OPTIONS=") && variable.find(wanted) != std::string::npos)
      return Environment::Matches;
  }
  if (any) return Environment::Other;
  std::error_code error;
  const bool has_program = !fs::read_symlink(process / "exe", error).empty() && !error;
  return has_program ? Environment::Unreadable : Environment::Other;
}

// Traced processes still running that will write their traces into
// `trace_dir` when they end: what the program left behind it (a daemon it
// started, a background job). Found by the NANTRACK_OPTIONS they were
// started with, in /proc/PID/environ. One caught mid-execve is read again
// a moment later.
std::vector<pid_t> processes_still_tracing_into(const std::string& trace_dir) {
  const std::string wanted = "output_dir=" + option_value(trace_dir) + ":";
  std::vector<pid_t> found;
  std::vector<fs::path> unreadable;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const Environment environment = environment_of(entry.path(), wanted);
    if (environment == Environment::Matches) found.push_back(static_cast<pid_t>(std::stol(name)));
    if (environment == Environment::Unreadable) unreadable.push_back(entry.path());
  }
  if (!unreadable.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (const fs::path& process : unreadable)
    if (environment_of(process, wanted) == Environment::Matches)
      found.push_back(static_cast<pid_t>(std::stol(process.filename().string())));
  std::sort(found.begin(), found.end());
  return found;
}

void say_still_running(const std::vector<pid_t>& pids, const std::string& trace_dir) {
  const bool one = pids.size() == 1;
  say("nantrack: {} started by the program {} still running (pid{} {}): {} to {} when {} end{}; "
      "report {} then with: nantrack report {}\n",
      one ? "a traced process" : fmt::format("{} traced processes", pids.size()), one ? "is" : "are",
      one ? "" : "s", fmt::join(pids, ", "), one ? "its trace goes" : "their traces go", trace_dir,
      one ? "it" : "they", one ? "s" : "", one ? "it" : "them", shell_word(trace_dir));
}

// The report on a program that has ended, or none when none can be made:
// then why is said, and the caller keeps the traces for `nantrack report`.
// Out of memory is the likely cause: a program that fits in a `ulimit -v`
// can leave more blocks than the report of them fits in.
std::optional<ReportOutcome> report_on(const std::vector<std::string>& traces, const ReportRequest& request) {
  try {
    return produce_report(traces, request, std::cerr);
  } catch (const std::bad_alloc&) {
    say_out_of_memory("for the report");
  } catch (const std::exception& error) {
    say("nantrack: cannot make the report: {}\n", error.what());
  }
  return std::nullopt;
}

void remove_trace_dir(const std::string& trace_dir) {
  std::error_code ignored;
  fs::remove_all(trace_dir, ignored);
}

int run_program(RunOptions& options) {
  validate(options.report);
  ProgramLookup program = find_program(options.command.front());
  if (program.path.empty()) {
    say("nantrack: {}\n", program.problem);
    return program.shell_status;
  }
  if (program.untraceable)
    say("nantrack: warning: '{}' will run untraced: {}\n", options.command.front(), *program.untraceable);
  std::string library = find_library();
  const TraceDirectory trace_dir = prepare_trace_dir(options);
  const Spawned spawned =
      spawn(program.path, options.command, child_environment(library, library_options(options, trace_dir.own)));
  if (spawned.exec_error) {
    // The file was there when it was looked up: ENOENT is about what it
    // needs to start.
    const std::string why = spawned.exec_error == ENOENT
                                ? "required file not found (its #! interpreter or its dynamic loader is missing)"
                                : std::strerror(spawned.exec_error);
    say("nantrack: cannot run '{}': {}\n", options.command.front(), why);
    remove_trace_dir(trace_dir.own);
    return spawned.status;
  }
  const int status = spawned.status;
  // The reader of the report may quit before its end (`2>&1 | head`):
  // writes to it then fail instead of killing nantrack run, which still has
  // report files to write and a temporary directory to remove.
  std::signal(SIGPIPE, SIG_IGN);

  // Their traces come later: the run's own directory stays for them.
  // Looked for before the traces are listed: one that ends in between is
  // then in both lists, rather than in neither.
  const std::vector<pid_t> still_running = processes_still_tracing_into(trace_dir.own);
  std::vector<TraceFile> found = traces_in(trace_dir.own);
  if (!trace_dir.temporary()) {
    move_into(found, trace_dir.output_dir);
    if (still_running.empty()) rmdir(trace_dir.own.c_str());
  }
  bool any_empty = false;
  const std::vector<std::string> traces = traces_to_report(found, any_empty);
  if (traces.empty() && !any_empty)
    say("nantrack: '{}' left no trace{}\n", options.command.front(),
        program.untraceable ? "" : " (was it killed with SIGKILL, or does it not use the dynamic loader?)");
  // Stopped while it reports, the run takes its temporary directory along.
  std::optional<RemovedOnInterrupt> removed_if_interrupted;
  if (trace_dir.temporary() && !options.keep_traces && still_running.empty())
    removed_if_interrupted.emplace(trace_dir.own, RemovedOnInterrupt::Kind::Directory);
  const std::optional<ReportOutcome> outcome = report_on(traces, options.report);
  removed_if_interrupted.reset();
  if (!still_running.empty()) say_still_running(still_running, trace_dir.own);
  // A report that could not be made, or not written whole, can be made
  // again from the traces: they are kept whatever was asked.
  const bool report_incomplete = !outcome || outcome->reports_unwritten;
  if (trace_dir.temporary() && !options.keep_traces && still_running.empty() && !report_incomplete) {
    remove_trace_dir(trace_dir.own);
  } else {
    // An --output-dir may hold other runs' traces too: this run's are
    // named one by one.
    const std::string& kept_in = trace_dir.temporary() ? trace_dir.own : trace_dir.output_dir;
    const std::string again = trace_dir.temporary() ? shell_word(kept_in) : shell_words(traces);
    say("nantrack: traces kept in {}{}\n", kept_in,
        report_incomplete ? fmt::format("; report them again with: nantrack report {}", again) : "");
  }
  if (outcome && outcome->gate_exit_status) return *outcome->gate_exit_status;
  // With no report there is no verdict: a gate must not pass.
  if (const std::optional<int> gate_status = options.report.gate_exit_status(); !outcome && gate_status) {
    say("nantrack: CI gate failed: no report; exit status {}\n", *gate_status);
    return *gate_status;
  }
  return spawned.signal ? die_like_the_program(spawned.signal) : status;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* run = app.add_subcommand("run", "Run a program under nantrack and report its leaks and bad frees");
  run->footer(
      "Exit status: PROGRAM's (a signal that killed it ends nantrack too), unless the gate trips (--error-exitcode);\n"
      "127/126 if PROGRAM cannot be found/run. The report goes to stderr.");
  run->add_option("--output-dir", options->output_dir, "Keep traces in DIR (default: a temporary directory); the report covers only this run's")
      ->check(a_path("a directory name"));
  run->add_flag("--keep-traces", options->keep_traces, "Keep the temporary trace directory");
  run->add_flag("!--no-follow-children", options->follow_children, "Trace only the first process");
  run->add_flag("--residue", options->residue, "Print the duck banner with the unfreed bytes at exit");
  run->add_option("--stack-depth", options->stack_depth, "Frames recorded per stack (default 64)")
      ->check(CLI::Range(1, 256));
  run->add_option("--quarantine-bytes", options->quarantine_bytes,
                  "Freed bytes held back to catch double frees (default 16m; 0 turns it off)")
      ->check(quarantine_size());
  run->add_flag("--abort-on-error", options->abort_on_error, "Abort the program at the first bad free");
  run->add_option("--options", options->extra_options, "Extra NANTRACK_OPTIONS (key=value:key=value)")
      ->check(valid_library_options());
  add_report_options(*run, options->report);
  run->add_option("PROGRAM", options->command, "The program to run, and its arguments (after --)")
      ->required()
      ->expected(-1);
  run->positionals_at_end();
  return {run, [options] { return run_program(*options); }};
}

}  // namespace nantrack
