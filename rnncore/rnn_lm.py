"""The RNN language model of chapters 2 and 3: RNN layer -> output layer -> softmax cross-entropy.

One flat parameter dict holds both layers (``W_x, W_h, b_h, W_y, b_y``), so
``autograd.grad(loss)(params, xs, targets)`` returns gradients with the same keys.

By default the RNN layer is :func:`rnncore.rnn.forward`, whose gradient is hand-written BPTT
(:func:`rnncore.fastpath.rnn.numpy_backward`). ``reference=True`` runs :func:`rnncore.rnn.forward_reference`
instead, the plain loop that autograd differentiates step by step: its gradient shares no code
with any hand-written backward pass, so it is the independent witness for one.
"""
import autograd.numpy as np
from autograd.tracer import getval

from . import linear, losses, rnn
from .validation import values


def init(input_size, hidden_size, output_size, rng, dtype=np.float64):
    return {**rnn.init(input_size, hidden_size, rng, dtype),
            **linear.init(hidden_size, output_size, rng, dtype)}


def forward(params, xs, state=None, nonlinearity="tanh", reference=False):
    """xs: (T, B, D) -> logits (T, B, V), states hs (T, B, H), final state (B, H).

    reference: run the RNN layer with :func:`rnncore.rnn.forward_reference` (slow, differentiated
    by autograd op by op) instead of :func:`rnncore.rnn.forward` (fast, BPTT by hand).
    """
    layer = rnn.forward_reference if reference else rnn.forward
    hs, h_T = layer(params, xs, state, nonlinearity)
    return linear.forward(params, hs), hs, h_T


def loss(params, xs, targets, state=None, nonlinearity="tanh", truncate=None, reference=False):
    """Mean cross-entropy of the model's predictions of ``targets: (T, B)``.

    With ``truncate=k`` the sequence is cut into windows of k steps: the hidden state is carried
    from one window to the next, the gradient is not (``getval`` hides the carried state from
    autograd). The loss value is the same; only the gradient changes. It is the exact gradient
    of :func:`frozen_window_loss` with the window start states frozen at their current values.
    reference: as for :func:`forward`.
    """
    if truncate is None:
        logits, _, _ = forward(params, xs, state, nonlinearity, reference)
        return losses.softmax_cross_entropy(logits, targets)
    if int(truncate) < 1:
        raise ValueError(f"truncate must be a positive number of steps, got {truncate}")
    chunks, h = [], state
    for start in range(0, len(xs), truncate):
        logits, _, h = forward(params, xs[start:start + truncate], h, nonlinearity, reference)
        chunks.append(logits)
        h = getval(h)                  # carry the state forward, but not the gradient back
    return losses.softmax_cross_entropy(np.concatenate(chunks), targets)


def window_starts(params, xs, truncate, state=None, nonlinearity="tanh"):
    """The states from which the windows of ``truncate`` steps start: h_0, h_k, h_2k, ...

    Returns a list with one (B, H) array per window (plain values, for :func:`frozen_window_loss`).
    """
    if int(truncate) < 1:
        raise ValueError(f"truncate must be a positive number of steps, got {truncate}")
    _, hs, _ = forward(values(params), getval(xs), getval(state), nonlinearity)
    h0 = np.zeros_like(hs[0]) if state is None else getval(state)
    return [h0] + [hs[start - 1] for start in range(truncate, len(xs), truncate)]


def frozen_window_loss(params, xs, targets, starts, truncate, nonlinearity="tanh",
                       reference=False):
    """The surrogate loss of truncated BPTT: window i runs from the *given* state ``starts[i]``.

    starts: the windows' start states, as :func:`window_starts` returns them for some parameters
    theta_0 and the same ``truncate``. At theta_0 its value is the loss, and its exact gradient
    (autograd's, or central differences') is the truncated gradient of :func:`loss` with
    ``truncate``: the start states are constants here, so no gradient crosses a window boundary.
    """
    if len(starts) != -(-len(xs) // truncate):
        raise ValueError(f"{len(xs)} steps in windows of {truncate} need "
                         f"{-(-len(xs) // truncate)} start states, got {len(starts)}")
    chunks = [forward(params, xs[i * truncate:(i + 1) * truncate], h, nonlinearity, reference)[0]
              for i, h in enumerate(starts)]
    return losses.softmax_cross_entropy(np.concatenate(chunks), targets)
