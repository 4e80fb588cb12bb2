"""A warning fails no test in Validate, as in the grade.

nbgrader's Validate fails a test cell that writes anything to standard error; the grader only
looks at errors. rnncore.testing.warnings_to_stdout() shows warnings on standard output instead,
and every assignment's first code cell calls it, so that a correct answer that warns (numpy's
RuntimeWarning, a debugging warnings.warn) passes Validate as it scores full.
"""
import json
import warnings
from pathlib import Path

import pytest

from rnncore.testing import warnings_to_stdout

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "solutions").glob("*/*.ipynb"))


def test_warnings_to_stdout_shows_warnings_on_stdout_not_stderr(capsys):
    with warnings.catch_warnings():                # restores warnings.showwarning afterwards
        warnings.simplefilter("always")
        warnings_to_stdout()
        warnings.warn("debugging", UserWarning)
    out, err = capsys.readouterr()
    assert "UserWarning: debugging" in out
    assert err == ""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_every_assignment_shows_warnings_on_stdout_from_its_first_cell(path):
    cells = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
             if c["cell_type"] == "code"]
    first = "".join(cells[0]["source"])
    assert "warnings_to_stdout()" in first.split("\n"), (
        f"{path.parent.name}: the first code cell must call warnings_to_stdout() (from "
        f"rnncore.testing), or a correct answer that warns fails Validate while it scores full")
    assert cells[0]["metadata"].get("nbgrader", {}).get("locked"), (
        f"{path.parent.name}: the first code cell must be locked (read-only)")


def test_validate_passes_a_correct_answer_that_warns(tmp_path):
    """End to end, with nbgrader itself: ch04's release with the solution's answers, except
    clip_by_norm from the alternative "warns" of tests/course/answers (a UserWarning and a
    RuntimeWarning in its test cell), passes Validate."""
    import os
    import subprocess
    import sys

    import nbformat

    from answers import ALTERNATIVES

    assignment = "ch04_limitations"
    warns = next(a for a in ALTERNATIVES[assignment] if a.name == "warns")
    solution = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", 4)
    answers = {c.metadata["nbgrader"]["grade_id"]: "\n".join(
                   line for line in c.source.split("\n") if "### " not in line)
               for c in solution.cells if c.metadata.get("nbgrader", {}).get("solution")}
    answers.update(warns.cells)
    release = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", 4)
    for cell in release.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in answers:
            cell.source = answers[grade_id]
    path = tmp_path / f"{assignment}.ipynb"
    nbformat.write(release, path)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(path)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    out = done.stdout + done.stderr
    assert "Success! Your notebook passes all the tests." in out, out[-3000:]
