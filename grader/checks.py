"""How an assignment's ``grading.py`` says what its points are awarded for.

Each graded test cell of a solutions notebook (grade_id ``test_<answer>``) has one question in
``solutions/<assignment>/grading.py``, a module that nbgrader never releases::

    from grader.checks import question, expect_close, expect

    @question("test_rnn_step")
    def rnn_step(student, ref, rng):
        for B, D, H in [(1, 1, 1), (3, 4, 5)]:
            params, x, h_prev = ..., rng.normal(size=(B, D)), rng.normal(size=(B, H))
            expect_close(student.rnn_step(params, x, h_prev),
                         ref.rnn_step(params, x, h_prev), "rnn_step(params, x, h_prev)")

``student.<name>(...)`` calls the submission's function in its sandbox: the arguments go in, and
the result comes back, as plain data (see grader.wire). ``student.value(name)`` reads a global
variable; ``student.using(helper="rnncore.module:function")`` and ``student.arguments_after()``
are described in grader.engine.Student; ``library("rnncore.module:function")`` passes a library
function as an argument. ``ref`` holds the names the solutions notebook defines, run in the grader's own
process. ``rng`` is a ``np.random.Generator`` seeded per submission from a secret of the course:
the inputs are hidden, differ between students, and are the same when a batch is graded again.

A question scores its points when its function returns, and zero when it raises: CheckFailed
(a check did not hold), StudentError (the submission's code raised, was missing, returned what
cannot be graded, timed out or crashed) or anything else (a bug of the question, reported as
such). The messages are what the student reads in their feedback: they name the quantity and the
place, never the hidden inputs.
"""
import numpy as np

from grader.wire import Library as library     # library("rnncore.rnn:forward"): an argument

__all__ = ["question", "expect", "expect_close", "library", "CheckFailed", "StudentError"]

QUESTIONS = {}       # filled while a grading.py is imported: grade_id -> function


class CheckFailed(AssertionError):
    """A check did not hold; the message is shown to the student."""


class StudentError(Exception):
    """The submission's code failed where a question called it; the message says how."""


def question(grade_id):
    """Register the decorated function(student, ref, rng) as the check of test cell grade_id."""
    def register(function):
        if grade_id in QUESTIONS:
            raise ValueError(f"two questions grade {grade_id!r}")
        QUESTIONS[grade_id] = function
        return function
    return register


def expect(condition, message):
    """Fail the question with message unless condition holds."""
    if not condition:
        raise CheckFailed(message)


def _describe(x):
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    return f"a {type(x).__name__}"


def expect_close(got, want, what, rtol=1e-4, atol=1e-5, hint=None):
    """Fail unless got matches want: the same structure (tuples/lists, dicts with the same keys),
    and arrays or numbers of the same shape whose values agree within rtol and atol (NaN
    nowhere unless it is expected there). The message names what and the part that differs,
    and ends with hint (what to look at) if given."""
    try:
        _close(got, want, what, rtol, atol)
    except CheckFailed as error:
        if hint:
            raise CheckFailed(f"{error} Hint: {hint}") from None
        raise


def _close(got, want, where, rtol, atol):
    if isinstance(want, dict):
        expect(isinstance(got, dict), f"{where} should be a dict, not {_describe(got)}")
        expect(set(got) == set(want), f"{where} has the keys {sorted(got)}, expected "
                                      f"{sorted(want)}")
        for key in want:
            _close(got[key], want[key], f"{where}[{key!r}]", rtol, atol)
        return
    if isinstance(want, (tuple, list)):
        expect(isinstance(got, (tuple, list)), f"{where} should be a {type(want).__name__} of "
                                               f"{len(want)}, not {_describe(got)}")
        expect(len(got) == len(want), f"{where} has {len(got)} items, expected {len(want)}")
        for i, (g, w) in enumerate(zip(got, want)):
            _close(g, w, f"{where}[{i}]", rtol, atol)
        return
    if isinstance(want, str) or want is None:
        expect(got == want, f"{where} is {got!r}, expected {want!r}")
        return
    expect(isinstance(got, (int, float, bool, np.ndarray, np.generic)),
           f"{where} should be numbers, not {_describe(got)}")
    got_a, want_a = np.asarray(got), np.asarray(want)
    expect(got_a.dtype.kind in "biuf", f"{where} should hold numbers, not dtype {got_a.dtype}")
    expect(got_a.shape == want_a.shape, f"{where} has shape {got_a.shape}, expected "
                                        f"{want_a.shape}")
    got_f, want_f = got_a.astype(float), want_a.astype(float)
    bad = ~np.isclose(got_f, want_f, rtol=rtol, atol=atol, equal_nan=True)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        error = np.abs(got_f - want_f)
        worst = np.nanmax(np.where(bad, error, 0)) if np.isfinite(error[bad]).any() else np.inf
        place = f" at index {index}" if index else ""
        raise CheckFailed(f"{where} differs from the expected value{place} "
                          f"({int(bad.sum())} of {bad.size} entries wrong; largest error "
                          f"{worst:.3g}, tolerance rtol={np.max(rtol):g}, atol={np.max(atol):g})")
