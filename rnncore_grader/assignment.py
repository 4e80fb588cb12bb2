"""What the grader knows of an assignment: its notebooks, points, questions and reference.

Everything here comes from the instructor's files, never from a submission:

- ``solutions/<assignment>/<notebook>.ipynb`` (nbgrader's source): the points of each graded test
  cell, and the reference: its code cells other than the tests, run once in this process;
- ``exercises/<assignment>/<notebook>.ipynb`` (nbgrader's release): the cells a submission runs;
- ``solutions/<assignment>/grading.py``: one question per graded test cell (rnncore_grader.checks).
"""
import contextlib
import hashlib
import io
import os
import secrets
import types
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from rnncore_grader import checks


class CourseError(RuntimeError):
    """The instructor's side is not in order; the message says what to do."""


def nbgrader_of(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def answer_ids(notebook):
    return [nbgrader_of(c)["grade_id"] for c in notebook.cells
            if nbgrader_of(c).get("solution") and nbgrader_of(c).get("grade_id")]


def test_points(notebook):
    """grade_id -> points of the notebook's autograded test cells, in notebook order."""
    return {nbgrader_of(c)["grade_id"]: float(nbgrader_of(c).get("points", 0))
            for c in notebook.cells
            if c.cell_type == "code" and nbgrader_of(c).get("grade")
            and not nbgrader_of(c).get("solution")}


@dataclass
class Notebook:
    name: str
    source: nbformat.NotebookNode
    release: nbformat.NotebookNode
    questions: dict          # test grade_id -> check function
    points: dict             # test grade_id -> max points
    _ref: object = field(default=None, repr=False)

    @property
    def ref(self):
        """The solution's names: its non-test code cells, run once in this (trusted) process."""
        if self._ref is None:
            # As the sandbox runs a submission's cells (rnncore_grader.runner): IPython's
            # transformation first, so that a %time or %%capture in the solution works here too.
            from rnncore_grader.runner import Shell, run_cell
            namespace = {"__name__": "__reference__"}
            namespace["get_ipython"] = lambda shell=Shell(namespace): shell
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                for cell in self.source.cells:
                    if cell.cell_type == "code" and cell.source.strip() and not (
                            nbgrader_of(cell).get("grade") and not nbgrader_of(cell).get("solution")):
                        run_cell(cell.source, f"<solution {self.name}>", namespace)
            self._ref = _Namespace(namespace)
        return self._ref


class _Namespace:
    def __init__(self, names):
        self.__dict__.update(names)


@dataclass
class Assignment:
    name: str
    root: Path
    notebooks: dict          # notebook name -> Notebook
    secret: str = field(default="", repr=False)

    def seed(self, notebook, student):
        """The per-submission seed of the hidden inputs: secret, fixed for the course."""
        digest = hashlib.sha256("\0".join([self.secret, self.name, notebook, student])
                                .encode()).digest()
        return int.from_bytes(digest[:8], "big")


def _secret(root):
    path = Path(root) / ".grader" / "secret"
    if not path.exists():
        path.parent.mkdir(mode=0o700, exist_ok=True)
        try:
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                f.write(secrets.token_hex(32))
        except FileExistsError:                       # another grader made it just now
            pass
    return path.read_text().strip()


def load_grading(path):
    """grade_id -> question function of a grading.py."""
    saved = dict(checks.QUESTIONS)
    checks.QUESTIONS.clear()
    try:
        # Run from its source: an import would leave __pycache__/ in the instructor's folder.
        module = types.ModuleType(f"grading_{Path(path).parent.name}")
        module.__file__ = str(path)
        exec(compile(Path(path).read_text(encoding="utf-8"), str(path), "exec"), module.__dict__)
        return dict(checks.QUESTIONS)
    finally:
        checks.QUESTIONS.clear()
        checks.QUESTIONS.update(saved)


_CACHE = {}


def load(root, name, source_directory="source", release_directory="release"):
    """The Assignment `name` of the course at root (cached), or CourseError saying what is wrong."""
    root = Path(root).resolve()
    key = (root, name, source_directory, release_directory)
    if key in _CACHE:
        return _CACHE[key]
    source_dir = root / source_directory / name
    if not source_dir.is_dir():
        known = sorted(p.name for p in (root / source_directory).glob("*") if p.is_dir())
        raise CourseError(f"Unknown assignment {name!r}: there is no folder {source_dir}. "
                          f"The assignments of this course are: {', '.join(known) or 'none'}.")
    grading = source_dir / "grading.py"
    if not grading.exists():
        raise CourseError(f"{grading} is missing: every assignment needs its trusted questions "
                          f"(see rnncore_grader/checks.py) before submissions can be graded.")
    questions = load_grading(grading)
    notebooks = {}
    for path in sorted(source_dir.glob("*.ipynb")):
        release_path = root / release_directory / name / path.name
        if not release_path.exists():
            raise CourseError(f"{release_path} is missing: run `nbgrader generate_assignment "
                              f"{name}` first.")
        source = nbformat.read(path, as_version=4)
        points = test_points(source)
        mine = {g: questions[g] for g in points if g in questions}
        missing = [g for g in points if g not in questions]
        if missing:
            raise CourseError(f"{grading} has no question for the graded test cells "
                              f"{', '.join(missing)} of {path.name}.")
        notebooks[path.stem] = Notebook(path.stem, source, nbformat.read(release_path, as_version=4),
                                        mine, points)
    extra = set(questions) - {g for nb in notebooks.values() for g in nb.points}
    if extra:
        raise CourseError(f"{grading} has questions for test cells that no notebook of {name} "
                          f"has: {', '.join(sorted(extra))}.")
    _CACHE[key] = assignment = Assignment(name, root, notebooks, _secret(root))
    return assignment
