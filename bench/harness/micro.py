"""malloc_pair_bench (Google Benchmark): the cost of one malloc/free pair at
call depth 1 and 15, natively and under libnantrack.so."""
import json
import os
import sys
import tempfile
from pathlib import Path

from harness.measure import RunFailed, run_step
from harness.tools import Native, Nantrack, Tool

BENCHMARK = "BM_MallocFreePair"


def _nanoseconds_per_pair(report: dict) -> dict[str, float]:
    """{'depth:1': ns, ...}: the median over repetitions when there are any."""
    per_pair, scale = {}, {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}
    for entry in report["benchmarks"]:
        is_median = entry.get("aggregate_name") == "median"
        if entry.get("run_type") == "aggregate" and not is_median:
            continue
        depth = entry["run_name"].split("/", 1)[1]
        if is_median or depth not in per_pair:
            per_pair[depth] = entry["real_time"] * scale[entry["time_unit"]]
    return per_pair


def _run_under(tool: Tool, binary: Path, measure_child: Path, quick: bool) -> dict[str, float] | str:
    """ns per pair by depth, or why the run failed."""
    with tempfile.TemporaryDirectory(prefix="malloc-pair-") as out:
        out_dir = Path(out)
        report_path = out_dir / "benchmark.json"
        argv = [str(binary), f"--benchmark_out={report_path}", "--benchmark_out_format=json",
                f"--benchmark_repetitions={1 if quick else 3}"]
        if quick:
            argv.append("--benchmark_min_time=0.05")
        argv, tool_env = tool.wrap(argv, out_dir)
        try:
            _, pid = run_step(measure_child, argv, {**os.environ, **tool_env}, out_dir,
                              out_dir / "output.log", None)
        except RunFailed as failure:
            return str(failure)
        return tool.check(out_dir, [pid], None) or _nanoseconds_per_pair(json.loads(report_path.read_text()))


def run_malloc_pair_bench(build_dir: Path, nantrack: Nantrack | None, quick: bool) -> dict:
    binary, measure_child = build_dir / "bench" / "malloc_pair_bench", build_dir / "bench" / "measure_child"
    results = {}
    for tool in (Native(), nantrack) if nantrack else (Native(),):
        print(f"  malloc_pair_bench under {tool.name}", file=sys.stderr, flush=True)
        results[tool.name] = _run_under(tool, binary, measure_child, quick)
    return results


def format_malloc_pair(results: dict) -> str:
    lines = [f"{BENCHMARK} (Google Benchmark; depth = frames above the benchmark's own ~11):"]
    native = results["native"]
    if isinstance(native, str):
        return "\n".join(lines + [f"  native run FAILED: {native}"])
    nantrack = results.get("nantrack")
    if isinstance(nantrack, str):
        lines.append(f"  nantrack run FAILED: {nantrack}")
        nantrack = None
    lines.append(f"  {'depth':<8} {'native ns':>10}" + (f" {'nantrack ns':>12} {'ratio':>8}" if nantrack else ""))
    for depth, native_ns in native.items():
        line = f"  {depth.split(':')[-1]:<8} {native_ns:>10.1f}"
        if nantrack and depth in nantrack:
            line += f" {nantrack[depth]:>12.1f} {nantrack[depth] / native_ns:>7.2f}x"
        lines.append(line)
    return "\n".join(lines)
