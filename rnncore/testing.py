"""Assertions for exercises and tests whose failures say what is wrong and where.

    >>> assert_close(hs, expected_hs, "hs", time_major=True, hint="is tanh applied?")
    AssertionError: hs differs from the reference at time step 3 (index (0, 2)):
    got 0.81, expected 0.67. Hint: is tanh applied?
"""
import numpy as np


def _place(index, time_major):
    if not index:
        return ""
    if time_major:
        rest = f" (index {index[1:]})" if len(index) > 1 else ""
        return f" at time step {index[0]}{rest}"
    return f" at index {index}"


def assert_close(got, expected, name, rtol=1e-6, atol=1e-8, time_major=False, hint=None):
    """Assert |got - expected| <= atol + rtol |expected| everywhere, naming the first bad entry.

    name: the quantity, as the book writes it ("h_t", "dW_h"); time_major: the first axis is time.
    """
    suffix = f" Hint: {hint}" if hint else ""
    if got is None:
        raise AssertionError(f"{name} is None: did the function return its result?{suffix}")
    try:
        got_array = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{name} should be an array of numbers, got {type(got).__name__}") from None
    expected = np.asarray(expected, dtype=np.float64)
    if got_array.shape != expected.shape:
        raise AssertionError(f"{name} has shape {got_array.shape}, expected {expected.shape}.{suffix}")
    finite = np.isfinite(got_array)
    if not finite.all():
        index = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise AssertionError(f"{name} is not finite{_place(index, time_major)}: "
                             f"{got_array[index]}.{suffix}")
    bad = np.abs(got_array - expected) > atol + rtol * np.abs(expected)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise AssertionError(
            f"{name} differs from the reference{_place(index, time_major)}: got "
            f"{got_array[index]:.6g}, expected {expected[index]:.6g} "
            f"({int(bad.sum())} of {bad.size} entries differ).{suffix}")


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
