"""rnncore in the browser: Pyodide, the Python of the book's *Run in the browser* (JupyterLite).

Pyodide runs CPython and numpy compiled to WebAssembly, a 32-bit platform: there numpy's index type
``np.intp`` is int32, while ``np.random.Generator.integers`` and ``choice`` and the ids built by
``rnncore`` are int64. ``np.bincount`` casts its input to ``np.intp`` with the "safe" rule, so under
Pyodide it refuses every int64 array ("Cannot cast array data from dtype('int64') to
dtype('int32') according to the rule 'safe'"), even when every value is a small count index.
It is the one difference met so far: chapters 1 and 3 to 6 and exercises 1 to 7 ran there in full,
and chapter 2 and exercise 8 stopped at a bincount of int64 ids.

:func:`bincount` casts integer input to the index type when every value fits, and otherwise
leaves it to numpy (which then raises as before). :func:`patch_numpy` installs it as
``numpy.bincount`` and ``autograd.numpy.bincount``; ``import rnncore`` does so under Pyodide only
(``sys.platform == "emscripten"``), so on a laptop nothing changes.
"""
import numpy as np

INDEX = np.intp                      # the platform's index type (int32 under Pyodide)
_bincount = np.bincount              # numpy's own


def bincount(x, weights=None, minlength=0):
    """``np.bincount`` that also takes int64 (or any integer) input whose values fit ``INDEX``."""
    array = np.asarray(x)
    if array.dtype.kind in "iu" and not np.can_cast(array.dtype, INDEX, casting="safe"):
        info = np.iinfo(INDEX)
        if array.size == 0 or (info.min <= array.min() and array.max() <= info.max):
            array = array.astype(INDEX)
    return _bincount(array, weights, minlength)


def patch_numpy():
    """Make ``numpy.bincount`` (and autograd's) accept int64 indices on a 32-bit numpy."""
    import autograd.numpy as anp
    np.bincount = bincount
    anp.bincount = bincount
