"""The columns of the table: how each tool runs a command, and how to tell
afterwards that it really did its job (a run that only looked fast because
the tool never engaged must count as failed)."""
import ctypes.util
import os
import shutil
from pathlib import Path

from harness.trace_check import check_trace
from harness.workloads import Workload


class Tool:
    name = ""
    # RLIMIT_AS for the tool and everything it starts; None: no limit.
    address_space_limit: int | None = None
    # Slow enough that full-size runs would take minutes: fewer runs, at the
    # workload's reduced size.
    slow = False

    def unavailable(self) -> str | None:
        """Why this tool cannot run here, or None."""
        return None

    def wrap(self, argv: list[str], out_dir: Path) -> tuple[list[str], dict[str, str]]:
        """The command line and extra environment that run `argv` under the
        tool, with its output files going to `out_dir`."""
        return argv, {}

    def check(self, out_dir: Path, pids: list[int], workload: Workload | None) -> str | None:
        """What is missing from `out_dir` after processes `pids` ran
        `workload` (None: a program with nothing more expected of it, such as
        the micro-benchmark), or None."""
        return None


class Native(Tool):
    name = "native"


class Nantrack(Tool):
    def __init__(self, library: Path, cli: Path, options: str = "", label: str = ""):
        """`cli`: the nantrack CLI the library runs at exit, passed as
        NANTRACK_CLI (a library copied elsewhere to compare builds finds none
        beside it). `options`: NANTRACK_OPTIONS of a variant column (e.g.
        redzone=0), headed `nantrack LABEL` (the options themselves if no
        label); empty for the default column."""
        self.library = library
        self.cli = cli
        self.options = options
        self.name = f"nantrack {label or options}" if options else "nantrack"

    def unavailable(self):
        if not self.library.exists():
            return f"{self.library} not found (libnantrack.so not built yet?)"
        return None

    def wrap(self, argv, out_dir):
        # The caller's NANTRACK_OPTIONS come after ours, so a cost can be
        # measured with a check switched off (e.g. redzone=0:free_fill=-1).
        options = ":".join(filter(None, [f"output_dir={out_dir}", self.options, os.environ.get("NANTRACK_OPTIONS")]))
        return argv, {"LD_PRELOAD": str(self.library), "NANTRACK_OPTIONS": options, "NANTRACK_CLI": str(self.cli)}

    def report_note(self) -> str:
        """With default options the library runs the CLI at exit to print the
        symbolized report, if it finds one: whether the times include that."""
        if self.cli.exists():
            return f"times include the symbolized report printed at exit by {self.cli}"
        return f"no CLI at {self.cli}, so times exclude the report at exit (trace writing only)"

    def check(self, out_dir, pids, workload):
        expected_leak = workload.expected_leak if workload else None
        problems = (check_trace(out_dir, pid, expected_leak) for pid in pids)
        return next((problem for problem in problems if problem), None)


class Heaptrack(Tool):
    name = "heaptrack"
    # heaptrack 1.4.0's interpreter can grow without bound (here: 18 GB, then
    # std::bad_alloc, on cc1plus): the cap makes that failure quick and keeps
    # it from starving everything else on the machine.
    address_space_limit = 8 << 30

    def unavailable(self):
        return None if shutil.which("heaptrack") else "heaptrack is not installed"

    def wrap(self, argv, out_dir):
        return ["heaptrack", "-o", str(out_dir / "heaptrack"), *argv], {}

    def check(self, out_dir, pids, workload):
        return None if any(out_dir.glob("heaptrack.*")) else "heaptrack wrote no data file"


class Valgrind(Tool):
    name = "valgrind"
    slow = True

    def unavailable(self):
        return None if shutil.which("valgrind") else "valgrind is not installed"

    def wrap(self, argv, out_dir):
        return ["valgrind", "--tool=memcheck", "--leak-check=full",
                f"--log-file={out_dir}/valgrind.%p.log", *argv], {}

    def check(self, out_dir, pids, workload):
        for pid in pids:
            log = out_dir / f"valgrind.{pid}.log"
            if not log.exists() or "ERROR SUMMARY" not in log.read_text(errors="replace"):
                return f"valgrind did not finish {log.name}"
        return None


class LeakSanitizer(Tool):
    """GCC's standalone LeakSanitizer runtime preloaded into the unmodified
    program: what LSan can do without the rebuild it is meant for. By
    default it walks frame pointers, which -O2 code does not keep, so its
    stacks stop after a frame or two; `dwarf` (fast_unwind_on_malloc=0)
    unwinds with DWARF CFI like nantrack, for stacks as complete as ours."""

    # Printed at start-up with verbosity=1: proof the runtime was loaded.
    STARTED = "Installed the sigaction"
    LEAK = "Direct leak of"

    def __init__(self, dwarf: bool = False):
        self.dwarf = dwarf
        self.slow = dwarf
        self.name = "lsan dwarf" if dwarf else "lsan"
        self.library = ctypes.util.find_library("lsan")

    def unavailable(self):
        return None if self.library else "liblsan.so is not installed (Debian package liblsan0)"

    def wrap(self, argv, out_dir):
        # exitcode=0: a leak the program has anyway must not fail the run
        # (LSan exits with 23); its report is still made and written.
        options = ["exitcode=0", f"log_path={out_dir}/lsan", "verbosity=1"]
        if self.dwarf:
            options.append("fast_unwind_on_malloc=0")
        return argv, {"LD_PRELOAD": self.library, "LSAN_OPTIONS": ":".join(options)}

    def check(self, out_dir, pids, workload):
        if workload and not workload.allocates:
            return None  # the runtime starts at the first call it intercepts
        logs = [out_dir / f"lsan.{pid}" for pid in pids]
        texts = [log.read_text(errors="replace") if log.exists() else "" for log in logs]
        for log, text in zip(logs, texts):
            if self.STARTED not in text:
                return f"LeakSanitizer did not start (no '{self.STARTED}' in {log.name})"
        if workload and workload.expected_leak and not any(self.LEAK in text for text in texts):
            return "LeakSanitizer reported no leak"
        return None


TRACKER_NAMES = ("nantrack", "heaptrack", "valgrind", "lsan")

# `--checks`: one nantrack column per check switched off, and all of them
# off, so the table shows what each costs (README.md, "Options").
CHECK_VARIANTS = {"-redzone": "redzone=0", "-fill": "free_fill=-1", "-quarantine": "quarantine_bytes=0",
                  "-scan": "leak_scan=0", "-all": "redzone=0:free_fill=-1:quarantine_bytes=0:leak_scan=0"}


def make_tools(library: Path, cli: Path, names, variants: dict[str, str] | None = None) -> list[Tool]:
    """Native (the baseline every ratio needs) and the named trackers, in the
    table's column order; nantrack's variants ({label: options}) follow it."""
    tools = [Native()]
    for name in TRACKER_NAMES:
        if name not in names:
            continue
        if name == "nantrack":
            tools += [Nantrack(library, cli), *(Nantrack(library, cli, options, label)
                                           for label, options in (variants or {}).items())]
        elif name == "lsan":
            tools += [LeakSanitizer(), LeakSanitizer(dwarf=True)]
        else:
            tools.append(Heaptrack() if name == "heaptrack" else Valgrind())
    return tools
