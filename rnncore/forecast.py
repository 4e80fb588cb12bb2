r"""Forecasting a series K steps ahead: time-ordered windows, two baselines, the error per horizon.

Every forecaster here reads a window of the past ``xs: (P, B, D)`` (P = input_len steps, time-
major, as :func:`rnncore.data.windows` makes them) and returns the next K = ``horizon`` steps,
``(K, B, D)``, all at once (a *direct* multi-step forecast: one output per horizon).

Two baselines that a model must beat to be worth its training:

    persistence        x_hat_{t+k} = x_t                 for k = 1..K: nothing changes
    seasonal naive     x_hat_{t+k} = x_{t+k-mS}          the value one cycle (period S) earlier
    linear AR(P)       x_hat_{t+k} = [x_{t-P+1}, .., x_t, 1] W_k    least squares, one W_k per k

Plain numpy: the baselines are fitted in closed form, never differentiated.
"""
import numpy as np

from .data import windows


def split_windows(series, input_len, horizon, fractions=(0.7, 0.15, 0.15)):
    """Windows for a time-ordered split: [(xs, ys) for train, validation, test, ...].

    The series (N,) or (N, D) is cut along time at the ``fractions`` (as
    :func:`rnncore.data.time_split`). Split k gets every window whose *targets* all lie inside
    it; its inputs may reach back into the split before (that past is known at forecast time).
    The first split's windows lie entirely inside it. xs: (input_len, M_k, D), ys:
    (horizon, M_k, D).
    """
    series = np.asarray(series)
    if not np.isclose(sum(fractions), 1.0) or min(fractions) < 0:
        raise ValueError(f"fractions must be non-negative and sum to 1, got {fractions}")
    bounds = np.concatenate([[0], np.round(np.cumsum(fractions) * len(series)).astype(int)])
    pieces = []
    for k, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        start = lo if k == 0 else lo - input_len          # inputs may come from the split before
        try:
            pieces.append(windows(series[start:hi], input_len, horizon))
        except ValueError as error:
            raise ValueError(f"split {k} (steps {lo} to {hi - 1}) holds no window: "
                             f"{error}") from None
    return pieces


def persistence(xs, horizon):
    """The last value, repeated: xs (P, B, D) -> (K, B, D), x_hat_{t+k} = x_t."""
    xs = np.asarray(xs)
    if xs.ndim != 3:
        raise ValueError(f"xs must have shape (P, B, D), got {xs.shape}")
    return np.repeat(xs[-1:], horizon, axis=0)


def seasonal_naive(xs, horizon, period):
    """The value one cycle earlier: xs (P, B, D) -> (K, B, D), x_hat_{t+k} = x_{t+k-m S}.

    S = ``period`` steps; m = ceil(k / S) is the smallest whole number of cycles that reaches
    back into the window (m = 1 for every k <= S). The window must reach back that far:
    P >= S, and P >= m S - k + 1 for the largest horizon.
    """
    xs = np.asarray(xs)
    if xs.ndim != 3:
        raise ValueError(f"xs must have shape (P, B, D), got {xs.shape}")
    if period < 1 or horizon < 1:
        raise ValueError(f"period and horizon must be positive, got {period} and {horizon}")
    P = xs.shape[0]
    k = np.arange(1, horizon + 1)
    back = -(-k // period) * period - k                   # m S - k >= 0 steps before x_t
    if back.max() >= P:
        raise ValueError(f"a window of {P} steps cannot reach one cycle of {period} steps back "
                         f"for horizons 1 to {horizon}")
    return xs[P - 1 - back]                                # xs[P - 1] is x_t


def _features(xs):
    """[x_{t-P+1}, .., x_t, 1] per window: (P, B, D) -> (B, P D + 1)."""
    P, B, D = xs.shape
    lags = np.transpose(xs, (1, 0, 2)).reshape(B, P * D)                   # (B, P D)
    return np.concatenate([lags, np.ones((B, 1))], axis=1)


def fit_linear_ar(xs, ys):
    """Least-squares weights of the direct linear AR forecaster.

    xs: (P, M, D) windows, ys: (K, M, D) their targets. Solves
    min_W || X W - Y ||^2 with X = [lags, 1] (M, P D + 1) and Y (M, K D), one column of W
    per (horizon, feature). Returns W: (P D + 1, K D).
    """
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    if xs.ndim != 3 or ys.ndim != 3 or xs.shape[1:] != ys.shape[1:]:
        raise ValueError(f"xs (P, M, D) and ys (K, M, D) must hold the same windows, got "
                         f"xs {xs.shape} and ys {ys.shape}")
    Y = np.transpose(ys, (1, 0, 2)).reshape(ys.shape[1], -1)               # (M, K D)
    W, *_ = np.linalg.lstsq(_features(xs), Y, rcond=None)
    return W


def linear_ar(W, xs):
    """The linear AR forecasts: xs (P, B, D) -> (K, B, D), with W from fit_linear_ar."""
    xs = np.asarray(xs, dtype=np.float64)
    P, B, D = xs.shape
    if W.shape[0] != P * D + 1:
        raise ValueError(f"W has {W.shape[0]} rows, expected P D + 1 = {P * D + 1} for xs of "
                         f"shape {xs.shape}")
    Y = _features(xs) @ W                                                  # (B, K D)
    return np.transpose(Y.reshape(B, -1, D), (1, 0, 2))                   # (K, B, D)


def rmse(predictions, targets):
    """Root mean squared error per horizon: (K, B, D) twice -> (K,)."""
    predictions, targets = np.asarray(predictions), np.asarray(targets)
    if predictions.shape != targets.shape or predictions.ndim != 3:
        raise ValueError(f"predictions and targets must both have shape (K, B, D), got "
                         f"{predictions.shape} and {targets.shape}")
    return np.sqrt(np.mean((predictions - targets) ** 2, axis=(1, 2)))
