"""The results as a web page: for each workload, each tool's wall time and
peak RSS over native as bars on a log scale, styled like nantrack's HTML
report (its stylesheet is inlined). Made from the results JSON document, so
that an earlier run's file can be drawn again (`run-bench --render`). One
self-contained file: no script, nothing fetched."""
import html
import math
from pathlib import Path

from harness.micro import format_malloc_pair
from harness.report import REDUCED_MARK, format_ratio
from harness.report_scale import format_report_scale

FORMAT_VERSION = 2  # of the results JSON this page is drawn from
REPORT_CSS = Path(__file__).resolve().parents[2] / "report" / "html" / "report.css"

# One colour per column, in the table's order; nantrack takes the report's
# accent. All keep 4.5:1 contrast on white, as the report's colours do.
PALETTE = ("#0550ae", "#8a5300", "#6e40c9", "#1a7f37", "#b42318", "#0a6b74", "#9a3c6e", "#57606a")

PAGE_CSS = """
.charts { display: flex; flex-wrap: wrap; gap: 8px 32px; }
.chart text { font: 12px system-ui, sans-serif; fill: var(--text); }
.chart .axis text, .chart .muted { fill: var(--muted); }
.chart .grid { stroke: var(--border); }
.chart .native { stroke: var(--text); stroke-width: 1.5; }
.chart .failed { fill: var(--bad); font-weight: 600; }
.chart-title { font-size: 13px; font-weight: 600; color: var(--muted); margin: 8px 0 2px; }
.notes { color: var(--muted); font-size: 13px; margin: 6px 0 0; padding-left: 18px; }
pre.figures { font-family: var(--mono); font-size: 13px; overflow-x: auto; margin: 0; }
"""

METRICS = (("time", "wall_ratio"), ("peak RSS", "rss_ratio"))  # a chart each, the key of its ratio
LABEL_WIDTH, PLOT_WIDTH, VALUE_WIDTH = 140, 320, 64  # two charts fit side by side
LABEL_CHARACTERS = 22  # what LABEL_WIDTH holds; longer names (variants) are cut, whole on hover
ROW_HEIGHT, AXIS_HEIGHT = 22, 24


class NotAResultsFile(Exception):
    pass


def check_document(document) -> None:
    """Raises NotAResultsFile, saying why, unless `document` is a results
    JSON document this page can be drawn from."""
    if not isinstance(document, dict):
        raise NotAResultsFile("not a run-bench results file")
    if document.get("tool") == "nantrack":
        raise NotAResultsFile("a nantrack report, not a run-bench results file")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise NotAResultsFile(f"results format {version!r}; this run-bench draws format {FORMAT_VERSION}")
    for key, kind in (("tools", list), ("workloads", list), ("host", dict), ("tool_notes", dict)):
        if not isinstance(document.get(key), kind):
            raise NotAResultsFile(f"'{key}' is missing or is not a {kind.__name__}")
    if not all(isinstance(tool, str) for tool in document["tools"]):
        raise NotAResultsFile("'tools' holds something other than names")
    if not isinstance(document.get("tool_versions") or {}, dict):
        raise NotAResultsFile("'tool_versions' is not an object")
    for workload in document["workloads"]:
        if not isinstance(workload, dict) or not isinstance(workload.get("name"), str) \
                or not isinstance(workload.get("series"), list) or not _is_size(workload, "size"):
            raise NotAResultsFile("a workload without a name, size or series")
        for series in workload["series"]:
            if not isinstance(series, dict) or not isinstance(series.get("tool"), str) \
                    or not _is_size(series, "size"):
                raise NotAResultsFile(f"{workload['name']}: a series without a tool or size")
            for key in ("wall_ratio", "rss_ratio", "median_wall_s", "median_max_rss_kb"):
                if not _is_measure(series.get(key), key.endswith("ratio")):
                    raise NotAResultsFile(f"{workload['name']}, {series['tool']}: {key} {series.get(key)!r}")
    means = document.get("geomean_real_programs") or {}
    if not isinstance(means, dict) or not all(
            isinstance(m, dict) and _is_measure(m.get("wall_ratio"), True) and _is_measure(m.get("rss_ratio"), True)
            for m in means.values()):
        raise NotAResultsFile("malformed 'geomean_real_programs'")


def _is_size(record: dict, key: str) -> bool:
    """Present, and None (no size) or a positive count."""
    value = record.get(key, False)
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0)


def _is_measure(value, ratio: bool = False) -> bool:
    """None (not measured) or a positive, finite number; a ratio also within
    what a measurement can give, so that the chart's scale stays finite."""
    if value is None:
        return True
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        return False
    return not ratio or 1e-6 <= value <= 1e6


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


class _Bar:
    def __init__(self, tool: str, colour: str, ratio: float | None, mark: str, problem: str | None):
        self.tool, self.colour, self.ratio, self.mark, self.problem = tool, colour, ratio, mark, problem


def _cut(name: str) -> str:
    return name if len(name) <= LABEL_CHARACTERS else name[:LABEL_CHARACTERS - 1] + "\u2026"


def _ticks(low: float, high: float) -> list[float]:
    # Over more than two decades, 2x and 5x steps would crowd their labels.
    steps = (1,) if high / low > 100 else (1, 2, 5)
    ticks = []
    for exponent in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        ticks += [m * 10.0 ** exponent for m in steps if low <= m * 10.0 ** exponent <= high]
    return ticks


def _chart(title: str, metric: str, bars: list[_Bar]) -> str:
    """Horizontal bars from the native line (1x) to each tool's ratio, on a
    log scale: 1.5x and 45x both stay readable in one chart."""
    measured = [bar.ratio for bar in bars if bar.ratio]
    low = min([1.0, *measured]) / 1.15
    high = max([2.0, *measured]) * 1.15
    span = math.log(high) - math.log(low)

    def x(ratio: float) -> float:
        return LABEL_WIDTH + (math.log(ratio) - math.log(low)) / span * PLOT_WIDTH

    height = len(bars) * ROW_HEIGHT + AXIS_HEIGHT
    width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    parts = [f'<svg class="chart" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             f"<title>{_esc(title)}</title>", '<g class="axis">']
    plot_bottom = len(bars) * ROW_HEIGHT
    for tick in _ticks(low, high):
        tx = x(tick)
        parts.append(f'<line class="grid" x1="{tx:.1f}" y1="0" x2="{tx:.1f}" y2="{plot_bottom}"/>'
                     f'<text x="{tx:.1f}" y="{plot_bottom + 16}" text-anchor="middle">{tick:g}x</text>')
    parts.append("</g>")
    origin = x(1.0)
    for row, bar in enumerate(bars):
        top = row * ROW_HEIGHT
        middle = top + ROW_HEIGHT / 2 + 4
        parts.append(f'<g class="bar" data-tool="{_esc(bar.tool)}" data-metric="{metric}">'
                     f'<text x="{LABEL_WIDTH - 8}" y="{middle:.0f}" text-anchor="end">{_esc(_cut(bar.tool))}'
                     f"<title>{_esc(bar.tool)}</title></text>")
        value_x = LABEL_WIDTH + PLOT_WIDTH + 6
        if bar.ratio:
            left, right = sorted((origin, x(bar.ratio)))
            label = format_ratio(bar.ratio) + bar.mark
            parts.append(f'<rect x="{left:.1f}" y="{top + 4}" width="{max(right - left, 1.5):.1f}" '
                         f'height="{ROW_HEIGHT - 8}" fill="{bar.colour}"><title>{_esc(bar.tool)}: {label} native '
                         f"{metric}</title></rect>"
                         f'<text class="value" x="{value_x}" y="{middle:.0f}">{label}</text>')
        else:
            css = "failed" if bar.problem and bar.problem != "not run" else "muted"
            parts.append(f'<text class="value {css}" x="{value_x}" y="{middle:.0f}">'
                         f"{'FAILED' if css == 'failed' else '-'}<title>{_esc(bar.problem or 'not run')}</title>"
                         "</text>")
        parts.append("</g>")
    parts.append(f'<line class="native" x1="{origin:.1f}" y1="0" x2="{origin:.1f}" y2="{plot_bottom}"/></svg>')
    return "".join(parts)


def _charts(name: str, bars: dict[str, list[_Bar]], caption: str) -> str:
    """One chart per metric, side by side."""
    charts = "".join(f'<div><p class="chart-title">{metric}{caption}</p>{_chart(f"{name}: {metric}", metric, rows)}'
                     "</div>" for metric, rows in bars.items())
    return f'<div class="charts">{charts}</div>'


def _workload_card(workload: dict, trackers: list[str], colours: dict[str, str]) -> str:
    name = workload["name"]
    head = (f'<section class="card" id="{_esc("workload-" + name)}"><h3>{_esc(name)} '
            f'<span class="brand-sub">{_esc(workload.get("kind") or "")}: {_esc(workload.get("models") or "")}'
            "</span></h3>")
    native = next((s for s in workload["series"] if s["tool"] == "native" and s.get("size") == workload.get("size")),
                  None)
    if workload.get("skipped") or not native or not native.get("median_wall_s") or not native.get("median_max_rss_kb"):
        reason = workload.get("skipped") or (native or {}).get("failure") or "native not run"
        return f'{head}<p class="empty">{"skipped" if workload.get("skipped") else "FAILED"}: {_esc(reason)}</p></section>'
    bars = {"time": [], "peak RSS": []}
    notes = []
    for tool in trackers:
        series = next((s for s in workload["series"] if s["tool"] == tool), None)
        problem = "not run" if series is None else series.get("failure")
        mark = REDUCED_MARK if series and series.get("size") != workload.get("size") else ""
        if mark:
            size = f"size {series['size']:,}" if series["size"] else "an unstated size"
            notes.append(f"{REDUCED_MARK} {tool} ran at {size}, against native at that size")
        if series and series.get("failure"):
            notes.append(f"{tool}: FAILED: {series['failure']}")
        for metric, key in METRICS:
            bars[metric].append(_Bar(tool, colours[tool], series.get(key) if series else None, mark, problem))
    seconds = native["median_wall_s"]
    wall = f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds:.3f} s"
    meta = (f'<p class="process-meta"><span>native {wall}</span>'
            f'<span>{native["median_max_rss_kb"] / 1024:.1f} MB peak RSS</span>'
            + (f'<span>size {workload["size"]:,}</span>' if workload.get("size") else "") + "</p>")
    note_list = f'<ul class="notes">{"".join(f"<li>{_esc(n)}</li>" for n in notes)}</ul>' if notes else ""
    return f"{head}{meta}{_charts(name, bars, ', native = 1x')}{note_list}</section>"


def _geomean_card(document: dict, trackers: list[str], colours: dict[str, str]) -> str:
    means = document.get("geomean_real_programs") or {}
    if not means:
        return ""
    bars = {metric: [_Bar(t, colours[t], (means.get(t) or {}).get(key), "", None if t in means else "not run")
                     for t in trackers]
            for metric, key in METRICS}
    return ('<section class="card" id="geomean"><h3>Geometric mean over the real programs</h3>'
            f'{_charts("geometric mean", bars, "")}</section>')


def _figures_card(title: str, key: str, document: dict, formatter) -> str:
    """The run-bench text for one part of the results, as it was printed."""
    try:
        text = formatter(document[key])
    except (KeyError, IndexError, TypeError, AttributeError, ValueError, ZeroDivisionError) as error:
        raise NotAResultsFile(f"malformed '{key}' ({type(error).__name__}: {error})") from error
    return f'<section class="card"><h3>{_esc(title)}</h3><pre class="figures">{_esc(text)}</pre></section>'


def describe_host(host: dict) -> str:
    """The machine a run was made on, in a line (results files from before
    the processor was recorded have none)."""
    cpu = f" ({host['cpu']})" if host.get("cpu") else ""
    return f"{host.get('cpus')} CPUs{cpu}, kernel {host.get('kernel')}"


def render(document: dict) -> str:
    check_document(document)
    trackers = [t for t in document["tools"] if t != "native"]
    colours = {tool: PALETTE[i % len(PALETTE)] for i, tool in enumerate(trackers)}
    commit = str(document.get("git_commit") or "unknown commit")
    host = document["host"]
    meta = [f"commit {commit[:12]}{' (uncommitted changes)' if document.get('git_dirty') else ''}",
            str(document.get("time", "")), describe_host(host),
            f"{document.get('runs')} run(s) per tool, {document.get('slow_runs')} for the slow ones"]
    body = [f'<section class="card"><p class="process-meta">{"".join(f"<span>{_esc(m)}</span>" for m in meta)}</p>']
    notes = [f"{tool}: {note}" for tool, note in document["tool_notes"].items()]
    versions = [version if str(version).startswith(tool) else f"{tool} {version}"
                for tool, version in (document.get("tool_versions") or {}).items() if version]
    if versions:
        notes.append("versions: " + ", ".join(versions))
    body.append(f'<ul class="notes">{"".join(f"<li>{_esc(n)}</li>" for n in notes)}</ul></section>')
    body.append(_geomean_card(document, trackers, colours))
    body += [_workload_card(workload, trackers, colours) for workload in document["workloads"]]
    if document.get("malloc_pair_bench"):
        body.append(_figures_card("One malloc/free pair", "malloc_pair_bench", document, format_malloc_pair))
    if document.get("report_1m"):
        body.append(_figures_card("The report at scale", "report_1m", document, format_report_scale))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>nantrack bench {_esc(commit[:12])}</title>"
            f"<style>{REPORT_CSS.read_text()}{PAGE_CSS}</style></head><body>"
            '<header class="masthead"><span class="brand">nantrack <span class="brand-sub">bench</span></span>'
            f'<span class="brand-version">{_esc(document.get("time", ""))}</span></header>'
            f"<main>{''.join(body)}</main>"
            '<footer class="footer">Ratios are medians over native\'s median at the same size; '
            "bars start at native (1x), on a log scale. How to read them: bench/README.md.</footer>"
            "</body></html>\n")


def write_html(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(document))
