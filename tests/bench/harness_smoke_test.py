#!/usr/bin/env python3
"""bench/run-bench end to end at its smallest: one quick run of /bin/true,
the leaking program and the malloc/free micro-benchmark, natively, under
nantrack and under preloaded LeakSanitizer (both columns). It checks what
the table is made from, the results JSON and the web page drawn from it,
and never a time: the benchmark itself stays out of the suite
(bench/README.md).

usage: harness_smoke_test.py BUILD_DIR
"""
import html
import html.parser
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(SOURCE_DIR / "bench"))

from harness.tools import LeakSanitizer  # noqa: E402
from harness.workloads import WORKLOADS  # noqa: E402

BUILD_DIR: Path


def workload(name: str):
    return next(w for w in WORKLOADS if w.name == name)


class PageValues(html.parser.HTMLParser):
    """What the page's charts show: {(workload, tool, metric): the value
    label}. Workloads are the cards' ids without "workload-"."""

    def __init__(self, page: str):
        super().__init__()
        self.values, self.card, self.bar, self.in_value = {}, None, None, False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.card = (attrs.get("id") or "").removeprefix("workload-")
        elif tag == "g" and "bar" in (attrs.get("class") or "").split():
            self.bar = (self.card, attrs["data-tool"], attrs["data-metric"])
        elif tag == "text" and "value" in (attrs.get("class") or "").split():
            self.in_value = True

    def handle_endtag(self, tag):
        if tag == "text":
            self.in_value = False
        elif tag == "g":
            self.bar = None

    def handle_data(self, data):
        if self.in_value and self.bar:
            self.values[self.bar] = self.values.get(self.bar, "") + data


def render(results_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SOURCE_DIR / "bench" / "run-bench"), "--render", str(results_path)],
                          capture_output=True, text=True, timeout=60)


class RunBenchSmokeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        run = subprocess.run([sys.executable, str(SOURCE_DIR / "bench" / "run-bench"), str(BUILD_DIR), "--quick",
                              "--only", "true", "leaky", "malloc_pair", "--tools", "nantrack", "lsan"],
                             capture_output=True, text=True, timeout=600)
        cls.output = run.stdout + run.stderr
        if run.returncode != 0:
            raise AssertionError(f"run-bench exited with {run.returncode}:\n{cls.output}")
        found = re.search(r"^results: (.+\.json)$", run.stdout, re.MULTILINE)
        if not found:
            raise AssertionError(f"run-bench named no results file:\n{cls.output}")
        path = Path(found.group(1))
        cls.results_text = path.read_text()
        cls.results = json.loads(cls.results_text)
        path.unlink()  # each run writes a new one; the suite leaves none behind
        page = re.search(r"^page: (.+\.html)$", run.stdout, re.MULTILINE)
        cls.page = Path(page.group(1)).read_text() if page else None
        if page:
            Path(page.group(1)).unlink()

    def series(self, workload_name: str, tool: str) -> dict:
        entry = next(w for w in self.results["workloads"] if w["name"] == workload_name)
        return next(s for s in entry["series"] if s["tool"] == tool)

    def test_every_column_was_measured(self):
        self.assertEqual(self.results["tools"], ["native", "nantrack", "lsan", "lsan dwarf"], self.output)

    def test_each_tool_ran_the_leaking_program_and_proved_it(self):
        for tool in ("native", "nantrack", "lsan", "lsan dwarf"):
            series = self.series("leaky", tool)
            self.assertIsNone(series["failure"], tool)
            self.assertEqual(len(series["wall_s"]), 1, tool)
            self.assertGreater(series["wall_ratio"], 0, tool)

    def test_true_counts_under_lsan_though_its_runtime_never_starts(self):
        for tool in ("lsan", "lsan dwarf"):
            self.assertIsNone(self.series("true", tool)["failure"], tool)

    def test_the_micro_benchmark_ran_natively_and_under_both_unwinders(self):
        micro = self.results["malloc_pair_bench"]
        self.assertIsNotNone(micro, self.output)
        for column in ("native", "nantrack libunwind-only", "nantrack"):
            for depth in ("depth:1", "depth:15", "depth:30"):
                self.assertGreater(micro[column][depth], 0, f"{column} {depth}")

    def test_the_machine_is_named_in_the_table_the_results_and_the_page(self):
        # Ratios move with the processor (an AMD and an Intel VM of the same
        # size differ by a fifth on churn): a run is compared only with runs
        # made on the same one.
        models = [line.partition(":")[2].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.partition(":")[0].strip() == "model name"]
        self.assertTrue(models, "x86-64 Linux names its processor in /proc/cpuinfo")
        self.assertEqual(self.results["host"]["cpu"], models[0])
        self.assertIn(f"machine: {os.cpu_count()} CPUs ({models[0]}), kernel ", self.output)
        self.assertIn(f"{os.cpu_count()} CPUs ({html.escape(models[0])})", self.page)

    def test_the_table_names_the_reduced_size_only_where_there_is_one(self):
        self.assertNotIn("ran at size", self.output)  # true and leaky have no reduced size

    # The page beside the results: a chart per workload, one bar per tool
    # with its ratio, drawn alike from the results file by --render.
    def test_every_measured_ratio_is_drawn_with_its_value(self):
        self.assertIsNotNone(self.page, "run-bench named no page")
        shown = PageValues(self.page).values
        drawn = 0
        for workload in self.results["workloads"]:
            for series in workload["series"]:
                if series["tool"] == "native":
                    continue
                for metric, key in (("time", "wall_ratio"), ("peak RSS", "rss_ratio")):
                    label = shown.get((workload["name"], series["tool"], metric))
                    self.assertIsNotNone(label, f"{workload['name']}, {series['tool']}, {metric}")
                    # Shown to 3 significant digits or to 0.01 (0.25x), whichever is coarser.
                    self.assertAlmostEqual(float(label.rstrip("x*")), series[key],
                                           delta=max(0.00501, series[key] * 0.00501))
                    drawn += 1
        self.assertGreaterEqual(drawn, 2 * 3 * 2)  # two workloads, three trackers, two metrics

    def test_render_draws_the_same_page_from_the_results_file(self):
        with tempfile.TemporaryDirectory() as scratch:
            results = Path(scratch) / "earlier.json"
            results.write_text(self.results_text)
            run = render(results)
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertEqual(run.stdout, f"page: {results.with_suffix('.html')}\n")
            self.assertEqual(results.with_suffix(".html").read_text(), self.page)

    def test_names_from_the_results_file_are_escaped(self):
        document = json.loads(self.results_text)
        hostile = "nantrack <b>x</b>&"
        document["tools"] = [hostile if t == "nantrack" else t for t in document["tools"]]
        for workload in document["workloads"]:
            for series in workload["series"]:
                if series["tool"] == "nantrack":
                    series["tool"] = hostile
        with tempfile.TemporaryDirectory() as scratch:
            results = Path(scratch) / "r.json"
            results.write_text(json.dumps(document))
            run = render(results)
            self.assertEqual(run.returncode, 0, run.stderr)
            page = results.with_suffix(".html").read_text()
        self.assertNotIn("<b>", page)
        self.assertIn("nantrack &lt;b&gt;x&lt;/b&gt;&amp;", page)
        self.assertIn(("leaky", hostile, "time"), PageValues(page).values)

    def test_render_refuses_what_is_not_a_results_file_in_one_line(self):
        document = json.loads(self.results_text)
        cases = {"truncated": self.results_text[:len(self.results_text) // 2],
                 "older": json.dumps({**document, "format_version": 1}),
                 "bad ratio": self.results_text.replace('"wall_ratio": 1.0', '"wall_ratio": -1', 1),
                 "a nantrack report": json.dumps({"tool": "nantrack", "format_version": 1, "processes": []})}
        with tempfile.TemporaryDirectory() as scratch:
            for name, text in cases.items():
                results = Path(scratch) / "r.json"
                results.write_text(text)
                run = render(results)
                self.assertEqual(run.returncode, 1, name)
                self.assertRegex(run.stderr, rf"^run-bench: {re.escape(str(results))}: [^\n]+\n$", name)
                self.assertFalse(results.with_suffix(".html").exists(), name)
            run = render(Path(scratch) / "missing.json")
            self.assertEqual(run.returncode, 1)
            self.assertIn("cannot read", run.stderr)


class RunBenchWithALibraryFromElsewhereTest(unittest.TestCase):
    """--library with a copy of the library (a build to compare against):
    the copy finds no CLI beside it, and the build's is used instead of
    timing runs without their report."""

    def test_the_copy_runs_the_builds_cli_at_exit(self):
        with tempfile.TemporaryDirectory() as scratch:
            copy = Path(scratch) / "libnantrack.so"
            copy.write_bytes((BUILD_DIR / "lib" / "libnantrack.so").read_bytes())
            env = {k: v for k, v in os.environ.items() if k != "NANTRACK_CLI"}
            run = subprocess.run([sys.executable, str(SOURCE_DIR / "bench" / "run-bench"), str(BUILD_DIR), "--quick",
                                  "--only", "leaky", "--tools", "nantrack", "--library", str(copy)],
                                 capture_output=True, text=True, timeout=600, env=env)
        output = run.stdout + run.stderr
        self.assertEqual(run.returncode, 0, output)
        found = re.search(r"^results: (.+\.json)$", run.stdout, re.MULTILINE)
        self.assertIsNotNone(found, output)
        Path(found.group(1)).unlink()
        Path(found.group(1)).with_suffix(".html").unlink()
        self.assertIn(f"times include the symbolized report printed at exit by {BUILD_DIR / 'bin' / 'nantrack'}",
                      output)
        self.assertNotIn("no CLI", output)


class LeakSanitizerCheckTest(unittest.TestCase):
    """A run that only looked fast because LSan never engaged must fail."""

    def test_a_process_without_a_log_fails(self):
        with tempfile.TemporaryDirectory() as out:
            problem = LeakSanitizer().check(Path(out), [12345], workload("leaky"))
        self.assertIn("did not start", problem)

    def test_a_started_runtime_that_reported_no_leak_fails_on_leaky(self):
        with tempfile.TemporaryDirectory() as out:
            (Path(out) / "lsan.12345").write_text(f"==12345=={LeakSanitizer.STARTED} for signal 11\n")
            self.assertIsNone(LeakSanitizer().check(Path(out), [12345], workload("churn")))
            self.assertEqual(LeakSanitizer().check(Path(out), [12345], workload("leaky")),
                             "LeakSanitizer reported no leak")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    BUILD_DIR = Path(sys.argv.pop(1)).resolve()
    unittest.main(verbosity=2)
