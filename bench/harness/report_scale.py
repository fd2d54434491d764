"""The report at scale: `nantrack report` rendering text, JSON and HTML in
one run from the trace of leak_million (1,000,000 leaked blocks from 16,384
stacks), the size issue 5 wants done in under 2 s. The trace is made once,
untimed; each run then times the CLI alone."""
import os
import statistics
import sys
import tempfile
from pathlib import Path

from harness.measure import RunFailed, run_step
from harness.tools import Nantrack

NAME = "report_1m"
PROGRAM = "leak_million"
TARGET_S = 2.0


def run_report_scale(build_dir: Path, nantrack: Nantrack | None, runs: int) -> dict | None:
    """{'wall_s': [...], 'max_rss_kb': [...], sizes} or {'failed': why}; None
    without a nantrack column."""
    if nantrack is None:
        return None
    if not nantrack.cli.exists():
        return {"failed": f"no CLI at {nantrack.cli}"}
    measure_child = build_dir / "bench" / "measure_child"
    with tempfile.TemporaryDirectory(prefix="report-1m-") as scratch:
        out_dir = Path(scratch)
        log = out_dir / "output.log"
        argv, tool_env = nantrack.wrap([str(build_dir / "bench" / PROGRAM)], out_dir)
        print(f"  {NAME}: tracing {PROGRAM}", file=sys.stderr, flush=True)
        env = {**os.environ, **tool_env, "NANTRACK_OPTIONS": tool_env["NANTRACK_OPTIONS"] + ":report=0"}
        try:
            _, pid = run_step(measure_child, argv, env, out_dir, log, None)
        except RunFailed as failure:
            return {"failed": str(failure)}
        trace = out_dir / f"nantrack.{pid}.trace"  # the launcher leaves a trace of its own
        if not trace.exists():
            return {"failed": f"{PROGRAM} left no trace"}
        report = [str(nantrack.cli), "report", "--json", str(out_dir / "r.json"), "--html", str(out_dir / "r.html"),
                  "-o", str(out_dir / "r.txt"), str(trace)]
        wall_s, max_rss_kb = [], []
        for run in range(runs):
            print(f"  {NAME}: nantrack report, run {run + 1}/{runs}", file=sys.stderr, flush=True)
            try:
                sample, _ = run_step(measure_child, report, dict(os.environ), out_dir, log, None)
            except RunFailed as failure:
                return {"failed": str(failure)}
            wall_s.append(sample.wall_s)
            max_rss_kb.append(sample.max_rss_kb)
        return {"wall_s": wall_s, "max_rss_kb": max_rss_kb, "trace_bytes": trace.stat().st_size,
                "json_bytes": (out_dir / "r.json").stat().st_size, "html_bytes": (out_dir / "r.html").stat().st_size}


def format_report_scale(result: dict) -> str:
    title = "Report of 1,000,000 leaked blocks from 16,384 stacks (text + JSON + HTML, one `nantrack report`):"
    if "failed" in result:
        return f"{title}\n  FAILED: {result['failed']}"
    median = statistics.median(result["wall_s"])
    verdict = "within" if median < TARGET_S else "over"
    return (f"{title}\n  median {median:.2f} s ({verdict} the {TARGET_S:.0f} s target), "
            f"peak RSS {max(result['max_rss_kb']) / 1024:.0f} MB; trace {result['trace_bytes'] / 1e6:.1f} MB, "
            f"JSON {result['json_bytes'] / 1e6:.1f} MB, HTML {result['html_bytes'] / 1e6:.1f} MB")
