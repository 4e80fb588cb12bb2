"""Gradient checks for *nested* parameter dicts (stacks, encoder-decoders, Transformer blocks).

:func:`rnncore.gradcheck.check` works on flat dicts of arrays, so the nested dict is flattened to
paths (``{"layer1/W_x": ...}``), finite differences run on the flat dict, and ``f`` sees the dict
rebuilt. A failure reports the path of the worst parameter, e.g. ``decoder/W_h``.
"""
import autograd
import numpy as np

from rnncore import gradcheck
from rnncore.trees import leaves


def flatten(params):
    """{"a": {"b": x}} -> {"a/b": x}, with the names rnncore.trees.leaves gives nested parameters."""
    return dict(leaves(params))


def unflatten(flat):
    """{"a/b": x} -> {"a": {"b": x}}."""
    nested = {}
    for path, value in flat.items():
        *parents, leaf = path.split("/")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return nested


def assert_gradients_match(f, params, eps=1e-6, tolerance=1e-5, atol=1e-9):
    """autograd.grad(f)(params) agrees with central differences of f, entry by entry: a relative
    error at most ``tolerance``, or an absolute one at most ``atol``. (Central differences of an
    f of order 1 carry a round-off error of about 1e-16 / eps = 1e-10, so an entry whose gradient
    is itself ~1e-7 cannot be checked to a relative 1e-5.) Returns the flattened gradients."""
    grads = flatten(autograd.grad(f)(params))
    assert all(np.all(np.isfinite(g)) for g in grads.values()), "autograd returned a non-finite gradient"
    numeric = gradcheck.numerical_gradient(lambda flat: f(unflatten(flat)), flatten(params), eps)
    report = gradcheck.compare(grads, numeric, tolerance)
    bad = [name for name in numeric
           if not np.all((gradcheck.relative_error(grads[name], numeric[name]) <= tolerance)
                         | (np.abs(grads[name] - numeric[name]) <= atol))]
    assert not bad, f"autograd and finite differences disagree for {bad}:\n{report}"
    return grads
