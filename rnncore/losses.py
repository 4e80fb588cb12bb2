"""Losses over sequences: softmax cross-entropy (with an optional mask) and perplexity."""
import autograd.numpy as np
from autograd.tracer import getval

from .shapes import check_shapes


def log_softmax(logits, axis=-1):
    """log softmax(z) = z - log sum exp z, computed without overflow.

    Subtracting the (constant) maximum m first keeps exp from overflowing:
    log sum exp z = m + log sum exp (z - m).
    """
    m = getval(np.max(logits, axis=axis, keepdims=True))
    return logits - m - np.log(np.sum(np.exp(logits - m), axis=axis, keepdims=True))


def softmax(logits, axis=-1):
    return np.exp(log_softmax(logits, axis=axis))


def softmax_cross_entropy(logits, targets, mask=None):
    """Mean of -log p(target) over all (unmasked) positions.

    logits: (T, B, V); targets: (T, B) integer classes in [0, V); mask: (T, B) of 0/1 or None.
    Returns a scalar: the average negative log-likelihood per predicted token, in nats.
    """
    dims = check_shapes(logits=(logits, "T B V"), targets=(targets, "T B"))
    targets = np.asarray(targets)
    if targets.dtype.kind not in "iu":
        raise ValueError(f"targets must hold integer class indices, got dtype {targets.dtype}")
    if targets.size and (targets.min() < 0 or targets.max() >= dims["V"]):
        raise ValueError(f"targets must lie in [0, V) = [0, {dims['V']}), "
                         f"got values from {targets.min()} to {targets.max()}")
    onehot = targets[..., None] == np.arange(dims["V"])                 # (T, B, V)
    nll = -np.sum(log_softmax(logits) * onehot, axis=-1)                 # (T, B)
    if mask is None:
        return np.mean(nll)
    check_shapes(logits=(logits, "T B V"), mask=(mask, "T B"))
    return np.sum(nll * mask) / np.maximum(np.sum(mask), 1)


def perplexity(mean_nll):
    """exp of the mean negative log-likelihood: 1 for a perfect model, |V| for a uniform guess."""
    return float(np.exp(mean_nll))
