"""The nbgrader pipeline of the exercises, end to end.

solutions/<id>/<id>.ipynb is the single source; exercises/ is what ``nbgrader generate_assignment``
makes of it. These tests check, in a temporary copy of the course (so the repository's gradebook
and folders are never touched):

a) that exercises/ is exactly what generate_assignment makes from solutions/ now;
b) that autograding gives the solution full marks, the untouched release zero, every plausible
   wrong answer (tests/answers/<assignment>.py) less than full on its own question and full on the
   others, and every valid alternative full marks;
c) that ``nbgrader validate`` passes the solution and fails the untouched release;
d) that no release carries solution code or hidden tests, and no notebook carries outputs.

Each assignment is generated once and autograded once (session fixtures), the two in parallel.
"""
import html
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook, MissingEntry

from answers import ALTERNATIVES, WRONG

ROOT = Path(__file__).resolve().parents[1]
# Every folder of solutions/ is an assignment (chNN_slug), with one notebook of the same name.
ASSIGNMENTS = tuple(sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir()))
# COURSE_ASSIGNMENTS="ch06_applications ch07_alternatives" checks only those (an author at work).
if os.environ.get("COURSE_ASSIGNMENTS"):
    ASSIGNMENTS = tuple(a for a in ASSIGNMENTS if a in os.environ["COURSE_ASSIGNMENTS"].split())
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
# One BLAS thread per kernel: two autograde runs share two cores.
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


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


# --- the submissions: who answers what -----------------------------------------------------------

def submissions(assignment):
    """student id -> (description, {answer grade_id: code}), or None for the untouched release."""
    correct = solution_code(assignment)
    students = {"solution": ("the solution's code", correct),
                "release": ("the untouched release", None)}
    for wrong in WRONG.get(assignment, []):
        students[f"wrong-{wrong.cell}-{wrong.name}"] = (f"{wrong.cell}: {wrong.why}",
                                                        {**correct, wrong.cell: wrong.code})
    for alternative in ALTERNATIVES.get(assignment, []):
        students[f"alt-{alternative.name}"] = (alternative.why, {**correct, **alternative.cells})
    return students


def wrong_cases():
    return [pytest.param(a, f"wrong-{w.cell}-{w.name}", w.cell, id=f"{a}-{w.cell}-{w.name}")
            for a in ASSIGNMENTS for w in WRONG.get(a, [])]


def alternative_cases():
    return [pytest.param(a, f"alt-{alt.name}", id=f"{a}-{alt.name}")
            for a in ASSIGNMENTS for alt in ALTERNATIVES.get(a, [])]


# --- running nbgrader -----------------------------------------------------------------------------

def nbgrader(args, cwd, check=True):
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=ENV,
                            capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed in {cwd} "
                           f"(exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def in_parallel(jobs):
    """Run [(args, cwd, check), ...] as nbgrader commands, two at a time; results in order."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda job: nbgrader(*job), jobs))


@pytest.fixture(scope="session")
def courses(tmp_path_factory):
    """assignment -> a temporary course root holding nbgrader_config.py and solutions/<id>,
    after ``nbgrader generate_assignment <id> --force`` there (so it has the gradebook too)."""
    roots = {}
    for assignment in ASSIGNMENTS:
        root = tmp_path_factory.mktemp(assignment)
        shutil.copy(ROOT / "nbgrader_config.py", root)
        if os.geteuid() != 0:
            # The sandbox needs root (tests/test_grader.py tests it, as root); elsewhere the same
            # trusted questions grade without it.
            with open(root / "nbgrader_config.py", "a") as config:
                config.write("\nc.SandboxedGrading.sandbox = False\n")
        shutil.copytree(ROOT / "solutions" / assignment, root / "solutions" / assignment)
        roots[assignment] = root
    in_parallel([(["generate_assignment", a, "--force"], roots[a], True) for a in ASSIGNMENTS])
    return roots


@pytest.fixture(scope="session")
def scores(courses):
    """assignment -> student -> test cell grade_id -> (score, max_score), after one
    ``nbgrader autograde <id>`` per assignment over every submission. Submissions are the
    committed release (what students get) with answer cells filled in."""
    for assignment, root in courses.items():
        release = read(release_path(assignment))
        for student, (_, codes) in submissions(assignment).items():
            path = root / "submitted" / student / assignment / f"{assignment}.ipynb"
            path.parent.mkdir(parents=True)
            nbformat.write(release if codes is None else filled(release, codes), path)
    runs = in_parallel([(["autograde", a], courses[a], True) for a in ASSIGNMENTS])
    result = {}
    for (assignment, root), run in zip(courses.items(), runs):
        result[assignment] = {}
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
            for student in submissions(assignment):
                try:
                    notebook = gradebook.find_submission_notebook(assignment, assignment, student)
                except MissingEntry:
                    raise RuntimeError(f"nbgrader autograde {assignment} graded no notebook for "
                                       f"{student}; its log:\n{run.stderr[-5000:]}") from None
                result[assignment][student] = {grade.name: (grade.score, grade.max_score)
                                               for grade in notebook.grades}
    return result


def failure(courses, assignment, student, grade_id):
    """The error a test cell raised in the autograded notebook, for assertion messages."""
    path = courses[assignment] / "autograded" / student / assignment / f"{assignment}.ipynb"
    for cell in read(path).cells:
        if nbgrader_meta(cell).get("grade_id") == grade_id:
            errors = [f"{o.ename}: {o.evalue}" for o in cell.get("outputs", [])
                      if o.output_type == "error"]
            errors += [o.text.strip() for o in cell.get("outputs", [])
                       if o.output_type == "stream" and o.name == "stderr"]
            return "; ".join(errors) or "no error"
    return "cell not found"


def report(scores_of_student):
    return ", ".join(f"{cell} {score:g}/{top:g}" for cell, (score, top) in
                     sorted(scores_of_student.items()))


# --- a) exercises/ is generated from solutions/ ---------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_is_what_generate_assignment_makes_of_the_solutions(courses, assignment):
    committed, generated = release_path(assignment), release_path(assignment, courses[assignment])
    committed_files = sorted(p.name for p in committed.parent.iterdir())
    generated_files = sorted(p.name for p in generated.parent.iterdir())
    assert committed_files == generated_files, (
        f"exercises/{assignment} holds {committed_files}, "
        f"generate_assignment makes {generated_files}")
    assert json.loads(committed.read_text()) == json.loads(generated.read_text()), (
        f"exercises/{assignment} is out of date with solutions/{assignment}: run "
        f"`nbgrader generate_assignment {assignment} --force` from the repository root")


# --- b) autograding -------------------------------------------------------------------------------

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_scores_full_marks(courses, scores, assignment):
    got = scores[assignment]["solution"]
    lost = {cell: s for cell, s in got.items() if s[0] != s[1]}
    assert got and not lost, (
        f"{assignment}: the solution scored {report(got)}; failures: "
        + "; ".join(f"{cell}: {failure(courses, assignment, 'solution', cell)}" for cell in lost))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_scores_zero(scores, assignment):
    got = scores[assignment]["release"]
    assert got and all(score == 0 for score, _ in got.values()), (
        f"{assignment}: the untouched release scored {report(got)}, expected 0 everywhere")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_answer_cell_has_a_wrong_answer_and_an_alternative(assignment):
    nb = read(source_path(assignment))
    answers = answer_ids(nb)
    tests = {nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c).get("grade")}
    assert tests == {grading_cell(a) for a in answers}, (
        f"{assignment}: answer cells {answers} should each have one test cell test_<id>; "
        f"the graded cells are {sorted(tests)}")
    assert assignment in WRONG, f"{assignment}: no tests/answers/{assignment}.py"
    for answer in answers:
        assert any(w.cell == answer for w in WRONG[assignment]), (
            f"{assignment}: no wrong answer for {answer} in tests/answers/{assignment}.py")
        assert any(answer in alt.cells for alt in ALTERNATIVES[assignment]), (
            f"{assignment}: no valid alternative for {answer} in tests/answers/{assignment}.py")
    known = set(answers)
    for w in WRONG[assignment]:
        assert w.cell in known, f"{assignment}: wrong answer {w.name} names unknown cell {w.cell}"
    for alt in ALTERNATIVES[assignment]:
        assert set(alt.cells) <= known, f"{assignment}: alternative {alt.name} names unknown cells"


@pytest.mark.parametrize("assignment, student, cell", wrong_cases())
def test_wrong_answer_loses_points_on_its_own_question_only(courses, scores, assignment,
                                                             student, cell):
    got = scores[assignment][student]
    why = submissions(assignment)[student][0]
    score, top = got[grading_cell(cell)]
    assert score < top, (
        f"{assignment}: student {student} ({why}) scored full marks {score:g}/{top:g} on "
        f"{grading_cell(cell)}; the tests do not catch this mistake")
    # ... and the student is told what is wrong: the grader's check failed (grader.checks), not
    # a crash inside the check.
    error = failure(courses, assignment, student, grading_cell(cell))
    assert error.startswith("CheckFailed:") and "could not be checked" not in error, (
        f"{assignment}: student {student} ({why}) fails {grading_cell(cell)} without a message "
        f"that says what is wrong: {error}")
    others = {c: s for c, s in got.items() if c != grading_cell(cell) and s[0] != s[1]}
    assert not others, (
        f"{assignment}: student {student} ({why}) lost points on other questions: {report(got)}; "
        + "; ".join(f"{c}: {failure(courses, assignment, student, c)}" for c in others))


@pytest.mark.parametrize("assignment, student", alternative_cases())
def test_valid_alternative_scores_full_marks(courses, scores, assignment, student):
    got = scores[assignment][student]
    why = submissions(assignment)[student][0]
    lost = {c: s for c, s in got.items() if s[0] != s[1]}
    assert got and not lost, (
        f"{assignment}: student {student} ({why}) scored {report(got)}; failures: "
        + "; ".join(f"{c}: {failure(courses, assignment, student, c)}" for c in lost))


# --- c) nbgrader validate -------------------------------------------------------------------------

@pytest.fixture(scope="session")
def validations(courses):
    """(assignment, "solution" | "release") -> the output of ``nbgrader validate`` on that
    notebook. validate exits 0 whether or not the tests pass, so its message is what counts."""
    jobs, keys = [], []
    for assignment, root in courses.items():
        release = read(release_path(assignment))
        for kind, nb in (("solution", filled(release, solution_code(assignment))),
                         ("release", release)):
            path = root / "validate" / kind / f"{assignment}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, path)
            jobs.append((["validate", str(path)], root, True))
            keys.append((assignment, kind))
    return {key: r.stdout + r.stderr for key, r in zip(keys, in_parallel(jobs))}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_validate_passes_the_solution(validations, assignment):
    out = validations[assignment, "solution"]
    assert "Success! Your notebook passes all the tests." in out and "FAILED" not in out, (
        f"{assignment}: nbgrader validate on the solution's code says:\n{out}")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_validate_fails_the_untouched_release(validations, assignment):
    out = validations[assignment, "release"]
    assert "VALIDATION FAILED" in out and "Success!" not in out, (
        f"{assignment}: nbgrader validate on the untouched release says:\n{out}")


# --- d) what the release may not contain ----------------------------------------------------------

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
    public |= {line for path in (ROOT / "rnncore").glob("*.py")
               for line in significant(path.read_text().split("\n"))}
    fragments = set()
    for region in regions:
        if len(region) == 1 and region[0] not in public:
            fragments.add(tuple(region))
        fragments |= {pair for pair in zip(region, region[1:]) if not set(pair) <= public}
    return fragments


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_has_no_solution_code_and_no_hidden_tests(assignment):
    release = read(release_path(assignment))
    secret = secret_lines(assignment)
    assert secret, f"{assignment}: found no solution or hidden-test lines in the source"
    leaks = []
    for cell in release.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        for marker in SOLUTION_MARKERS + HIDDEN_MARKERS:
            if marker in cell.source:
                leaks.append(f"{grade_id}: marker {marker!r}")
        leaks += [f"{grade_id}: {line!r}" for line in
                  sorted(significant(cell.source.split("\n")) & secret)]
    assert not leaks, f"exercises/{assignment} leaks:\n" + "\n".join(leaks)
    # ... and the grader's trusted questions stay behind, here and in a fresh generate_assignment.
    assert not (ROOT / "exercises" / assignment / "grading.py").exists()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_answer_cells_are_stubs_that_raise(assignment):
    release = read(release_path(assignment))
    for cell in release.cells:
        if nbgrader_meta(cell).get("solution"):
            stub = "# YOUR CODE HERE\n    raise NotImplementedError()"
            assert cell.source.rstrip().endswith(stub), (
                f"exercises/{assignment}: answer cell {nbgrader_meta(cell)['grade_id']} does not "
                f"end with the stub:\n{cell.source}")


@pytest.mark.parametrize("path", [source_path(a) for a in ASSIGNMENTS]
                         + [release_path(a) for a in ASSIGNMENTS],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_notebooks_are_committed_without_outputs(path):
    nb = read(path)
    executed = [cell.get("id") for cell in nb.cells if cell.cell_type == "code"
                and (cell.outputs or cell.execution_count is not None)]
    assert not executed, f"{path.relative_to(ROOT)}: cells {executed} have outputs or counts"
    assert nb.metadata.kernelspec.name == "python3", (
        f"{path.relative_to(ROOT)}: the kernel is {nb.metadata.kernelspec.name}, not python3")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_built_book_shows_no_solution_code_and_no_hidden_tests(built_book, assignment):
    """The Exercises part of the book shows the release; no page may show an answer."""
    secret = secret_fragments(assignment)
    assert secret, f"{assignment}: found no solution or hidden-test code in the source"
    leaks = []
    for page in built_book.rglob("*.html"):
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))
        lines = code_lines(text.split("\n"))
        shown = set(zip(lines, lines[1:])) | {(line,) for line in lines}
        leaks += [f"{page.relative_to(built_book)}: {fragment}" for fragment in sorted(shown & secret)]
    assert not leaks, "built pages show solution code or hidden tests:\n" + "\n".join(leaks)
    exercise_page = built_book / "exercises" / assignment / f"{assignment}.html"
    assert exercise_page.is_file(), f"the book has no page for the exercise {assignment}"
    shown = exercise_page.read_text(encoding="utf-8")
    assert "NotImplementedError" in shown
    # (the markers are named on the pages that explain them; on the exercise page they mean a leak)
    assert not [m for m in SOLUTION_MARKERS + HIDDEN_MARKERS if m in html.unescape(shown)], (
        f"the exercise page of {assignment} shows nbgrader's solution or hidden-test markers")


@pytest.fixture(scope="session")
def feedback(courses, scores):
    """assignment -> its feedback folder, after ``nbgrader generate_feedback <id>`` over every
    autograded submission."""
    in_parallel([(["generate_feedback", a], courses[a], True) for a in ASSIGNMENTS])
    return {a: courses[a] / "feedback" for a in ASSIGNMENTS}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_shows_visible_messages_but_no_hidden_test_code(feedback, scores, assignment):
    """Students read the failing visible tests' messages; the hidden tests' code never shows, not
    even through a traceback (nbgrader_config.py: ClearHiddenTests, minimal tracebacks)."""
    hidden = secret_fragments(assignment, kinds=(HIDDEN_MARKERS,))
    assert hidden, f"{assignment}: found no hidden-test code in the source"
    leaks, hints = [], 0
    for student in submissions(assignment):
        page = feedback[assignment] / student / assignment / f"{assignment}.html"
        assert page.is_file(), f"no feedback for {student} on {assignment}"
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))
        lines = code_lines(text.split("\n"))
        shown = set(zip(lines, lines[1:])) | {(line,) for line in lines}
        leaks += [f"{student}: {fragment}" for fragment in sorted(shown & hidden)]
        leaks += [f"{student}: {m!r}" for m in HIDDEN_MARKERS if m in text]
        hints += student.startswith("wrong-") and "Hint:" in text
    assert not leaks, f"feedback on {assignment} shows hidden tests:\n" + "\n".join(leaks)
    assert hints, f"no feedback on {assignment} shows a failing test's hint to the student"
