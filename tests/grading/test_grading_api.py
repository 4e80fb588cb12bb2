"""The grading API of issue 12: forbidden library functions, expect_call, cells run as Jupyter
runs them (magics), regrading with other seeds, and the student-side helpers of rnncore.testing.

The grading tests run small notebooks through rnncore_grader.engine in a real sandbox when this
process may make one (root), and otherwise without it (the same runner, as the current user).
"""
import types

import nbformat
import numpy as np
import pytest

from rnncore_grader import engine, sandbox
from rnncore_grader.checks import (CheckFailed, QuestionError, expect_call, expect_close, library,
                           question)
from rnncore import fastpath, rnn
from rnncore.testing import (LibraryUnavailable, assert_close, assert_unchanged, difference,
                             without)

STEP = "rnncore.rnn:step"


def _box():
    try:
        sandbox.check()
        return sandbox.Sandbox(0)
    except sandbox.SandboxUnavailable:
        return sandbox.Sandbox(0, unsafe=True)


@pytest.fixture(scope="module")
def box():
    made = _box()
    yield made
    made.close()


def notebook(*cells):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])


def run(box, cells, questions, ref=None, seed=1, **kwargs):
    questions = dict(questions)
    points = {g: 1.0 for g in questions}
    return engine.grade(box, notebook(*cells), questions, points, ref, seed,
                        engine.Timeouts(cell=30, call=30), **kwargs)


def params(rng, D=3, H=4):
    return {"W_x": rng.normal(size=(D, H)), "W_h": rng.normal(size=(H, H)),
            "b_h": rng.normal(size=H)}


REF = types.SimpleNamespace(rnn_step=lambda p, x, h: np.tanh(h @ p["W_h"] + x @ p["W_x"] + p["b_h"]))


def step_question(**forbid):
    def check(student, ref, rng):
        p, x, h = params(rng), rng.normal(size=(2, 3)), rng.normal(size=(2, 4))
        expect_call(student, ref, "rnn_step", p, x, h, where="for B=2, D=3, H=4")
    check.forbid = tuple(forbid.get("forbid", ()))
    return check


OWN_STEP = """
import numpy as np
def rnn_step(params, x, h_prev):
    return np.tanh(h_prev @ params["W_h"] + x @ params["W_x"] + params["b_h"])
"""


# --- forbid: the library cannot answer the question ----------------------------------------------

@pytest.mark.parametrize("answer", [
    "from rnncore.rnn import step as rnn_step",
    "import rnncore.rnn as R\ndef rnn_step(params, x, h_prev):\n    return R.step(params, x, h_prev)",
    "from rnncore import rnn\nrnn_step = lambda *a: rnn.forward(a[0], a[1][None], a[2])[0][0]",
])
def test_an_answer_that_calls_a_forbidden_function_loses_the_question(box, answer):
    check = step_question(forbid=(STEP, "rnncore.rnn:forward"))
    result = run(box, [answer], {"test_rnn_step": check}, REF)
    assert result.scores["test_rnn_step"] == (0.0, 1.0)
    assert "LibraryUnavailable" in result.messages["test_rnn_step"]
    assert "write this one yourself" in result.messages["test_rnn_step"]
    assert "while this question is graded" in result.messages["test_rnn_step"]


def test_own_code_scores_and_the_library_is_back_after_the_question(box):
    check = step_question(forbid=(STEP,))

    def after(student, ref, rng):        # a later question uses the library through the student
        p, x, h = params(rng), rng.normal(size=(2, 3)), rng.normal(size=(2, 4))
        expect_close(student.library_step(p, x, h), ref.rnn_step(p, x, h), "library_step")
    after.forbid = ()
    result = run(box, [OWN_STEP + "\nfrom rnncore.rnn import step as library_step"],
                 {"test_rnn_step": check, "test_after": after}, REF)
    assert result.scores == {"test_rnn_step": (1.0, 1.0), "test_after": (1.0, 1.0)}, result.messages


def test_using_gives_an_intact_copy_of_a_library_function(box):
    forward = ("def rnn_forward(params, xs, h0):\n    h, hs = h0, []\n    for x in xs:\n"
               "        h = rnn_step(params, x, h)\n        hs.append(h)\n    return np.stack(hs), h")

    def check(student, ref, rng):
        p, xs, h0 = params(rng), rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 4))
        expect_close(student.using(rnn_step=STEP).rnn_forward(p, xs, h0),
                     rnn.forward_reference(p, xs, h0), "rnn_forward")
    check.forbid = ("rnncore.rnn:forward", "rnncore.rnn:forward_reference")
    result = run(box, ["import numpy as np\ndef rnn_step(*a):\n    return 0", forward],
                 {"test_rnn_forward": check}, REF)
    assert result.scores["test_rnn_forward"] == (1.0, 1.0), result.messages


def test_a_question_that_forbids_and_gives_the_same_function_is_refused(box):
    def check(student, ref, rng):
        student.using(rnn_step="rnncore.rnn:step").rnn_forward(1)
    check.forbid = ("rnncore.rnn.step",)          # (either spelling names the same function)
    with pytest.raises(QuestionError, match="forbids rnncore.rnn.step and also gives it"):
        run(box, ["x = 1"], {"test_x": check})

    def passes(student, ref, rng):
        student.f(library(STEP))
    passes.forbid = (STEP,)
    with pytest.raises(QuestionError, match="library rnncore.rnn:step"):
        run(box, ["f = print"], {"test_x": passes})


def test_forbid_must_name_a_library_function():
    with pytest.raises(QuestionError, match="cannot be imported"):
        question("test_typo", forbid=("rnncore.rnn:stpe",))
    with pytest.raises(QuestionError, match="not a Python function"):
        question("test_module", forbid=("rnncore:rnn",))


# --- expect_call -----------------------------------------------------------------------------------

def test_expect_call_catches_an_answer_that_writes_into_its_argument(box):
    writes = ("import numpy as np\ndef rnn_step(params, x, h_prev):\n"
              "    return np.tanh(h_prev @ params['W_h'] + x @ params['W_x'] + params['b_h'],"
              " out=h_prev)")
    result = run(box, [writes], {"test_rnn_step": step_question()}, REF)
    message = result.messages["test_rnn_step"]
    assert message.startswith("rnn_step(p, x, h) for B=2, D=3, H=4 changed its argument h"), message


def test_expect_call_names_the_call_and_compares_nested_results(box):
    wrong = OWN_STEP.replace('+ params["b_h"]', "")
    result = run(box, [wrong], {"test_rnn_step": step_question()}, REF)
    assert result.messages["test_rnn_step"].startswith(
        "rnn_step(p, x, h) for B=2, D=3, H=4 differs from the expected value")


def test_expect_call_wants_an_int_where_an_int_is_expected(box):
    ref = types.SimpleNamespace(count=lambda xs: int(np.sum(xs > 0)),
                                counts=lambda xs: (xs > 0).sum(axis=0))

    def check(student, ref, rng):
        xs = rng.normal(size=(50, 3))
        expect_call(student, ref, "count", xs)
        expect_call(student, ref, "counts", xs)
    check.forbid = ()
    for code, message in [
            ("def count(xs):\n    return float((xs > 0).sum())\n"
             "def counts(xs):\n    return (xs > 0).sum(0)", "count(xs) should be an int, not a float"),
            ("def count(xs):\n    return int((xs > 0).sum()) + 1\n"
             "def counts(xs):\n    return (xs > 0).sum(0)", "not the expected integer"),
            ("def count(xs):\n    return int((xs > 0).sum())\n"
             "def counts(xs):\n    return (xs > 0).mean(0) * len(xs)", "should be an array of integers"),
            ("import numpy as np\ndef count(xs):\n    return np.int32((xs > 0).sum())\n"
             "def counts(xs):\n    return (xs > 0).sum(0).astype(np.int32)", None)]:
        result = run(box, [code], {"test_count": check}, ref)
        assert result.messages.get("test_count", None) is None if message is None else (
            message in result.messages["test_count"]), (code, result.messages)


def test_expect_close_is_one_comparison_with_assert_close():
    want = (np.zeros((2, 3)), {"c": np.ones(2), "n": 3})
    assert difference((np.zeros((2, 3)), {"c": np.ones(2), "n": np.int64(3)}), want, "f") is None
    assert "f[1]['n'] should be an int" in difference(
        (np.zeros((2, 3)), {"c": np.ones(2), "n": 3.0}), want, "f")
    with pytest.raises(CheckFailed, match=r"f\[1\]\['c'\] is not finite at index \(1,\)"):
        expect_close((np.zeros((2, 3)), {"c": np.array([1.0, np.inf]), "n": 3}), want, "f")
    with pytest.raises(AssertionError, match=r"n is 4, expected 3"):
        assert_close(4, 3, "n")
    with pytest.raises(AssertionError, match=r"counts should be an array of integers"):
        assert_close(np.array([1.0, 2.0]), np.array([1, 2]), "counts")
    # a list where the reference is an array: both refuse it (the grader always did)
    with pytest.raises(CheckFailed, match="a list of numbers should be numbers, not a list"):
        expect_close([1.0, 2.0], np.array([1.0, 2.0]), "a list of numbers")
    with pytest.raises(AssertionError, match="a list of numbers should be numbers, not a list"):
        assert_close([1.0, 2.0], np.array([1.0, 2.0]), "a list of numbers")
    assert_close([1.0, 2.0], [1.0, 2.0], "a list of numbers")       # literal numbers: either


# --- the student's side: without and assert_unchanged ----------------------------------------------

def test_without_hides_a_function_under_every_name_and_restores_it():
    from rnncore.rnn import step as alias
    rng = np.random.default_rng(0)
    p, x, h = params(rng), rng.normal(size=(2, 3)), rng.normal(size=(2, 4))
    before = alias(p, x, h)
    with without(STEP, "rnncore.fastpath.rnn:layer"):
        for call in (lambda: alias(p, x, h), lambda: rnn.step(p, x, h),
                     lambda: fastpath.rnn.layer.fun(p["W_x"], p["W_h"], p["b_h"], x[None], h, "tanh")):
            with pytest.raises(NotImplementedError, match="rnncore.rnn.step|rnncore.fastpath.rnn.layer"):
                call()
        with pytest.raises(LibraryUnavailable, match="not available in this test: write this"):
            rnn.forward(p, x[None], h)                # forward calls the hidden primitive
    assert np.array_equal(alias(p, x, h), before)
    assert np.allclose(rnn.forward(p, x[None], h)[0][0], before, rtol=1e-12, atol=1e-12)


def test_without_refuses_or_skips_a_name_the_library_does_not_have():
    with pytest.raises(AttributeError):
        with without("rnncore.rnn:no_such_function"):
            pass
    with without("rnncore.rnn:no_such_function", STEP, missing_ok=True):
        with pytest.raises(LibraryUnavailable):
            rnn.step({}, None, None)


def test_assert_unchanged_names_the_argument_written_into():
    def step(params, x, h_prev):
        return np.tanh(h_prev @ params["W_h"] + x @ params["W_x"], out=h_prev)
    rng = np.random.default_rng(0)
    p, x, h = params(rng), rng.normal(size=(2, 3)), rng.normal(size=(2, 4))
    with pytest.raises(AssertionError, match="rnn_step wrote into its argument h_prev"):
        assert_unchanged(step, p, x, h, name="rnn_step")
    assert np.array_equal(assert_unchanged(rnn.step, p, x, h), rnn.step(p, x, h))


# --- cells run as Jupyter runs them ------------------------------------------------------------------

MAGIC_CELLS = [
    "%time import numpy as np\nx = %time np.ones(3)",
    "%%time\n" + OWN_STEP + "\n%timeit -n1 -r1 rnn_step({'W_h': np.eye(2), 'W_x': np.eye(2), "
    "'b_h': np.zeros(2)}, np.ones((1, 2)), np.ones((1, 2)))",
    "%%timeit -n 2\nnot_kept = 1",
    "%matplotlib inline\n!pip install torch\nlisting = !ls\n%load_ext autoreload",
    "%%capture captured\nprint('hello')",
]


def test_magics_run_their_code_and_the_others_are_ignored_with_a_note(box):
    def check(student, ref, rng):
        expect_close(student.value("x"), np.ones(3), "x")
        expect(student.value("listing") == [], "listing")
        expect(student.value("not_kept_is_gone"), "%%timeit keeps its names local")
    from rnncore_grader.checks import expect
    check.forbid = ()
    cells = [*MAGIC_CELLS, "not_kept_is_gone = 'not_kept' not in globals()"]
    result = run(box, cells, {"test_x": check, "test_rnn_step": step_question(forbid=(STEP,))},
                 REF)
    assert all(o["status"] == "ok" for o in result.outcomes.values()), result.outcomes
    assert result.scores == {"test_x": (1.0, 1.0), "test_rnn_step": (1.0, 1.0)}, result.messages
    assert "Wall time" in result.outcomes[0]["output"]
    notes = result.outcomes[3]["output"]
    assert "%matplotlib inline was not run" in notes and "!pip install torch was not run" in notes
    assert "hello" not in result.outcomes[4]["output"]


# --- the same grade on every draw -----------------------------------------------------------------

def test_regrade_runs_the_questions_with_other_seeds_in_one_run(box):
    def lucky(student, ref, rng):         # a question that catches the bug on half the draws
        expect(rng.random() < 0.5, "unlucky draw")
    from rnncore_grader.checks import expect
    lucky.forbid = ()
    result = run(box, ["pass"], {"test_x": lucky}, regrade=range(20))
    grades = {seed: r["test_x"] for seed, r in result.regrades.items()}
    assert len(grades) == 20 and set(grades.values()) == {0.0, 1.0}
    assert result.runs == 1
