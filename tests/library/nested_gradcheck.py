"""Gradient checks for *nested* parameter dicts (stacks, encoder-decoders, Transformer blocks).

:func:`rnncore.gradcheck.numerical_gradient` and :func:`rnncore.gradcheck.compare` take nested
dicts; the verdict is the one comparison every assertion uses, :func:`rnncore.testing.difference`,
which names the path and index of the first entry that differs (``the gradient['decoder']['W_h']
... at index (2, 0)``), with the table of :func:`rnncore.gradcheck.compare` below it.
"""
import autograd

from rnncore import gradcheck
from rnncore.testing import difference
from rnncore.trees import leaves
from rnncore.validation import first_non_finite


def assert_gradients_match(f, params, eps=1e-6, tolerance=1e-5, atol=1e-9):
    """autograd.grad(f)(params) agrees with central differences of f, entry by entry: within
    atol + rtol |numeric| where rtol = 2 tolerance / (1 - tolerance), which accepts every entry whose
    relative error |g - n| / (|g| + |n|) is at most ``tolerance`` or whose absolute error is at most
    ``atol``. (Central differences of an f of order 1 carry a round-off error of about
    1e-16 / eps = 1e-10, so an entry whose gradient is itself ~1e-7 cannot be checked to a relative
    1e-5.) Returns the gradients flattened to paths ({"decoder/W_h": ...})."""
    grads = autograd.grad(f)(params)
    broken = [name for name, g in leaves(grads) if first_non_finite(g) is not None]
    assert not broken, f"autograd returned a non-finite gradient for {broken}"
    numeric = gradcheck.numerical_gradient(f, params, eps)
    problem = difference(grads, numeric, "the gradient", rtol=2 * tolerance / (1 - tolerance),
                         atol=atol)
    assert problem is None, (f"autograd and finite differences disagree: {problem}\n"
                             f"{gradcheck.compare(grads, numeric, tolerance)}")
    return dict(leaves(grads))
