r"""Attention: a query looks at every encoder state and takes a weighted average of them.

A query q (the decoder's state), keys k_1..k_S and values v_1..v_S (the encoder's states):

    e_s = score(q, k_s)                                    how well k_s matches q
    a_s = exp(e_s) / sum_{s'} exp(e_{s'})                  the attention weights, summing to 1
    c   = sum_s a_s v_s                                    the context vector

Two scores:

    dot (Luong et al. 2015):         e_s = q . k_s   (scaled: q . k_s / sqrt(H), Vaswani et al. 2017)
    additive (Bahdanau et al. 2015): e_s = v . tanh(q W_q + k_s W_k)

Time-major, as everywhere in rnncore: ``keys: (S, B, H)``, ``values: (S, B, H_v)``,
``query: (B, H)``, ``mask: (S, B)`` and ``weights: (S, B)``, so ``weights[:, b]`` is the
distribution of batch element b over its S source positions.

Masks. ``mask[s, b]`` is 1 (or True) where element b may attend to position s and 0 at padding.
A masked score is replaced by -inf before the softmax, so exp gives an exact 0: masked positions
get weight exactly 0, their keys and values (even inf or NaN) cannot change the result, and
no gradient flows into them. A batch element with *no* valid position has no distribution to
speak of (0/0): :func:`masked_softmax` raises ValueError for it rather than return NaN.
"""
import autograd.numpy as np

from .numerics import softmax, uniform_init
from .validation import check_shapes


def masked_softmax(scores, mask=None, axis=0):
    """softmax of ``scores`` along ``axis`` with weight exactly 0 where ``mask`` is 0.

    scores and mask have the same shape (mask may be None: nothing masked). Raises ValueError if
    some slice along ``axis`` is entirely masked.
    """
    if mask is None:
        return softmax(scores, axis=axis)
    valid = np.asarray(mask) != 0
    if valid.shape != np.shape(scores):
        raise ValueError(f"mask has shape {valid.shape}, expected the scores' shape "
                         f"{tuple(np.shape(scores))}")
    empty = ~valid.any(axis=axis)
    if empty.any():
        where = [tuple(int(i) for i in index) for index in np.argwhere(empty)][:5]
        raise ValueError(f"mask leaves nothing to attend to at {where} (indices without axis "
                         f"{axis}): every such row or column needs at least one 1")
    # exp(-inf) = 0 exactly; the maximum subtracted inside softmax comes from valid scores.
    return softmax(np.where(valid, scores, -np.inf), axis=axis)


def _context(weights, values, mask):
    """c = sum_s a_s v_s: (S, B) weights and (S, B, H_v) values -> (B, H_v)."""
    if mask is not None:
        values = np.where(np.asarray(mask)[:, :, None] != 0, values, 0.0)   # ignore even NaN
    return np.sum(weights[:, :, None] * values, axis=0)                    # (B, H_v)


def _check(query, keys, values, mask):
    masks = {} if mask is None else {"mask": (mask, "S B")}
    return check_shapes(query=(query, "B Hq"), keys=(keys, "S B Hk"),
                        values=(values, "S B Hv"), **masks)


# --- dot-product attention ------------------------------------------------------------------------

def dot_scores(query, keys, scale=False):
    r"""e_s = q . k_s, or q . k_s / sqrt(H) with ``scale=True``.  (B, H), (S, B, H) -> (S, B).

    The scaling keeps the scores of random unit-variance vectors at unit variance whatever H is,
    so the softmax does not saturate as H grows.
    """
    dims = check_shapes(query=(query, "B H"), keys=(keys, "S B H"))
    e = np.sum(keys * query, axis=-1)                         # (S, B)
    return e / np.sqrt(dims["H"]) if scale else e


def dot_attention(query, keys, values, mask=None, scale=False):
    """Dot-product attention of ``query: (B, H)`` over ``keys: (S, B, H)``.

    Returns ``(context: (B, H_v), weights: (S, B))``; see the module docstring for the mask.
    """
    _check(query, keys, values, mask)
    weights = masked_softmax(dot_scores(query, keys, scale), mask, axis=0)   # (S, B)
    return _context(weights, values, mask), weights


# --- additive (Bahdanau) attention ---------------------------------------------------------------

def additive_init(query_size, key_size, attn_size, rng, dtype=np.float64):
    """W_q: (H_q, A), W_k: (H_k, A), v: (A,), each U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    return {"W_q": uniform_init(rng, query_size, (query_size, attn_size), dtype),   # (H_q, A)
            "W_k": uniform_init(rng, key_size, (key_size, attn_size), dtype),       # (H_k, A)
            "v": uniform_init(rng, attn_size, (attn_size,), dtype)}                 # (A,)


def additive_scores(params, query, keys):
    r"""e_s = v . tanh(q W_q + k_s W_k): a one-hidden-layer network scores each (q, k_s) pair.

    query: (B, H_q), keys: (S, B, H_k) -> (S, B). q and k_s may have different sizes.
    """
    missing = [k for k in ("W_q", "W_k", "v") if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}: additive attention needs W_q, W_k and v")
    check_shapes(W_q=(params["W_q"], "Hq A"), W_k=(params["W_k"], "Hk A"), v=(params["v"], "A"),
                 query=(query, "B Hq"), keys=(keys, "S B Hk"))
    hidden = np.tanh(query @ params["W_q"] + keys @ params["W_k"])   # (B, A) + (S, B, A)
    return hidden @ params["v"]                                      # (S, B)


def additive_attention(params, query, keys, values, mask=None):
    """Additive attention of ``query: (B, H_q)`` over ``keys: (S, B, H_k)``.

    Returns ``(context: (B, H_v), weights: (S, B))``; see the module docstring for the mask.
    """
    _check(query, keys, values, mask)
    weights = masked_softmax(additive_scores(params, query, keys), mask, axis=0)   # (S, B)
    return _context(weights, values, mask), weights
