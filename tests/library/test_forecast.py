"""Tests for rnncore.forecast: time-ordered windows, persistence, the least-squares AR baseline."""
import numpy as np
import pytest

from rnncore import data, forecast


def test_split_windows_keep_targets_inside_their_split_and_reach_back_for_inputs():
    series = np.arange(100.0)                                     # the value is the time step
    pieces = forecast.split_windows(series, input_len=5, horizon=3, fractions=(0.6, 0.2, 0.2))
    (xs_tr, ys_tr), (xs_va, ys_va), (xs_te, ys_te) = pieces
    assert ys_tr.max() < 60 and xs_tr.min() == 0                    # training: inside 0..59
    assert ys_va.min() == 60 and ys_va.max() < 80                   # validation targets 60..79
    assert ys_te.min() == 80 and ys_te.max() == 99                  # test targets 80..99
    assert xs_va.min() == 55 and xs_te.min() == 75                  # inputs reach back 5 steps
    for xs, ys in pieces:                                           # each window is contiguous
        np.testing.assert_array_equal(np.diff(np.concatenate([xs, ys]), axis=0), 1.0)
    # every target step of a split appears in some window: 20 - 3 + 1 windows for 20 steps
    assert xs_va.shape == (5, 18, 1) and ys_te.shape == (3, 18, 1)
    # the same windows as rnncore.data.windows on the slices
    xs_ref, ys_ref = data.windows(series[75:], 5, 3)
    np.testing.assert_array_equal(xs_te, xs_ref)
    np.testing.assert_array_equal(ys_te, ys_ref)


def test_split_windows_errors():
    with pytest.raises(ValueError, match="split 0 \\(steps 0 to 29\\) holds no window"):
        forecast.split_windows(np.arange(100.0), 50, 1, (0.3, 0.7))
    with pytest.raises(ValueError, match="split 2 \\(steps 98 to 99\\) holds no window"):
        forecast.split_windows(np.arange(100.0), 5, 3, (0.9, 0.08, 0.02))
    with pytest.raises(ValueError, match="sum to 1"):
        forecast.split_windows(np.arange(100.0), 5, 1, (0.5, 0.2))


def test_persistence_repeats_the_last_value():
    xs = np.random.default_rng(0).normal(size=(4, 3, 2))
    out = forecast.persistence(xs, 5)
    assert out.shape == (5, 3, 2)
    np.testing.assert_array_equal(out, np.broadcast_to(xs[-1], (5, 3, 2)))


def test_seasonal_naive_repeats_the_last_cycle():
    series = np.arange(40.0)                                      # the value is the time step
    xs, ys = data.windows(series, 7, 9)                           # window s: x_t = s + 6
    out = forecast.seasonal_naive(xs, 9, period=4)
    assert out.shape == ys.shape
    t = xs[-1]                                                    # (M, 1)
    for k in range(1, 10):                                        # m = ceil(k / 4) cycles back
        np.testing.assert_array_equal(out[k - 1], t + k - 4 * -(-k // 4))
    # a series with period 5 is forecast exactly, at every horizon
    periodic = np.sin(2 * np.pi * np.arange(60) / 5)[:, None] * [1.0, -2.0]   # (N, D = 2)
    xs, ys = data.windows(periodic, 5, 12)
    np.testing.assert_allclose(forecast.seasonal_naive(xs, 12, 5), ys, atol=1e-12)
    # period 1 is persistence
    np.testing.assert_array_equal(forecast.seasonal_naive(xs, 3, 1), forecast.persistence(xs, 3))
    with pytest.raises(ValueError, match="cannot reach one cycle of 6 steps back"):
        forecast.seasonal_naive(xs, 3, 6)


def test_linear_ar_recovers_a_noise_free_autoregression():
    """x_t = 0.5 x_{t-1} - 0.3 x_{t-2} + 1, kicked by a random number every 10 steps (else it
    settles at its fixed point). Between kicks every direct forecast is an exact linear function
    of the last two values, so least squares must find the recursion and reproduce the series."""
    rng = np.random.default_rng(1)
    series = np.zeros(300)
    series[:2] = rng.normal(size=2)
    for t in range(2, 300):
        series[t] = 0.5 * series[t - 1] - 0.3 * series[t - 2] + 1.0 + (t % 10 == 0) * rng.normal()
    for horizon in (1, 3):
        xs, ys = data.windows(series, 2, horizon)                   # window s: targets s+2..
        clean = np.array([all((s + 2 + k) % 10 for k in range(horizon))
                          for s in range(xs.shape[1])])             # no kick among the targets
        W = forecast.fit_linear_ar(xs[:, clean], ys[:, clean])
        np.testing.assert_allclose(forecast.linear_ar(W, xs[:, clean]), ys[:, clean], atol=1e-9)
        if horizon == 1:
            np.testing.assert_allclose(W[:, 0], [-0.3, 0.5, 1.0], atol=1e-10)  # [x_{t-1}, x_t, 1]


def test_linear_ar_matches_the_normal_equations():
    rng = np.random.default_rng(2)
    xs, ys = rng.normal(size=(4, 50, 2)), rng.normal(size=(3, 50, 2))   # L=4, M=50, D=2, h=3
    W = forecast.fit_linear_ar(xs, ys)
    assert W.shape == (4 * 2 + 1, 3 * 2)
    X = np.concatenate([xs.transpose(1, 0, 2).reshape(50, 8), np.ones((50, 1))], axis=1)
    Y = ys.transpose(1, 0, 2).reshape(50, 6)
    np.testing.assert_allclose(W, np.linalg.solve(X.T @ X, X.T @ Y), rtol=1e-9, atol=1e-12)
    out = forecast.linear_ar(W, xs)
    assert out.shape == (3, 50, 2)
    np.testing.assert_allclose(out.transpose(1, 0, 2).reshape(50, 6), X @ W, rtol=1e-12)
    with pytest.raises(ValueError, match="W has 9 rows, expected P D \\+ 1 = 7"):
        forecast.linear_ar(W, xs[1:])


def test_rmse_is_per_horizon():
    predictions = np.zeros((2, 3, 1))
    targets = np.array([[1.0, 1.0, 1.0], [0.0, 3.0, 4.0]])[..., None]
    np.testing.assert_allclose(forecast.rmse(predictions, targets), [1.0, np.sqrt(25 / 3)])
    with pytest.raises(ValueError, match="must both have shape"):
        forecast.rmse(predictions, targets[:1])
