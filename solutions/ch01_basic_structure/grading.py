"""Trusted questions of chapter 1's assignment: what each test cell's points are awarded for.

Each question calls the student's function in the sandbox on hidden inputs (other shapes:
D != H, D == H, B = 1, D = 1, T = 1, long T) and compares the result with the solution's.
"""
import numpy as np

from grader.checks import expect_close, question

TOL = dict(rtol=1e-4, atol=1e-5)


def _params(rng, D, H):
    return {"W_x": rng.normal(0.0, 0.5, (D, H)), "W_h": rng.normal(0.0, 0.5, (H, H)),
            "b_h": rng.normal(0.0, 0.5, H)}


@question("test_rnn_step")
def rnn_step(student, ref, rng):
    for B, D, H in [(1, 2, 2), (3, 4, 5), (2, 5, 5), (1, 3, 2), (4, 1, 6)]:
        params, x = _params(rng, D, H), rng.normal(size=(B, D))
        h_prev = np.tanh(rng.normal(size=(B, H)))
        expect_close(student.rnn_step(params, x, h_prev), ref.rnn_step(params, x, h_prev),
                     f"rnn_step(params, x, h_prev) for B={B}, D={D}, H={H}", **TOL,
                     hint="h = tanh(h_prev @ W_h + x @ W_x + b_h); is tanh applied, is the bias "
                          "added, and is the memory term h_prev @ W_h (not h_prev @ W_h.T)?")


@question("test_rnn_forward")
def rnn_forward(student, ref, rng):
    # The student's rnn_forward with the library's step, so a wrong rnn_step costs only its own
    # points (as in the visible tests).
    own = student.using(rnn_step="rnncore.rnn:step")
    for T, B, D, H in [(3, 1, 1, 1), (5, 3, 4, 6), (4, 2, 3, 3), (1, 2, 3, 4), (25, 1, 2, 3)]:
        params, xs = _params(rng, D, H), rng.normal(size=(T, B, D))
        h0 = np.tanh(rng.normal(size=(B, H)))
        expect_close(own.rnn_forward(params, xs, h0), ref.rnn_forward(params, xs, h0),
                     f"rnn_forward(params, xs, h0) = (hs, h_T) for T={T}, B={B}, D={D}, H={H}",
                     **TOL, hint="is the new state carried on to the next step, does hs hold "
                                 "h_1..h_T (not h_0), and is h_T the last state?")


@question("test_output_layer")
def output_layer(student, ref, rng):
    for shape, V in [((4, 3, 5), 7), ((1, 1, 2), 2), ((6, 2, 4), 3), ((3, 5), 7)]:
        H = shape[-1]
        params = {"W_y": rng.normal(0.0, 0.5, (H, V)), "b_y": rng.normal(0.0, 0.5, V)}
        hs = np.tanh(rng.normal(size=shape))
        expect_close(student.output_layer(params, hs), ref.output_layer(params, hs),
                     f"output_layer(params, hs) for hs of shape {shape}, V={V}", **TOL,
                     hint="logits = hs @ W_y + b_y, with no activation; the same code must work "
                          "for (B, H) as for (T, B, H)")
