"""How an assignment's ``grading.py`` says what its points are awarded for.

Each graded test cell of a solutions notebook (grade_id ``test_<answer>``) has one question in
``solutions/<assignment>/grading.py``, a module that nbgrader never releases::

    from rnncore_grader.checks import question, expect_call, expect_close, expect

    @question("test_rnn_step", forbid=("rnncore.rnn:step", "rnncore.rnn:forward"))
    def rnn_step(student, ref, rng):
        for B, D, H in [(2, 1, 3), (3, 4, 5)]:
            params, x, h_prev = ..., rng.normal(size=(B, D)), rng.normal(size=(B, H))
            expect_call(student, ref, "rnn_step", params, x, h_prev, where=f"for B={B}")

``forbid`` names the library functions that compute what the question asks: while the question
runs, the submission cannot call them (they raise "... write this one yourself").
``expect_call`` calls the student's and the solution's function once each on the same inputs,
checks that the student's call did not write into its arguments, and compares the results.
``student.<name>(...)`` calls the submission's function in its sandbox: the arguments go in, and
the result comes back, as plain data (see rnncore_grader.wire). ``student.value(name)`` reads a global
variable; ``student.using(helper="rnncore.module:function")`` and ``student.arguments_after()``
are described in rnncore_grader.engine.Student; ``library("rnncore.module:function")`` passes a library
function as an argument. ``ref`` holds the names the solutions notebook defines, run in the grader's own
process. ``rng`` is a ``np.random.Generator`` seeded per submission from a secret of the course:
the inputs are hidden, differ between students, and are the same when a batch is graded again.

A question scores its points when its function returns, and zero when it raises: CheckFailed
(a check did not hold), StudentError (the submission's code raised, was missing, returned what
cannot be graded, timed out or crashed) or anything else (a bug of the question, reported as
such). The messages are what the student reads in their feedback: they name the quantity and the
place, never the hidden inputs.
"""
import copy
import inspect

import numpy as np

from rnncore_grader.wire import Library as library     # library("rnncore.rnn:forward"): an argument
from rnncore.testing import changed_argument, difference, resolve

__all__ = ["question", "expect", "expect_close", "expect_call", "known_mistakes", "library",
           "CheckFailed",
           "StudentError", "QuestionError"]

QUESTIONS = {}       # filled while a grading.py is imported: grade_id -> function


class CheckFailed(AssertionError):
    """A check did not hold; the message is shown to the student."""


class StudentError(Exception):
    """The submission's code failed where a question called it; the message says how."""


class QuestionError(Exception):
    """The question itself is wrong (an author's bug): grading stops and says why."""


def question(grade_id, forbid=()):
    """Register the decorated function(student, ref, rng) as the check of test cell grade_id.

    forbid: library functions ("rnncore.rnn:step", ...) that compute what the question asks:
    while it runs, calling them in the sandbox raises LibraryUnavailable ("... write this one
    yourself"), under whatever name the submission imported them. Each must be a function of
    the installed library (checked here, so that a typo cannot silently forbid nothing)."""
    forbid = tuple(forbid)
    for target in forbid:
        try:
            function, _ = resolve(target)
        except (ImportError, AttributeError, ValueError) as error:
            raise QuestionError(f"question {grade_id!r} forbids {target!r}, which cannot be "
                                f"imported: {error}") from None
        if not inspect.isfunction(function):
            raise QuestionError(f"question {grade_id!r} forbids {target!r}, which is not a "
                                f"Python function")

    def register(function):
        if grade_id in QUESTIONS:
            raise ValueError(f"two questions grade {grade_id!r}")
        function.forbid = forbid
        QUESTIONS[grade_id] = function
        return function
    return register


def expect(condition, message):
    """Fail the question with message unless condition holds."""
    if not condition:
        raise CheckFailed(message)


def _fail(message, hint):
    raise CheckFailed(f"{message} Hint: {hint}" if hint else message)


def expect_close(got, want, what, rtol=1e-4, atol=1e-5, hint=None, exact=False):
    """Fail unless got matches want (rnncore.testing.difference): the same structure
    (tuples/lists, dicts with the same keys), an int equal to an expected int, an integer array
    equal to an expected integer array, other numbers of the same shape within rtol and atol
    (all equal with exact=True; NaN nowhere unless it is expected there). The message names what
    and the part that differs, and ends with hint (what to look at) if given."""
    message = difference(got, want, what, rtol, atol, exact=exact)
    if message:
        _fail(message, hint)


def _reference_copy(value):
    if isinstance(value, library):
        return value.resolve()          # the trusted side runs the library function itself
    return copy.deepcopy(value)


def expect_call(student, ref, name, *args, kwargs=None, where="", hint=None, rtol=1e-4,
                atol=1e-5, exact=False, diagnose=None):
    """The student's name(*args, **kwargs), after checking it against the solution's.

    Calls student.name(*args, **kwargs) in the sandbox and ref.name on copies of the arguments,
    once each; fails the question if the student's call changed an argument (a function must not
    write into its inputs), or if its result does not match (expect_close: types, structure,
    exact integers, numbers within rtol/atol). Messages start with the call as the solution's
    signature names it, "rnn_step(params, x, h_prev)", then where ("for B=3, D=4, H=5").
    diagnose(got, *args), if given, is called only when the result is wrong; what it returns is
    the hint (the mistake the student's result points to, see known_mistakes)."""
    kwargs = dict(kwargs or {})
    function = getattr(ref, name)
    try:
        names = [p.name for p in inspect.signature(function).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    names = [names[i] if i < len(names) else f"argument {i + 1}" for i in range(len(args))]
    label = f"{name}({', '.join(names + [f'{k}=...' for k in kwargs])})"
    label = f"{label} {where}".strip() if where else label
    want = function(*[_reference_copy(a) for a in args],
                    **{k: _reference_copy(v) for k, v in kwargs.items()})
    got, args_after, kwargs_after = getattr(student.arguments_after(), name)(*args, **kwargs)
    before = [a for a in args] + [kwargs[k] for k in kwargs]
    after = list(args_after) + [kwargs_after.get(k) for k in kwargs]
    changed = changed_argument([None if isinstance(b, library) else b for b in before],
                               [None if isinstance(b, library) else a
                                for b, a in zip(before, after)], names + list(kwargs))
    if changed:
        raise CheckFailed(f"{label} changed its argument {changed}: a function must not write "
                          f"into its inputs (its caller still needs them). Compute a new array "
                          f"instead of writing into {changed} (no out={changed}, no {changed}[...] "
                          f"= ..., no {changed} += ...).")
    if diagnose is not None and difference(got, want, label, rtol, atol, exact=exact):
        hint = diagnose(got, *args)
    expect_close(got, want, label, rtol=rtol, atol=atol, hint=hint, exact=exact)
    return got


def known_mistakes(mistakes, otherwise, rtol=1e-4, atol=1e-5):
    """A diagnose for expect_call that names the mistake made: mistakes is {name: (compute,
    explanation)}, compute(*args) giving what that mistake returns; the explanation of the first
    mistake the student's result matches (within rtol/atol), else otherwise."""
    def diagnose(got, *args):
        for wrong, (compute, why) in mistakes.items():
            with np.errstate(all="ignore"):
                if difference(got, compute(*args), wrong, rtol, atol) is None:
                    return why
        return otherwise
    return diagnose
