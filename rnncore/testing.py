"""Assertions for exercises and tests whose failures say what is wrong and where.

    >>> assert_close(hs, expected_hs, "hs", time_major=True, hint="is tanh applied?")
    AssertionError: hs differs from the reference at time step 3 (index (0, 2)):
    got 0.81, expected 0.67. Hint: is tanh applied?

    >>> with without("rnncore.rnn:step"):          # the exercise asks for this one
    ...     rnn_step(params, x, h_prev)               # an answer that imports it fails here
    LibraryUnavailable: rnncore.rnn.step is not available in this test: write this one yourself

    >>> h = assert_unchanged(rnn_step, params, x, h_prev, name="rnn_step")
    AssertionError: rnn_step wrote into its argument h_prev: ...

One comparison, ``difference``, decides whether a result matches its reference, here and in the
grader's questions (rnncore_grader.checks.expect_close / expect_call): the same structure (dicts with the
same keys, tuples and lists of the same length), an int where an int is expected and equal to it,
an integer array equal entry by entry, other numbers within rtol and atol.
"""
import contextlib
import copy
import importlib
import inspect
import sys
import types
import warnings

import numpy as np

from .validation import first_non_finite

__all__ = ["assert_close", "assert_grads_close", "assert_unchanged", "difference", "without",
           "zeroed", "predicts_without_params", "LibraryUnavailable"]


# --- the comparison ------------------------------------------------------------------------------

def place(index, time_major=False):
    """Where an entry is, in words, the one way rnncore names it: "time step 3 (index (1,))" for
    the entry (3, 1) of a time-major array, else "index (3, 1)"; "" for a scalar's index ()."""
    if not index:
        return ""
    if time_major:
        rest = f" (index {index[1:]})" if len(index) > 1 else ""
        return f"time step {index[0]}{rest}"
    return f"index {index}"


def _at(index, time_major):
    return f" at {place(index, time_major)}" if index else ""


def _describe(x):
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    return "None" if x is None else f"a {type(x).__name__}"


def _is_int(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def difference(got, want, name, rtol=1e-6, atol=1e-8, exact=False, values=False,
               time_major=False):
    """None if got matches want, else a sentence saying where and how it differs.

    Structures: a dict needs the same keys, a tuple or list the same length, compared item by
    item (the message names the item: ``name[1]['c']``). Strings and None must be equal. An int
    (or numpy integer) wants an int equal to it, a bool a bool, an integer array an integer array
    equal entry by entry; floats and float arrays agree within atol + rtol |want| (everywhere the
    same shape; NaN only where want has NaN). exact=True: every number equal. values=True: the
    message shows the first differing entry's values (for visible tests; the grader's messages
    never show what its hidden inputs gave)."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return f"{name} should be a dict, not {_describe(got)}"
        if set(got) != set(want):
            return f"{name} has the keys {sorted(got)}, expected {sorted(want)}"
        for key in want:
            found = difference(got[key], want[key], f"{name}[{key!r}]", rtol, atol, exact,
                               values, time_major)
            if found:
                return found
        return None
    if isinstance(want, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            return (f"{name} should be a {type(want).__name__} of {len(want)}, not "
                    f"{_describe(got)}")
        if len(got) != len(want):
            return f"{name} has {len(got)} items, expected {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            found = difference(g, w, f"{name}[{i}]", rtol, atol, exact, values, time_major)
            if found:
                return found
        return None
    if isinstance(want, str) or want is None:        # a str, numpy's np.str_ too
        same = got is None if want is None else isinstance(got, str) and got == want
        return None if same else f"{name} is {got!r}, expected {want!r}"
    if got is None:
        return f"{name} is None: did the function return its result?"
    if isinstance(want, (bool, np.bool_)):
        if not isinstance(got, (bool, np.bool_)):
            return f"{name} should be True or False (a bool), not {_describe(got)}"
        return None if bool(got) == bool(want) else f"{name} is {bool(got)}, expected {bool(want)}"
    if _is_int(want):
        if not _is_int(got):
            shown = f" ({got!r})" if isinstance(got, (float, np.floating)) else ""
            return f"{name} should be an int, not {_describe(got)}{shown}"
        if int(got) != int(want):
            return (f"{name} is {int(got)}, expected {int(want)}" if values else
                    f"{name} is {int(got)}, not the expected integer (integers must be exact)")
        return None
    if not isinstance(got, (int, float, bool, np.ndarray, np.generic)):
        return f"{name} should be numbers, not {_describe(got)}"
    got_a, want_a = np.asarray(got), np.asarray(want)
    if got_a.dtype.kind not in "biuf":
        return f"{name} should hold numbers, not dtype {got_a.dtype}"
    if got_a.shape != want_a.shape:
        return f"{name} has shape {got_a.shape}, expected {want_a.shape}"
    integers = want_a.dtype.kind in "biu"
    if integers and got_a.dtype.kind not in "biu":
        return (f"{name} should be an array of integers (dtype {want_a.dtype}), not of dtype "
                f"{got_a.dtype}")
    got_f, want_f = got_a.astype(np.float64), want_a.astype(np.float64)
    broken = ~np.isfinite(got_f) & np.isfinite(want_f)
    if broken.any():
        index, _ = first_non_finite(np.where(broken, got_f, 0.0))
        return (f"{name} is not finite{_at(index, time_major)}: {got_f[index]} "
                f"({int(broken.sum())} of {broken.size} entries; an overflow?)")
    if exact or integers:
        bad = ~((got_f == want_f) | (np.isnan(got_f) & np.isnan(want_f)))
    else:
        bad = ~np.isclose(got_f, want_f, rtol=rtol, atol=atol, equal_nan=True)
    if not bad.any():
        return None
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    at = _at(index, time_major)
    if values:
        return (f"{name} differs from the reference{at}: got {got_f[index]:.6g}, expected "
                f"{want_f[index]:.6g} ({int(bad.sum())} of {bad.size} entries differ)")
    error = np.abs(got_f - want_f)
    worst = np.nanmax(np.where(bad, error, 0)) if np.isfinite(error[bad]).any() else np.inf
    tolerance = ("they must be equal" if exact or integers else
                 f"tolerance rtol={np.max(rtol):g}, atol={np.max(atol):g}")
    return (f"{name} differs from the expected value{at} ({int(bad.sum())} of {bad.size} "
            f"entries wrong; largest error {worst:.3g}, {tolerance})")


def zeroed(value):
    """value with every number in it set to 0, in the same structure (dicts, lists, tuples),
    shapes and types: given to a predicting function, it tells whether the function computes from
    the params it is given (one that kept its model in a global variable predicts the same)."""
    if isinstance(value, dict):
        return {key: zeroed(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)([zeroed(item) for item in value])
    if isinstance(value, np.ndarray) and value.dtype.kind in "iufc":
        return np.zeros_like(value)
    if isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_)):
        return type(value)(0)
    return value


def predicts_without_params(predict, params, xs, predicted, failures=Exception):
    """True if predict(params with every number 0, xs) gives ``predicted`` again, as a predicting
    function that kept its model in a global variable does; one that computes from its params
    cannot. A call that fails with one of ``failures`` (it needed its params) gives False."""
    try:
        with np.errstate(all="ignore"):
            blank = np.asarray(predict(zeroed(params), xs))
    except failures:
        return False
    return blank.shape == np.shape(predicted) and np.array_equal(blank, predicted)


def assert_close(got, expected, name, rtol=1e-6, atol=1e-8, time_major=False, hint=None):
    """Assert |got - expected| <= atol + rtol |expected| everywhere, naming the first bad entry.

    name: the quantity, as the book writes it ("h_t", "dW_h"); time_major: the first axis is time.
    An int or integer array expected must come back as integers, equal (see ``difference``).
    """
    suffix = f" Hint: {hint}" if hint else ""
    literal = isinstance(expected, (list, tuple))
    if literal:                                      # literal numbers, [[0.5, 2.0]] or [1, 2]
        try:
            expected = np.asarray(expected, dtype=np.float64)
        except (TypeError, ValueError):              # a tuple of results: compared item by item
            literal = False
    if not isinstance(expected, (dict, tuple, list)) and not _is_int(expected):
        expected = np.asarray(expected)
        # Against literal numbers, a list of numbers is numbers too. Against an array, a list is
        # not what the grader accepts (``difference``), so the visible test does not either.
        if literal and isinstance(got, (list, tuple)):
            try:
                got = np.asarray(got)
            except (TypeError, ValueError):
                pass
    message = difference(got, expected, name, rtol, atol, values=True, time_major=time_major)
    if message:
        raise AssertionError(message + ("" if message.endswith(("?", ".")) else ".") + suffix)


def assert_grads_close(got, expected, rtol=1e-6, atol=1e-8, hints=None):
    """assert_close for each key of a gradient dict, named dW_x, dW_h, ... in the messages."""
    hints = hints or {}
    if not isinstance(got, dict):
        raise AssertionError(f"the gradients should be a dict with keys {sorted(expected)}, "
                             f"got {type(got).__name__}")
    missing = sorted(set(expected) - set(got))
    if missing:
        raise AssertionError(f"the gradient dict is missing {missing}")
    for key in expected:
        assert_close(got[key], expected[key], "d" + key, rtol, atol, hint=hints.get(key))


def _parameter_names(fn, n):
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"argument {i + 1}" for i in range(n)]


def changed_argument(before, after, names):
    """The first name whose value differs between before and after (exactly), or None.
    Generators are skipped: drawing from the rng one is given is what it is for."""
    for name, b, a in zip(names, before, after):
        if isinstance(b, np.random.Generator) or callable(b):
            continue
        if difference(a, b, name, exact=True):
            return name
    return None


def assert_unchanged(fn, *args, name=None, kwargs=None):
    """fn(*args, **kwargs) on copies of the arguments; AssertionError naming the argument that fn
    wrote into (a function must not change its inputs); else fn's result."""
    kwargs = dict(kwargs or {})
    name = name or getattr(fn, "__name__", "the function")
    work_args, work_kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
    result = fn(*work_args, **work_kwargs)
    names = _parameter_names(fn, len(args)) + list(kwargs)
    changed = changed_argument(list(args) + list(kwargs.values()),
                               list(work_args) + list(work_kwargs.values()), names)
    if changed:
        raise AssertionError(
            f"{name} wrote into its argument {changed}: a function must not change its inputs "
            f"(the caller still needs them). Compute into a new array instead (e.g. "
            f"h = np.tanh(z), not np.tanh(z, out=h_prev); x = x + 1, not x += 1).")
    return result


# --- library functions an exercise asks for -------------------------------------------------------

class LibraryUnavailable(NotImplementedError):
    """A library function made unavailable while an exercise that asks for it is tested."""


def resolve(target):
    """(function, "module.name") of "module:name", "module.name" or a function."""
    if not isinstance(target, str):
        return target, f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', target)}"
    module, sep, attribute = target.partition(":")
    if not sep:
        module, _, attribute = target.rpartition(".")
    found = importlib.import_module(module)
    for part in attribute.split("."):
        found = getattr(found, part)
    return found, f"{module}.{attribute}"


_RAISER = """
def _make():
{cells}
    def {name}(*args, **kwargs):
{touch}
        raise __import__("rnncore.testing", fromlist=["_"]).LibraryUnavailable({message!r})
    return {name}
"""


def _raiser(function, message):
    """A function that raises LibraryUnavailable(message), with the same free variables as
    function, so that its __code__ can take function's place."""
    free = function.__code__.co_freevars
    source = _RAISER.format(
        name=function.__code__.co_name if function.__code__.co_name.isidentifier() else "hidden",
        cells="\n".join(f"    {v} = None" for v in free) or "    pass",
        touch=f"        ({', '.join(free)},)" if free else "        pass", message=message)
    namespace = {}
    exec(compile(source, f"<unavailable {message.split(' ')[0]}>", "exec"), namespace)
    made = namespace["_make"]()
    if made.__code__.co_freevars != free:             # (CPython orders them by name)
        raise RuntimeError(f"cannot hide {function!r}: free variables {free}")
    return made


def copy_function(function):
    """A new function object running function's code: untouched when function is hidden."""
    made = types.FunctionType(function.__code__, function.__globals__, function.__name__,
                              function.__defaults__, function.__closure__)
    made.__kwdefaults__ = function.__kwdefaults__
    made.__dict__.update(function.__dict__)
    made.__qualname__, made.__doc__ = function.__qualname__, function.__doc__
    made.__module__ = function.__module__
    return made


@contextlib.contextmanager
def without(*targets, why="in this test", missing_ok=False):
    """Inside the block, each target ("rnncore.rnn:step", or the function itself) raises
    LibraryUnavailable("rnncore.rnn.step is not available <why>: write this one yourself")
    when called, under any name it was imported as (its code is swapped, then restored; an
    autograd primitive's .fun and a wrapper's __wrapped__ too). missing_ok: a target that this
    installation does not have is skipped (nothing can call it) instead of raising."""
    swapped = []
    try:
        for target in targets:
            try:
                function, label = resolve(target)
            except (ImportError, AttributeError):
                if missing_ok:
                    continue
                raise
            if not isinstance(function, types.FunctionType):
                raise TypeError(f"without() hides Python functions; {label} is "
                                f"{type(function).__name__}")
            message = f"{label} is not available {why}: write this one yourself"
            swapped.append((function, "__code__", function.__code__))
            function.__code__ = _raiser(function, message).__code__
            for inner in ("fun", "__wrapped__"):
                if isinstance(function.__dict__.get(inner), types.FunctionType):
                    swapped.append((function, inner, function.__dict__[inner]))
                    setattr(function, inner, _raiser(function.__dict__[inner], message))
        yield
    finally:
        for owner, attribute, value in reversed(swapped):
            setattr(owner, attribute, value)


def warnings_to_stdout():
    """From now on, show warnings on standard output, like print, instead of standard error.

    nbgrader's Validate fails any test cell that writes to standard error, while the grader
    does not look at it: a correct answer that warns (a RuntimeWarning from numpy, a
    warnings.warn while debugging) would fail Validate and score full. Each assignment's first
    cell calls this, so that a warning is shown but fails nothing; exceptions still fail."""
    def show(message, category, filename, lineno, file=None, line=None):
        sys.stdout.write(warnings.formatwarning(message, category, filename, lineno, line))

    warnings.showwarning = show


# Every way of having a gradient or a Jacobian computed for you: autograd's entry points and
# rnncore.gradcheck's finite differences. Exercises whose answer is a derivative hide these while
# the student's functions run (without(*AUTODIFF)), in the visible tests and in the grading alike.
AUTODIFF = ("autograd:grad", "autograd:elementwise_grad", "autograd:jacobian",
            "autograd:value_and_grad", "autograd:grad_and_aux", "autograd:hessian",
            "autograd:make_vjp", "autograd:make_jvp", "autograd:holomorphic_grad",
            "autograd:deriv", "autograd:vector_jacobian_product",
            "autograd:tensor_jacobian_product", "autograd:make_hvp", "autograd:make_ggnvp",
            "autograd:hessian_tensor_product", "autograd.core:make_vjp",
            "autograd.core:make_jvp", "rnncore.gradcheck:numerical_gradient",
            "rnncore.gradcheck:check")
