"""Throughput of autograding: the sandboxed grader against plain nbgrader, same submissions.

    python benchmarks/bench_grading.py [--assignment ch01_basic_structure] [--copies 4]

Builds a temporary course with the assignment and N submissions (the solution, the untouched
release, every wrong answer and every alternative of tests/course/answers/<assignment>.py, repeated
--copies times under different student ids), then grades them twice, each into its own copy of
the course:

- plain:   ``nbgrader autograde <assignment>`` with nbgrader's own preprocessors (Execute: one
           kernel per notebook, run in the grader's own process tree, one notebook at a time);
- grader:  ``python -m rnncore_grader autograde <assignment>`` (sandboxed, trusted questions, both cores).

Prints seconds per submission-notebook: the median over the submissions of each one's own
grading time (plain: from nbgrader's log timestamps; grader: the sandboxed run of each notebook,
from its report), the batch's wall time divided by N (what an instructor waits for), and the
ratio of throughputs. Needs root
(the sandbox). Run it on an idle machine.
"""
import argparse
import csv
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "course")]   # course_files, answers

from test_exercises import filled, read, release_path, submissions  # noqa: E402

def course(path, assignment, copies, plain):
    path.mkdir(parents=True)
    config = (ROOT / "nbgrader_config.py").read_text()
    if plain:
        config = config.replace("from rnncore_grader.nbgrader_plugin import SandboxedGrading\n", "")
        config = re.sub(r"c\.Autograde\.autograde_preprocessors = \[.*?\]\n", "", config,
                        flags=re.S)
        config = re.sub(r"c\.SandboxedGrading\..*\n", "", config)
        config += ("from nbgrader.preprocessors import Execute\n"
                   "c.Autograde.autograde_preprocessors = [Execute, IgnorePattern, "
                   "ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, AssignLatePenalties, "
                   "CheckCellMetadata]\n")
    (path / "nbgrader_config.py").write_text(config)
    shutil.copytree(ROOT / "solutions" / assignment, path / "solutions" / assignment)
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment,
                    "--force"], cwd=path, check=True, capture_output=True)
    release = read(release_path(assignment))
    n = 0
    for copy in range(copies):
        for student, (_, codes) in submissions(assignment).items():
            folder = path / "submitted" / f"{student}-{copy}" / assignment
            folder.mkdir(parents=True)
            nb = release if codes is None else filled(release, codes)
            nbformat.write(nb, folder / f"{assignment}.ipynb")
            (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
            n += 1
    return n


def run_plain(path, assignment):
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", assignment,
         "--Application.log_format=%(created)f %(message)s", "--log-level=INFO"],
        cwd=path, capture_output=True, text=True)
    wall = time.monotonic() - start
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    starts = [float(line.split()[0]) for line in result.stderr.splitlines()
              if re.match(r"[0-9.]+ Creating/updating student with ID", line)]
    ends = [float(line.split()[0]) for line in result.stderr.splitlines()
            if re.match(r"[0-9.]+ Writing .* bytes to .*autograded", line)]
    # each submission: from its student record to the last write of its autograded notebook
    per = [b - a for a, b in zip(starts, starts[1:] + [ends[-1]])]
    return wall, per


def run_grader(path, assignment, jobs):
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "rnncore_grader", "autograde", assignment,
                             "--jobs", str(jobs)], cwd=path, capture_output=True, text=True)
    wall = time.monotonic() - start
    if result.returncode != 0:
        raise SystemExit(result.stdout + result.stderr[-3000:])
    batch = float(re.search(r"in ([0-9.]+) s:", result.stdout).group(1))
    with open(path / ".grader" / f"{assignment}-report.csv") as f:
        seconds = {(row["student"], row["notebook"]): float(row["seconds"])
                   for row in csv.DictReader(f) if row["seconds"]}
    return wall, batch, list(seconds.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="ch01_basic_structure")
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n = course(tmp / "plain", args.assignment, args.copies, plain=True)
        course(tmp / "grader", args.assignment, args.copies, plain=False)
        print(f"{n} submissions of {args.assignment} (solution, release, wrong answers and "
              f"alternatives, x{args.copies})")
        plain_wall, plain_per = run_plain(tmp / "plain", args.assignment)
        grader_wall, grader_batch, grader_per = run_grader(tmp / "grader", args.assignment,
                                                           args.jobs)
    print("| | median s per notebook (each on its own) | batch wall time | wall time / N |")
    print("|---|---|---|---|")
    print(f"| plain `nbgrader autograde` (1 at a time) | {statistics.median(plain_per):.2f} | "
          f"{plain_wall:.1f} s | {plain_wall / n:.2f} s |")
    print(f"| `python -m rnncore_grader autograde` ({args.jobs} at a time, sandboxed) | "
          f"{statistics.median(grader_per):.2f} | {grader_wall:.1f} s | {grader_wall / n:.2f} s |")
    print(f"throughput (notebooks per second), grader / plain: {plain_wall / grader_wall:.1f}x")


if __name__ == "__main__":
    main()
