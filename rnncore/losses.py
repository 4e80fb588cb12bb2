"""Losses over sequences: softmax cross-entropy, mean squared error (each with an optional mask),
and two numbers to report: perplexity and accuracy; :func:`next_token_loss`, the language-model
loss of any model ``{"<part>": ..., "output": ...}``."""
import autograd.numpy as np
from autograd.tracer import getval

from . import data, linear
from .numerics import log_softmax
from .validation import check_ids, check_shapes


def softmax_cross_entropy(logits, targets, mask=None):
    """Mean of -log p(target) over all (unmasked) positions.

    logits: (T, B, V); targets: (T, B) integer classes in [0, V); mask: (T, B) of 0/1 or None.
    Returns a scalar: the average negative log-likelihood per predicted token, in nats.
    """
    dims = check_shapes(logits=(logits, "T B V"), targets=(targets, "T B"))
    targets = check_ids("targets", targets, dims["V"])
    onehot = targets[..., None] == np.arange(dims["V"])                 # (T, B, V)
    nll = -np.sum(log_softmax(logits) * onehot, axis=-1)                 # (T, B)
    if mask is None:
        return np.mean(nll)
    check_shapes(logits=(logits, "T B V"), mask=(mask, "T B"))
    return np.sum(nll * mask) / np.maximum(np.sum(mask), 1)


def perplexity(mean_nll):
    """exp of the mean negative log-likelihood: 1 for a perfect model, |V| for a uniform guess."""
    return float(np.exp(mean_nll))


def _leading(name, array, last):
    """The symbols of the leading axes: "T B" for (T, B, last), "B" for (B, last)."""
    lead = {2: "B", 3: "T B"}.get(np.ndim(array))
    if lead is None:
        raise ValueError(f"{name} has shape {tuple(np.shape(array))}, expected (T, B, {last}) "
                         f"or (B, {last})")
    return lead


def mse(predictions, targets, mask=None):
    """Mean squared error, (1/N) sum (y_hat - y)^2 over the N unmasked entries.

    predictions, targets: (T, B, D) for an output at every step, or (B, D) for one output per
    sequence (the adding problem); mask: (T, B) or (B,) of 0/1, or None. A masked-out position
    drops all D of its entries, so the mean is over sum(mask) * D entries.
    """
    lead = _leading("predictions", predictions, "D")
    masks = {} if mask is None else {"mask": (mask, lead)}
    dims = check_shapes(predictions=(predictions, lead + " D"), targets=(targets, lead + " D"),
                        **masks)
    squared = (predictions - targets) ** 2                               # (T, B, D)
    if mask is None:
        return np.mean(squared)
    return np.sum(squared * np.asarray(mask)[..., None]) / np.maximum(np.sum(mask) * dims["D"], 1)


def accuracy(logits, targets, mask=None):
    """The fraction of (unmasked) positions where argmax_v logits[..., v] equals the target.

    logits: (T, B, V) or (B, V); targets: (T, B) or (B,) integer classes; mask: like targets, 0/1.
    Returns a float in [0, 1]. Not differentiable (argmax has no useful gradient): report it, do
    not train on it.
    """
    lead = _leading("logits", logits, "V")
    masks = {} if mask is None else {"mask": (mask, lead)}
    check_shapes(logits=(logits, lead + " V"), targets=(targets, lead), **masks)
    correct = np.argmax(getval(logits), axis=-1) == np.asarray(targets)  # (T, B)
    if mask is None:
        return float(np.mean(correct))
    return float(np.sum(correct * np.asarray(mask)) / max(float(np.sum(mask)), 1.0))


def next_token_loss(forward, V=None):
    """loss(params, xs, ys): the next-token cross-entropy of a model ``{"<part>": ..., "output":
    ...}`` whose part runs ``forward(params[part], inputs)`` -> (T, B, W) features, or (features,
    final state) as the recurrent layers return.

    V: the inputs are ids (T, B), one-hot encoded to V classes; None: xs are the inputs already.
    ys: (T, B) the next ids. A flat dict (:func:`rnncore.rnn_lm.init`) works too.
    """
    def loss(params, xs, ys):
        body, out = linear.split_model(params)
        features = forward(body, xs if V is None else data.one_hot(xs, V))
        if isinstance(features, tuple):
            features = features[0]                                         # (hs, final state)
        return softmax_cross_entropy(linear.forward(out, features), ys)   # (T, B, V) logits
    return loss
