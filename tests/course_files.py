"""The course's notebooks as the tests see them: where each assignment's source and release are,
their cells, the solution's code, and the pieces of answers and hidden checks that no page may
show. Shared by tests/course (the exercises), tests/grading and tests/browser."""
import json
import os
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
# Every folder of solutions/ is an assignment (chNN_slug), with one notebook of the same name.
ASSIGNMENTS = tuple(sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir()))
# COURSE_ASSIGNMENTS="ch06_applications ch07_alternatives" checks only those (an author at work).
if os.environ.get("COURSE_ASSIGNMENTS"):
    ASSIGNMENTS = tuple(a for a in ASSIGNMENTS if a in os.environ["COURSE_ASSIGNMENTS"].split())
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


# --- notebooks ---------------------------------------------------------------------------------

def source_path(assignment):
    return ROOT / "solutions" / assignment / f"{assignment}.ipynb"


def release_path(assignment, root=ROOT):
    return root / "exercises" / assignment / f"{assignment}.ipynb"


def read(path):
    return nbformat.read(path, as_version=4)


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def answer_ids(nb):
    return [nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c).get("solution")]


def grading_cell(answer_id):
    """The test cell that grades an answer cell: by this course's convention, test_<grade_id>."""
    return f"test_{answer_id}"


def split_regions(source, begin, end):
    """(lines inside begin/end regions, lines outside them); the marker lines are in neither."""
    inside, outside, within = [], [], False
    for line in source.split("\n"):
        if begin in line:
            within = True
        elif end in line:
            within = False
        else:
            (inside if within else outside).append(line)
    return inside, outside


def solution_code(assignment):
    """grade_id -> the solution cell's source without the marker lines: the correct answer."""
    nb = read(source_path(assignment))
    return {nbgrader_meta(c)["grade_id"]: "\n".join(
                line for line in c.source.split("\n")
                if not any(marker in line for marker in SOLUTION_MARKERS))
            for c in nb.cells if nbgrader_meta(c).get("solution")}


def filled(release, codes):
    """A copy of the release notebook with each answer cell (by grade_id) replaced by codes[id]."""
    nb = nbformat.from_dict(json.loads(json.dumps(release)))
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and grade_id in codes:
            cell.source = codes[grade_id]
    return nb


TRIVIAL = {"return", "pass", "else:", "try:", "finally:", ")", "]", "}", "})", '"""'}


def significant(lines):
    """Lines that could only come from a particular piece of code, without their trailing
    comments ("  # ..."): not blank, not a comment, not a lone keyword or bracket."""
    return {s for s in (line.split("  #")[0].strip() for line in lines)
            if s and not s.startswith("#") and s not in TRIVIAL}


def code_lines(lines):
    """The significant lines, in order (see significant()), without imports: ``import autograd``
    shows no answer, whichever page it stands on."""
    return [s for s in (line.split("  #")[0].strip() for line in lines)
            if s and not s.startswith("#") and s not in TRIVIAL
            and not s.startswith(("import ", "from "))]


def secret_regions(assignment, kinds=(SOLUTION_MARKERS, HIDDEN_MARKERS)):
    """(the solution and/or hidden-test regions as lists of code lines, the notebook's public
    lines)."""
    regions, public = [], set()
    for cell in read(source_path(assignment)).cells:
        text = cell.source
        for markers in kinds:
            regions.append(code_lines(split_regions(text, *markers)[0]))
        # what is visible anyway: outside every solution and hidden-test region
        outside = split_regions("\n".join(split_regions(text, *SOLUTION_MARKERS)[1]),
                                *HIDDEN_MARKERS)[1]
        public |= significant(outside)
    return [r for r in regions if r], public


def secret_lines(assignment):
    """Significant lines of the solutions and hidden tests that the notebook shows nowhere."""
    regions, public = secret_regions(assignment)
    return {line for region in regions for line in region} - public


def secret_fragments(assignment, kinds=(SOLUTION_MARKERS, HIDDEN_MARKERS)):
    """Pieces of answer or hidden test that no page of the book may show.

    The chapters show rnncore's code by design (an exercise asks the student to write a piece of
    the library), so single lines the library has too (``hs = []``) or that any code has
    (``import autograd``) prove nothing. A fragment is two consecutive code lines of a solution or
    hidden-test region, at least one of them found neither in the library nor in the notebook's
    visible part; a one-line region is a fragment by itself unless it is public.
    """
    regions, public = secret_regions(assignment, kinds)
    public |= {line for path in (ROOT / "rnncore").rglob("*.py")
               for line in significant(path.read_text().split("\n"))}
    fragments = set()
    for region in regions:
        if len(region) == 1 and region[0] not in public:
            fragments.add(tuple(region))
        fragments |= {pair for pair in zip(region, region[1:]) if not set(pair) <= public}
    return fragments


def grading_fragments(assignment):
    """Pairs of consecutive code lines of solutions/<a>/grading.py (the hidden questions) that
    are not both found in the library, the notebook's visible part or its answers (a question
    may restate a line of the answer, e.g. ``return "undetermined"``: the student's feedback
    shows their own code, and that is no leak)."""
    answers, public = secret_regions(assignment, kinds=(SOLUTION_MARKERS,))
    public |= {line for region in answers for line in region}
    public |= {line for path in (ROOT / "rnncore").rglob("*.py")
               for line in significant(path.read_text().split("\n"))}
    lines = code_lines((ROOT / "solutions" / assignment / "grading.py").read_text().split("\n"))
    return {pair for pair in zip(lines, lines[1:]) if not set(pair) <= public}
