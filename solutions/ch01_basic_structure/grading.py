"""Trusted questions of chapter 1's assignment: what each test cell's points are awarded for.

Each question calls the student's function in the sandbox on hidden inputs (shapes, seeds and
masks other than the visible tests': D = H, B = 1, T = 1, long T, saturating inputs) and compares
the result with the solution's (expect_call also fails a call that writes into its arguments).
While a question runs, the library functions that compute what it asks for are unavailable to the
submission (forbid=...), so an answer that imports them loses the points.
"""
import numpy as np

from rnncore_grader.checks import expect_call, question

TOL = dict(rtol=1e-4, atol=1e-5)

LIBRARY_STEP = ("rnncore.rnn:step", "rnncore.rnn:cell", "rnncore.rnn:forward",
                "rnncore.rnn:forward_reference", "rnncore.fastpath.rnn:numpy_forward")
LIBRARY_FORWARD = ("rnncore.rnn:forward", "rnncore.rnn:forward_reference",
                   "rnncore.fastpath.rnn:numpy_forward", "rnncore.wrappers:masked_forward",
                   "rnncore.wrappers:stacked_forward")
LIBRARY_OUTPUT = ("rnncore.linear:forward",)


def _params(rng, D, H):
    return {"W_x": rng.normal(0.0, 0.5, (D, H)), "W_h": rng.normal(0.0, 0.5, (H, H)),
            "b_h": rng.normal(0.0, 0.5, H)}


@question("test_rnn_step", forbid=LIBRARY_STEP)
def rnn_step(student, ref, rng):
    hint = ("h = tanh(z), z = the memory term + the input term + b_h, in the row layout: "
            "h_prev @ W_h (not h_prev @ W_h.T) and x @ W_x")
    for B, D, H in [(2, 3, 5), (4, 1, 6), (3, 5, 5), (1, 3, 2), (5, 6, 4)]:
        params, x = _params(rng, D, H), rng.normal(size=(B, D))
        h_prev = np.tanh(rng.normal(size=(B, H)))
        expect_call(student, ref, "rnn_step", params, x, h_prev,
                    where=f"for B={B}, D={D}, H={H}", hint=hint, **TOL)
    # Saturation: biases of +-800 (both signs, in random units) put every pre-activation near
    # +-800, where a tanh written with np.exp overflows whichever form it takes.
    B, D, H = 3, 2, 4
    params, x = _params(rng, D, H), rng.normal(size=(B, D))
    params["b_h"] = 800.0 * rng.permutation(np.r_[1.0, -1.0, rng.choice([-1.0, 1.0], H - 2)])
    h_prev = np.tanh(rng.normal(size=(B, H)))
    expect_call(student, ref, "rnn_step", params, x, h_prev,
                where=f"for B={B}, D={D}, H={H}, pre-activations near +-800",
                hint="use np.tanh: a tanh written with np.exp overflows for large inputs", **TOL)


@question("test_rnn_forward", forbid=LIBRARY_FORWARD)
def rnn_forward(student, ref, rng):
    # The student's rnn_forward with the library's step, so a wrong rnn_step costs only its own
    # points (as in the visible tests).
    own = student.using(rnn_step="rnncore.rnn:step")
    hint = ("is the new state carried on to the next step, does hs hold h_1..h_T (not h_0), and "
            "is the last value each sequence's final state?")
    for T, B, D, H in [(5, 3, 4, 6), (4, 2, 3, 3), (1, 2, 3, 4), (25, 1, 2, 3)]:
        params, xs = _params(rng, D, H), rng.normal(size=(T, B, D))
        h0 = np.tanh(rng.normal(size=(B, H)))
        expect_call(own, ref, "rnn_forward", params, xs, h0,
                    where=f"for T={T}, B={B}, D={D}, H={H}, without a mask", hint=hint, **TOL)
    # Padded batches: lengths from 1 to T (one full, one of length 1), junk in the padding,
    # masks of floats, of ints and of bools.
    for T, B, D, H, kind in [(7, 4, 2, 5, float), (9, 3, 4, 4, bool), (5, 5, 1, 3, int)]:
        lengths = np.r_[T, 1, rng.integers(1, T + 1, size=B - 2)]
        rng.shuffle(lengths)
        mask = (np.arange(T)[:, None] < lengths[None, :]).astype(kind)       # (T, B)
        params, h0 = _params(rng, D, H), np.tanh(rng.normal(size=(B, H)))
        xs = np.where(mask[..., None] != 0, rng.normal(size=(T, B, D)), 1000.0)
        expect_call(own, ref, "rnn_forward", params, xs, h0, mask,
                    where=f"for T={T}, B={B}, D={D}, H={H} and a {kind.__name__} mask with "
                          f"lengths {lengths.tolist()}",
                    hint="at a padded step (mask 0) the state stays as it was and hs is 0; the "
                         "last value is each sequence's state after its own last real step "
                         "(not hs[-1])", **TOL)


@question("test_output_layer", forbid=LIBRARY_OUTPUT)
def output_layer(student, ref, rng):
    for shape, V in [((4, 2, 5), 6), ((1, 2, 2), 3), ((6, 2, 4), 3), ((3, 5), 7), ((2, 6), 1)]:
        H = shape[-1]
        params = {"W_y": rng.normal(0.0, 0.5, (H, V)), "b_y": rng.normal(0.0, 0.5, V)}
        hs = np.tanh(rng.normal(size=shape))
        expect_call(student, ref, "output_layer", params, hs,
                    where=f"for hs of shape {shape}, V={V}", **TOL,
                    hint="logits = hs @ W_y + b_y, with no activation; the same code must work "
                         "for (B, H) as for (T, B, H)")
