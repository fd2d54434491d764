"""The results: medians and ratios to native, as a table for people and as
JSON for comparing later runs."""
import json
import math
from pathlib import Path

from harness.runner import Series, WorkloadResult
from harness.workloads import REAL_PROGRAM

REDUCED_MARK = "*"


def ratios(result: WorkloadResult, series: Series) -> tuple[float, float] | None:
    """(wall, peak RSS) of `series` over native at the same size, or None
    when either side has no successful run."""
    baseline = result.find("native", series.size)
    if not series.samples or not baseline or not baseline.samples:
        return None
    return (series.median_wall_s() / baseline.median_wall_s(),
            series.median_max_rss_kb() / baseline.median_max_rss_kb())


def tracker_series(result: WorkloadResult, tool_name: str) -> Series | None:
    """The tool's column for this workload (a slow tool's may be at a reduced size)."""
    return next((s for s in result.series if s.tool.name == tool_name), None)


def geometric_means(results: list[WorkloadResult], trackers: list[str]) -> dict[str, tuple[float, float]]:
    """Per tracker, the geometric mean of its (wall, RSS) ratios over the
    real-program workloads it ran successfully."""
    means = {}
    for tool_name in trackers:
        pairs = []
        for result in results:
            series = tracker_series(result, tool_name)
            pair = ratios(result, series) if series and result.workload.kind == REAL_PROGRAM else None
            if pair:
                pairs.append(pair)
        if pairs:
            means[tool_name] = tuple(math.exp(sum(math.log(p[i]) for p in pairs) / len(pairs)) for i in (0, 1))
    return means


def format_ratio(ratio: float) -> str:
    return f"{ratio:.2f}x" if ratio < 10 else f"{ratio:.1f}x" if ratio < 100 else f"{ratio:.0f}x"


def _ratio_cells(result: WorkloadResult, tool_name: str) -> tuple[str, str]:
    series = tracker_series(result, tool_name)
    if series is None:
        return "-", "-"
    if series.failure:
        return "FAILED", "FAILED"
    pair = ratios(result, series)
    if pair is None:
        return "-", "-"
    mark = REDUCED_MARK if series.size != result.workload.size else ""
    return format_ratio(pair[0]) + mark, format_ratio(pair[1]) + mark


def _align(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
                     for row in rows)


def format_table(results: list[WorkloadResult], trackers: list[str], tool_notes: dict[str, str]) -> str:
    header = ["workload", "native s", *(f"{t} x" for t in trackers),
              "native MB", *(f"{t} RSS x" for t in trackers)]
    rows, notes = [header], []
    for result in results:
        name = result.workload.name
        native = result.find("native", result.workload.size)
        if result.skipped or not native or not native.samples:
            reason = result.skipped or (native.failure if native else "not run")
            rows.append([name, "skipped" if result.skipped else "FAILED"] + [""] * (len(header) - 2))
            notes.append(f"{name}: {reason}")
            continue
        cells = [_ratio_cells(result, t) for t in trackers]
        rows.append([name, f"{native.median_wall_s():.3f}", *(c[0] for c in cells),
                     f"{native.median_max_rss_kb() / 1024:.1f}", *(c[1] for c in cells)])
        for series in result.series:
            if series.failure:
                notes.append(f"{name}, {series.tool.name}: FAILED: {series.failure}")
        columns = (tracker_series(result, tool) for tool in trackers)
        reduced = [s for s in columns if s and s.size != result.workload.size]
        if reduced:
            whose = "their" if len(reduced) > 1 else "its"
            notes.append(f"{name}: {REDUCED_MARK} {' and '.join(s.tool.name for s in reduced)} ran at size "
                         f"{reduced[0].size:,} instead of {result.workload.size:,}; "
                         f"{whose} ratios are against native at that size")
    means = geometric_means(results, trackers)
    if means:
        rows.append(["geomean, real programs", "",
                     *(format_ratio(means[t][0]) if t in means else "-" for t in trackers), "",
                     *(format_ratio(means[t][1]) if t in means else "-" for t in trackers)])
    notes += [f"{tool}: {note}" for tool, note in tool_notes.items()]
    return _align(rows) + ("\n\n" + "\n".join(notes) if notes else "")


def _series_json(result: WorkloadResult, series: Series) -> dict:
    pair = ratios(result, series)
    return {"tool": series.tool.name, "size": series.size,
            "wall_s": [s.wall_s for s in series.samples],
            "max_rss_kb": [s.max_rss_kb for s in series.samples],
            "median_wall_s": series.median_wall_s() if series.samples else None,
            "median_max_rss_kb": series.median_max_rss_kb() if series.samples else None,
            "wall_ratio": pair[0] if pair else None, "rss_ratio": pair[1] if pair else None,
            "failure": series.failure}


def results_document(metadata: dict, results: list[WorkloadResult], trackers: list[str],
                     micro: dict | None, report_scale: dict | None) -> dict:
    """Everything the run measured, for the JSON file and the web page."""
    return {
        **metadata,
        "workloads": [{"name": r.workload.name, "kind": r.workload.kind, "models": r.workload.models,
                       "size": r.workload.size, "reduced_size": r.workload.reduced_size,
                       "skipped": r.skipped, "series": [_series_json(r, s) for s in r.series]}
                      for r in results],
        "geomean_real_programs": {tool: {"wall_ratio": wall, "rss_ratio": rss}
                                  for tool, (wall, rss) in geometric_means(results, trackers).items()},
        "malloc_pair_bench": micro,
        "report_1m": report_scale,
    }


def write_json(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
