"""Trusted questions of chapter 5's assignment: what each test cell's points are awarded for.

Each question calls the student's function in the sandbox on hidden inputs drawn from rng, with
shapes other than the visible tests' (D = H, B = 1, H = 1, S = 1, H_v != H, long sequences),
and on edge cases that every draw reaches: saturated gates and cells (pre-activations near
+-800), scores whose column maxima lie far apart, every score -2000 or below with some masked (a
finite "large negative" mask fill above them takes the weight) (a softmax shifted by the whole batch's maximum
underflows), masked positions scoring far above every kept one (a mask applied after the
exponential underflows), and scores above 709 (an unshifted softmax overflows). expect_call
compares with the solution's result and fails a call that writes into its arguments.

While a question runs, the library functions that compute its answer are unavailable to the
submission (forbid=...): importing them earns nothing. bidirectional takes a function,
cell_forward: the library cell's forward (rnncore.rnn, gru or lstm) is passed as
library("rnncore.<cell>:forward"), which the sandbox's side receives as the function itself.
"""
import inspect

import numpy as np

from rnncore_grader.checks import expect, expect_call, library, question
from rnncore.testing import resolve

TOL = dict(rtol=1e-4, atol=1e-5)


def _present(*targets):
    """The targets this installed library defines: the fast paths' plain-numpy loops may live in
    the cell's module or in rnncore.fastpath, and a private helper may be renamed."""
    found = []
    for target in targets:
        try:
            function, _ = resolve(target)
        except (ImportError, AttributeError):
            continue
        if inspect.isfunction(function):
            found.append(target)
    return tuple(found)


LIBRARY_LSTM = _present("rnncore.lstm:step", "rnncore.lstm:cell_gates", "rnncore.lstm:cell",
                        "rnncore.lstm:forward", "rnncore.lstm:forward_reference",
                        "rnncore.fastpath.lstm:numpy_forward")
LIBRARY_GRU = _present("rnncore.gru:step", "rnncore.gru:cell_gates", "rnncore.gru:cell",
                       "rnncore.gru:forward", "rnncore.gru:forward_reference",
                       "rnncore.fastpath.gru:numpy_forward")
LIBRARY_BIDIRECTIONAL = ("rnncore.wrappers:bidirectional_forward",)
LIBRARY_ATTENTION = _present("rnncore.attention:dot_attention", "rnncore.attention:dot_scores",
                             "rnncore.attention:masked_softmax", "rnncore.attention:_context",
                             "rnncore.transformer:scaled_dot_product_attention",
                             "rnncore.numerics:softmax", "rnncore.numerics:log_softmax")

# Shapes of the hidden calls: none is a visible test's (B, D, H) = (3, 4, 5) or (2, 3, 2).
SHAPES = [(2, 5, 3), (4, 1, 6), (3, 5, 5), (1, 3, 2), (2, 3, 1), (5, 2, 4)]


def _signs(rng, n):
    """n random signs, both present (n >= 2)."""
    return rng.permutation(np.r_[1.0, -1.0, rng.choice([-1.0, 1.0], n - 2)])


def _pair(got, call, names):
    expect(isinstance(got, (tuple, list)) and len(got) == 2,
           f"{call} should return the pair {names}, not "
           + (f"{len(got)} values" if isinstance(got, (tuple, list))
              else f"a {type(got).__name__}"))
    return got


# --- lstm_step -----------------------------------------------------------------------------------

ORDER_HINT = ("the gate blocks of z come in the order i, f, g, o: i = sigmoid(z[:, :H]), "
              "f = sigmoid(z[:, H:2H]), g = tanh(z[:, 2H:3H]), o = sigmoid(z[:, 3H:]); "
              "c = f * c_prev + i * g, h = o * tanh(c) with the new c")


@question("test_lstm_step", forbid=LIBRARY_LSTM)
def lstm_step(student, ref, rng):
    for B, D, H in SHAPES:
        params = {"W_x": rng.normal(0.0, 0.7, (D, 4 * H)), "W_h": rng.normal(0.0, 0.7, (H, 4 * H)),
                  "b": rng.normal(0.0, 0.7, 4 * H)}
        x, h_prev = rng.normal(size=(B, D)), np.tanh(rng.normal(size=(B, H)))
        c_prev = rng.normal(size=(B, H))
        _pair(expect_call(student, ref, "lstm_step", params, x, (h_prev, c_prev),
                          where=f"for B={B}, D={D}, H={H}", hint=ORDER_HINT, **TOL),
              "lstm_step(params, x, state)", "(h, c)")
    # Saturation: every pre-activation near +-800 (both signs in every gate block) and cells
    # near +-900, where a sigmoid or tanh written with np.exp overflows to NaN.
    B, D, H = 3, 2, 4
    params = {"W_x": rng.normal(0.0, 0.7, (D, 4 * H)), "W_h": rng.normal(0.0, 0.7, (H, 4 * H)),
              "b": 800.0 * np.concatenate([_signs(rng, H) for _ in range(4)])}
    x, h_prev = rng.normal(size=(B, D)), np.tanh(rng.normal(size=(B, H)))
    c_prev = 900.0 * _signs(rng, B * H).reshape(B, H)
    expect_call(student, ref, "lstm_step", params, x, (h_prev, c_prev),
                where=f"for B={B}, D={D}, H={H}, saturated gates (|z| near 800) and cells near "
                      f"+-900",
                hint="each gate must come out exactly 0 or 1 and each tanh -1 or 1: use the "
                     "notebook's sigmoid and np.tanh (written with np.exp they overflow: "
                     "inf / inf = NaN)", **TOL)


# --- gru_step ------------------------------------------------------------------------------------

GRU_HINT = ("blocks r, z, n; n = tanh(x W_xn + b_xn + r * (h_prev W_hn + b_hn)): PyTorch's GRU "
            "resets AFTER the matmul, and the reset multiplies b_hn too; h = (1 - z) * n + "
            "z * h_prev")


@question("test_gru_step", forbid=LIBRARY_GRU)
def gru_step(student, ref, rng):
    for B, D, H in SHAPES:
        params = {"W_x": rng.normal(0.0, 0.7, (D, 3 * H)), "W_h": rng.normal(0.0, 0.7, (H, 3 * H)),
                  "b_x": rng.normal(0.0, 0.7, 3 * H), "b_h": rng.normal(0.0, 0.7, 3 * H)}
        x, h_prev = rng.normal(size=(B, D)), np.tanh(rng.normal(size=(B, H)))
        expect_call(student, ref, "gru_step", params, x, h_prev,
                    where=f"for B={B}, D={D}, H={H}", hint=GRU_HINT, **TOL)
    B, D, H = 3, 2, 4
    params = {"W_x": rng.normal(0.0, 0.7, (D, 3 * H)), "W_h": rng.normal(0.0, 0.7, (H, 3 * H)),
              "b_x": rng.normal(0.0, 0.7, 3 * H),
              # r = 1 everywhere (so that b_hn reaches the candidate), z and n of both signs
              "b_h": 800.0 * np.concatenate([np.ones(H), _signs(rng, H), _signs(rng, H)])}
    x, h_prev = rng.normal(size=(B, D)), np.tanh(rng.normal(size=(B, H)))
    expect_call(student, ref, "gru_step", params, x, h_prev,
                where=f"for B={B}, D={D}, H={H}, saturated gates and candidate (pre-activations "
                      f"near +-800)",
                hint="each gate must come out exactly 0 or 1 and the candidate -1 or 1: use the "
                     "notebook's sigmoid and np.tanh (written with np.exp they overflow: "
                     "inf / inf = NaN)", **TOL)


# --- bidirectional -------------------------------------------------------------------------------

@question("test_bidirectional", forbid=LIBRARY_BIDIRECTIONAL)
def bidirectional(student, ref, rng):
    from rnncore import gru, lstm, rnn, wrappers

    hint = ("hs[t] = [cell_forward(params['forward'], xs) states ; the backward cell's states "
            "on xs[::-1], reversed back]; final_f and final_b are the final states that "
            "cell_forward returns (for the LSTM the pair (h, c)), final_b after reading x_1")
    for cell in (rnn, gru, lstm):
        name = cell.__name__.rsplit(".", 1)[-1]
        for T, B, D, H in [(6, 2, 3, 2), (1, 2, 3, 3), (7, 1, 2, 4), (4, 3, 1, 1)]:
            params = wrappers.bidirectional_init(cell, D, H, rng)
            xs = rng.normal(size=(T, B, D))
            got = expect_call(student, ref, "bidirectional", library(f"rnncore.{name}:forward"),
                              params, xs, where=f"with rnncore.{name}.forward, T={T}, B={B}, "
                                                f"D={D}, H={H}", hint=hint, **TOL)
            _pair(got, "bidirectional(cell_forward, params, xs)", "(hs, (final_f, final_b))")


# --- attention -----------------------------------------------------------------------------------

WEIGHTS_HINT = ("e_s = q . k_s for every position s (sum over the last axis), then the softmax "
                "over the positions, axis 0 of the (S, B) scores: each column sums to 1; masked "
                "scores -inf before the maximum and np.exp; subtract each column's own maximum "
                "before np.exp")


def _scaled(query, keys, top):
    """query rescaled per batch element so that each column's largest score is exactly top."""
    scores = np.einsum("sbh,bh->sb", keys, query)                         # (S, B)
    flip = np.where(scores.max(axis=0) > 0, 1.0, -1.0)                   # make the top positive
    query = query * flip[:, None]
    return query * (top / (scores * flip).max(axis=0))[:, None]


@question("test_attention", forbid=LIBRARY_ATTENTION)
def attention(student, ref, rng):
    for S, B, H, H_v in [(5, 3, 4, 2), (1, 2, 3, 3), (7, 1, 2, 5), (4, 4, 6, 1), (6, 5, 3, 3)]:
        query, keys = rng.normal(size=(B, H)), rng.normal(size=(S, B, H))
        values = rng.normal(size=(S, B, H_v))
        mask = (rng.uniform(size=(S, B)) < 0.6).astype(int)
        mask[rng.integers(0, S, size=B), np.arange(B)] = 1            # at least one 1 per column
        where = f"for S={S}, B={B}, H={H}, H_v={H_v}"
        expect_call(student, ref, "attention", query, keys, values, where=where,
                    hint=WEIGHTS_HINT, **TOL)
        expect_call(student, ref, "attention", query, keys, values, mask,
                    where=where + ", masked", hint=WEIGHTS_HINT, **TOL)
    # Edge cases, each on every draw (S = 5, B = 3):
    S, B, H, H_v = 5, 3, 4, 3
    query, keys = rng.normal(size=(B, H)), rng.normal(size=(S, B, H))
    values = rng.normal(size=(S, B, H_v))
    # every column's top score exactly 1000: an unshifted exp overflows
    expect_call(student, ref, "attention", _scaled(query, keys, 1000.0), keys, values,
                where=f"for S={S}, B={B}, H={H}, scores up to 1000",
                hint="np.exp overflows above ~709: subtract each column's maximum first", **TOL)
    # column maxima 1000, 3 and 1: shifted by the batch's maximum, the other columns underflow
    tops = rng.permutation([1000.0, 3.0, 1.0])
    expect_call(student, ref, "attention", _scaled(query, keys, tops), keys,
                values, where=f"for S={S}, B={B}, H={H}, one column's scores 1000 above the "
                              f"others'",
                hint="shift each column by ITS OWN maximum (axis 0), not by the largest score "
                     "of the whole batch: exp(3 - 1000) is 0, and 0 / 0 is NaN", **TOL)
    # masked positions scoring far above every kept one (the kept maximum is 2)
    scaled = _scaled(query, keys, 2.0)
    scores = np.einsum("sbh,bh->sb", keys, scaled)
    top = np.argmax(scores, axis=0)                                      # (B,)
    high = keys.copy()
    mask = np.ones((S, B), dtype=int)
    for b in range(B):
        masked = (top[b] + 1 + rng.integers(0, S - 1)) % S              # not the kept maximum
        high[masked, b] = scaled[b] * (1000.0 / (scaled[b] @ scaled[b]))  # score exactly 1000
        mask[masked, b] = 0
    expect_call(student, ref, "attention", scaled, high, values, mask,
                where=f"for S={S}, B={B}, H={H}, masked positions scoring 1000, the kept ones "
                      f"at most 2",
                hint="mask the scores (to -inf) BEFORE taking the maximum and np.exp: a mask "
                     "applied after the exponential leaves exp(2 - 1000) = 0 for every kept "
                     "position", **TOL)
    # every score far BELOW 0 (-2000 and below, 40 apart: each column's weight goes to its best
    # kept position, in float32 too), some positions masked: a finite "large negative" fill
    # (-1000, say) lies above the kept scores and takes the weight
    query = rng.normal(size=(B, H))
    low = -2000.0 - 40.0 * np.stack([rng.permutation(S) for _ in range(B)], axis=1)   # scores
    noise = rng.normal(size=(S, B, H))
    noise -= (np.einsum("sbh,bh->sb", noise, query) / np.sum(query ** 2, axis=-1))[:, :, None] \
        * query                                                            # orthogonal to q
    keys = (low / np.sum(query ** 2, axis=-1))[:, :, None] * query + noise
    mask = np.ones((S, B), dtype=int)
    for b in range(B):
        mask[rng.choice(S, size=int(rng.integers(1, S)), replace=False), b] = 0
    expect_call(student, ref, "attention", query, keys, values, mask,
                where=f"for S={S}, B={B}, H={H}, every score -2000 or below, some masked",
                hint="set the masked scores to -inf (np.where(mask != 0, scores, -np.inf)): a "
                     "finite 'large negative' number such as -1000 lies ABOVE kept scores of "
                     "-2000, and the masked positions take the weight", **TOL)
