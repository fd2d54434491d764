#!/usr/bin/env python3
"""bench/run-bench end to end at its smallest: one quick run of /bin/true,
the leaking program and the malloc/free micro-benchmark, natively, under
nantrack and under preloaded LeakSanitizer (both columns). It checks what
the table is made from, the results JSON, and never a time: the benchmark
itself stays out of the suite (bench/README.md).

usage: harness_smoke_test.py BUILD_DIR
"""
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
        cls.results = json.loads(path.read_text())
        path.unlink()  # each run writes a new one; the suite leaves none behind

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

    def test_the_table_names_the_reduced_size_only_where_there_is_one(self):
        self.assertNotIn("ran at size", self.output)  # true and leaky have no reduced size


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
