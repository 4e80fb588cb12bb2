"""Trusted questions of chapter 3's assignment: what each test cell's points are awarded for.

Each question calls the student's function in the sandbox on hidden inputs drawn from rng (other
shapes: D != H, D == H, B = 1, D = 1, T = 1, long T) and compares the gradients with the
solution's (which agree with autograd's, as the hidden tests checked them). rnn_backward runs
with the library's step_backward, so a wrong step_backward costs only its own points.
"""
import numpy as np

from grader.checks import expect, expect_close, question
from rnncore import rnn

TOL = dict(rtol=1e-4, atol=1e-5)
GRAD_KEYS = ("W_x", "W_h", "b_h")


def _params(rng, D, H):
    return {"W_x": rng.normal(0.0, 0.5, (D, H)), "W_h": rng.normal(0.0, 0.5, (H, H)),
            "b_h": rng.normal(0.0, 0.5, H)}


def _expect_grads(got, want, call, where, hints):
    """got: the student's dict of gradients; want: the solution's; only the three keys count."""
    expect(isinstance(got, dict), f"the grads returned by {call} should be a dict with keys "
                                  f"W_x, W_h, b_h, not a {type(got).__name__}")
    for key in GRAD_KEYS:
        expect(key in got, f"the grads returned by {call} have no key {key!r}. Hint: a dict "
                           f"with keys W_x, W_h, b_h")
        expect_close(got[key], want[key], f"grads[{key!r}] of {call} {where}", **TOL,
                     hint=hints[key])


# --- step_backward -------------------------------------------------------------------------------

STEP_HINTS = {"W_x": "dW_x = x.T @ dz with dz = dh * (1 - h**2), the gradient at z",
              "W_h": "dW_h = h_prev.T @ dz (with dz = dh * (1 - h**2))",
              "b_h": "db_h is dz summed over the batch (axis 0), with dz = dh * (1 - h**2)"}


@question("test_step_backward")
def step_backward(student, ref, rng):
    call = "step_backward(params, x, h_prev, h, dh)"
    for B, D, H in [(3, 4, 5), (2, 5, 5), (1, 3, 2), (4, 1, 6), (1, 1, 1), (6, 3, 4)]:
        params = _params(rng, D, H)
        x, h_prev = rng.normal(size=(B, D)), np.tanh(rng.normal(size=(B, H)))
        dh = rng.normal(size=(B, H))
        h = rnn.step(params, x, h_prev)                   # the forward step these belong to
        want_grads, want_dh_prev, want_dx = ref.step_backward(params, x, h_prev, h, dh)
        got = student.step_backward(params, x, h_prev, h, dh)
        where = f"for B={B}, D={D}, H={H}"
        expect(isinstance(got, (tuple, list)) and len(got) == 3,
               f"{call} should return the triple (grads, dh_prev, dx), not "
               + (f"{len(got)} values" if isinstance(got, (tuple, list))
                  else f"a {type(got).__name__}"))
        grads, dh_prev, dx = got
        _expect_grads(grads, want_grads, call, where, STEP_HINTS)
        expect_close(dh_prev, want_dh_prev, f"dh_prev of {call} {where}", **TOL,
                     hint="dh_prev = dz @ W_h.T: h_prev was multiplied by W_h, so go back "
                          "with W_h.T")
        expect_close(dx, want_dx, f"dx of {call} {where}", **TOL, hint="dx = dz @ W_x.T")


# --- rnn_backward --------------------------------------------------------------------------------

BPTT_HINT = ("going backwards, dL/dh_t = dhs[t] + the dh_prev of step t + 1 (is dh_next added?), "
             "and each weight's gradient is the SUM of the steps' contributions (+=, not =); the "
             "state before hs[0] is h0")


@question("test_rnn_backward")
def rnn_backward(student, ref, rng):
    # The student's rnn_backward with the library's step, as in the visible tests.
    own = student.using(step_backward="rnncore.bptt:step_backward")
    call = "rnn_backward(params, xs, hs, h0, dhs)"
    for T, B, D, H in [(5, 3, 4, 6), (4, 2, 3, 3), (1, 2, 3, 4), (12, 1, 2, 3), (3, 1, 1, 1)]:
        params = _params(rng, D, H)
        xs, h0 = rng.normal(size=(T, B, D)), np.tanh(rng.normal(size=(B, H)))
        hs, _ = rnn.forward(params, xs, h0)
        G = rng.normal(size=(T, B, H))
        # The loss first at one time step only (so a failure names the step), then everywhere.
        for t in list(range(T)) + ["all"]:
            dhs = G if t == "all" else np.where(np.arange(T)[:, None, None] == t, G, 0.0)
            want_grads, want_dh0 = ref.rnn_backward(params, xs, hs, h0, dhs)
            got = own.rnn_backward(params, xs, hs, h0, dhs)
            at = "every time step" if t == "all" else f"time step {t} only"
            where = f"(loss at {at}; T={T}, B={B}, D={D}, H={H})"
            expect(isinstance(got, (tuple, list)) and len(got) == 2,
                   f"{call} should return the pair (grads, dh0), not "
                   + (f"{len(got)} values" if isinstance(got, (tuple, list))
                      else f"a {type(got).__name__}"))
            grads, dh0 = got
            _expect_grads(grads, want_grads, call, where, dict.fromkeys(GRAD_KEYS, BPTT_HINT))
            expect_close(dh0, want_dh0, f"dh0 of {call} {where}", **TOL,
                         hint="dh0 is the dh_prev of the first step (t = 0), after every later "
                              "step; " + BPTT_HINT)
