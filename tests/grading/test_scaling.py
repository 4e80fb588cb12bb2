"""One batch, graded four ways, must give the same scores and the same reasons (issue 14, items 5, 7):

- ``python -m rnncore_grader autograde`` on this machine (the reference);
- ``nbgrader autograde`` through the plugin (nbgrader_config.py): hostile files (nbformat 3, cut
  short, not JSON, not UTF-8, another assignment's notebook) score zero with the same reason, and
  the batch goes on;
- ``--shard 1/2`` and ``--shard 2/2``, run at the same time: each student graded once;
- ``--scheduler``: the sandboxes on a Dask cluster of two worker processes, this process recording.

A small corpus of test_grader's cases keeps it cheap; every copy of the course shares the
reference's secret, so hidden inputs are the same.
"""
import csv
import os
import shutil
import subprocess
import sys

import pytest

from rnncore_grader import assignment as assignments
from test_grader import A, CASES, MISSING, gradebook_rows, grader, make_course, messages

# (slow: tests/conftest.py SLOW_MODULES; one module is one worker's, so the batch is built once.)
pytestmark = [pytest.mark.skipif(os.geteuid() != 0, reason="graded as root, with test_grader.py's "
                                                          "helpers (CI runs as root)")]

CHOSEN = {"solution", "release", "allclose_patched", "non_utf8", "truncated", "not_json",
          "empty_file", "json_not_notebook", "nbformat3", "other_assignment", "edited_grade_id"}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """(a function that copies the ungraded course, the graded reference course)."""
    top = tmp_path_factory.mktemp("scaling")
    base = make_course(top / "base", [c for c in CASES if c.name in CHOSEN])
    folder = base / "submitted" / MISSING / A            # a submission without its notebook
    folder.mkdir(parents=True)
    (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    assignments.load(base, A, "solutions", "exercises")   # makes the course's secret, shared

    def copy(name):
        return shutil.copytree(base, top / name, symlinks=True)

    reference = copy("reference")
    grader(["autograde", A], reference)
    return copy, reference


def same_grades(course, reference, students=CHOSEN | {MISSING}):
    rows, expected = gradebook_rows(course), gradebook_rows(reference)
    expected = {s: cells for s, cells in expected.items() if s in students}
    assert rows == expected, f"\n{rows}\n!=\n{expected}"
    assert set(rows) == students
    for student in sorted(students):
        assert messages(course, student) == messages(reference, student), student


def report(course):
    with open(course / ".grader" / f"{A}-report.csv", newline="") as f:
        return sorted(tuple(r[:6]) for r in csv.reader(f))      # without the seconds


def test_nbgrader_autograde_grades_the_batch_as_the_grader_does(batch):
    copy, reference = batch
    course = copy("nbgrader")
    result = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", A], cwd=course,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "Traceback" not in result.stderr, result.stderr[-4000:]
    # The one difference, documented: nbgrader skips a submission folder that holds no notebook
    # at all (the grader records it with zeros and "the submission has no ...ipynb").
    same_grades(course, reference, CHOSEN)
    errors, notes = messages(course, "nbformat3")
    assert "format 3" in notes and not any(errors.values())
    assert "valid JSON" in messages(course, "truncated")[0]["test_rnn_step"]


def test_two_shards_at_once_grade_each_student_once_as_one_run_does(batch):
    copy, reference = batch
    course = copy("shards")
    runs = [subprocess.Popen([sys.executable, "-m", "rnncore_grader", "autograde", A, "--shard",
                              f"{k}/2"], cwd=course, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for k in (1, 2)]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    counts = [int(out.split("Shard ")[1].split(":")[1].split()[0]) for out, _ in outputs]
    assert sum(counts) == len(CHOSEN) + 1 and min(counts) > 0, outputs
    same_grades(course, reference)
    assert report(course) == report(reference)


def test_a_dask_cluster_of_two_workers_grades_as_the_local_run(batch):
    distributed = pytest.importorskip("distributed")
    copy, reference = batch
    course = copy("dask")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        client.wait_for_workers(2, timeout=60)
        with distributed.get_task_stream(client) as stream:
            result = grader(["autograde", A, "--scheduler", cluster.scheduler_address], course)
    graded_by = {task["worker"] for task in stream.data if "grade" in str(task["key"])}
    assert len(graded_by) == 2, stream.data         # both workers graded
    assert "Graded 12 notebook(s)" in result.stdout, result.stdout
    same_grades(course, reference)
    assert report(course) == report(reference)
