"""The grader against hostile and broken submissions (grader/, issue: trustworthy autograding).

One temporary course with chapter 1's assignment receives the corpus below, is graded by the
instructor's command (`python -m rnncore_grader autograde`, as root: the sandbox is on), and then:

- every submission has the expected score on every test cell, and a reason an instructor can read
  where it lost points;
- the gradebook holds exactly the expected students, submissions and grades;
- nothing a submission started is still running; the gradebook and the course are untouched;
- a rerun of an interrupted batch gives the same scores; bad instructor input gets a clear
  message and changes nothing.

Every submission is chapter 1's release filled with answers (the solution's unless the case
says otherwise), then changed as the case says. "full" and "zero" are per test cell.
"""
import copy
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from answers import code
from course_files import ROOT, filled, read, release_path, solution_code, source_path

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="these checks find the sandboxes by their own uids, which runs get "
                              "as root (CI runs as root); test_sandbox_unprivileged.py grades as "
                              "an ordinary user")

A = "ch01_basic_structure"
TESTS = ("test_rnn_step", "test_rnn_forward", "test_output_layer")
POINTS = {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"])
          for c in read(source_path(A)).cells if c.metadata.get("nbgrader", {}).get("grade")}
assert set(POINTS) == set(TESTS), POINTS
SOL = solution_code(A)

WRONG_STEP = code("""
    def rnn_step(params, x, h_prev):
        return h_prev @ params["W_h"] + x @ params["W_x"] + params["b_h"]   # no tanh
    """)


@dataclass
class Case:
    name: str
    why: str
    answers: dict = field(default_factory=dict)      # grade_id -> code, over the solution's
    zero: tuple = ()                                 # test cells that must score zero
    reason: str = ""                                 # in the first zero cell's message
    edit: object = None                              # notebook -> notebook, or -> bytes
    note: str = ""                                   # in the grader's notes (first test cell)
    untouched: bool = False                          # the release as it is, stubs and all


def _cells(nb, grade_id):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]


def _duplicate_cells(nb):
    step = _cells(nb, "rnn_step")[0]
    wrong = copy.deepcopy(step)
    wrong.source = WRONG_STEP
    test = _cells(nb, "test_rnn_step")[0]
    nb.cells += [wrong, copy.deepcopy(test), copy.deepcopy(test)]
    return nb


def _delete_tests(nb):
    nb.cells = [c for c in nb.cells if not c.metadata.get("nbgrader", {}).get("grade_id", "")
                .startswith("test_")]
    return nb


def _reorder(nb):
    nb.cells = nb.cells[::-1]
    return nb


def _blank_tests(nb):
    for grade_id in TESTS:
        _cells(nb, grade_id)[0].source = "pass"
    return nb


def _retype(nb):
    for grade_id in TESTS:
        cell = _cells(nb, grade_id)[0]
        cell.cell_type = "markdown"
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    step = _cells(nb, "rnn_step")[0]
    step.cell_type = "raw"
    step.pop("outputs", None)
    step.pop("execution_count", None)
    return nb


def _edit_points(nb):
    for grade_id in TESTS:
        _cells(nb, grade_id)[0].metadata["nbgrader"]["points"] = 100
    _cells(nb, "test_rnn_forward")[0].metadata["nbgrader"]["grade"] = False
    return nb


def _rename_answer(nb):
    _cells(nb, "rnn_step")[0].metadata["nbgrader"]["grade_id"] = "my_rnn_step"
    return nb


def _kernelspec(nb):
    nb.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    return nb


def _non_utf8(nb):
    data = nbformat.writes(nb).encode()
    return data.replace(b"# Exercises", b"# Exercises \xff\xfe\xc3", 1)


def _truncate(nb):
    data = nbformat.writes(nb).encode()
    return data[: len(data) // 2]


def _nbformat3(nb):
    return nbformat.writes(nbformat.convert(nb, 3)).encode()


def _other_assignment(nb):
    return source_path("ch03_bptt").read_bytes()


def _bytes(data):
    return lambda nb: data


CASES = [
    Case("solution", "the solution's answers"),
    Case("release", "the untouched release: every stub raises", zero=TESTS,
         reason="NotImplementedError", untouched=True),
    # --- tests the student cannot subvert -----------------------------------------------------
    Case("allclose_patched", "a wrong step, with numpy's comparisons made to always agree",
         answers={"rnn_step": WRONG_STEP + "\n\n" + code("""

             import numpy, numpy.testing
             numpy.allclose = lambda *a, **k: True
             numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.broadcast(a, b).shape, bool)
             numpy.testing.assert_allclose = lambda *a, **k: None
             """)}, zero=("test_rnn_step",), reason="rnn_step(params, x, h_prev)"),
    Case("assert_close_patched", "a wrong step, with the course's assert_close made a no-op",
         answers={"rnn_step": WRONG_STEP + "\n\n" + code("""

             import rnncore.testing
             rnncore.testing.assert_close = assert_close = lambda *a, **k: None
             """)}, zero=("test_rnn_step",), reason="differs"),
    Case("input_transformer", "a wrong step, with an IPython input transformer that blanks "
         "every later cell", answers={"rnn_step": WRONG_STEP + "\n\n" + code("""

             get_ipython().input_transformers_cleanup.append(lambda lines: [])
             """)}, zero=("test_rnn_step",), reason="differs"),
    Case("input_transformer_correct", "correct answers and the same transformer",
         answers={"rnn_step": SOL["rnn_step"] + "\n\n" + code("""

             get_ipython().input_transformers_cleanup.append(lambda lines: [])
             """)}),
    Case("startup_file", "a wrong step, plus an IPython startup file that patches numpy",
         answers={"rnn_step": WRONG_STEP + "\n\n" + code("""

             import os
             folder = os.path.expanduser("~/.ipython/profile_default/startup")
             os.makedirs(folder, exist_ok=True)
             open(os.path.join(folder, "00.py"), "w").write("import numpy; numpy.allclose = lambda *a, **k: True")
             """)}, zero=("test_rnn_step",), reason="differs"),
    Case("exception_handlers", "a wrong step, with custom exception handlers that swallow errors",
         answers={"rnn_step": WRONG_STEP + "\n\n" + code("""

             import sys
             sys.excepthook = lambda *a: None
             get_ipython().set_custom_exc((Exception,), lambda *a, **k: None)
             """)}, zero=("test_rnn_step",), reason="differs"),
    Case("reads_solution", "copies the instructor's solution from the course folder if it can",
         answers={"rnn_step": code("""
             import glob, os
             found = [p for top in ("/work", "/tmp", "/root", "/home", "/srv", "/grading")
                      for p in glob.glob(top + "/**/solutions/ch01_basic_structure/*.ipynb", recursive=True)]
             found += [p for p in ["COURSE/solutions/ch01_basic_structure/ch01_basic_structure.ipynb"] if os.path.exists(p)]
             print("solution files seen:", found)
             if found:
                 import json
                 cells = json.load(open(found[0]))["cells"]
                 exec("".join([c for c in cells if "rnn_step" == c["metadata"]["nbgrader"]["grade_id"]][0]["source"]))
             else:
                 def rnn_step(params, x, h_prev):
                     raise RuntimeError("no solution to copy")
             """)}, zero=("test_rnn_step",), reason="no solution to copy"),
    Case("writes_gradebook", "tries to overwrite the gradebook and autograded/; correct answers",
         answers={"output_layer": SOL["output_layer"] + "\n\n" + code("""

             for path in ["COURSE/gradebook.db", "COURSE/autograded/solution/x.txt", "/tmp/x", "/etc/x"]:
                 try:
                     open(path, "w").write("pwned")
                     print("wrote", path)
                 except OSError as error:
                     print("cannot write", path, type(error).__name__)
             """)}),
    Case("leaves_processes", "starts processes meant to change grades after grading ended",
         answers={"output_layer": SOL["output_layer"] + "\n\n" + code("""

             import subprocess, sys
             script = "import time\\nwhile True:\\n    time.sleep(0.2)\\n    try: open('COURSE/gradebook.db', 'w').write('late')\\n    except OSError: pass"
             subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
             subprocess.Popen(["sleep", "600"], start_new_session=True)
             """)}),
    Case("thread_left_running", "a non-daemon thread that never ends; correct answers",
         answers={"output_layer": SOL["output_layer"] + "\n\n" + code("""

             import threading, time
             threading.Thread(target=lambda: [time.sleep(1) for _ in iter(int, 1)]).start()
             """)}),
    Case("network", "tries the network; correct answers",
         answers={"output_layer": SOL["output_layer"] + "\n\n" + code("""

             import socket
             try:
                 socket.create_connection(("1.1.1.1", 80), timeout=2)
                 print("network: reached")
             except OSError as error:
                 print("network:", type(error).__name__)
             """)}),
    Case("returns_object", "returns an object that merely looks like an array",
         answers={"rnn_step": code("""
             class Fake:
                 def __array__(self, dtype=None, copy=None):
                     return np.zeros((1, 1))
             def rnn_step(params, x, h_prev):
                 return Fake()
             """)}, zero=("test_rnn_step",), reason="cannot be graded"),
    Case("returns_object_array", "returns an array of Python objects",
         answers={"rnn_step": code("""
             def rnn_step(params, x, h_prev):
                 h = np.tanh(h_prev @ params["W_h"] + x @ params["W_x"] + params["b_h"])
                 return h.astype(object)
             """)}, zero=("test_rnn_step",), reason="cannot be graded"),
    Case("channel_garbage", "writes garbage to every open file descriptor while graded",
         answers={"rnn_step": code("""
             import os
             def rnn_step(params, x, h_prev):
                 for fd in range(3, 64):
                     try:
                         os.write(fd, b"\\xff" * 64)
                     except OSError:
                         pass
                 return np.tanh(h_prev @ params["W_h"] + x @ params["W_x"] + params["b_h"])
             """)}, zero=("test_rnn_step",)),
    # --- a broken submission costs only itself, and only what it breaks -------------------------
    Case("infinite_loop_cell", "an endless loop at the top of a cell", answers={
         "rnn_forward": "while True:\n    pass\n" + SOL["rnn_forward"]},
         zero=("test_rnn_forward",), reason="not defined"),
    Case("infinite_loop_call", "an endless loop that ignores signals, in a function",
         answers={"rnn_step": code("""
             import signal
             def rnn_step(params, x, h_prev):
                 for s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
                     signal.signal(s, signal.SIG_IGN)
                 while True:
                     pass
             """)}, zero=("test_rnn_step",), reason="did not return"),
    Case("memory_bomb_call", "allocates 8 TB in a function",
         answers={"rnn_step": code("""
             def rnn_step(params, x, h_prev):
                 return np.ones(2**40) @ np.ones(2**40)
             """)}, zero=("test_rnn_step",), reason="MemoryError"),
    Case("memory_bomb_cell", "grows a list until memory runs out, at the top of a cell",
         answers={"output_layer": "blocks = []\nwhile True:\n    blocks.append(bytearray(2**26))\n"
                  + SOL["output_layer"]}, zero=("test_output_layer",)),
    Case("fork_bomb", "forks without end inside a function",
         answers={"output_layer": code("""
             import os
             def output_layer(params, hs):
                 while True:
                     os.fork()
             """)}, zero=("test_output_layer",)),
    Case("os_exit_cell", "os._exit after defining rnn_forward",
         answers={"rnn_forward": SOL["rnn_forward"] + "\n\nimport os\nos._exit(0)\n"},
         zero=("test_rnn_forward",), reason="not defined"),
    Case("os_exit_call", "os._exit inside the function", answers={"rnn_step": code("""
             import os
             def rnn_step(params, x, h_prev):
                 os._exit(3)
             """)}, zero=("test_rnn_step",), reason="exited with status 3"),
    Case("sys_exit_cell", "sys.exit after defining every answer: nothing is lost",
         answers={"output_layer": SOL["output_layer"] + "\nimport sys\nsys.exit(0)\n"}),
    Case("segfault", "a segmentation fault inside the function", answers={"output_layer": code("""
             import ctypes
             def output_layer(params, hs):
                 return ctypes.string_at(0)
             """)}, zero=("test_output_layer",), reason="SIGSEGV"),
    Case("huge_output", "prints 10 MB; correct answers",
         answers={"output_layer": SOL["output_layer"] + "\nprint('x' * 10_000_000)\n"}),
    Case("stderr_and_warnings", "correct answers that print to stderr and warn on every call",
         answers={"rnn_step": code("""
             import sys, warnings
             def rnn_step(params, x, h_prev):
                 print("debug: computing a step", file=sys.stderr)
                 warnings.warn("this is a warning")
                 return np.tanh(h_prev @ params["W_h"] + x @ params["W_x"] + params["b_h"])
             """)}),
    # --- files that are not what they should be -------------------------------------------------
    Case("non_utf8", "a notebook with bytes that are not UTF-8", edit=_non_utf8,
         note="not valid UTF-8"),
    Case("truncated", "a notebook cut in half", edit=_truncate, zero=TESTS, reason="valid JSON"),
    Case("not_json", "a PNG named .ipynb", edit=_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256))),
         zero=TESTS, reason="valid JSON"),
    Case("empty_file", "an empty file", edit=_bytes(b""), zero=TESTS, reason="valid JSON"),
    Case("json_not_notebook", "JSON that is not a notebook", edit=_bytes(b'[1, 2, 3]'),
         zero=TESTS, reason="not a notebook"),
    Case("nbformat3", "the notebook saved in nbformat 3", edit=_nbformat3, note="format 3"),
    Case("other_assignment", "chapter 3's notebook handed in for chapter 1",
         edit=_other_assignment, zero=TESTS, reason="another assignment"),
    Case("duplicated_cells", "the answer cell and its test cell duplicated (a wrong copy later)",
         edit=_duplicate_cells, note="more than once"),
    Case("deleted_tests", "every test cell deleted", edit=_delete_tests),
    Case("reordered_cells", "every cell in reverse order", edit=_reorder),
    Case("edited_tests", "a wrong step with every test cell replaced by `pass`",
         answers={"rnn_step": WRONG_STEP}, edit=_blank_tests, zero=("test_rnn_step",)),
    Case("retyped_cells", "test cells turned into markdown, an answer cell into a raw cell",
         edit=_retype, note="raw cell"),
    Case("edited_points", "points raised to 100 and a test cell no longer graded",
         edit=_edit_points),
    Case("edited_grade_id", "the grade id of an answer cell renamed", edit=_rename_answer,
         zero=("test_rnn_step",), note="missing"),
    Case("kernelspec", "the kernelspec swapped for R's", edit=_kernelspec),
]
MISSING = "missing_notebook"            # a submission folder without the notebook
TEST_UID = 62000                        # the sandboxes of this file's courses run from this uid


def build(case, course):
    nb = read(release_path(A)) if case.untouched else filled(read(release_path(A)), {
        **SOL, **{k: v.replace("COURSE", str(course)) for k, v in case.answers.items()}})
    result = case.edit(nb) if case.edit else nb
    return result if isinstance(result, bytes) else nbformat.writes(result).encode()


def expected_scores(case):
    return {t: 0.0 if t in case.zero else POINTS[t] for t in TESTS}


# --- the course and the batch --------------------------------------------------------------------

def grader(args, course, check=True, timeout=900, **kw):
    result = subprocess.run([sys.executable, "-m", "rnncore_grader", *args], cwd=course, text=True,
                            capture_output=True, timeout=timeout, **kw)
    if check and result.returncode != 0:
        raise RuntimeError(f"python -m rnncore_grader {' '.join(args)} exited {result.returncode}:\n"
                           f"{result.stdout}\n{result.stderr}")
    return result


def make_course(path, cases=CASES, config=""):
    """A course folder with chapter 1's assignment (generated, recorded in the gradebook) and
    the cases' submissions; config: more lines for its nbgrader_config.py."""
    path.mkdir(parents=True, exist_ok=True)
    config = (ROOT / "nbgrader_config.py").read_text() + "\n" + config
    # Short limits keep the loops of the corpus cheap; the values themselves are tested elsewhere.
    # Its own range of uids, so that other graders on the machine do not count as its own.
    (path / "nbgrader_config.py").write_text(config + "\nc.SandboxedGrading.cell_timeout = 6\n"
                                             "c.SandboxedGrading.call_timeout = 6\n"
                                             f"c.SandboxedGrading.base_uid = {TEST_UID}\n")
    shutil.copytree(ROOT / "solutions" / A, path / "solutions" / A)
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", A, "--force"],
                   cwd=path, check=True, capture_output=True)
    for case in cases:
        folder = path / "submitted" / case.name / A
        folder.mkdir(parents=True)
        (folder / f"{A}.ipynb").write_bytes(build(case, path))
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    if cases is CASES:
        folder = path / "submitted" / MISSING / A
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    return path


def gradebook_rows(course):
    """student -> test cell -> (score, max) as recorded, and the number of submissions."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        rows = {}
        for student in gradebook.students:
            submission = gradebook.find_submission(A, student.id)
            notebook = gradebook.find_submission_notebook(A, A, student.id)
            rows[student.id] = {g.name: (g.score, g.max_score) for g in notebook.grades}
            assert len(submission.notebooks) == 1
        return rows


def messages(course, student):
    """test cell -> the error the graded notebook shows there (or ""), and the notes."""
    nb = read(course / "autograded" / student / A / f"{A}.ipynb")
    errors, notes = {}, ""
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in TESTS:
            errors[grade_id] = " ".join(o.evalue for o in cell.outputs if o.output_type == "error")
            notes += " ".join(o.text for o in cell.outputs if o.output_type == "stream")
    return errors, notes


def process_status():
    """(pid, {field: value}) from /proc/<pid>/status of every process still there."""
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            lines = status.read_text().splitlines()
        except OSError:
            continue
        yield int(status.parent.name), dict(line.split(":", 1) for line in lines if ":" in line)


def processes_of(uids):
    """The pids of the processes running as one of uids (their real uid)."""
    return [pid for pid, fields in process_status()
            if "Uid" in fields and int(fields["Uid"].split()[0]) in uids]


def sandbox_processes():
    """Processes still running as one of the uids of this file's sandboxes."""
    from rnncore_grader.sandbox import UIDS
    return processes_of(range(TEST_UID, TEST_UID + UIDS))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    path = make_course(tmp_path_factory.mktemp("hostile") / "course")
    start = time.monotonic()
    run = grader(["autograde", A], path)
    return {"path": path, "run": run, "seconds": time.monotonic() - start}


# --- the corpus ------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_submission_gets_its_expected_score_and_reason(course, case):
    rows = gradebook_rows(course["path"])
    got = {t: rows[case.name][t][0] for t in TESTS}
    errors, notes = messages(course["path"], case.name)
    assert got == expected_scores(case), (
        f"{case.name} ({case.why}): scores {got}, expected {expected_scores(case)}; "
        f"messages: {errors}")
    for t in TESTS:
        assert all(0 <= rows[case.name][t][0] <= rows[case.name][t][1] == POINTS[t] for t in TESTS)
        assert bool(errors[t]) == (t in case.zero), f"{case.name}: {t} says {errors[t]!r}"
    if case.zero:
        assert errors[case.zero[0]].strip(), f"{case.name}: no reason given"
        assert case.reason in errors[case.zero[0]], (
            f"{case.name}: the reason for {case.zero[0]} does not say {case.reason!r}: "
            f"{errors[case.zero[0]]!r}")
    assert case.note in notes, f"{case.name}: the notes do not say {case.note!r}: {notes!r}"


def test_the_gradebook_holds_exactly_the_expected_rows(course):
    rows = gradebook_rows(course["path"])
    assert set(rows) == {c.name for c in CASES} | {MISSING}
    for student, cells in rows.items():
        assert set(cells) == set(TESTS), f"{student}: {sorted(cells)}"
    assert {t: s for t, (s, _) in rows[MISSING].items()} == {t: 0.0 for t in TESTS}
    with sqlite3.connect(course["path"] / "gradebook.db") as db:
        (count,) = db.execute("select count(*) from submitted_assignment").fetchone()
    assert count == len(CASES) + 1


def test_nbgrader_export_reads_the_same_grades(course):
    import csv
    subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", "grades.csv"],
                   cwd=course["path"], check=True, capture_output=True)
    with open(course["path"] / "grades.csv") as f:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    expected = {c.name: sum(expected_scores(c).values()) for c in CASES}
    assert exported == {**expected, MISSING: 0.0}


def test_nothing_a_submission_started_outlives_the_batch(course):
    time.sleep(1.0)              # the processes left behind were meant to act after a moment
    assert sandbox_processes() == [], "processes of the sandbox's users are still running"
    db = course["path"] / "gradebook.db"
    assert db.read_bytes()[:16] == b"SQLite format 3\x00", "the gradebook was overwritten"
    assert gradebook_rows(course["path"])["solution"]["test_rnn_step"][0] == 2.0


def test_the_sandbox_hides_the_course_and_the_network(course):
    _, notes = messages(course["path"], "reads_solution")
    errors, _ = messages(course["path"], "reads_solution")
    assert "no solution to copy" in errors["test_rnn_step"]
    nb = read(course["path"] / "autograded" / "writes_gradebook" / A / f"{A}.ipynb")
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.get("outputs", []))
    assert "wrote" not in printed.replace("cannot write", ""), printed
    assert printed.count("cannot write") == 4
    nb = read(course["path"] / "autograded" / "network" / A / f"{A}.ipynb")
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.get("outputs", []))
    assert "network: OSError" in printed or "network: TimeoutError" not in printed
    assert "network: reached" not in printed


def test_huge_output_is_cut(course):
    nb = read(course["path"] / "autograded" / "huge_output" / A / f"{A}.ipynb")
    sizes = [len(o.get("text", "")) for c in nb.cells if c.cell_type == "code"
             for o in c.get("outputs", [])]
    assert max(sizes) < 100_000


def test_feedback_of_the_corpus_shows_no_hidden_test(course):
    from course_files import HIDDEN_MARKERS, secret_fragments, code_lines
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", A], cwd=course["path"],
                   check=True, capture_output=True)
    hidden = secret_fragments(A, kinds=(HIDDEN_MARKERS,))
    grading = (ROOT / "solutions" / A / "grading.py").read_text()
    for case in CASES:
        page = course["path"] / "feedback" / case.name / A / f"{A}.html"
        text = page.read_text(encoding="utf-8")
        lines = set(code_lines(text.split("\n")))
        assert not lines & hidden, f"{case.name}: feedback shows hidden tests"
        assert "rng.normal" not in text and "grading.py" not in text and "_params(" not in text
        assert not any(len(line) > 30 and line in text for line in grading.splitlines()
                       if line.strip().startswith(("for ", "params", "expect_close")))


# --- the instructor's side -------------------------------------------------------------------------

def test_a_rerun_grades_nothing_new_and_an_interrupted_batch_completes_the_same(course,
                                                                                  tmp_path):
    again = grader(["autograde", A], course["path"])
    assert "Nothing to grade" in again.stdout
    # The same corpus, killed while grading, then run again: the same scores.
    cases = [c for c in CASES if c.name in ("solution", "release", "allclose_patched",
                                            "infinite_loop_call", "truncated", "os_exit_call")]
    other = make_course(tmp_path / "course", cases)
    process = subprocess.Popen([sys.executable, "-m", "rnncore_grader", "autograde", A, "--jobs", "1"],
                               cwd=other, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(4)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    grader(["autograde", A], other)
    first, second = gradebook_rows(course["path"]), gradebook_rows(other)
    assert set(second) == {c.name for c in cases}
    for case in cases:
        assert {t: second[case.name][t][0] for t in TESTS} == expected_scores(case)
        assert second[case.name] == first[case.name]


def refused_with(course, assignment, expected, lock=None, timeout=120):
    """Run autograde while ``lock`` (a database connection holding a lock) is held, release it,
    and assert that the grader stopped with exit 2 and ``expected`` in its message, no traceback."""
    try:
        run = grader(["autograde", assignment], course, check=False, timeout=timeout)
    finally:
        if lock is not None:
            lock.rollback()
            lock.close()
    assert run.returncode == 2, run.stdout + run.stderr
    assert expected in run.stderr and "Traceback" not in run.stderr, run.stderr
    return run


@pytest.mark.parametrize("problem, expected", [
    ("unknown assignment", "Unknown assignment 'ch99'"),
    ("no submissions", "no folder of submissions"),
    ("corrupt gradebook", "damaged"),
    ("locked gradebook", "locked by another program"),
    ("no gradebook", "no gradebook"),
    ("no grading.py", "grading.py is missing"),
])
def test_bad_instructor_input_gets_a_clear_message_and_changes_nothing(tmp_path, problem,
                                                                        expected):
    course = make_course(tmp_path / "course", [CASES[0]])
    assignment = A
    lock = None
    if problem == "unknown assignment":
        assignment = "ch99"
    elif problem == "no submissions":
        shutil.rmtree(course / "submitted")
    elif problem == "corrupt gradebook":
        (course / "gradebook.db").write_bytes(b"not a database" * 100)
    elif problem == "no gradebook":
        (course / "gradebook.db").unlink()
    elif problem == "no grading.py":
        (course / "solutions" / A / "grading.py").unlink()
    before = {p: p.read_bytes() for p in course.rglob("*") if p.is_file()}
    if problem == "locked gradebook":      # (after reading the files: closing any file of a
        # SQLite database releases this process's locks on it)
        lock = sqlite3.connect(course / "gradebook.db", isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
    refused_with(course, assignment, expected, lock, timeout=120)
    after = {p: p.read_bytes() for p in course.rglob("*") if p.is_file()
             and ".grader" not in p.parts}
    assert after == {p: b for p, b in before.items() if ".grader" not in p.parts}


@pytest.mark.parametrize("bwrap", ["missing", "refused"])
def test_where_no_sandbox_can_start_the_grader_says_what_to_enable_and_refuses(tmp_path, bwrap):
    """bwrap not installed, or refused its namespaces (as with user.max_user_namespaces = 0):
    the message says what to install or enable, and still offers sudo."""
    course = make_course(tmp_path / "course", [CASES[0]])
    fake = tmp_path / "bwrap"
    if bwrap == "refused":
        fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\n"
                        "exit 1\n")
        fake.chmod(0o755)
    environment = {**os.environ, "GRADER_BWRAP": str(fake)}
    run = grader(["autograde", A], course, check=False, timeout=120, env=environment)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    from rnncore_grader.sandbox import SUDO_COMMAND
    assert SUDO_COMMAND in run.stderr and sys.executable in run.stderr, run.stderr
    assert "--unsafe-no-sandbox" in run.stderr, run.stderr
    for sysctl in ("user.max_user_namespaces", "kernel.unprivileged_userns_clone",
                   "kernel.apparmor_restrict_unprivileged_userns"):
        assert f"sudo sysctl -w {sysctl}=" in run.stderr, run.stderr
    if bwrap == "missing":
        assert "sudo apt-get install bubblewrap" in run.stderr, run.stderr
        assert f"bubblewrap is not installed ({fake} is missing)" in run.stderr, run.stderr
    else:
        assert "apt-get" not in run.stderr, run.stderr
        assert "No permissions to create new namespace" in run.stderr, run.stderr
    assert not (course / "autograded").exists()
    if bwrap == "missing":     # told explicitly, it grades without the sandbox (once is enough)
        grader(["autograde", A, "--unsafe-no-sandbox"], course, timeout=300, env=environment)
        assert gradebook_rows(course)["solution"] == {t: (POINTS[t], POINTS[t]) for t in TESTS}


def test_lms_zip_is_collected_and_graded(tmp_path):
    """An LMS download (one zip of files named <student>_<notebook>) -> zip_collect -> grade."""
    import zipfile
    course = make_course(tmp_path / "course", [])
    archive = course / "downloaded" / A / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "lms-export.zip", "w") as z:
        z.writestr(f"dana_{A}.ipynb", build(CASES[0], course))
        z.writestr(f"eli_{A}.ipynb", build(CASES[1], course))
    run = subprocess.run([sys.executable, "-m", "nbgrader", "zip_collect", A], cwd=course,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    grader(["autograde", A], course)
    rows = gradebook_rows(course)
    assert sum(s for s, _ in rows["dana"].values()) == sum(POINTS.values()) and sum(
        s for s, _ in rows["eli"].values()) == 0


# --- any checkout, with any install (issue 16) -------------------------------------------------------

WHICH_COPY = Case("which_copy", "correct answers that print where the runner and rnncore come from",
                  answers={"output_layer": SOL["output_layer"] + "\n\n" + code("""

                      import sys, rnncore
                      print("runner mark:", getattr(sys.modules.get("rnncore_grader.runner"), "COPY_MARK", None),
                            "| rnncore mark:", getattr(rnncore, "COPY_MARK", None),
                            "| rnncore at:", rnncore.__file__)
                      """)})


def _printed(course, student):
    nb = read(course / "autograded" / student / A / f"{A}.ipynb")
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))


def test_a_copy_of_the_course_is_graded_by_its_own_grader_whatever_is_installed(tmp_path):
    """An instructor's second checkout, graded with the environment installed (editable) from
    the first: the sandbox runs the copy's grader and rnncore, and the scores are the same."""
    installed = subprocess.run([sys.executable, "-c", "import rnncore_grader, rnncore; "
                                "print(rnncore_grader.__file__); print(rnncore.__file__)"],
                               cwd="/", capture_output=True, text=True, check=True).stdout.split()
    copy = tmp_path / "term copy"                       # a space in the path, as folders have
    for package in ("rnncore_grader", "rnncore"):
        shutil.copytree(ROOT / package, copy / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    assert not any(path.startswith(str(copy)) for path in installed), installed
    cases = [c for c in CASES if c.name in ("solution", "release", "allclose_patched")]
    make_course(copy, cases + [WHICH_COPY])
    grader(["autograde", A], copy)
    rows = gradebook_rows(copy)
    for case in cases:           # the scores the corpus gets in the course graded from ROOT
        assert {t: s for t, (s, _) in rows[case.name].items()} == expected_scores(case)
    assert {t: s for t, (s, _) in rows[WHICH_COPY.name].items()} == POINTS
    assert "rnncore at: /grader-lib/rnncore/" in _printed(copy, WHICH_COPY.name)
    # Now the installed grader and rnncore are deliberately different from the copy's: the
    # copy's runner and library mark what they are, and the sandbox must run them.
    for module in ("rnncore_grader/runner.py", "rnncore/__init__.py"):
        with open(copy / module, "a") as f:
            f.write('\nCOPY_MARK = "term-copy"\n')
    grader(["autograde", A, "--force"], copy)
    assert "runner mark: term-copy | rnncore mark: term-copy" in _printed(copy, WHICH_COPY.name)
    assert gradebook_rows(copy) == rows


def test_a_sandbox_that_cannot_start_says_why_and_keeps_its_log(tmp_path):
    course = make_course(tmp_path / "course", [CASES[0]])
    with open(course / "nbgrader_config.py", "a") as f:
        f.write("\nc.SandboxedGrading.memory_mb = 20\n")      # too small for Python and numpy
    run = grader(["autograde", A], course, check=False, timeout=300)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr.split("It printed:")[0], run.stderr
    assert "the sandbox did not start" in run.stderr
    # The cause in words: the first lines of what the sandbox printed, and a hint.
    assert "failed to map segment" in run.stderr or "MemoryError" in run.stderr, run.stderr
    assert "SandboxedGrading.memory_mb = 20 MiB" in run.stderr, run.stderr
    log = Path(run.stderr.split("The whole log stays at ")[1].split()[0].rstrip("."))
    try:
        assert log.exists(), f"{log} was deleted"
        assert "failed to map segment" in log.read_text() or "MemoryError" in log.read_text()
    finally:
        log.unlink(missing_ok=True)
    assert not (course / "autograded").exists()


def test_the_sudo_recipes_agree():
    """The README, the instructor page and the refusal message give the same command."""
    import re
    from rnncore_grader import sandbox
    found = {}
    for doc in ("README.md", "book/for_instructors.md"):
        commands = re.findall(r"sudo [^\s`]*python[^\n`#]*-m rnncore_grader[^\n`#]*", (ROOT / doc).read_text())
        found[doc] = {re.sub(r"ch\d\d_\w+", "<assignment>", c).strip() for c in commands}
        assert found[doc], f"{doc} gives no sudo command for the grader"
    found["refusal"] = set(re.findall(r"sudo [^\n]*-m rnncore_grader[^\n]*", sandbox._help("a reason")))
    assert all(commands == {sandbox.SUDO_COMMAND} for commands in found.values()), found



# --- nbgrader's exchange (issue 14) --------------------------------------------------------------

def nbgrader_as(user, home, args, cwd, exchange):
    """nbgrader run as a student, with a home (and nbgrader cache) of their own; the tests run
    as one OS user, so --student names the student as their login would on a hub."""
    environment = {**os.environ, "HOME": str(home),
                   "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
                   "JUPYTER_DATA_DIR": str(home / ".local/share/jupyter")}
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--course", "rnn-course",
                          f"--student={user}", f"--Exchange.root={exchange}"], cwd=cwd, env=environment,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"nbgrader {' '.join(args)} as {user}:\n{run.stdout}\n{run.stderr}"
    return run


def test_feedback_goes_back_through_nbgrader_exchange(tmp_path):
    """release_assignment -> fetch -> submit -> collect -> python -m rnncore_grader autograde ->
    generate_feedback -> release_feedback -> fetch_feedback, on an exchange in a temp folder."""
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)
    course = make_course(tmp_path / "course", [])
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(f"\nc.Exchange.root = {str(exchange)!r}\n")
    nbgrader = lambda *args: subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course,
                                            capture_output=True, text=True, check=True)
    nbgrader("release_assignment", A)
    answers = {"ada": CASES[0], "bo": CASES[1]}          # the solution, the untouched release
    for student, case in answers.items():
        home = tmp_path / student
        home.mkdir()
        nbgrader_as(student, home, ["fetch_assignment", A], home, exchange)
        (home / A / f"{A}.ipynb").write_bytes(build(case, course))
        nbgrader_as(student, home, ["submit", A], home, exchange)
    nbgrader("collect", A)
    for student in answers:
        assert (course / "submitted" / student / A / "submission_secret.txt").exists()
    grader(["autograde", A], course)
    for student in answers:
        graded = course / "autograded" / student / A
        assert (graded / "submission_secret.txt").read_text() == (
            course / "submitted" / student / A / "submission_secret.txt").read_text()
    nbgrader("generate_feedback", A)
    nbgrader("release_feedback", A)
    for student, case in answers.items():
        home = tmp_path / student
        nbgrader_as(student, home, ["fetch_feedback", A], home, exchange)
        pages = list((home / A / "feedback").glob(f"*/{A}.html"))
        assert len(pages) == 1, f"{student}: {pages}"
        score, top = sum(expected_scores(case).values()), sum(POINTS.values())
        assert f"Score: {score:.1f} / {top:.1f}" in pages[0].read_text(encoding="utf-8")


# --- an LMS's downloads, due dates, manual grades (issue 14) ------------------------------------

def _zip(path, files):
    import zipfile
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)


def test_canvas_late_files_resubmissions_and_a_second_download(tmp_path):
    """The Canvas pattern of nbgrader_config.py files late ("_LATE_") and resubmitted ("-1")
    notebooks under the student's id and the notebook's name; a second download needs --force,
    keeps the other students' files, and the grader then regrades exactly what changed."""
    import re
    pattern = re.search(r'^#\s+r"(.*LATE.*)"$', (ROOT / "nbgrader_config.py").read_text(),
                        re.M).group(1)
    course = make_course(tmp_path / "course", [])
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(f"\nc.FileNameCollectorPlugin.named_regexp = {pattern!r}\n")
    solution, release = build(CASES[0], course), build(CASES[1], course)
    archive = course / "downloaded" / A / "archive" / "submissions.zip"
    _zip(archive, {f"smithjohn_101_9001_{A}.ipynb": solution,
                   f"doejane_LATE_102_9002_{A}-1.ipynb": solution,
                   f"leeann_103_9003_{A}-2.ipynb": release})
    collect = lambda *extra: subprocess.run([sys.executable, "-m", "nbgrader", "zip_collect", A,
                                             *extra], cwd=course, capture_output=True, text=True)
    run = collect()
    assert run.returncode == 0, run.stderr
    filed = lambda student: (course / "submitted" / student / A / f"{A}.ipynb").read_bytes()
    assert [filed("101"), filed("102"), filed("103")] == [solution, solution, release]
    grader(["autograde", A], course)
    totals = {s: sum(g for g, _ in grades.values()) for s, grades in gradebook_rows(course).items()}
    assert totals == {"101": sum(POINTS.values()), "102": sum(POINTS.values()), "103": 0}
    # A later download, in place of the first: 103 resubmitted, late.
    archive.unlink()
    _zip(archive.with_name("later.zip"), {f"leeann_LATE_103_9004_{A}-3.ipynb": solution})
    run = collect()
    assert run.returncode != 0 and "--force" in run.stdout + run.stderr
    run = collect("--force")
    assert run.returncode == 0, run.stderr
    assert [filed("101"), filed("102"), filed("103")] == [solution, solution, solution]
    again = grader(["autograde", A], course)
    assert "2 submission(s) already graded" in again.stdout, again.stdout
    assert "Graded 1 notebook(s) of 1 student(s)" in again.stdout, again.stdout
    totals = {s: sum(g for g, _ in grades.values()) for s, grades in gradebook_rows(course).items()}
    assert totals == {s: sum(POINTS.values()) for s in ("101", "102", "103")}


def test_printed_totals_include_manual_grades_and_late_penalties(tmp_path):
    late = Case("late", "the solution, handed in after the due date")
    course = make_course(tmp_path / "course", [CASES[0], late])
    with open(course / "nbgrader_config.py", "a") as f:
        f.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    (course / "submitted" / "late" / A / "timestamp.txt").write_text("2026-11-22 09:00:00.000000 UTC")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        gradebook.update_or_create_assignment(A, duedate="2026-11-21 00:00:00 UTC")
    top = sum(POINTS.values())
    run = grader(["autograde", A], course)
    lines = {line.split()[0]: line for line in run.stdout.splitlines() if line.startswith("  ")}
    assert f"{top:g}/{top:g}" in lines["solution"], run.stdout
    assert f"0/{top:g}" in lines["late"] and "late" in lines["late"].split(None, 1)[1], run.stdout
    # A manual grade given in the formgrader, then a regrade: the printed total is the gradebook's.
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade("test_rnn_step", A, A, "solution")
        grade.manual_score = 0.5
        gradebook.db.commit()
    run = grader(["autograde", A, "--force", "--student", "solution"], course)
    line = next(l for l in run.stdout.splitlines() if l.startswith("  solution"))
    assert f"{top - POINTS['test_rnn_step'] + 0.5:g}/{top:g}" in line and "manual" in line, run.stdout


# --- several graders, one gradebook (issue 14) -----------------------------------------------------

def test_two_graders_at_once_on_overlapping_students(tmp_path):
    """Two graders of one course folder started together, one on every student and one on two of
    them: neither crashes, each student is recorded once, and the report keeps everyone."""
    cases = [c for c in CASES if c.name in ("solution", "release", "allclose_patched",
                                            "truncated")]
    course = make_course(tmp_path / "course", cases)
    command = [sys.executable, "-m", "rnncore_grader", "autograde", A, "--jobs", "1"]
    runs = [subprocess.Popen(command + extra, cwd=course, text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
            for extra in ([], ["--student", "solution", "--student", "release"])]
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (stdout, stderr) in zip(runs, outputs):
        assert run.returncode == 0, stdout + stderr
        assert "Traceback" not in stderr, stderr
    rows = gradebook_rows(course)
    assert set(rows) == {c.name for c in cases}
    for case in cases:
        assert {t: s for t, (s, _) in rows[case.name].items()} == expected_scores(case)
    with sqlite3.connect(course / "gradebook.db") as db:
        (count,) = db.execute("select count(*) from submitted_assignment").fetchone()
        (grades,) = db.execute("select count(*) from grade").fetchone()
    assert count == len(cases) and grades == len(cases) * len(TESTS)

    def reported():
        import csv
        with open(course / ".grader" / f"{A}-report.csv", newline="") as f:
            header, *rows = csv.reader(f)
        assert header[0] == "student"
        return sorted(tuple(row) for row in rows)
    first = reported()
    assert {row[0] for row in first} == {c.name for c in cases}
    assert len(first) == len(cases) * len(TESTS)
    # A run for one student merges into the report instead of overwriting it.
    grader(["autograde", A, "--force", "--student", "release"], course)
    again = reported()
    assert [row[:6] for row in again] == [row[:6] for row in first]


# --- a PostgreSQL gradebook (issue 14) ---------------------------------------------------------

def _postgres_bin():
    """The folder of Debian's PostgreSQL server programs (initdb, pg_ctl), or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture(scope="module")
def postgres():
    """A private PostgreSQL server for this module: a cluster in a temporary folder, run by the
    unprivileged user nobody, on a free port of 127.0.0.1. Yields new_database(name) -> db_url."""
    import pwd
    import socket
    import tempfile
    binaries = _postgres_bin()
    if binaries is None:
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed: "
                    "apt-get install postgresql (bash .ci/run does)")
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed: "
                                                     "pip install -r requirements.txt")
    nobody = pwd.getpwnam("nobody")
    folder = Path(tempfile.mkdtemp(prefix="grader-postgres-"))
    os.chown(folder, nobody.pw_uid, nobody.pw_gid)
    as_nobody = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                 "--clear-groups"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = lambda *args: subprocess.run(as_nobody + [str(a) for a in args], check=True,
                                       capture_output=True, text=True, timeout=120)
    run(binaries / "initdb", "-D", folder / "data", "-U", "grader", "--auth=trust", "-E", "UTF8",
        "--no-sync")
    run(binaries / "pg_ctl", "-D", folder / "data", "-l", folder / "server.log", "-w", "-o",
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    admin = f"postgresql://grader@127.0.0.1:{port}/postgres"

    def new_database(name):
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://grader@127.0.0.1:{port}/{name}"

    new_database.port = port
    try:
        yield new_database
    finally:
        run(binaries / "pg_ctl", "-D", folder / "data", "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _with_database(course, db_url):
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(f"\nc.CourseDirectory.db_url = {db_url!r}\n")


def _rows(db_url):
    with Gradebook(db_url) as gradebook:
        return {s.id: {g.name: g.score for g in gradebook.find_submission_notebook(
                    A, A, s.id).grades} for s in gradebook.students}


def test_a_postgresql_gradebook(postgres, tmp_path):
    """generate_assignment, python -m rnncore_grader autograde and nbgrader export on PostgreSQL, with
    the URL the docs give (postgresql://, psycopg 3)."""
    cases = [c for c in CASES if c.name in ("solution", "release", "allclose_patched")]
    db_url = postgres("term")
    course = make_course(tmp_path / "course", cases, f"c.CourseDirectory.db_url = {db_url!r}\n")
    grader(["autograde", A], course)
    assert not (course / "gradebook.db").exists()     # nothing went to a SQLite file
    rows = _rows(db_url)
    assert set(rows) == {c.name for c in cases}
    for case in cases:
        assert rows[case.name] == expected_scores(case), case.name
    export = subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", "grades.csv"],
                            cwd=course, capture_output=True, text=True)
    assert export.returncode == 0, export.stderr
    assert "solution" in (course / "grades.csv").read_text()


@pytest.mark.parametrize("problem, expected", [
    ("server down", "cannot connect"),
    ("assignment not recorded", "has no assignment"),
    ("table locked", "locked by another program"),
    ("no driver", "driver"),
])
def test_postgresql_problems_are_found_before_any_grading(postgres, tmp_path, problem, expected):
    import psycopg
    db_url = postgres(f"pre_{problem.replace(' ', '_')}")
    course = make_course(tmp_path / "course", [CASES[0]],
                         f"c.CourseDirectory.db_url = {db_url!r}\n")   # (records the assignment)
    url = {"server down": db_url.replace(f":{postgres.port}/", ":1/"),
           "no driver": db_url.replace("postgresql://", "postgresql+pg8000://"),
           "assignment not recorded": postgres(f"empty_{tmp_path.name}")}.get(problem, db_url)
    _with_database(course, url)
    lock = None
    if problem == "table locked":
        lock = psycopg.connect(db_url)
        lock.execute("LOCK TABLE submitted_assignment IN ACCESS EXCLUSIVE MODE")
    run = refused_with(course, A, expected, lock, timeout=300)
    assert "Nothing was graded" in run.stderr or "first" in run.stderr, run.stderr
    assert not (course / "autograded").exists()
