r"""Self-attention and a small Transformer block (Vaswani et al. 2017), from scratch.

An RNN carries the past in one state h_t, step by step. Self-attention lets every position look
at every other position directly, in one step:

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V

where the queries, keys and values are three linear maps of the same sequence. Nothing in this
formula knows the order of the positions (permuting the inputs permutes the outputs), so the
order is added to the inputs as a positional encoding, and a causal mask stops position t from
looking at the future when the model must predict it.

Layout: time-major, as the rest of rnncore, ``x: (T, B, d)``. Attention weights are
``(T, S, B)``: ``weights[t, :, b]`` is query t's distribution over the S keys. Masks are
``(T, S)`` (shared by the batch) or ``(T, S, B)``, True (or 1) where query t may attend to key s;
masked weights are exactly 0 (see :func:`rnncore.attention.masked_softmax`).

The block is *pre-norm* (layer norm before each sub-layer, inside the residual branch, as in
GPT-2; Xiong et al. 2020): the residual path x -> x + ... stays an identity, which trains more
stably than the original post-norm block without a learning-rate warm-up. A stack of pre-norm
blocks is usually followed by one final :func:`layer_norm`.
"""
import autograd.numpy as np

from .attention import masked_softmax
from .numerics import uniform_init
from .validation import check_shapes


def _require(params, keys, what):
    missing = [k for k in keys if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}: {what} needs {', '.join(keys)}")


def scaled_dot_product_attention(q, k, v, mask=None):
    r"""A_{ts} = softmax_s(q_t . k_s / sqrt(d_k)),   out_t = sum_s A_{ts} v_s.

    q: (T, B, d_k), k: (S, B, d_k), v: (S, B, d_v); mask: (T, S) or (T, S, B), or None.
    Returns ``(out: (T, B, d_v), weights: (T, S, B))``.
    """
    dims = check_shapes(q=(q, "T B dk"), k=(k, "S B dk"), v=(v, "S B dv"))
    scores = np.einsum("tbd,sbd->tsb", q, k) / np.sqrt(dims["dk"])      # (T, S, B)
    if mask is not None:
        mask = np.asarray(mask)
        spec = "T S" if mask.ndim == 2 else "T S B"
        check_shapes(q=(q, "T B dk"), k=(k, "S B dk"), mask=(mask, spec))
        if mask.ndim == 2:
            mask = np.broadcast_to(mask[:, :, None], scores.shape)      # the same for every b
    weights = masked_softmax(scores, mask, axis=1)                      # (T, S, B)
    return np.einsum("tsb,sbd->tbd", weights, v), weights               # (T, B, d_v)


def causal_mask(T):
    """(T, T) bool, True where s <= t: position t may look at itself and the past only."""
    return np.tril(np.ones((T, T), dtype=bool))


def sinusoidal_positional_encoding(T, d):
    r"""PE[t, 2i] = sin(t / 10000^{2i/d}),  PE[t, 2i+1] = cos(t / 10000^{2i/d}),  t = 0..T-1.

    Returns (T, d), every entry in [-1, 1]; add it to the inputs: ``x + PE[:, None, :]``. Each
    pair of columns is a rotation at its own frequency, so PE[t + k] is a fixed linear function
    of PE[t]: relative positions are easy to read off.
    """
    t = np.arange(T)[:, None]                                   # (T, 1)
    two_i = np.arange(0, d, 2)                                  # 2i = 0, 2, 4, ...
    angles = t / 10000.0 ** (two_i / d)                         # (T, ceil(d/2))
    pe = np.stack([np.sin(angles), np.cos(angles)], axis=-1)    # (T, ceil(d/2), 2): sin, cos
    return pe.reshape(T, -1)[:, :d]                             # interleaved, (T, d)


# --- multi-head self-attention --------------------------------------------------------------------

def multihead_init(d_model, rng, dtype=np.float64):
    """W_q, W_k, W_v, W_o: (d, d) each. The number of heads is chosen at forward time."""
    return {name: uniform_init(rng, d_model, (d_model, d_model), dtype)
            for name in ("W_q", "W_k", "W_v", "W_o")}


def multihead_forward(params, x, num_heads, mask=None):
    r"""Multi-head self-attention: h heads attend in h subspaces of size d_k = d / h.

        Q = x W_q,  K = x W_k,  V = x W_v                         (T, B, d), split into h heads
        head_i = Attention(Q_i, K_i, V_i),   out = [head_1; ...; head_h] W_o

    x: (T, B, d); mask: (T, T) or (T, T, B), see the module docstring.
    Returns ``(out: (T, B, d), weights: (T, T, B, h))``.
    """
    _require(params, ("W_q", "W_k", "W_v", "W_o"), "multi-head attention")
    dims = check_shapes(x=(x, "T B d"), W_q=(params["W_q"], "d d"), W_k=(params["W_k"], "d d"),
                        W_v=(params["W_v"], "d d"), W_o=(params["W_o"], "d d"))
    T, B, d, h = dims["T"], dims["B"], dims["d"], num_heads
    if d % h:
        raise ValueError(f"num_heads = {h} must divide the model size d = {d}")
    # Fold the heads into the batch: (T, B, d) = (T, B, h, d_k) -> (T, B*h, d_k).
    Q, K, V = (np.reshape(x @ params[W], (T, B * h, d // h)) for W in ("W_q", "W_k", "W_v"))
    if mask is not None:
        check_shapes(x=(x, "T B d"), mask=(mask, "T T" if np.ndim(mask) == 2 else "T T B"))
        if np.ndim(mask) == 3:
            mask = np.repeat(np.asarray(mask), h, axis=2)        # (T, T, B*h), b major
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)  # (T, B*h, d_k), (T, T, B*h)
    out = np.reshape(heads, (T, B, d)) @ params["W_o"]           # concatenate heads, mix: (T, B, d)
    return out, np.reshape(weights, (T, T, B, h))


# --- layer norm and the position-wise MLP ---------------------------------------------------------

def layer_norm_init(d, dtype=np.float64):
    """gamma = 1, beta = 0: the identity scale and shift."""
    return {"gamma": np.ones(d, dtype=dtype), "beta": np.zeros(d, dtype=dtype)}


def layer_norm(params, x, eps=1e-5):
    r"""LN(x) = gamma * (x - mu) / sqrt(sigma^2 + eps) + beta, mu and sigma^2 over the last axis.

    Each position's vector is normalised on its own (unlike batch norm): no batch statistics.
    """
    _require(params, ("gamma", "beta"), "layer norm")
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=-1, keepdims=True)
    return params["gamma"] * (x - mu) / np.sqrt(var + eps) + params["beta"]


def mlp_init(d_model, d_ff, rng, dtype=np.float64):
    return {"W_1": uniform_init(rng, d_model, (d_model, d_ff), dtype),   # (d, d_ff)
            "b_1": np.zeros(d_ff, dtype=dtype),
            "W_2": uniform_init(rng, d_ff, (d_ff, d_model), dtype),      # (d_ff, d)
            "b_2": np.zeros(d_model, dtype=dtype)}


def mlp_forward(params, x):
    """FFN(x) = ReLU(x W_1 + b_1) W_2 + b_2, the same small network at every position."""
    _require(params, ("W_1", "b_1", "W_2", "b_2"), "the position-wise MLP")
    return np.maximum(x @ params["W_1"] + params["b_1"], 0.0) @ params["W_2"] + params["b_2"]


# --- the block ------------------------------------------------------------------------------------

def block_init(d_model, d_ff, rng, dtype=np.float64):
    """``{"ln1", "attn", "ln2", "mlp"}``: the parameters of one pre-norm Transformer block."""
    return {"ln1": layer_norm_init(d_model, dtype), "attn": multihead_init(d_model, rng, dtype),
            "ln2": layer_norm_init(d_model, dtype), "mlp": mlp_init(d_model, d_ff, rng, dtype)}


def block_forward(params, x, num_heads, causal=False, mask=None):
    r"""One pre-norm Transformer block with two residual connections:

        x' = x  + MultiHead(LN_1(x))
        y  = x' + FFN(LN_2(x'))

    x: (T, B, d) -> y: (T, B, d). ``causal=True`` adds the causal mask (position t sees 1..t);
    ``mask`` ((T, T) or (T, T, B)) is combined with it by logical and.
    """
    _require(params, ("ln1", "attn", "ln2", "mlp"), "a Transformer block")
    T = check_shapes(x=(x, "T B d"))["T"]
    if causal:
        allowed = causal_mask(T)                                  # (T, T)
        if mask is not None:
            if np.ndim(mask) == 3:
                allowed = allowed[:, :, None]                     # (T, T, 1), for every b
            allowed = np.logical_and(allowed, np.asarray(mask) != 0)
        mask = allowed
    attended, _ = multihead_forward(params["attn"], layer_norm(params["ln1"], x), num_heads, mask)
    x = x + attended                                              # (T, B, d)
    return x + mlp_forward(params["mlp"], layer_norm(params["ln2"], x))
