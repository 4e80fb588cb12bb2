r"""Numerics shared by the layers, one home each: the logistic sigmoid, softmax and log-softmax
(computed without overflow, differentiable by autograd) and the uniform initialisation that
PyTorch's layers use, U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
import autograd.numpy as np
from autograd.tracer import getval


def sigmoid(z):
    """σ(z) = 1 / (1 + e^{-z}), computed as (1 + tanh(z / 2)) / 2: the same function, no overflow."""
    return 0.5 * (np.tanh(0.5 * z) + 1)


def log_softmax(logits, axis=-1):
    """log softmax(z) = z - log sum exp z, computed without overflow.

    Subtracting the (constant) maximum m first keeps exp from overflowing:
    log sum exp z = m + log sum exp (z - m).
    """
    m = getval(np.max(logits, axis=axis, keepdims=True))
    return logits - m - np.log(np.sum(np.exp(logits - m), axis=axis, keepdims=True))


def softmax(logits, axis=-1):
    """softmax(z)_v = exp(z_v) / sum_u exp(z_u), the probabilities the logits stand for."""
    return np.exp(log_softmax(logits, axis=axis))


def uniform_init(rng, fan_in, shape, dtype=np.float64):
    """An array of ``shape`` drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) by ``rng``, in ``dtype``:
    PyTorch's initialisation of nn.Linear, nn.RNN, nn.LSTM and nn.GRU (fan_in = H for the cells)."""
    k = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-k, k, shape).astype(dtype)
