"""Trusted questions of chapter 3's assignment: what each test cell's points are awarded for.

Each question calls the student's function in the sandbox on hidden inputs drawn from rng (other
shapes than the visible tests: D != H, D == H, B = 1, D = 1, T = 1, long T, saturated units,
other window lengths) and compares the result with the solution's, which the visible tests check
against autograd and finite differences. expect_call also fails a function that writes into its
arguments. rnn_backward runs with the library's step_backward and truncated_bptt with the
library's rnn_backward, so a wrong helper costs only its own points. While a question runs, the
library functions that compute its answer are unavailable to the submission (forbid).

When a result is wrong, the hint names the mistake if the result is what that mistake gives
(_MISTAKES below: each is computed here, on the same inputs), and the general rule otherwise.
"""
import numpy as np

from rnncore_grader.checks import expect_call, known_mistakes, question
from rnncore import rnn
from rnncore.testing import AUTODIFF

TOL = dict(rtol=1e-4, atol=1e-5)
KEYS = ("W_x", "W_h", "b_h")
# The exercise is the backward pass: the library's forward passes (rnn.step, rnn.forward,
# rnn.forward_reference) are allowed everywhere, but a gradient computed for the student is not:
# autograd's entry points and rnncore.gradcheck's finite differences are unavailable in every
# question, as in the visible tests (the notebook's AUTODIFF, the same list).


def _params(rng, D, H, scale=0.5):
    return {"W_x": rng.normal(0.0, scale, (D, H)), "W_h": rng.normal(0.0, scale, (H, H)),
            "b_h": rng.normal(0.0, scale, H)}


def _expect(student, ref, name, args, where, mistakes, hint):
    """expect_call whose hint, when the result is wrong, names the known mistake it matches
    (each mistake a function of args giving what that mistake returns), else the general hint."""
    return expect_call(student, ref, name, *args, where=where, **TOL,
                       diagnose=known_mistakes(mistakes, hint, **TOL))


# --- step_backward -------------------------------------------------------------------------------

def _step(params, x, h_prev, h, dh, mistake=None):
    """The step's gradients, or what a mistake makes of them."""
    slope = {"no_slope": 1.0, "tanh_of_h": 1.0 - np.tanh(h) ** 2}.get(mistake, 1.0 - h ** 2)
    dz = dh * slope
    grads = {"W_x": x.T @ dz, "W_h": (h if mistake == "h_not_h_prev" else h_prev).T @ dz,
             "b_h": dz.mean(axis=0) if mistake == "bias_mean" else dz.sum(axis=0)}
    W_h = params["W_h"] if mistake == "W_h_not_transposed" else params["W_h"].T
    return grads, dz @ W_h, dz @ params["W_x"].T


STEP_MISTAKES = {
    "bias_mean": "db_h is dz SUMMED over the batch (axis 0); yours is the mean",
    "no_slope": "the gradient must go back through the tanh first: dz = dh * (1 - h**2); yours "
                "uses dh as if it were dz",
    "tanh_of_h": "tanh'(z) = 1 - tanh(z)**2 = 1 - h**2, with h = tanh(z) already given; yours "
                 "applies tanh to h again, 1 - tanh(h)**2",
    "W_h_not_transposed": "dh_prev = dz @ W_h.T: h_prev was multiplied by W_h, so go back with "
                          "its transpose; yours uses W_h",
    "h_not_h_prev": "dW_h = h_prev.T @ dz: W_h multiplied h_prev, the state BEFORE the step; "
                    "yours uses h",
}
STEP_HINT = ("dz = dh * (1 - h**2); dW_x = x.T @ dz, dW_h = h_prev.T @ dz, db_h = dz summed over "
             "the batch; dh_prev = dz @ W_h.T, dx = dz @ W_x.T")


@question("test_step_backward",
          forbid=("rnncore.bptt:step_backward", "rnncore.bptt:backward",
                  "rnncore.bptt:rnn_backward", "rnncore.fastpath.rnn:numpy_backward")
          + AUTODIFF)
def step_backward(student, ref, rng):
    mistakes = {m: (lambda *a, m=m: _step(*a, mistake=m), why) for m, why in STEP_MISTAKES.items()}
    # (B, D, H, weight scale): never the visible (2, 1, 3) or (3, 4, 5); scale 3 saturates units
    for B, D, H, scale in [(4, 3, 5, 0.5), (2, 5, 5, 0.5), (1, 3, 2, 0.5), (5, 1, 6, 0.5),
                           (1, 1, 1, 0.5), (6, 3, 4, 0.5), (3, 2, 4, 3.0)]:
        params = _params(rng, D, H, scale)
        x, h_prev = rng.normal(size=(B, D)), np.tanh(rng.normal(size=(B, H)))
        dh = rng.normal(size=(B, H))
        h = rnn.step(params, x, h_prev)                    # the forward step these belong to
        where = f"for B={B}, D={D}, H={H}" + (" (some units saturated)" if scale > 1 else "")
        _expect(student, ref, "step_backward", (params, x, h_prev, h, dh), where, mistakes,
                STEP_HINT)


# --- rnn_backward --------------------------------------------------------------------------------

def _bptt(params, xs, hs, h0, dhs, mistake=None):
    """BPTT with the correct step, or what a mistake in the loop makes of it."""
    grads = {k: np.zeros_like(params[k]) for k in KEYS}
    dh_next = np.zeros_like(h0)
    order = {"forward_order": range(len(xs)),
             "skips_first_step": range(len(xs) - 1, 0, -1)}.get(mistake, reversed(range(len(xs))))
    for t in order:
        h_prev = hs[t - 1] if (t > 0 or mistake == "h_prev_wraps") else h0
        dh = dhs[t] if mistake == "not_carried" else dhs[t] + dh_next
        step, dh_prev, _ = _step(params, xs[t], h_prev, hs[t], dh)
        grads = step if mistake == "overwritten" else {k: grads[k] + step[k] for k in KEYS}
        dh_next, dh_at_h = dh_prev, dh
    return grads, (dh_at_h if mistake == "dh0_is_dh1" else dh_next)


BPTT_MISTAKES = {
    "not_carried": "the gradient from the future is not added: dL/dh_t = dhs[t] + the dh_prev "
                   "that step t + 1 returned",
    "overwritten": "the weights are shared by all steps: ADD each step's gradients to the sums "
                   "(+=); yours keeps only one step's",
    "h_prev_wraps": "at t = 0 the state before the step is h0: hs[t - 1] is hs[-1], the LAST "
                    "state, there",
    "forward_order": "BPTT runs backwards, from the last step to the first: the gradient of "
                     "step t needs what step t + 1 sends back",
    "skips_first_step": "the loop must run down to the first step, t = 0 (range(T - 1, -1, -1) "
                        "or reversed(range(T))); yours stops before it",
    "dh0_is_dh1": "dh0 is the dh_prev that the FIRST step (t = 0) returns, the gradient at h_0; "
                  "yours is the gradient at h_1, before that step",
}
BPTT_HINT = ("going backwards, dL/dh_t = dhs[t] + the dh_prev of step t + 1, and each weight's "
             "gradient is the SUM of the steps' contributions; the state before hs[0] is h0; "
             "dh0 is the last dh_prev")


@question("test_rnn_backward",
          forbid=("rnncore.bptt:backward", "rnncore.bptt:rnn_backward",
                  "rnncore.fastpath.rnn:numpy_backward") + AUTODIFF)
def rnn_backward(student, ref, rng):
    # The student's rnn_backward with the library's step, as in the visible tests.
    own = student.using(step_backward="rnncore.bptt:step_backward")
    mistakes = {m: (lambda *a, m=m: _bptt(*a, mistake=m), why) for m, why in BPTT_MISTAKES.items()}
    # never the visible (T, B, D, H) = (2, 1, 1, 1) or (5, 3, 2, 4)
    for T, B, D, H in [(4, 3, 4, 6), (4, 2, 3, 3), (1, 2, 3, 4), (12, 1, 2, 3), (3, 1, 1, 1),
                       (6, 2, 5, 2)]:
        params = _params(rng, D, H)
        xs, h0 = rng.normal(size=(T, B, D)), np.tanh(rng.normal(size=(B, H)))
        hs, _ = rnn.forward(params, xs, h0)
        G = rng.normal(size=(T, B, H))
        # The loss first at one time step only (so a failure names the step), then everywhere.
        for t in (list(range(T)) if T <= 6 else [0, T - 1]) + ["all"]:
            dhs = G if t == "all" else np.where(np.arange(T)[:, None, None] == t, G, 0.0)
            at = "every time step" if t == "all" else f"time step {t} only"
            _expect(own, ref, "rnn_backward", (params, xs, hs, h0, dhs),
                    f"(loss at {at}; T={T}, B={B}, D={D}, H={H})", mistakes, BPTT_HINT)


# --- truncated_bptt ------------------------------------------------------------------------------

def _windows(params, xs, h0, dhs, k, mistake=None):
    """Truncated BPTT with a carried state, or what a mistake makes of it."""
    hs_all, h_T = rnn.forward(params, xs, h0)
    starts = list(range(0, len(xs) - (k - 1 if mistake == "drops_last_window" else 0), k))
    full, dh = {}, np.zeros_like(h0)                 # full BPTT, step by step (for "carried")
    for t in reversed(range(len(xs))):
        full[t], dh, _ = _step(params, xs[t], hs_all[t - 1] if t else h0, hs_all[t], dhs[t] + dh)
    grads, h, h_end = [], h0, h0
    for start in starts:
        stop = min(start + k, len(xs))
        if mistake == "not_carried":
            h = h0
        elif mistake == "start_off_by_one":
            h = hs_all[start] if start else h0
        hs_w, h_end = rnn.forward(params, xs[start:stop], h)
        if mistake == "gradient_carried":
            grads.append({n: sum(full[t][n] for t in range(start, stop)) for n in KEYS})
        else:
            grads.append(_bptt(params, xs[start:stop], hs_w, h, dhs[start:stop])[0])
        h = h_end
    return grads, (h_end if mistake in ("not_carried", "drops_last_window") else h_T)


WINDOW_MISTAKES = {
    "not_carried": "the state is carried FORWARD: each window starts where the previous one "
                   "ended (h0 only for the first); yours starts every window from h0",
    "start_off_by_one": "the window that begins at step index s starts from hs[s - 1], the state "
                        "after the previous window's last step; yours starts from hs[s]",
    "drops_last_window": "when k does not divide T, the last window is shorter, but it is still a "
                         "window: range(0, T, k)",
    "gradient_carried": "no gradient crosses a window boundary: run the backward pass on each "
                        "window alone (nothing comes from the future at its last step); yours is "
                        "full BPTT split into windows",
}
WINDOW_HINT = ("one window after the other: rnn.forward on the window's inputs from the state "
               "where the last window ended, then rnn_backward on that window alone; one "
               "gradient dict per window, in order, and the state after the last step")


@question("test_truncated_bptt",
          forbid=("rnncore.rnn_lm:window_starts", "rnncore.rnn_lm:frozen_window_loss",
                  "rnncore.fastpath.rnn:numpy_backward") + AUTODIFF)
def truncated_bptt(student, ref, rng):
    # The student's truncated_bptt with the library's rnn_backward, as in the visible tests.
    own = student.using(rnn_backward="rnncore.bptt:rnn_backward")
    mistakes = {m: (lambda *a, m=m: _windows(*a, mistake=m), why)
                for m, why in WINDOW_MISTAKES.items()}
    # never the visible (T, B, D, H, k) = (3, 1, 1, 1, 2) or (7, 2, 3, 4, 3)
    for T, B, D, H, k in [(9, 2, 3, 4, 4), (6, 3, 2, 5, 2), (5, 1, 3, 3, 5), (4, 2, 2, 3, 1),
                          (10, 2, 4, 3, 3), (3, 1, 1, 2, 10)]:
        params = _params(rng, D, H)
        xs, h0 = rng.normal(size=(T, B, D)), np.tanh(rng.normal(size=(B, H)))
        dhs = rng.normal(size=(T, B, H))
        _expect(own, ref, "truncated_bptt", (params, xs, h0, dhs, k),
                f"for T={T}, B={B}, D={D}, H={H}, k={k}", mistakes, WINDOW_HINT)
