"""Validate hides what the grade forbids: for every graded question of every assignment, the
library functions its grading.py forbids (@question(..., forbid=...)) are exactly those that its
visible test cell hides with rnncore.testing.without(...) while it calls the student's function.

If the grade forbids a function that the visible test leaves available, an answer that calls it
passes Validate and loses the points; if the visible test hides one the grade allows, a valid
answer fails Validate and scores full. Either way Validate no longer predicts the grade.

How: the solution notebook runs once, cell by cell, in a fresh IPython shell in a subprocess
(so magics run as in Jupyter), with rnncore.testing.without wrapped to record its targets in the
test cell that is running; the targets and the forbid lists are compared as functions (resolved
in that process), so that aliases and spellings do not matter.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = tuple(sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir()))
if os.environ.get("COURSE_ASSIGNMENTS"):
    ASSIGNMENTS = tuple(a for a in ASSIGNMENTS if a in os.environ["COURSE_ASSIGNMENTS"].split())

# Runs in the subprocess: argv[1] is the solution notebook, argv[2] its grading.py. Prints one JSON
# object {grade_id: {"forbid": [labels], "hidden": [labels], "error": text or null}}.
RECORDER = r'''
import contextlib, json, sys
import nbformat
import rnncore.testing as testing
from IPython.core.interactiveshell import InteractiveShell
from rnncore_grader import assignment

questions = assignment.load_grading(sys.argv[2])
labels = {}                                    # id(function) -> the first name it was seen under


def key(target):
    function, label = testing.resolve(target)
    labels.setdefault(id(function), label)
    return id(function)


forbid = {g: {key(t) for t in getattr(q, "forbid", ())} for g, q in questions.items()}
hidden, errors, current = {}, {}, [None]
original = testing.without


@contextlib.contextmanager
def recording(*targets, **kwargs):
    if current[0] is not None:
        hidden.setdefault(current[0], set()).update(key(t) for t in targets)
    with original(*targets, **kwargs):
        yield


testing.without = recording
shell = InteractiveShell.instance()
for cell in nbformat.read(sys.argv[1], as_version=4).cells:
    if cell.cell_type != "code":
        continue
    meta = cell.metadata.get("nbgrader", {})
    current[0] = meta.get("grade_id") if meta.get("grade") else None
    result = shell.run_cell(cell.source, silent=True)
    if not result.success and current[0] is not None:
        errors[current[0]] = repr(result.error_in_exec or result.error_before_exec)
current[0] = None
print("\x00" + json.dumps({g: {"forbid": sorted(labels[i] for i in forbid.get(g, ())),
                               "hidden": sorted(labels[i] for i in hidden.get(g, ())),
                               "error": errors.get(g)}
                           for g in set(forbid) | set(hidden)}))
'''


@pytest.fixture(scope="module")
def recorded():
    cache = {}

    def run(assignment):
        if assignment not in cache:
            folder = ROOT / "solutions" / assignment
            env = {**os.environ, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1",
                   "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                   "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
            done = subprocess.run([sys.executable, "-c", RECORDER, str(folder / f"{assignment}.ipynb"),
                                   str(folder / "grading.py")], cwd=folder, env=env,
                                  capture_output=True, text=True, timeout=900)
            assert done.returncode == 0, done.stderr[-3000:]
            cache[assignment] = json.loads(done.stdout.rpartition("\x00")[2])
        return cache[assignment]
    return run


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_visible_tests_hide_exactly_what_the_grade_forbids(recorded, assignment):
    questions = recorded(assignment)
    assert questions, f"{assignment}: no graded question found"
    problems = []
    for grade_id, seen in sorted(questions.items()):
        if seen["error"]:
            problems.append(f"{grade_id}: the solution fails its own test cell: {seen['error']}")
        only_graded = sorted(set(seen["forbid"]) - set(seen["hidden"]))
        only_visible = sorted(set(seen["hidden"]) - set(seen["forbid"]))
        if only_graded:
            problems.append(f"{grade_id}: grading.py forbids {only_graded}, which the visible test "
                            f"cell leaves available (add them to its without(...)): an answer "
                            f"calling them passes Validate and loses the points")
        if only_visible:
            problems.append(f"{grade_id}: the visible test cell hides {only_visible}, which "
                            f"grading.py does not forbid (add them to its forbid=...): an answer "
                            f"calling them fails Validate and scores full")
    assert not problems, f"{assignment}:\n" + "\n".join(problems)
