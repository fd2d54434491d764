"""Running one workload under every tool, in alternation (native, nantrack,
heaptrack, valgrind, LeakSanitizer, native, ...) so that a change in machine
load during the benchmark hits every column alike."""
import os
import re
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from harness.measure import RunFailed, Sample, run_steps
from harness.tools import Tool
from harness.workloads import Context, Workload


@dataclass
class Series:
    """One tool running one workload at one size, and what its runs measured."""
    tool: Tool
    size: int | None
    runs_wanted: int
    samples: list[Sample] = field(default_factory=list)
    failure: str | None = None

    def median_wall_s(self) -> float:
        return statistics.median(sample.wall_s for sample in self.samples)

    def median_max_rss_kb(self) -> float:
        return statistics.median(sample.max_rss_kb for sample in self.samples)


@dataclass
class WorkloadResult:
    workload: Workload
    series: list[Series] = field(default_factory=list)
    skipped: str | None = None

    def find(self, tool_name: str, size) -> Series | None:
        return next((s for s in self.series if s.tool.name == tool_name and s.size == size), None)


def plan_series(workload: Workload, tools: list[Tool], runs: int, slow_runs: int) -> list[Series]:
    """The series to measure; the slow tools (and native at their reduced
    size, their baseline, once for all of them) get fewer runs."""
    native, series = tools[0], []  # make_tools puts native first
    for tool in tools:
        if not tool.slow:
            series.append(Series(tool, workload.size, runs))
            continue
        size = workload.reduced_size or workload.size
        if size != workload.size and not any(s.tool is native and s.size == size for s in series):
            series.append(Series(native, size, slow_runs))
        series.append(Series(tool, size, slow_runs))
    return series


def missing_program(workload: Workload) -> str | None:
    return next((f"{program} is not installed" for program in workload.needs
                 if not shutil.which(program)), None)


def measure_once(series: Series, workload: Workload, context: Context) -> None:
    if workload.reset:
        workload.reset(context.work_dir)
    # The directory goes into NANTRACK_OPTIONS, where ':' separates options.
    prefix = re.sub(r"[^A-Za-z0-9_.-]", "_", series.tool.name)
    with tempfile.TemporaryDirectory(prefix=f"{prefix}-", dir=context.work_dir) as out:
        out_dir = Path(out)  # the tool's output (traces, logs), deleted after the run
        steps, tool_env = [], {}
        for argv in workload.steps(context, series.size):
            wrapped, tool_env = series.tool.wrap(argv, out_dir)
            steps.append(wrapped)
        env = {**os.environ, **workload.env, **tool_env}
        try:
            run = run_steps(context.measure_child(), steps, env, context.work_dir, out_dir / "output.log",
                            series.tool.address_space_limit)
        except RunFailed as failure:
            series.failure = str(failure)
            return
        series.failure = series.tool.check(out_dir, run.pids, workload)
        if not series.failure:
            series.samples.append(run.sample)


def report_progress(workload: Workload, series: Series, round_index: int) -> None:
    size = f"@{series.size:,}" if series.size and series.size != workload.size else ""
    if series.failure:
        outcome = f"FAILED: {series.failure}"
    else:
        sample = series.samples[-1]
        outcome = f"{sample.wall_s:8.3f} s {sample.max_rss_kb / 1024:8.1f} MB"
    print(f"  {workload.name:<15} {series.tool.name + size:<22} run {round_index + 1}/{series.runs_wanted}"
          f"  {outcome}", file=sys.stderr, flush=True)


def run_workload(workload: Workload, tools: list[Tool], build_dir: Path, runs: int,
                 slow_runs: int) -> WorkloadResult:
    result = WorkloadResult(workload)
    result.skipped = missing_program(workload)
    if result.skipped:
        print(f"  {workload.name:<15} skipped: {result.skipped}", file=sys.stderr)
        return result
    result.series = plan_series(workload, tools, runs, slow_runs)
    with tempfile.TemporaryDirectory(prefix=f"nantrack-bench-{workload.name}-") as work:
        context = Context(build_dir, Path(work))
        if workload.setup:
            for size in {series.size for series in result.series}:
                workload.setup(context.work_dir, size)
        for round_index in range(runs):
            for series in result.series:
                # A failure would repeat every time: do not pay for it again.
                if series.failure or round_index >= series.runs_wanted:
                    continue
                measure_once(series, workload, context)
                report_progress(workload, series, round_index)
    return result
