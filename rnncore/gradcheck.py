"""Gradient checking: an independent witness for every gradient.

:func:`numerical_gradient` estimates gradients by central differences; :func:`compare` sets two
gradient dicts side by side and says *which* parameter and *which* index (for sequence-shaped
arrays, which time step, in the words of :func:`rnncore.testing.place`) disagree, with the
relative error there. Both take nested parameter dicts (``{"encoder": {"W_h": ...}, "output":
{...}}``); a nested array is named by its path, ``encoder/W_h`` (:func:`rnncore.trees.leaves`).
"""
import numpy as np

from .testing import place
from .trees import leaves


def numerical_gradient(f, params, eps=1e-6):
    """Central differences (f(p + eps) - f(p - eps)) / (2 eps) for every entry of every array.

    f: params dict (nested or not) -> scalar. Costs two evaluations of f per entry: for small checks
    only.
    """
    grads = {}
    for name, value in params.items():
        if isinstance(value, dict):                # a part of the model: its own gradients, nested
            grads[name] = numerical_gradient(lambda part: f({**params, name: part}), value, eps)
            continue
        value = np.asarray(value, dtype=np.float64)
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            bumped = value.copy()
            bumped[index] += eps
            plus = f({**params, name: bumped})
            bumped[index] -= 2 * eps
            minus = f({**params, name: bumped})
            grad[index] = (plus - minus) / (2 * eps)
        grads[name] = grad
    return grads


def relative_error(got, expected):
    """Elementwise |got - expected| / max(|got| + |expected|, 1e-8): 0 when equal, 1 when opposite."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    return np.abs(got - expected) / np.maximum(np.abs(got) + np.abs(expected), 1e-8)


class Report:
    """One row per array: the largest relative error, where it is, and whether it passes."""

    def __init__(self, rows, tolerance):
        self.rows, self.tolerance = rows, tolerance

    @property
    def ok(self):
        return all(row["ok"] for row in self.rows)

    @property
    def failures(self):
        return [row for row in self.rows if not row["ok"]]

    def __str__(self):
        lines = [f"{'array':<8} {'max rel. error':>14}  where"]
        for row in self.rows:
            mark = "ok" if row["ok"] else f"FAILS (tolerance {self.tolerance:g})"
            lines.append(f"{row['name']:<8} {row['error']:>14.2e}  {row['where']}: got "
                         f"{row['got']:.6g}, expected {row['expected']:.6g}  {mark}")
        return "\n".join(lines)

    def raise_if_failed(self):
        if not self.ok:
            raise AssertionError("gradients disagree:\n" + str(self))


def compare(got, expected, tolerance=1e-6, time_major=("xs", "hs", "dxs", "dhs")):
    """Compare two dicts of arrays (same keys, same shapes; nested or not) by relative error.

    Arrays named in ``time_major`` have time as their first axis, so their worst entry is reported
    as a time step. Returns a :class:`Report`; ``str(report)`` is a table.
    """
    got, expected = dict(leaves(got)), dict(leaves(expected))
    missing = sorted(set(expected) - set(got))
    if missing:
        raise ValueError(f"no gradient given for {missing}")
    rows = []
    for name in expected:
        g, e = np.asarray(got[name], dtype=np.float64), np.asarray(expected[name], dtype=np.float64)
        if g.shape != e.shape:
            raise ValueError(f"gradient {name} has shape {g.shape}, expected {e.shape}")
        errors = relative_error(g, e)
        index = np.unravel_index(np.argmax(errors), errors.shape) if errors.size else ()
        index = tuple(int(i) for i in index)
        worst = float(errors[index]) if errors.size else 0.0
        where = place(index, name.rsplit("/", 1)[-1] in time_major) or "value"
        rows.append({"name": name, "error": worst, "where": where,
                     "got": float(g[index]) if g.size else 0.0,
                     "expected": float(e[index]) if e.size else 0.0,
                     "ok": worst <= tolerance})
    return Report(rows, tolerance)


def check(f, params, grads, eps=1e-6, tolerance=1e-5, time_major=("xs", "hs", "dxs", "dhs")):
    """Check ``grads`` (a dict like params) against central differences of the scalar f(params)."""
    return compare(grads, numerical_gradient(f, params, eps), tolerance, time_major)
