"""The grader's small pieces around a batch: --shard K/N, and the solution's reference run.

- A student's shard depends on the student's id alone (never on who else submitted), shards are
  numbered 1 ... N, and N shards grade every student exactly once; a bad --shard is refused with a
  message that says what is expected, before anything is read.
- The solution's cells run in the grader's process as the sandbox runs a submission's cells:
  through IPython's transformation, so that a magic such as %time or %%capture works.
"""
import nbformat
import pytest

from rnncore_grader import assignment as assignments
from rnncore_grader.cli import Refused, main, parse_shard, shard_of


@pytest.mark.parametrize("text, expected", [("1/1", (1, 1)), ("1/3", (1, 3)), ("3/3", (3, 3)),
                                            (" 2/4", (2, 4))])
def test_shards_are_numbered_from_one(text, expected):
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text, says", [("0/3", "between 1 and N"), ("4/3", "between 1 and N"),
                                        ("1/0", "between 1 and N"), ("3", "expected K/N"),
                                        ("a/b", "expected K/N"), ("-1/3", "expected K/N"),
                                        ("1/3/5", "expected K/N"), ("", "expected K/N")])
def test_a_bad_shard_is_refused_with_what_is_expected(text, says):
    with pytest.raises(Refused, match=says):
        parse_shard(text)


def test_the_command_refuses_a_bad_shard_before_reading_anything(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)         # no course here at all: the shard is checked first
    assert main(["autograde", "ch01", "--shard", "0/2"]) == 2
    error = capsys.readouterr().err
    assert "numbered from 1" in error and "Traceback" not in error, error


def test_every_student_is_in_exactly_one_shard_whoever_else_submitted():
    students = [f"s{i:04d}" for i in range(3000)] + ["alice", "bob", "Zoë", "a_b-c.d"]
    for n in (1, 2, 3, 7):
        shards = {s: shard_of(s, n) for s in students}
        assert set(shards.values()) == set(range(1, n + 1))
        # the same student, asked with another class around it, is in the same shard
        assert all(shard_of(s, n) == shards[s] for s in reversed(students))
        counts = [list(shards.values()).count(k) for k in range(1, n + 1)]
        assert max(counts) - min(counts) < 0.12 * len(students) / n, counts   # balanced


def test_the_reference_runs_the_solution_as_the_sandbox_runs_cells():
    cells = [nbformat.v4.new_code_cell("%time x = 2 + 1\n"),
             nbformat.v4.new_code_cell("%%capture printed\nprint('hidden')\ny = x * 2\n"),
             nbformat.v4.new_code_cell("%matplotlib inline\nz = [x, y]")]
    source = nbformat.v4.new_notebook(cells=cells)
    ref = assignments.Notebook("magic", source, source, {}, {}).ref
    assert (ref.x, ref.y, ref.z) == (3, 6, [3, 6])
    assert ref.printed.stdout == "hidden\n"


def _cell(source, **nbgrader):
    cell = nbformat.v4.new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = nbgrader
    return cell


def test_visible_tests_run_as_the_setting_says_and_the_time_of_each_part_is_recorded():
    """SandboxedGrading.visible_tests: "all" runs every test cell in the one run; "none" leaves
    out those that bind no name a later cell reads; "failed" (the default) runs, in a second run
    after the questions, the test cells of the questions that lost points only. The questions
    decide the points whatever the setting; the engine records where the time went."""
    from rnncore_grader import engine, sandbox
    from rnncore_grader.checks import expect
    cells = [_cell("import time"),
             _cell("def double(x):\n    return 2 * x", solution=True, grade_id="double"),
             _cell("time.sleep(1)\nleft_by_the_test = 1\nassert double(2) == 4, 'not 4'",
                   grade=True, grade_id="test_double", points=1),
             _cell("def half(x):\n    return x / 2", solution=True, grade_id="half"),
             _cell("SHARED = 3\nassert half(4) == 2", grade=True, grade_id="test_half", points=1),
             _cell("print(SHARED)")]                  # reads what test_half binds
    notebook = nbformat.v4.new_notebook(cells=cells)

    def check_double(student, ref, rng):
        expect(student.double(21) == 42, "double(21) is not 42")

    def check_half(student, ref, rng):
        expect(student.half(4) == 2, "half(4) is not 2")

    questions = {"test_double": check_double, "test_half": check_half}
    points = {"test_double": 1.0, "test_half": 1.0}
    wrong = nbformat.v4.new_notebook(cells=[*cells[:1], _cell("def double(x):\n    return 3 * x",
                                     solution=True, grade_id="double"), *cells[2:]])
    box = sandbox.Sandbox(0, unsafe=True)            # (the runner as it is; no isolation needed)
    try:
        results = {mode: engine.grade(box, notebook, questions, points, None, 0,
                                      visible_tests=mode)
                   for mode in ("all", "none", "failed", True, False)}
        failing = engine.grade(box, wrong, questions, points, None, 0, visible_tests="failed")
    finally:
        box.close()
    for mode, result in results.items():
        assert result.scores == {"test_double": (1.0, 1.0), "test_half": (1.0, 1.0)}, mode
        assert set(result.phases) >= {"start", "other cells", "answer cells", "calls", "questions"}
        assert result.outcomes[5]["output"] == "3\n", (mode, result.outcomes)  # test_half ran
    assert results["all"].phases["visible tests"] >= 1.0 and 2 in results["all"].outcomes
    assert results["all"].runs == 1 and results["all"].skipped == []
    for mode in ("none", "failed", False):
        assert results[mode].skipped == [2] and 2 not in results[mode].outcomes, mode
        assert results[mode].seconds < results["all"].seconds - 0.7, mode
        assert results[mode].runs == 1, mode
    assert results[True].skipped == [] and results[False].skipped == [2]
    # A question lost its points: its visible test ran again, after the questions, in order.
    assert failing.scores["test_double"] == (0.0, 1.0) and failing.runs == 2
    assert failing.skipped == [] and "not 4" in failing.outcomes[2]["error"]
    assert failing.phases["visible tests"] >= 1.0
    with pytest.raises(ValueError, match="failed, all, none"):
        engine.grade(None, notebook, questions, points, None, 0, visible_tests="some")
