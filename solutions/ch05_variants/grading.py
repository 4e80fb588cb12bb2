"""Trusted questions of chapter 5's assignment: what each test cell's points are awarded for.

Each question calls the student's function in the sandbox on hidden inputs drawn from rng (other
shapes: D != H, D == H, B = 1, H = 1, S = 1, H_v != H; masks; large scores) and compares the
result with the solution's, or with the library's where the hidden tests did (the bidirectional
layer and attention).

bidirectional takes a function, cell_forward: the library cell's forward (rnncore.rnn, gru or
lstm) is passed as library("rnncore.<cell>:forward"), which the sandbox's side receives as the
function itself (see grader.checks).
"""
import numpy as np

from grader.checks import expect, expect_close, library, question
from rnncore import gru, lstm, rnn, wrappers
from rnncore.attention import dot_attention

TOL = dict(rtol=1e-4, atol=1e-5)

def _pair(got, call, names):
    expect(isinstance(got, (tuple, list)) and len(got) == 2,
           f"{call} should return the pair {names}, not "
           + (f"{len(got)} values" if isinstance(got, (tuple, list))
              else f"a {type(got).__name__}"))
    return got


# --- lstm_step -----------------------------------------------------------------------------------

ORDER_HINT = ("the gate blocks of z come in the order i, f, g, o: i = sigmoid(z[:, :H]), "
              "f = sigmoid(z[:, H:2H]), g = tanh(z[:, 2H:3H]), o = sigmoid(z[:, 3H:])")


@question("test_lstm_step")
def lstm_step(student, ref, rng):
    for B, D, H in [(3, 4, 5), (2, 5, 5), (1, 3, 2), (4, 1, 6), (2, 3, 1), (5, 2, 3)]:
        params = {"W_x": rng.normal(0.0, 0.7, (D, 4 * H)), "W_h": rng.normal(0.0, 0.7, (H, 4 * H)),
                  "b": rng.normal(0.0, 0.7, 4 * H)}
        x, h_prev = rng.normal(size=(B, D)), np.tanh(rng.normal(size=(B, H)))
        c_prev = rng.normal(size=(B, H))
        want_h, want_c = ref.lstm_step(params, x, (h_prev, c_prev))
        call = "lstm_step(params, x, (h_prev, c_prev))"
        h, c = _pair(student.lstm_step(params, x, (h_prev, c_prev)), call, "(h, c)")
        where = f"for B={B}, D={D}, H={H}"
        expect_close(c, want_c, f"the c of {call} {where}", **TOL,
                     hint="c = f * c_prev + i * g; " + ORDER_HINT)
        expect_close(h, want_h, f"the h of {call} {where}", **TOL,
                     hint="h = o * tanh(c), with the NEW cell state c; " + ORDER_HINT)


# --- gru_step ------------------------------------------------------------------------------------

@question("test_gru_step")
def gru_step(student, ref, rng):
    for B, D, H in [(3, 4, 5), (2, 5, 5), (1, 3, 2), (4, 1, 6), (2, 3, 1), (5, 2, 3)]:
        params = {"W_x": rng.normal(0.0, 0.7, (D, 3 * H)), "W_h": rng.normal(0.0, 0.7, (H, 3 * H)),
                  "b_x": rng.normal(0.0, 0.7, 3 * H), "b_h": rng.normal(0.0, 0.7, 3 * H)}
        x, h_prev = rng.normal(size=(B, D)), np.tanh(rng.normal(size=(B, H)))
        expect_close(student.gru_step(params, x, h_prev), ref.gru_step(params, x, h_prev),
                     f"gru_step(params, x, h_prev) for B={B}, D={D}, H={H}", **TOL,
                     hint="blocks r, z, n; n = tanh(x W_xn + b_xn + r * (h_prev W_hn + b_hn)): "
                          "PyTorch's GRU resets AFTER the matmul, and the reset multiplies b_hn "
                          "too; h = (1 - z) * n + z * h_prev")


# --- bidirectional -------------------------------------------------------------------------------

@question("test_bidirectional")
def bidirectional(student, ref, rng):
    halves = {"forward": "the forward half is cell_forward(params['forward'], xs)",
              "backward": "run cell_forward(params['backward'], ...) on xs[::-1], then reverse "
                          "its states back so that step t's state sits at index t"}
    for cell in (rnn, gru, lstm):
        name = cell.__name__.rsplit(".", 1)[-1]
        for T, B, D, H in [(5, 3, 4, 2), (1, 2, 3, 3), (7, 1, 2, 4), (4, 2, 1, 1)]:
            params = wrappers.bidirectional_init(cell, D, H, rng)
            xs = rng.normal(size=(T, B, D))
            want_hs, want_finals = wrappers.bidirectional_forward(cell, params, xs)
            call = f"bidirectional(rnncore.{name}.forward, params, xs)"
            where = f"for T={T}, B={B}, D={D}, H={H}"
            got = student.bidirectional(library(f"rnncore.{name}:forward"), params, xs)
            hs, finals = _pair(got, call, "(hs, (final_f, final_b))")
            hs = np.asarray(hs)
            expect(hs.shape == (T, B, 2 * H),
                   f"the hs of {call} {where} has shape {hs.shape}, expected (T, B, 2H) = "
                   f"{(T, B, 2 * H)}. Hint: concatenate the two directions' states on the last "
                   f"axis")
            expect_close(hs[..., :H], want_hs[..., :H], f"the forward half hs[..., :H] of {call} "
                         f"{where}", **TOL, hint=halves["forward"])
            expect_close(hs[..., H:], want_hs[..., H:], f"the backward half hs[..., H:] of "
                         f"{call} {where}", **TOL, hint=halves["backward"])
            finals = _pair(finals, call + "[1]", "(final_f, final_b)")
            for label, got, want in zip(("final_f", "final_b"), finals, want_finals):
                expect_close(got, want, f"the {label} of {call} {where}"
                             + (", the LSTM's pair (h, c)" if cell is lstm else ""), **TOL,
                             hint="pass on the final states that cell_forward returns: final_f "
                                  "from the forward cell, final_b from the backward one (after "
                                  "it has read x_1)")


# --- attention -----------------------------------------------------------------------------------

WEIGHTS_HINT = ("e_s = q . k_s for every position s (sum over the last axis), then the softmax "
                "over the positions, axis 0 of the (S, B) scores: each column sums to 1; masked "
                "scores -inf before it; subtract each column's maximum before np.exp")


@question("test_attention")
def attention(student, ref, rng):
    for S, B, H, H_v in [(5, 3, 4, 2), (1, 2, 3, 3), (7, 1, 2, 5), (4, 4, 6, 1), (6, 5, 3, 3)]:
        query, keys = rng.normal(size=(B, H)), rng.normal(size=(S, B, H))
        values = rng.normal(size=(S, B, H_v))
        mask = (rng.uniform(size=(S, B)) < 0.6).astype(int)
        mask[rng.integers(0, S, size=B), np.arange(B)] = 1            # at least one 1 per column
        for label, q, m in [("", query, None), (", masked", query, mask),
                            (", large scores", 300 * query, None),
                            (", masked, large scores", 300 * query, mask)]:
            want_context, want_weights = dot_attention(q, keys, values, m)
            call = "attention(query, keys, values" + (", mask)" if m is not None else ")")
            where = f"for S={S}, B={B}, H={H}, H_v={H_v}{label}"
            args = (q, keys, values) if m is None else (q, keys, values, m)
            context, weights = _pair(student.attention(*args), call, "(context, weights)")
            expect_close(weights, want_weights, f"the weights of {call} {where}", **TOL,
                         hint=WEIGHTS_HINT)
            expect_close(context, want_context, f"the context of {call} {where}", **TOL,
                         hint="context[b] = sum over s of weights[s, b] * values[s, b]")
