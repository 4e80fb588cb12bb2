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


def test_visible_tests_can_be_left_out_and_the_time_of_each_part_is_recorded():
    """SandboxedGrading.visible_tests = False: the release's test cells do not run (here one
    that would take 1 s and define a name), the question still decides the points; the engine
    records where the time went."""
    from rnncore_grader import engine, sandbox
    from rnncore_grader.checks import expect
    cells = [_cell("import time"),
             _cell("def double(x):\n    return 2 * x", solution=True, grade_id="double"),
             _cell("time.sleep(1)\nleft_by_the_test = 1\nassert double(2) == 4",
                   grade=True, grade_id="test_double", points=1)]
    notebook = nbformat.v4.new_notebook(cells=cells)

    def check(student, ref, rng):
        expect(student.double(21) == 42, "double(21) is not 42")

    box = sandbox.Sandbox(0, unsafe=True)            # (the runner as it is; no isolation needed)
    try:
        results = {flag: engine.grade(box, notebook, {"test_double": check},
                                      {"test_double": 1.0}, None, 0, visible_tests=flag)
                   for flag in (True, False)}
    finally:
        box.close()
    for flag, result in results.items():
        assert result.scores == {"test_double": (1.0, 1.0)}, (flag, result.messages)
        assert set(result.phases) >= {"start", "other cells", "answer cells", "calls", "questions"}
    assert results[True].phases["visible tests"] >= 1.0 and 2 in results[True].outcomes
    assert "visible tests" not in results[False].phases and 2 not in results[False].outcomes
    assert results[False].seconds < results[True].seconds - 0.7
