r"""Language models in use: sampling with a temperature, generating text, and n-gram baselines.

**Sampling.** A language model's logits y (one row per sequence, V classes) stand for the
distribution softmax(y). Sampling at temperature tau > 0 draws from

    p_tau(v) = exp(y_v / tau) / sum_u exp(y_u / tau)

tau = 1 is the model's own distribution; tau < 1 sharpens it (tau -> 0: always the most likely
class, the argmax, which :func:`sample` returns for tau = 0); tau > 1 flattens it (tau -> infinity:
uniform). :func:`generate` feeds each sampled character back in as the next input.

**Baselines.** A model is only as good as what it beats. :func:`unigram` and :func:`bigram` count
characters and character pairs in a training stream, with add-alpha smoothing (alpha
pseudo-counts for every outcome, so that no probability is 0 unless alpha = 0):

    unigram   p(v)     = (n(v) + alpha) / (N + alpha V)
    bigram    p(v | u) = (n(u, v) + alpha) / (n(u, .) + alpha V)

and :func:`ngram_nll` scores a stream with them, per predicted character, in the same units (nats)
as :func:`rnncore.losses.softmax_cross_entropy`.

Plain numpy (``import numpy as np``): nothing here is differentiated.
"""
import numpy as np

from . import data, linear, losses, numerics, rnn
from .validation import check_ids, check_shapes


# --- sampling ------------------------------------------------------------------------------------

def sample(logits, temperature, rng):
    """One class per row of ``logits``, drawn from softmax(logits / temperature).

    logits: (..., V), e.g. (B, V); temperature: a number >= 0, where 0 means the argmax (greedy
    decoding, the limit tau -> 0); rng: a ``np.random.Generator``. Returns int64 ids of shape
    (...), e.g. (B,).

    Inverse-CDF sampling: with u ~ U[0, 1) for each row and the cumulative probabilities
    P_v = p_1 + ... + p_v, the sample is the first v with P_v > u, which happens with probability
    P_v - P_{v-1} = p_v. The softmax subtracts the maximum first, so a small temperature (huge
    logits / tau) cannot overflow.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim < 1 or logits.shape[-1] < 1:
        raise ValueError(f"logits has shape {logits.shape}, expected (..., V) with V >= 1")
    if np.isnan(logits).any() or np.isposinf(logits).any():
        raise ValueError("logits hold NaN or +inf: they stand for no distribution")
    if not temperature >= 0:                                 # also catches NaN
        raise ValueError(f"temperature must be >= 0 (0 = argmax), got {temperature}")
    if temperature == 0:
        return np.argmax(logits, axis=-1)
    p = numerics.softmax(logits / temperature)               # (..., V)
    cdf = np.cumsum(p, axis=-1)                              # (..., V): P_1 .. P_V
    cdf /= cdf[..., -1:]                                     # P_V = 1 exactly, despite rounding
    u = rng.random(p.shape[:-1] + (1,))                      # (..., 1), in [0, 1)
    return np.sum(cdf <= u, axis=-1)                         # first v with P_v > u, 0-based


def generate(params, prompt, length, temperature, rng, forward=rnn.forward):
    """Continue each column of ``prompt`` by ``length`` sampled ids, feeding each one back in.

    params: a model ``{"<part>": layer params, "output": {"W_y": (H, V), "b_y": (V,)}}``, or one
    flat dict as :func:`rnncore.rnn_lm.init` makes (:func:`rnncore.linear.split_model`); prompt:
    (P, B) ids, P >= 1, read first to set the state; forward: the layer,
    ``forward(layer params, xs, state) -> (hs, state)`` (:func:`rnncore.rnn.forward`, or the
    LSTM's or GRU's). Inputs are one-hot, so D = V.
    Returns the generated ids, (length, B); the prompt is not repeated.

    Each step: logits y_t = W_y h_t + b_y, c_{t+1} ~ softmax(y_t / temperature), then
    h_{t+1} from the one-hot of c_{t+1}, so the model reads what it wrote.
    """
    prompt = np.asarray(prompt)
    if prompt.ndim != 2 or len(prompt) < 1:
        raise ValueError(f"prompt has shape {prompt.shape}, expected (P, B) with P >= 1 "
                         f"(one column per sequence; a single text: ids[:, None])")
    layer, out = linear.split_model(params)
    V = check_shapes(W_y=(out["W_y"], "H V"))["V"]
    check_ids("prompt", prompt, V)
    dtype = np.result_type(out["W_y"])
    hs, state = forward(layer, data.one_hot(prompt, V, dtype), None)      # read the prompt
    ids = []
    for _ in range(int(length)):
        logits = linear.forward(out, hs[-1])                             # (B, V)
        ids.append(sample(logits, temperature, rng))                     # (B,)
        hs, state = forward(layer, data.one_hot(ids[-1][None], V, dtype), state)  # one step
    return np.stack(ids) if ids else np.zeros((0, prompt.shape[1]), dtype=np.int64)


# --- n-gram baselines ----------------------------------------------------------------------------

def _check_counts(ids, V, alpha):
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids must be one stream of shape (N,), got shape {ids.shape}")
    if not alpha >= 0:
        raise ValueError(f"the pseudo-count alpha must be >= 0, got {alpha}")
    return check_ids("ids", ids, V)


def _log(p):
    with np.errstate(divide="ignore", invalid="ignore"):   # log 0 = -inf on purpose (alpha = 0)
        return np.log(p)


def unigram(ids, V, alpha=1.0):
    """log p(v) = log (n(v) + alpha) / (N + alpha V): character frequencies, smoothed.

    ids: (N,) -> (V,). With alpha = 0 (maximum likelihood) a character never seen gets
    log 0 = -inf.
    """
    ids = _check_counts(ids, V, alpha)
    counts = np.bincount(ids, minlength=V).astype(np.float64)            # n(v), (V,)
    return _log((counts + alpha) / (len(ids) + alpha * V))


def bigram(ids, V, alpha=1.0):
    """log p(v | u) = log (n(u, v) + alpha) / (n(u, .) + alpha V), smoothed pair frequencies.

    ids: (N,) -> (V, V), row u = the previous character. n(u, v) counts the positions where u is
    followed by v, n(u, .) = sum_v n(u, v). With alpha = 0 a pair never seen gets -inf, and a row
    whose u never occurs before another character is all -inf (no data, no distribution).
    """
    ids = _check_counts(ids, V, alpha)
    counts = np.zeros((V, V))
    np.add.at(counts, (ids[:-1], ids[1:]), 1.0)                          # n(u, v)
    totals = counts.sum(axis=1, keepdims=True) + alpha * V               # n(u, .) + alpha V
    with np.errstate(invalid="ignore"):                                  # 0 / 0 in unseen rows
        return _log(np.where(totals > 0, (counts + alpha) / totals, 0.0))


def ngram_nll(log_probs, ids):
    """Mean negative log-likelihood, in nats, of predicting ids[1:] of a stream ids: (N,).

    log_probs: (V,) from :func:`unigram` (each character on its own) or (V, V) from
    :func:`bigram` (each from the previous one). Either way the N - 1 characters after the first
    are scored, the same targets as a language model reading the stream. exp of the result is
    the perplexity; inf if a character that occurs has probability 0.
    """
    log_probs = np.asarray(log_probs)
    if log_probs.ndim not in (1, 2) or log_probs.ndim == 2 and (
            log_probs.shape[0] != log_probs.shape[1]):
        raise ValueError(f"log_probs has shape {log_probs.shape}, expected (V,) (unigram) or "
                         f"(V, V) (bigram)")
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < 2:
        raise ValueError(f"ids must be one stream of shape (N,) with N >= 2, got {ids.shape}")
    ids = check_ids("ids", ids, log_probs.shape[-1])
    scored = log_probs[ids[1:]] if log_probs.ndim == 1 else log_probs[ids[:-1], ids[1:]]
    return float(-np.mean(scored))
