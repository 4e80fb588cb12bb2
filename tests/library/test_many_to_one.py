"""Tests for rnncore.many_to_one: a recurrent encoder summarised once per sequence, then a linear
layer."""
import numpy as np
import pytest

from nested_gradcheck import assert_gradients_match
from rnncore import gru, losses, lstm, many_to_one, rnn, tcn, wrappers
from rnncore.many_to_one import ManyToOneSpec

SPECS = [ManyToOneSpec(cell, bi, pool) for cell in (rnn, gru, lstm) for bi in (False, True)
         for pool in ("last", "mean")]
IDS = [f"{s.cell.__name__[8:]}-{'bi' if s.bidirectional else 'uni'}-{s.pool}" for s in SPECS]


def example(spec, T=5, B=3, D=2, H=4, K=3, seed=0):
    rng = np.random.default_rng(seed)
    return many_to_one.init(D, H, K, rng, spec), rng.normal(size=(T, B, D))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_summary_is_the_pool_of_the_encoder_states(spec):
    params, xs = example(spec)
    if spec.bidirectional:
        hs, (final_f, final_b) = wrappers.bidirectional_forward(spec.cell, params["encoder"], xs)
        h_f = final_f[0] if spec.cell is lstm else final_f         # the LSTM's state is (h, c)
        h_b = final_b[0] if spec.cell is lstm else final_b
        last = np.concatenate([h_f, h_b], axis=-1)                  # both directions, complete
    else:
        hs, final = spec.cell.forward(params["encoder"], xs)
        last = final[0] if spec.cell is lstm else final
    expected = hs.mean(axis=0) if spec.pool == "mean" else last
    summary = many_to_one.summarise(params, xs, spec)
    assert summary.shape == (3, 8 if spec.bidirectional else 4)
    np.testing.assert_allclose(summary, expected, rtol=1e-12, atol=1e-14)
    logits = many_to_one.forward(params, xs, spec)
    np.testing.assert_allclose(logits, expected @ params["output"]["W_y"] + params["output"]["b_y"],
                               rtol=1e-12, atol=1e-14)


def test_bidirectional_last_pool_has_read_the_whole_sequence():
    """Changing only x_T moves both halves of the summary: the forward half read x_T last, the
    backward half (taken at step 1) read it first. (The backward half of h_T read only x_T.)"""
    spec = ManyToOneSpec(gru, True, "last")
    params, xs = example(spec, T=6)
    moved = xs.copy()
    moved[-1] += 1.0                                         # only the last step
    a, b = many_to_one.summarise(params, xs, spec), many_to_one.summarise(params, moved, spec)
    assert np.all(np.abs(a - b)[:, :4].sum(axis=1) > 1e-6)      # forward half saw x_T
    assert np.all(np.abs(a - b)[:, 4:].sum(axis=1) > 1e-6)      # backward half, read at step 1


def test_losses_match_their_definitions():
    spec = ManyToOneSpec(gru, False, "last")
    params, xs = example(spec)
    logits = many_to_one.forward(params, xs, spec)                   # (B, K)
    labels = np.array([2, 0, 1])
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(many_to_one.classification_loss(params, xs, labels, spec),
                               -log_p[np.arange(3), labels].mean(), rtol=1e-12)
    ys = np.random.default_rng(1).normal(size=(3, 3))
    np.testing.assert_allclose(many_to_one.regression_loss(params, xs, ys, spec),
                               np.mean((logits - ys) ** 2), rtol=1e-12)
    with pytest.raises(ValueError, match="labels has shape"):
        many_to_one.classification_loss(params, xs, np.array([0, 1]), spec)


@pytest.mark.parametrize("spec", [SPECS[2], SPECS[5], SPECS[11]], ids=[IDS[2], IDS[5], IDS[11]])
def test_gradients_match_finite_differences(spec):
    params, xs = example(spec, T=3, B=2, D=2, H=2, K=3)
    labels = np.array([1, 2])
    assert_gradients_match(lambda p: many_to_one.classification_loss(p, xs, labels, spec), params)
    ys = np.random.default_rng(2).normal(size=(2, 3))
    assert_gradients_match(lambda p: many_to_one.regression_loss(p, xs, ys, spec), params)


def test_a_trained_classifier_separates_two_easy_classes():
    from rnncore import data, optim
    from rnncore.train import train
    rng = np.random.default_rng(0)
    labels = rng.integers(2, size=200)
    xs = rng.normal(size=(6, 200, 1)) + (2 * labels - 1)[None, :, None]   # class = sign of the mean
    spec = ManyToOneSpec(gru, False, "mean")
    params, _ = train(lambda p, x, y: many_to_one.classification_loss(p, x, y, spec),
                      many_to_one.init(1, 4, 2, rng, spec),
                      lambda r: data.minibatches(xs, labels, 32, r), optim.adam(1e-2), steps=100,
                      rng=rng, progress=False)
    assert losses.accuracy(many_to_one.forward(params, xs, spec), labels) > 0.95


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="spec.pool must be 'last' or 'mean'"):
        many_to_one.init(2, 3, 4, np.random.default_rng(0), ManyToOneSpec(pool="max"))
    with pytest.raises(ValueError, match="spec.cell must be a cell module, one of rnncore.rnn, "
                                         "rnncore.lstm, rnncore.gru; got <module 'rnncore.tcn'"):
        ManyToOneSpec(cell=tcn)
    with pytest.raises(ValueError, match=r"got 'gru' \(a cell is chosen by its module: from "
                                         r"rnncore import gru\)"):
        ManyToOneSpec(cell="gru")
    params, xs = example(ManyToOneSpec())
    with pytest.raises(ValueError, match=r"xs has shape \(5, 3\), expected \(T, B, D\)"):
        many_to_one.forward(params, xs[..., 0])
