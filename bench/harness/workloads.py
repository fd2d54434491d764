"""The workloads, one table entry each.

A workload is a name, the commands it times (`steps`: run one after another
in its scratch directory, times added) and optionally an untimed `setup`
(once per size, e.g. generate input) and `reset` (before every run, e.g. a
fresh git repository). `size` is passed to `steps` and `setup`;
`reduced_size`, when set, is the smaller size the slow tools (valgrind, and
LeakSanitizer with DWARF stacks) run at because the full one would take them
minutes (their ratios are then against native at that same size). To add a
workload, add an entry to WORKLOADS.
"""
import functools
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness import inputs

FIXED_COST = "fixed cost"
SYNTHETIC = "synthetic"
REAL_PROGRAM = "real program"

BENCH_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Context:
    build_dir: Path
    work_dir: Path  # this workload's scratch directory, removed afterwards

    def bench_program(self, name: str) -> str:
        return str(self.build_dir / "bench" / name)

    def measure_child(self) -> Path:
        return self.build_dir / "bench" / "measure_child"


Steps = list[list[str]]


@dataclass(frozen=True)
class Workload:
    name: str
    kind: str
    models: str  # what real situation it stands for
    steps: Callable[[Context, int | None], Steps]
    size: int | None = None
    reduced_size: int | None = None
    setup: Callable[[Path, int | None], None] | None = None
    reset: Callable[[Path], None] | None = None
    needs: tuple[str, ...] = ()  # programs that must be installed
    env: dict[str, str] = field(default_factory=dict)
    expected_leak: tuple[int, int] | None = None  # (blocks, bytes each) it leaks on purpose
    # False: it never calls malloc, so a tool that starts at its first
    # intercepted call (preloaded LeakSanitizer) leaves no sign it ran.
    allocates: bool = True


# The distribution's interpreter, not a version-manager shim that would run
# (and be traced as) a shell script first.
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

# Reproducible git: no user or system config, no background maintenance.
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost",
       "-c", "gc.auto=0", "-c", "maintenance.auto=false"]
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"}


def fresh_git_repository(work_dir: Path) -> None:
    shutil.rmtree(inputs.source_tree(work_dir) / ".git", ignore_errors=True)
    subprocess.run([*GIT, "init", "-q"], cwd=inputs.source_tree(work_dir), env={**os.environ, **GIT_ENV},
                   check=True)


@functools.cache
def compiler_proper(source: Path, output: Path) -> list[str]:
    """The cc1plus command `g++ -O2 -S` runs. Timed directly because heaptrack
    and valgrind trace only the process they start, which for `g++ -c` would
    be the driver, not the compiler doing the work."""
    driver = subprocess.run(["g++", "-###", "-O2", "-S", str(source), "-o", str(output)],
                            capture_output=True, text=True, check=True)
    for line in driver.stderr.splitlines():
        argv = shlex.split(line)
        if argv and Path(argv[0]).name == "cc1plus":
            return argv
    raise RuntimeError("g++ -### printed no cc1plus command")


WORKLOADS = [
    Workload("true", FIXED_COST, "starting any process under the tool: /bin/true",
             steps=lambda c, n: [["/bin/true"]], allocates=False),
    Workload("churn", SYNTHETIC,
             "a busy server: small malloc/free pairs 12-20 frames deep, ~1000 call sites",
             steps=lambda c, n: [[c.bench_program("churn"), str(n), "1"]],
             size=5_000_000, reduced_size=1_000_000),
    Workload("churn-2t", SYNTHETIC, "the same pairs split over 2 threads allocating at once",
             steps=lambda c, n: [[c.bench_program("churn"), str(n), "2"]],
             size=5_000_000, reduced_size=1_000_000),
    Workload("live3m", SYNTHETIC, "3 million small blocks live at once: the tracker's memory per block",
             steps=lambda c, n: [[c.bench_program("live3m"), str(n)]], size=3_000_000),
    Workload("leaky", SYNTHETIC, "100 leaked blocks of 1000 bytes: proves tracking was on",
             steps=lambda c, n: [[c.bench_program("leaky")]], expected_leak=(100, 1000)),
    Workload("python-json", REAL_PROGRAM, "CPython serialising and parsing JSON (pymalloc in front of malloc)",
             steps=lambda c, n: [[PYTHON, str(BENCH_DIR / "inputs" / "json_round_trip.py"), str(n)]],
             size=40_000, reduced_size=10_000, needs=(PYTHON,)),
    Workload("sqlite-insert", REAL_PROGRAM, "sqlite3 importing rows into an in-memory database, then indexing",
             steps=lambda c, n: [["sqlite3", ":memory:", f".read {inputs.inserts_sql(c.work_dir, n)}"]],
             size=100_000, reduced_size=25_000, setup=inputs.write_inserts_sql, needs=("sqlite3",)),
    Workload("g++-compile", REAL_PROGRAM, "g++ -O2 compiling a translation unit that uses the std containers",
             steps=lambda c, n: [compiler_proper(BENCH_DIR / "inputs" / "compile_unit.cpp",
                                                 c.work_dir / "compile_unit.s")],
             needs=("g++",)),
    Workload("git-add-commit", REAL_PROGRAM, "git add and commit of 2000 new files",
             steps=lambda c, n: [[*GIT, "-C", str(inputs.source_tree(c.work_dir)), *command]
                                 for command in (["add", "-A"], ["commit", "-q", "-m", "bench"])],
             setup=inputs.write_source_tree, reset=fresh_git_repository, needs=("git",), env=GIT_ENV),
    Workload("sort-1m", REAL_PROGRAM, "sort(1) of 1 million text lines (2 threads)",
             steps=lambda c, n: [["sort", "-o", "sorted.txt", str(inputs.text_lines(c.work_dir, n))]],
             size=1_000_000, reduced_size=250_000, setup=inputs.write_text_lines, needs=("sort",),
             env={"LC_ALL": "C"}),
]
