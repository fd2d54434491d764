"""malloc_pair_bench (Google Benchmark): the cost of one malloc/free pair at
call depth 1, 15 and 30, natively, under libnantrack.so with libunwind on
every call (unwind_cache=0) and with the unwind cache; and, natively, the
tracker's own per-call operations (BM_Tracker*)."""
import json
import os
import sys
import tempfile
from pathlib import Path

from harness.measure import RunFailed, run_step
from harness.tools import Native, Nantrack, Tool

BENCHMARK = "BM_MallocFreePair"
TRACKER_OPERATIONS = "BM_Tracker"
# The pair under libnantrack.so with the unwind cache off: what it costs.
LIBUNWIND_ONLY = ("unwind_cache=0", "libunwind-only")


def _nanoseconds_per_pair(report: dict) -> dict[str, float]:
    """{'depth:1': ns, ..., 'BM_TrackerDepotInternHit': ns}: the median over
    repetitions when there are any."""
    per_pair, scale = {}, {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}
    for entry in report["benchmarks"]:
        is_median = entry.get("aggregate_name") == "median"
        if entry.get("run_type") == "aggregate" and not is_median:
            continue
        name = entry["run_name"]
        key = name.split("/", 1)[1] if name.startswith(BENCHMARK + "/") else name
        if is_median or key not in per_pair:
            per_pair[key] = entry["real_time"] * scale[entry["time_unit"]]
    return per_pair


def _run_under(tool: Tool, binary: Path, measure_child: Path, quick: bool) -> dict[str, float] | str:
    """ns per pair by depth, or why the run failed."""
    with tempfile.TemporaryDirectory(prefix="malloc-pair-") as out:
        out_dir = Path(out)
        report_path = out_dir / "benchmark.json"
        argv = [str(binary), f"--benchmark_out={report_path}", "--benchmark_out_format=json",
                f"--benchmark_repetitions={1 if quick else 3}"]
        if tool.name != "native":  # the tracker's own operations need no LD_PRELOAD
            argv.append(f"--benchmark_filter={BENCHMARK}")
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
    tools = [Native()]
    if nantrack:
        tools += [Nantrack(nantrack.library, nantrack.cli, *LIBUNWIND_ONLY), nantrack]
    for tool in tools:
        print(f"  malloc_pair_bench under {tool.name}", file=sys.stderr, flush=True)
        results[tool.name] = _run_under(tool, binary, measure_child, quick)
    return results


def format_malloc_pair(results: dict) -> str:
    lines = [f"{BENCHMARK} (Google Benchmark; depth = frames above the benchmark's own ~11):"]
    native = results["native"]
    if isinstance(native, str):
        return "\n".join(lines + [f"  native run FAILED: {native}"])
    variants = []  # (column title, ns by depth)
    for name, title in ((f"nantrack {LIBUNWIND_ONLY[1]}", "libunwind only"), ("nantrack", "unwind cache")):
        measured = results.get(name)
        if isinstance(measured, str):
            lines.append(f"  {name} run FAILED: {measured}")
        elif measured:
            variants.append((title, measured))
    lines.append(f"  {'depth':<8} {'native ns':>10}" + "".join(f" {title + ' ns':>20} {'ratio':>7}" for title, _ in variants))
    for depth, native_ns in native.items():
        if depth.startswith(TRACKER_OPERATIONS):
            continue
        line = f"  {depth.split(':')[-1]:<8} {native_ns:>10.1f}"
        for _, measured in variants:
            if depth in measured:
                line += f" {measured[depth]:>20.1f} {measured[depth] / native_ns:>6.2f}x"
        lines.append(line)
    operations = [(name, ns) for name, ns in native.items() if name.startswith(TRACKER_OPERATIONS)]
    if operations:
        lines.append("Tracker operations (native, ns each):")
        lines += [f"  {name:<34} {ns:>8.1f}" for name, ns in operations]
    return "\n".join(lines)
