"""The student edition (`python -m rnncore_grader student-edition OUT`) carries no answer and no hidden
check: no solutions/, no grading.py, no tests or benchmarks, and no piece of any solution,
hidden test or grading question in any file it holds."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from course_files import ASSIGNMENTS, ROOT, code_lines, release_path, secret_fragments

URL = "https://github.com/rnn-course/rnn-course-student"


def _text(path):
    """The text a file shows (a notebook's cell sources), or None for a binary file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None
    if path.suffix == ".ipynb":
        return "\n".join("".join(c.get("source", "")) for c in json.loads(text)["cells"])
    return text


def _shown(text):
    lines = code_lines(text.split("\n"))
    return set(zip(lines, lines[1:])) | {(line,) for line in lines}


def _grading_fragments(public):
    """Pairs of consecutive code lines of each grading.py that are not both public."""
    fragments = set()
    for path in (ROOT / "solutions").glob("*/grading.py"):
        lines = code_lines(path.read_text().split("\n"))
        fragments |= {pair for pair in zip(lines, lines[1:]) if not set(pair) <= public}
    return fragments


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("students") / "edition"
    run = subprocess.run([sys.executable, "-m", "rnncore_grader", "student-edition", str(out),
                          "--repository", URL], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    return out


def test_the_edition_has_the_course_without_its_answers(edition):
    files = {p.relative_to(edition) for p in edition.rglob("*") if p.is_file()}
    assert not [p for p in files if p.parts[0] in ("solutions", "tests", "benchmarks", ".ci")]
    assert not [p for p in files if p.name == "grading.py"]
    for assignment in ASSIGNMENTS:               # the releases, exactly as committed
        released = release_path(assignment)
        assert (edition / released.relative_to(ROOT)).read_bytes() == released.read_bytes()
    for needed in ("rnncore/__init__.py", "_toc.yml", "requirements.txt", "pyproject.toml",
                   "book/ch01_basic_structure.md", "nbgrader_config.py"):
        assert Path(needed) in files, needed
    data = [p for p in files if p.parts[:2] == ("rnncore", "data")]
    assert data and all((edition / p).read_bytes() == (ROOT / p).read_bytes() for p in data)
    assert "Student edition" in (edition / "README.md").read_text()
    assert f"url: {URL}" in (edition / "_config.yml").read_text()


def test_no_file_of_the_edition_carries_a_piece_of_an_answer_or_a_hidden_check(edition):
    secrets = set()
    for assignment in ASSIGNMENTS:                # solutions and hidden tests
        secrets |= secret_fragments(assignment)
    public = {line for path in edition.rglob("*.py") if "grading.py" != path.name
              for line in code_lines(path.read_text().split("\n"))}
    public |= {line for a in ASSIGNMENTS for line in code_lines(_text(release_path(a)).split("\n"))}
    grading = _grading_fragments(public)
    assert secrets and grading
    leaks = []
    for path in sorted(p for p in edition.rglob("*") if p.is_file()):
        text = _text(path)
        if text is None:
            continue
        shown = _shown(text)
        leaks += [f"{path.relative_to(edition)}: {f}" for f in sorted(shown & secrets)]
        leaks += [f"{path.relative_to(edition)} (grading.py): {f}" for f in sorted(shown & grading)]
    assert not leaks, "the student edition carries answers or hidden checks:\n" + "\n".join(leaks)


def test_a_release_with_an_answer_in_it_stops_the_edition(tmp_path):
    """The guard itself: a tracked exercise that still has nbgrader's solution markers (a release
    generated wrongly, or hand-edited) stops the command before anything is written."""
    course = tmp_path / "course"
    (course / "exercises" / "hw").mkdir(parents=True)
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": "def f():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION\n"}
    (course / "exercises" / "hw" / "hw.ipynb").write_text(json.dumps(
        {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    (course / "solutions" / "hw").mkdir(parents=True)
    (course / "solutions" / "hw" / "grading.py").write_text("SECRET = 1\n")
    subprocess.run(["git", "init", "-q"], cwd=course, check=True)
    subprocess.run(["git", "add", "."], cwd=course, check=True)
    out = tmp_path / "edition"
    run = subprocess.run([sys.executable, "-m", "rnncore_grader", "student-edition", str(out)],
                         cwd=course, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                              "HOME": str(tmp_path)})
    assert run.returncode == 2, run.stdout + run.stderr
    assert "exercises/hw/hw.ipynb" in run.stderr and "BEGIN SOLUTION" in run.stderr
    assert not out.exists()
