"""Answers that the exercises' tests must tell apart, as code for the answer cells (by grade_id).

WRONG: plausible mistakes, each in one answer cell; the test cell that grades that answer
(``test_<grade_id>``) must give it less than full marks, every other test cell full marks.
ALTERNATIVES: other correct ways to write the answers (another vectorisation, float32, a loop
that does not call the helper); every test cell must give them full marks. An alternative fills
several answer cells at once; the cells it leaves out get the solution's code.

Each entry says why it is plausible or why it is right, so a failing test explains itself.
Each assignment has its own module, ``tests/course/answers/<assignment>.py``, defining the lists WRONG
and ALTERNATIVES; this package collects them by assignment id.
"""
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import dedent


@dataclass(frozen=True)
class Wrong:
    cell: str           # grade_id of the answer cell it replaces
    name: str           # short, unique within the assignment (used in the student id)
    why: str            # the mistake, as a student would make it
    code: str


@dataclass(frozen=True)
class Alternative:
    name: str
    why: str
    cells: dict = field(default_factory=dict)   # grade_id -> code


def code(text):
    return dedent(text).strip("\n")


def _collect():
    wrong, alternatives = {}, {}
    for path in sorted(Path(__file__).parent.glob("ch*.py")):
        module = importlib.import_module(f"{__name__}.{path.stem}")
        wrong[path.stem], alternatives[path.stem] = module.WRONG, module.ALTERNATIVES
    return wrong, alternatives


WRONG, ALTERNATIVES = _collect()     # assignment id -> [Wrong, ...], [Alternative, ...]
