"""Running one command and measuring it: wall time and peak RSS, as taken by
measure_child (see bench/measure_child.c for why run-bench needs it). For a
tool that forks helpers, such as heaptrack's interpreter, the peak RSS is the
largest of the processes it waited for.
"""
import os
import re
import resource
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

# A wedged run must not hang `make bench` forever.
RUN_TIMEOUT_S = 600
ERROR_WORDS = re.compile(r"error|fatal|bad_alloc|what\(\)|cannot|terminate", re.IGNORECASE)


@dataclass(frozen=True)
class Sample:
    wall_s: float
    max_rss_kb: int


class RunFailed(Exception):
    """The command exited non-zero, was killed, or its tool left no output."""


@dataclass(frozen=True)
class Run:
    sample: Sample
    pids: list[int]  # one per step, to find per-process outputs


def _failure_excerpt(log_path: Path) -> str:
    """": " and the log lines that say what went wrong, else its last lines;
    nothing when the log is empty (a crash before any output)."""
    lines = [line.strip() for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if ERROR_WORDS.search(line)]
    excerpt = " | ".join((errors or lines)[-3:])
    return f": {excerpt}" if excerpt else ""


def _limit_address_space(limit_bytes: int | None):
    if limit_bytes is None:
        return None
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))


def run_step(measure_child: Path, argv: list[str], env: dict[str, str], cwd: Path, log_path: Path,
             address_space_limit: int | None) -> tuple[Sample, int]:
    """Runs `argv` (output to `log_path`); returns its sample and pid."""
    result_path = log_path.with_suffix(".measured")
    with open(log_path, "ab") as log:
        # Its own session, so a timeout can kill the whole tree (heaptrack
        # runs the program, an interpreter and a compressor).
        launcher = subprocess.Popen([str(measure_child), str(result_path), *argv], env=env, cwd=cwd,
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True,
                                    preexec_fn=_limit_address_space(address_space_limit))
        timed_out = threading.Event()

        def kill_on_timeout():
            timed_out.set()
            os.killpg(launcher.pid, signal.SIGKILL)

        timer = threading.Timer(RUN_TIMEOUT_S, kill_on_timeout)
        timer.start()
        try:
            launcher.wait()
        except BaseException:  # Ctrl-C: do not leave the run behind
            os.killpg(launcher.pid, signal.SIGKILL)
            raise
        finally:
            timer.cancel()
    name = Path(argv[0]).name
    if timed_out.is_set():
        raise RunFailed(f"{name} timed out after {RUN_TIMEOUT_S} s")
    if launcher.returncode != 0:
        raise RunFailed(f"measure_child failed{_failure_excerpt(log_path)}")
    wall_ns, max_rss_kb, status, pid = map(int, result_path.read_text().split())
    exit_code = os.waitstatus_to_exitcode(status)
    if exit_code != 0:
        how = f"killed by signal {-exit_code}" if exit_code < 0 else f"exit status {exit_code}"
        raise RunFailed(f"{name} {how}{_failure_excerpt(log_path)}")
    return Sample(wall_ns / 1e9, max_rss_kb), pid


def run_steps(measure_child: Path, steps: list[list[str]], env: dict[str, str], cwd: Path,
              log_path: Path, address_space_limit: int | None = None) -> Run:
    """Runs the steps one after another; their times add up, their peak RSS
    is the largest."""
    wall_s, max_rss_kb, pids = 0.0, 0, []
    for argv in steps:
        sample, pid = run_step(measure_child, argv, env, cwd, log_path, address_space_limit)
        wall_s += sample.wall_s
        max_rss_kb = max(max_rss_kb, sample.max_rss_kb)
        pids.append(pid)
    return Run(Sample(wall_s, max_rss_kb), pids)
