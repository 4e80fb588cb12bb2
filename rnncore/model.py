"""A whole sequence model: RNN layer -> output layer -> softmax cross-entropy.

One flat parameter dict holds both layers (``W_x, W_h, b_h, W_y, b_y``), so
``autograd.grad(loss)(params, xs, targets)`` returns gradients with the same keys.
"""
import autograd.numpy as np
from autograd.tracer import getval

from . import losses, output, rnn


def init(input_size, hidden_size, output_size, rng, dtype=np.float64):
    return {**rnn.init(input_size, hidden_size, rng, dtype),
            **output.init(hidden_size, output_size, rng, dtype)}


def forward(params, xs, state=None, nonlinearity="tanh"):
    """xs: (T, B, D) -> logits (T, B, V), states hs (T, B, H), final state (B, H)."""
    hs, h_T = rnn.forward(params, xs, state, nonlinearity)
    return output.forward(params, hs), hs, h_T


def loss(params, xs, targets, state=None, nonlinearity="tanh", truncate=None):
    """Mean cross-entropy of the model's predictions of ``targets: (T, B)``.

    With ``truncate=k`` the sequence is cut into windows of k steps: the hidden state is carried
    from one window to the next, the gradient is not (``getval`` hides the carried state from
    autograd). The loss value is the same; only the gradient changes.
    """
    if truncate is None:
        logits, _, _ = forward(params, xs, state, nonlinearity)
        return losses.softmax_cross_entropy(logits, targets)
    if int(truncate) < 1:
        raise ValueError(f"truncate must be a positive number of steps, got {truncate}")
    chunks, h = [], state
    for start in range(0, len(xs), truncate):
        logits, _, h = forward(params, xs[start:start + truncate], h, nonlinearity)
        chunks.append(logits)
        h = getval(h)                  # carry the state forward, but not the gradient back
    return losses.softmax_cross_entropy(np.concatenate(chunks), targets)
