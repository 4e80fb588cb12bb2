r"""Backpropagation through time for the vanilla RNN, derived by hand.

Forward (row-vector layout, see :mod:`rnncore.rnn`):

    z_t = h_{t-1} W_h + x_t W_x + b_h,    h_t = f(z_t)

Backward, from t = T down to 1, where dh_t is the gradient reaching h_t by *every* path: the
output at step t and, through h_{t+1}, every later step:

    dz_t      = dh_t * f'(z_t)              (tanh: f'(z_t) = 1 - h_t^2)
    dW_x     += x_t^T dz_t,   dW_h += h_{t-1}^T dz_t,   db_h += sum over the batch of dz_t
    dh_{t-1}  = (output's gradient at t-1) + dz_t W_h^T  <- the gradient flows into the past
    dx_t      = dz_t W_x^T

The parameters are shared by all steps, so their gradients are *sums over time*.
"""
import numpy as np

from . import losses, numerics, rnn, rnn_lm
from .validation import check_shapes


def slope(h, nonlinearity="tanh"):
    """f'(z) from the step's output h = f(z): 1 - h^2 for tanh, [h > 0] for ReLU."""
    if nonlinearity == "tanh":
        return 1.0 - h ** 2
    if nonlinearity == "relu":
        return (h > 0).astype(h.dtype)
    raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")


def step_backward(params, x, h_prev, h, dh, nonlinearity="tanh"):
    """Backward through one step h = f(h_prev W_h + x W_x + b_h).

    x: (B, D), h_prev: (B, H), h: (B, H), dh: (B, H), the total gradient reaching h.
    Returns ``(grads, dh_prev, dx)``: this step's contribution to dW_x, dW_h, db_h, and the
    gradients with respect to h_prev (B, H) and x (B, D).
    """
    check_shapes(W_x=(params["W_x"], "D H"), W_h=(params["W_h"], "H H"), x=(x, "B D"),
                 h_prev=(h_prev, "B H"), h=(h, "B H"), dh=(dh, "B H"))
    dz = dh * slope(h, nonlinearity)                  # (B, H)
    grads = {"W_x": x.T @ dz,                         # (D, H)
             "W_h": h_prev.T @ dz,                    # (H, H)
             "b_h": dz.sum(axis=0)}                   # (H,)
    return grads, dz @ params["W_h"].T, dz @ params["W_x"].T


def backward(params, xs, hs, state, dhs, nonlinearity="tanh", truncate=None, trace=None):
    """BPTT through the RNN layer.

    xs: (T, B, D); hs: (T, B, H), the stored states h_1..h_T; state: h_0 (B, H);
    dhs: (T, B, H), the gradient of the loss with respect to each h_t through the output at t only.
    With ``truncate=k`` the gradient is not carried back across the window boundaries k, 2k, ...
    (the state was carried forward across them; see :func:`rnncore.rnn_lm.loss`); it still reaches
    h_0 from the first window.
    Returns ``(grads, dstate, dxs)``: dW_x, dW_h, db_h summed over time, dL/dh_0 and dL/dxs.
    trace: an optional list; each step appends ``{"t", "dh", "dz", "grads"}`` to it (t = 1..T in
    the book's numbering, in the order the steps run: T first), for display.
    """
    T = check_shapes(xs=(xs, "T B D"), hs=(hs, "T B H"), state=(state, "B H"),
                     dhs=(dhs, "T B H"))["T"]
    grads = {name: np.zeros_like(params[name]) for name in ("W_x", "W_h", "b_h")}
    dxs = np.zeros_like(xs)
    dh_next = np.zeros_like(state)                    # gradient arriving from step t + 1
    for t in reversed(range(T)):
        h_prev = hs[t - 1] if t > 0 else state
        dh = dhs[t] + dh_next                         # dh_t: its own output + the future
        step_grads, dh_next, dxs[t] = step_backward(params, xs[t], h_prev, hs[t], dh,
                                                    nonlinearity)
        if trace is not None:
            trace.append({"t": t + 1, "dh": dh, "dz": dh * slope(hs[t], nonlinearity),
                          "grads": step_grads})
        for name in grads:
            grads[name] += step_grads[name]           # shared weights: sum over time
        if truncate is not None and t > 0 and t % truncate == 0:
            dh_next = np.zeros_like(dh_next)          # window boundary: stop the gradient
    return grads, dh_next, dxs


def rnn_backward(params, xs, hs, state, dhs, nonlinearity="tanh"):
    """:func:`backward` returning ``(grads, dL/dh_0)`` only: the form of chapter 3's exercise."""
    grads, dstate, _ = backward(params, xs, hs, state, dhs, nonlinearity)
    return grads, dstate


def loss_and_grads(params, xs, targets, state=None, nonlinearity="tanh", truncate=None):
    """The loss of :func:`rnncore.rnn_lm.loss` and its gradients for every parameter, by hand.

    Returns ``(loss, grads)`` with grads for W_x, W_h, b_h, W_y, b_y.
    """
    if state is None:
        state = np.zeros((xs.shape[1], params["W_h"].shape[0]), dtype=params["W_h"].dtype)
    logits, hs, _ = rnn_lm.forward(params, xs, state, nonlinearity)       # forward, storing hs
    loss = losses.softmax_cross_entropy(logits, targets)
    # Softmax cross-entropy averaged over T*B positions: dL/dlogits = (p - onehot) / (T*B).
    V = logits.shape[-1]
    dlogits = (numerics.softmax(logits) - (targets[..., None] == np.arange(V))) / targets.size
    H = hs.shape[-1]
    grads = {"W_y": hs.reshape(-1, H).T @ dlogits.reshape(-1, V),         # (H, V)
             "b_y": dlogits.sum(axis=(0, 1))}                             # (V,)
    dhs = dlogits @ params["W_y"].T                                       # (T, B, H)
    rnn_grads, _, _ = backward(params, xs, hs, state, dhs, nonlinearity, truncate)
    return loss, {**rnn_grads, **grads}
