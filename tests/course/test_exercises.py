"""The nbgrader pipeline of the exercises, end to end.

solutions/<id>/<id>.ipynb is the single source; exercises/ is what ``nbgrader generate_assignment``
makes of it. These tests check, in a temporary copy of the course (so the repository's gradebook
and folders are never touched):

a) that exercises/ is exactly what generate_assignment makes from solutions/ now;
b) that autograding gives the solution full marks, the untouched release zero, every plausible
   wrong answer (tests/course/answers/<assignment>.py) less than full on its own question and full on the
   others, and every valid alternative full marks; that every wrong answer fails a visible test
   (Validate predicts the grade), gets the same grade whatever the student's hidden inputs, and,
   if it imports the library's function, is told to write it itself;
c) that ``nbgrader validate`` passes the solution and fails the untouched release;
d) that no release carries solution code or hidden tests, and no notebook carries outputs.

e) that no question can be answered by the library or copied from the book: every question
   forbids the library functions that compute its answer, and no chapter prints them.

Each assignment is generated once (session fixtures, two at a time). ``nbgrader autograde`` grades
the solution, the untouched release and one wrong answer per assignment (the whole pipeline, and
feedback); every other answer is graded by the same engine directly (rnncore_grader.engine.grade, which
nbgrader's SandboxedGrading calls too), two sandboxes at a time, so that a wrong answer's question
can be regraded with many students' seeds in the same sandboxed run. The two agree on the
students both grade (checked).
"""
import ast
import html
import inspect
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
from course_files import (ASSIGNMENTS, HIDDEN_MARKERS, ROOT, SOLUTION_MARKERS, answer_ids,
                          code_lines, filled, grading_cell, grading_fragments, nbgrader_meta, read,
                          release_path, secret_fragments, secret_lines, significant, solution_code,
                          source_path)
from rnncore_grader import assignment as assignments, engine, sandbox as sandboxes, submission
from rnncore.testing import resolve

# One BLAS thread per kernel: two autograde runs share two cores.
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


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
            # The sandbox needs root (tests/grading/test_grader.py tests it, as root); elsewhere the same
            # trusted questions grade without it.
            with open(root / "nbgrader_config.py", "a") as config:
                config.write("\nc.SandboxedGrading.sandbox = False\n")
        shutil.copytree(ROOT / "solutions" / assignment, root / "solutions" / assignment)
        roots[assignment] = root
    in_parallel([(["generate_assignment", a, "--force"], roots[a], True) for a in ASSIGNMENTS])
    return roots


def through_nbgrader(assignment):
    """The students that ``nbgrader autograde`` grades: the solution, the release, the first
    wrong answer (its feedback shows a hint)."""
    students = list(submissions(assignment))
    wrong = [s for s in students if s.startswith("wrong-")]
    return ["solution", "release", *wrong[:1]]


@pytest.fixture(scope="session")
def nbgrader_scores(courses):
    """assignment -> student -> test cell grade_id -> (score, max_score), after one
    ``nbgrader autograde <id>`` per assignment over the students of through_nbgrader.
    Submissions are the committed release (what students get) with answer cells filled in."""
    for assignment, root in courses.items():
        release = read(release_path(assignment))
        for student, (_, codes) in submissions(assignment).items():
            if student not in through_nbgrader(assignment):
                continue
            path = root / "submitted" / student / assignment / f"{assignment}.ipynb"
            path.parent.mkdir(parents=True)
            nbformat.write(release if codes is None else filled(release, codes), path)
    runs = in_parallel([(["autograde", a], courses[a], True) for a in ASSIGNMENTS])
    result = {}
    for (assignment, root), run in zip(courses.items(), runs):
        result[assignment] = {}
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
            for student in through_nbgrader(assignment):
                try:
                    notebook = gradebook.find_submission_notebook(assignment, assignment, student)
                except MissingEntry:
                    raise RuntimeError(f"nbgrader autograde {assignment} graded no notebook for "
                                       f"{student}; its log:\n{run.stderr[-5000:]}") from None
                result[assignment][student] = {grade.name: (grade.score, grade.max_score)
                                               for grade in notebook.grades}
    return result


# Seeds of other students: each wrong answer's own question is graded again with each of them.
REGRADES = 20
# ... except where one grading trains a model in the sandbox (seconds each): fewer, and why.
FEWER_REGRADES = {
    ("ch06_applications", "test_forecaster"): (3, "each grading trains the student's forecaster"),
    ("ch06_applications", "test_word_classifier"): (3, "each grading trains a GRU classifier"),
    ("ch08_conclusion", "test_capstone"): (3, "each grading trains the student's capstone model"),
}
ENGINE_WORKERS = 2


def regrades(assignment, grade_id):
    return FEWER_REGRADES.get((assignment, grade_id), (REGRADES, ""))[0]


@pytest.fixture(scope="session")
def engine_results(courses):
    """assignment -> student -> rnncore_grader.engine.Result, for every submission: graded as nbgrader's
    SandboxedGrading grades it (read from the submitted file's bytes, the course's per-student
    seed), and, for a wrong answer, its own question regraded with REGRADES other students'
    seeds in the same run, and with its own seed again (result.regrades)."""
    try:
        sandboxes.check()
        unsafe = False
    except sandboxes.SandboxUnavailable:        # (as tests/course/test_exercises.py does without root)
        unsafe = True
    specs = {a: assignments.load(root, a, "solutions", "exercises") for a, root in courses.items()}
    jobs = []
    for assignment, spec in specs.items():
        release = read(release_path(assignment))
        (name, notebook), = spec.notebooks.items()
        notebook.ref                           # the solution runs once, before the threads
        others = [spec.seed(name, f"another-student-{k}") for k in range(REGRADES)]
        wrong = {f"wrong-{w.cell}-{w.name}": grading_cell(w.cell) for w in WRONG[assignment]}
        for student, (_, codes) in submissions(assignment).items():
            data = nbformat.writes(release if codes is None else filled(release, codes)).encode()
            # (its own seed again first: a regrade of the same file must give the same grade)
            again = [spec.seed(name, student)] + others[:regrades(assignment, wrong.get(student))]
            jobs.append((assignment, student, notebook, spec, data,
                         again if student in wrong else (), {wrong.get(student)}))
    boxes = [sandboxes.Sandbox(2 + k, unsafe=unsafe) for k in range(ENGINE_WORKERS)]
    free = list(boxes)

    def grade(job):
        assignment, student, notebook, spec, data, others, only = job
        answers, _ = submission.read_answers(data, notebook.release)
        box = free.pop()
        try:
            return engine.grade(box, submission.prepare(notebook.release, answers),
                                notebook.questions, notebook.points, notebook.ref,
                                spec.seed(notebook.name, student),
                                engine.Timeouts(cell=60, call=30), regrade=others,
                                regrade_only=only)
        finally:
            free.append(box)

    results = {a: {} for a in specs}
    try:
        with ThreadPoolExecutor(ENGINE_WORKERS) as pool:
            for job, result in zip(jobs, pool.map(grade, jobs)):
                results[job[0]][job[1]] = result
    finally:
        for box in boxes:
            box.close()
    for assignment, by_student in results.items():      # (shown with pytest -s)
        print(f"engine: {assignment}: {len(by_student)} submissions graded in "
              f"{sum(r.seconds for r in by_student.values()):.0f} s of sandbox time, of which "
              f"regrading {sum(r.regrade_seconds for r in by_student.values()):.0f} s")
    return results


@pytest.fixture(scope="session")
def scores(engine_results):
    """assignment -> student -> test cell grade_id -> (score, max_score), by the engine."""
    return {a: {s: r.scores for s, r in by_student.items()}
            for a, by_student in engine_results.items()}


def failure(courses, assignment, student, grade_id, results=None):
    """Why a test cell lost its points: the engine's message, or else the error the cell
    shows in the notebook nbgrader autograded."""
    if results is not None and student in results[assignment]:
        return results[assignment][student].messages.get(grade_id, "no error")
    return nbgrader_failure(courses, assignment, student, grade_id)


def nbgrader_failure(courses, assignment, student, grade_id):
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
def test_solution_scores_full_marks(courses, nbgrader_scores, assignment):
    got = nbgrader_scores[assignment]["solution"]
    lost = {cell: s for cell, s in got.items() if s[0] != s[1]}
    assert got and not lost, (
        f"{assignment}: the solution scored {report(got)}; failures: "
        + "; ".join(f"{cell}: {failure(courses, assignment, 'solution', cell)}" for cell in lost))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_scores_zero(nbgrader_scores, assignment):
    got = nbgrader_scores[assignment]["release"]
    assert got and all(score == 0 for score, _ in got.values()), (
        f"{assignment}: the untouched release scored {report(got)}, expected 0 everywhere")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_nbgrader_autograde_and_the_engine_give_the_same_scores(nbgrader_scores, scores,
                                                                 assignment):
    """The students graded both ways get the same scores: the engine's results stand for
    nbgrader autograde's in the tests below."""
    for student in through_nbgrader(assignment):
        assert nbgrader_scores[assignment][student] == scores[assignment][student], (
            f"{assignment}: {student} scored {report(nbgrader_scores[assignment][student])} "
            f"through nbgrader autograde, {report(scores[assignment][student])} by the engine")

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_answer_cell_has_a_wrong_answer_and_an_alternative(assignment):
    nb = read(source_path(assignment))
    answers = answer_ids(nb)
    tests = {nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c).get("grade")}
    assert tests == {grading_cell(a) for a in answers}, (
        f"{assignment}: answer cells {answers} should each have one test cell test_<id>; "
        f"the graded cells are {sorted(tests)}")
    assert assignment in WRONG, f"{assignment}: no tests/course/answers/{assignment}.py"
    for answer in answers:
        assert any(w.cell == answer for w in WRONG[assignment]), (
            f"{assignment}: no wrong answer for {answer} in tests/course/answers/{assignment}.py")
        assert any(answer in alt.cells for alt in ALTERNATIVES[assignment]), (
            f"{assignment}: no valid alternative for {answer} in tests/course/answers/{assignment}.py")
    known = set(answers)
    for w in WRONG[assignment]:
        assert w.cell in known, f"{assignment}: wrong answer {w.name} names unknown cell {w.cell}"
    for alt in ALTERNATIVES[assignment]:
        assert set(alt.cells) <= known, f"{assignment}: alternative {alt.name} names unknown cells"


@pytest.mark.parametrize("assignment, student, cell", wrong_cases())
def test_wrong_answer_loses_points_on_its_own_question_only(courses, engine_results, assignment,
                                                             student, cell):
    result = engine_results[assignment][student]
    got = result.scores
    why = submissions(assignment)[student][0]
    score, top = got[grading_cell(cell)]
    assert score < top, (
        f"{assignment}: student {student} ({why}) scored full marks {score:g}/{top:g} on "
        f"{grading_cell(cell)}; the tests do not catch this mistake")
    # ... and the student is told what is wrong: a check failed or their code raised (grader.
    # checks), not a crash inside the check.
    error = result.messages[grading_cell(cell)]
    assert "could not be checked" not in error, (
        f"{assignment}: student {student} ({why}) fails {grading_cell(cell)} without a message "
        f"that says what is wrong: {error}")
    others = {c: s for c, s in got.items() if c != grading_cell(cell) and s[0] != s[1]}
    assert not others, (
        f"{assignment}: student {student} ({why}) lost points on other questions: {report(got)}; "
        + "; ".join(f"{c}: {result.messages.get(c)}" for c in others))


# Wrong answers that no visible test catches, and why that is right (issue 12: Validate predicts
# the grade, with any exception listed here): (assignment, answer cell) for all its wrong
# answers, or (assignment, answer cell, wrong answer name) -> reason.
CONCEPT = ("a concept check: a visible test may check the answer's form (one letter, a finite "
           "number) but not its value, which would give the answer away")
NOT_CAUGHT_BY_VISIBLE_TESTS = {
    **{("ch08_conclusion", q): CONCEPT
       for q in ["q1_parameters", "q2_perplexity", "q3_truncated_bptt", "q4_vanishing",
                 "q5_lstm_cell", "q6_forecast_split", "q7_receptive_field", "q8_path_length",
                 "q9_kv_cache", "q10_streaming"]},
    ("ch08_conclusion", "capstone", "hard_coded_rule"):
        "the capstone is graded on a hidden task with other tokens as X and Y; a rule written "
        "for the visible task's tokens passes the visible task by construction",
}


def visible_test_failures(assignment, result):
    """grade_id -> the visible test's error, for the graded test cells whose visible tests
    failed in the submission's run (what Validate would have shown)."""
    release = read(release_path(assignment))
    failed = {}
    for i, cell in enumerate(release.cells):
        meta = nbgrader_meta(cell)
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            outcome = result.outcomes.get(i, {})
            if outcome.get("status") == "error":
                failed[meta["grade_id"]] = outcome.get("error", "").strip().split("\n")[-1]
    return failed


@pytest.mark.parametrize("assignment, student, cell", wrong_cases())
def test_wrong_answer_fails_a_visible_test(engine_results, assignment, student, cell):
    name = student.split(f"wrong-{cell}-", 1)[1]
    for key in ((assignment, cell), (assignment, cell, name)):
        if key in NOT_CAUGHT_BY_VISIBLE_TESTS:
            pytest.skip(NOT_CAUGHT_BY_VISIBLE_TESTS[key])
    failed = visible_test_failures(assignment, engine_results[assignment][student])
    why = submissions(assignment)[student][0]
    assert failed, (
        f"{assignment}: the wrong answer {student} ({why}) passes every visible test, so "
        f"Validate says Success and the grade is lower: add a visible test that catches it to "
        f"the notebook (or list it in NOT_CAUGHT_BY_VISIBLE_TESTS with the reason)")


@pytest.mark.parametrize("assignment, student", [pytest.param(a, "solution", id=f"{a}-solution")
                                                 for a in ASSIGNMENTS] + alternative_cases())
def test_right_answers_pass_every_visible_test(engine_results, assignment, student):
    """Validate says Success to the solution and to every valid alternative (which score full)."""
    failed = visible_test_failures(assignment, engine_results[assignment][student])
    assert not failed, (f"{assignment}: {student} ({submissions(assignment)[student][0]}) fails "
                        f"visible tests: {failed}")


@pytest.mark.parametrize("assignment, student, cell", wrong_cases())
def test_wrong_answer_gets_the_same_grade_whatever_the_hidden_inputs(engine_results, assignment,
                                                                    student, cell):
    result = engine_results[assignment][student]
    own = grading_cell(cell)
    grades = [result.scores[own][0]] + [regrade[own] for regrade in result.regrades.values()]
    assert len(grades) == regrades(assignment, own) + 2   # graded, regraded with its seed, others
    full = sum(g == result.scores[own][1] for g in grades)
    assert len(set(grades)) == 1, (
        f"{assignment}: {student} ({submissions(assignment)[student][0]}) scores full marks on "
        f"{own} for {full} of {len(grades)} students' hidden inputs: the question must catch "
        f"it on every draw")


def import_cases():
    return [c for c in wrong_cases() if c.values[1].split("-", 2)[2].startswith("imports_")]


@pytest.mark.parametrize("assignment, student, cell", import_cases())
def test_an_answer_that_imports_the_library_is_told_to_write_it(engine_results, assignment,
                                                                student, cell):
    result = engine_results[assignment][student]
    message = result.messages.get(grading_cell(cell), "")
    assert "write this one yourself" in message, (
        f"{assignment}: {student} imports the library's implementation; {grading_cell(cell)} "
        f"should fail with LibraryUnavailable ('... write this one yourself'), not: "
        f"{message or 'full marks'}")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_answer_cell_has_an_answer_that_imports_the_library(assignment):
    nb = read(source_path(assignment))
    missing = [a for a in answer_ids(nb) if not any(
        w.cell == a and w.name.startswith("imports_") for w in WRONG.get(assignment, []))
        and (assignment, grading_cell(a)) not in NOT_FORBIDDING]
    assert not missing, (
        f"{assignment}: no wrong answer named imports_... (one that imports the library's "
        f"implementation) for {missing} in tests/course/answers/{assignment}.py")


@pytest.mark.parametrize("assignment, student", alternative_cases())
def test_valid_alternative_scores_full_marks(engine_results, assignment, student):
    result = engine_results[assignment][student]
    got = result.scores
    why = submissions(assignment)[student][0]
    lost = {c: s for c, s in got.items() if s[0] != s[1]}
    assert got and not lost, (
        f"{assignment}: student {student} ({why}) scored {report(got)}; failures: "
        + "; ".join(f"{c}: {result.messages.get(c)}" for c in lost))


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

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_checks_have_one_source(assignment):
    """grading.py is the one source of the hidden checks: no hidden-test block in the notebook
    restates it (nothing runs them; an author would edit them in vain)."""
    blocks = [nbgrader_meta(c).get("grade_id") for c in read(source_path(assignment)).cells
              if any(marker in c.source for marker in HIDDEN_MARKERS)]
    assert not blocks, (f"solutions/{assignment}: the cells {blocks} hold ### BEGIN HIDDEN TESTS "
                        f"blocks; hidden checks belong in grading.py (issue 12)")


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


@pytest.fixture(scope="session")
def feedback(courses, nbgrader_scores):
    """assignment -> its feedback folder, after ``nbgrader generate_feedback <id>`` over every
    autograded submission."""
    in_parallel([(["generate_feedback", a], courses[a], True) for a in ASSIGNMENTS])
    return {a: courses[a] / "feedback" for a in ASSIGNMENTS}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_shows_visible_messages_but_no_hidden_test_code(feedback, assignment):
    """Students read the failing visible tests' messages; the hidden tests' code never shows, not
    even through a traceback (nbgrader_config.py: ClearHiddenTests, minimal tracebacks)."""
    hidden = secret_fragments(assignment, kinds=(HIDDEN_MARKERS,)) | grading_fragments(assignment)
    assert hidden, f"{assignment}: found no hidden-test code in the source"
    leaks, hints = [], 0
    for student in through_nbgrader(assignment):
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


# --- e) no question answered by the library, or by the book --------------------------------------

# Questions that forbid nothing, and why: they ask for no function the library has.
NOT_FORBIDDING = {
    **{("ch08_conclusion", f"test_{q}"): "a concept check: a letter or a number, no function"
       for q in ["q1_parameters", "q2_perplexity", "q3_truncated_bptt", "q4_vanishing",
                 "q5_lstm_cell", "q6_forecast_split", "q7_receptive_field", "q8_path_length",
                 "q9_kv_cache", "q10_streaming"]},
    ("ch08_conclusion", "test_capstone"): "an outcome question: any model that reaches the "
                                          "accuracy on the hidden task scores, built from the "
                                          "library or not",
    ("ch02_how_rnns_work", "test_first_bit_params"): "weights set by hand: no library function "
                                                     "returns them",
    **{("ch06_applications", f"test_{q}"): "an outcome question on a trained model: the "
                                           "library (readout, gru, train) is the intended tool, "
                                           "and no library function trains the model"
       for q in ["forecaster", "word_classifier"]},
}


def questions_of(assignment):
    return assignments.load_grading(ROOT / "solutions" / assignment / "grading.py")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_question_forbids_the_library_functions_that_answer_it(assignment):
    empty = [g for g, check in questions_of(assignment).items()
             if not getattr(check, "forbid", ()) and (assignment, g) not in NOT_FORBIDDING]
    assert not empty, (
        f"{assignment}: the questions {empty} of solutions/{assignment}/grading.py forbid no "
        f"library function, so an answer that imports the library's implementation scores full: "
        f"add @question(..., forbid=(\"rnncore.module:function\", ...)), or list the question "
        f"in NOT_FORBIDDING with the reason")


DIRECTIVE = re.compile(r"^\s*(`{3,}|:{3,}|~{3,})\{literalinclude\}\s+(\S+)\s*$")
OPTION = re.compile(r"^\s*:([\w-]+):\s*(.*?)\s*$")


def literalincludes():
    """[(page, line number, included file, {option: value})] of every literalinclude of the book."""
    found = []
    for page in sorted((ROOT / "book").rglob("*.md")):
        lines = page.read_text(encoding="utf-8").split("\n")
        for number, line in enumerate(lines, 1):
            match = DIRECTIVE.match(line)
            if not match:
                continue
            options = {}
            for option_line in lines[number:]:
                option = OPTION.match(option_line)
                if not option:
                    break
                options[option.group(1)] = option.group(2)
            found.append((page, number, (page.parent / match.group(2)).resolve(), options))
    return found


def _line_numbers(spec, count):
    chosen = []
    for part in spec.split(","):
        first, dash, last = part.strip().partition("-")
        start = int(first) if first else 1
        end = (int(last) if last else count) if dash else start
        chosen += range(start, min(end, count) + 1)
    return chosen


def shown_lines(path, options):
    """The line numbers (1-based) of path that a literalinclude with these options prints, by
    Sphinx's order: pyobject, start-after/start-at, end-before/end-at, lines."""
    text = path.read_text(encoding="utf-8").split("\n")
    numbers = list(range(1, len(text) + 1))
    if "pyobject" in options:
        node = _pyobject(ast.parse("\n".join(text)), options["pyobject"])
        if node is None:
            return set()
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        numbers = list(range(first, node.end_lineno + 1))
    for key, after in (("start-after", True), ("start-at", False)):
        if key in options:
            hits = [i for i, n in enumerate(numbers) if options[key] in text[n - 1]]
            if hits:
                numbers = numbers[hits[0] + after:]
    for key, before in (("end-before", True), ("end-at", False)):
        if key in options:
            hits = [i for i, n in enumerate(numbers) if options[key] in text[n - 1]]
            if hits:
                numbers = numbers[:hits[0] + (not before)]
    if "lines" in options:
        numbers = [numbers[i - 1] for i in _line_numbers(options["lines"], len(numbers))]
    return set(numbers)


def _pyobject(tree, name):
    node = tree
    for part in name.split("."):
        node = next((n for n in getattr(node, "body", []) if isinstance(
            n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == part), None)
        if node is None:
            return None
    return node


def implementation_lines(function):
    """(source file, the line numbers of function's body after its docstring): what printing
    the function would show of how it computes."""
    function = inspect.unwrap(getattr(function, "fun", function))   # (an autograd primitive)
    path = Path(inspect.getsourcefile(function)).resolve()
    lines, first = inspect.getsourcelines(function)
    node = ast.parse(inspect.cleandoc("\n" + "".join(lines)) if lines[0][0] in " \t"
                     else "".join(lines)).body[0]
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None),
                                                             ast.Constant):
        body = body[1:]                                # the docstring may be shown
    return path, {first - 1 + n for stmt in body for n in range(stmt.lineno, stmt.end_lineno + 1)}


def test_literalincludes_are_parsed():
    """(the parser above finds the book's directives and what they show)"""
    includes = literalincludes()
    assert len(includes) > 10
    assert all(path.is_file() for _, _, path, _ in includes), [
        f"{page.name}:{n} {path}" for page, n, path, _ in includes if not path.is_file()]
    for page, number, path, options in includes:
        if "pyobject" in options and path.suffix == ".py":
            assert shown_lines(path, options), (
                f"{page.relative_to(ROOT)}:{number}: :pyobject: {options['pyobject']} is not in "
                f"{path.name}")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_chapter_prints_a_function_that_a_question_forbids(assignment):
    includes = literalincludes()
    printed = []
    for grade_id, check in questions_of(assignment).items():
        for target in getattr(check, "forbid", ()):
            function, label = resolve(target)
            path, body = implementation_lines(function)
            for page, number, included, options in includes:
                if included == path and body & shown_lines(included, options):
                    printed.append(f"{page.relative_to(ROOT)}:{number} prints {label} "
                                   f"(forbidden by {grade_id})")
    assert not printed, (
        f"{assignment}: the book prints what the exercise asks the student to write:\n"
        + "\n".join(printed) + "\nShow its equation or another variant instead (issue 12).")
