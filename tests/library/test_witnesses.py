"""The witnesses of chapter 3 are independent of what they check.

autograd applied to ``rnn_lm.loss`` differentiates the fast layer ``rnn.forward``, whose gradient
is the hand-written ``fastpath.rnn.numpy_backward``: it is no witness for hand-written BPTT. The
witness is ``rnn_lm.loss(..., reference=True)``, the plain loop ``rnn.forward_reference`` differentiated by
autograd op by op; these tests plant bugs in the fast path and check that it catches them. They
also check the truncated gradient against central differences of its surrogate loss.
"""
import autograd
import numpy as np
import pytest

from rnncore import bptt, fastpath, gradcheck, rnn, rnn_lm


def make(T=6, B=3, D=2, H=4, V=5, seed=0):
    rng = np.random.default_rng(seed)
    params = rnn_lm.init(D, H, V, rng)
    params["b_h"] = 0.1 * rng.normal(size=H)
    xs = rng.normal(size=(T, B, D))
    h0 = 0.5 * rng.normal(size=(B, H))
    targets = rng.integers(0, V, size=(T, B))
    return params, xs, h0, targets


def _bugs():
    """Plausible mistakes in a hand-written backward pass, planted in fastpath.rnn.numpy_backward."""
    good = fastpath.rnn.numpy_backward

    def half_bias(*args, **kwargs):                     # db_h averaged instead of summed (B = 2)
        dW_x, dW_h, db_h, dxs, dh0 = good(*args, **kwargs)
        return dW_x, dW_h, 0.5 * db_h, dxs, dh0

    def off_by_one(W_x, W_h, xs, h0, hs, dhs, nonlinearity="tanh", need_dxs=True):
        # h_t in place of h_{t-1} in dW_h: the states passed in are shifted by one step
        dW_x, _, db_h, dxs, dh0 = good(W_x, W_h, xs, h0, hs, dhs, nonlinearity, need_dxs)
        _, dW_h, _, _, _ = good(W_x, W_h, xs, hs[0], np.concatenate([hs[1:], hs[-1:]]), dhs,
                                nonlinearity, need_dxs)
        return dW_x, dW_h, db_h, dxs, dh0

    def not_carried(W_x, W_h, xs, h0, hs, dhs, nonlinearity="tanh", need_dxs=True):
        # the gradient from the future dropped: each step on its own (T separate one-step calls)
        parts = [good(W_x, W_h, xs[t:t + 1], h0 if t == 0 else hs[t - 1], hs[t:t + 1],
                      dhs[t:t + 1], nonlinearity, need_dxs) for t in range(len(xs))]
        total = [sum(p[i] for p in parts) for i in range(3)]
        dxs = np.concatenate([p[3] for p in parts]) if need_dxs else None
        return (*total, dxs, parts[0][4])

    return {"half_bias": (half_bias, ["b_h"]), "off_by_one": (off_by_one, ["W_h"]),
            "not_carried": (not_carried, ["W_x", "W_h", "b_h"])}


def test_reference_path_is_the_same_model():
    params, xs, h0, targets = make()
    fast = rnn_lm.forward(params, xs, h0)
    slow = rnn_lm.forward(params, xs, h0, reference=True)
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rnn_lm.loss(params, xs, targets, h0, truncate=2),
                               rnn_lm.loss(params, xs, targets, h0, truncate=2, reference=True),
                               rtol=1e-13)


@pytest.mark.parametrize("truncate", [None, 2])
def test_hand_bptt_agrees_with_the_reference_witness(truncate):
    params, xs, h0, targets = make(seed=1)
    _, grads = bptt.loss_and_grads(params, xs, targets, h0, truncate=truncate)
    witness = autograd.grad(rnn_lm.loss)(params, xs, targets, h0, truncate=truncate,
                                        reference=True)
    report = gradcheck.compare(grads, witness, tolerance=1e-10)
    assert report.ok, report


@pytest.mark.parametrize("bug", ["half_bias", "off_by_one", "not_carried"])
def test_a_bug_planted_in_the_fast_path_is_caught_by_the_reference_witness(monkeypatch, bug):
    params, xs, h0, targets = make(seed=2)
    witness = autograd.grad(rnn_lm.loss)(params, xs, targets, h0, reference=True)
    planted, broken = _bugs()[bug]
    monkeypatch.setattr(fastpath.rnn, "numpy_backward", planted)
    fast = autograd.grad(rnn_lm.loss)(params, xs, targets, h0)          # follows the bug
    again = autograd.grad(rnn_lm.loss)(params, xs, targets, h0, reference=True)
    report = gradcheck.compare(fast, witness, tolerance=1e-8)
    assert [row["name"] for row in report.failures] == broken, report
    assert gradcheck.compare(again, witness, tolerance=1e-14).ok, "the witness must not move"


@pytest.mark.parametrize("truncate", [1, 2, 4, 6])
def test_truncated_gradient_is_the_gradient_of_the_frozen_window_surrogate(truncate):
    params, xs, h0, targets = make(T=7, seed=3)
    loss, grads = bptt.loss_and_grads(params, xs, targets, h0, truncate=truncate)
    starts = rnn_lm.window_starts(params, xs, truncate, h0)
    assert len(starts) == -(-7 // truncate)
    np.testing.assert_allclose(rnn_lm.frozen_window_loss(params, xs, targets, starts, truncate),
                               loss, rtol=1e-13)
    report = gradcheck.check(
        lambda p: rnn_lm.frozen_window_loss(p, xs, targets, starts, truncate), params, grads)
    assert report.ok, report
    full = gradcheck.numerical_gradient(lambda p: rnn_lm.loss(p, xs, targets, h0), params)
    if truncate < 7:
        assert not gradcheck.compare(grads, full, tolerance=1e-5).ok, "truncation changes it"
    with pytest.raises(ValueError, match="need"):
        rnn_lm.frozen_window_loss(params, xs, targets, starts[:-1] if len(starts) > 1
                                 else starts * 2, truncate)


def test_backward_trace_records_every_step():
    params, xs, h0, targets = make(seed=4)
    logits, hs, _ = rnn_lm.forward(params, xs, h0)
    dhs = np.random.default_rng(5).normal(size=hs.shape)
    trace = []
    grads, _, _ = bptt.backward(params, xs, hs, h0, dhs, trace=trace)
    assert [step["t"] for step in trace] == list(range(len(xs), 0, -1))
    for name in grads:
        np.testing.assert_allclose(sum(step["grads"][name] for step in trace), grads[name],
                                   rtol=1e-12)
    for step in trace:
        np.testing.assert_allclose(step["dz"], step["dh"] * (1 - hs[step["t"] - 1] ** 2))


def test_rnn_backward_is_backward_without_the_inputs_gradient():
    params, xs, h0, _ = make(seed=6)
    hs, _ = rnn.forward(params, xs, h0)
    dhs = np.random.default_rng(7).normal(size=hs.shape)
    grads, dh0 = bptt.rnn_backward(params, xs, hs, h0, dhs)
    full, full_dh0, _ = bptt.backward(params, xs, hs, h0, dhs)
    assert set(grads) == set(full) and all(np.array_equal(grads[k], full[k]) for k in full)
    np.testing.assert_array_equal(dh0, full_dh0)
