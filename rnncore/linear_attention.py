r"""Causal linear attention (Katharopoulos et al. 2020): attention that is also an RNN.

Softmax attention weighs value s by exp(q_t . k_s / sqrt(d_k)). Linear attention replaces the
exponential by a dot product of positive features, sim(q, k) = phi(q) . phi(k), with
phi(x) = elu(x) + 1:

    out_t = sum_{s<=t} (phi(q_t) . phi(k_s)) v_s  /  sum_{s<=t} phi(q_t) . phi(k_s)

*As attention* (:func:`parallel`): the (T, T) matrix of similarities, masked and normalised
row by row, times the values; T^2 work per feature, every position at once.

*As an RNN* (:func:`recurrent`, :func:`step`): the sums can be carried forward, because
(phi(q_t) . phi(k_s)) v_s = phi(q_t) (phi(k_s)^T v_s):

    S_t = S_{t-1} + phi(k_t)^T v_t          (d_k, d_v), a matrix-valued state
    z_t = z_{t-1} + phi(k_t)                (d_k,)
    out_t = phi(q_t) S_t / (phi(q_t) . z_t)

so one more token costs the same d_k d_v work and keeps the same d_k d_v + d_k numbers
whatever t, where softmax attention's KV cache keeps 2 t d. The price: everything the past
left behind is superposed in one d_k x d_v matrix, which can hold at most d_k key-value pairs
without interference (chapter 8's copy task measures it).

``feature=None`` and ``normalise=False`` give the plain "fast-weight" memory
S_t = sum_s k_s^T v_s, read as q_t S_t (Schlag et al. 2021).

Layout: time-major; q, k: (T, B, d_k), v: (T, B, d_v); vectors are rows, as in the code of
every chapter. The state is a dict {"S": (B, d_k, d_v), "z": (B, d_k)}.
"""
import autograd.numpy as np

from .validation import check_shapes


def elu_plus_one(x):
    """phi(x) = elu(x) + 1: x + 1 for x > 0, exp(x) otherwise; always positive."""
    return np.where(x > 0, x + 1.0, np.exp(np.minimum(x, 0.0)))


def _features(feature, q, k):
    return (q, k) if feature is None else (feature(q), feature(k))


def parallel(q, k, v, feature=elu_plus_one, normalise=True):
    """Causal linear attention computed as attention: the (T, T, B) similarities at once.

    q, k: (T, B, d_k); v: (T, B, d_v). Returns out: (T, B, d_v).
    """
    dims = check_shapes(q=(q, "T B dk"), k=(k, "T B dk"), v=(v, "T B dv"))
    fq, fk = _features(feature, q, k)
    sim = np.einsum("tbd,sbd->tsb", fq, fk)                          # (T, S, B)
    past = np.tril(np.ones((dims["T"], dims["T"])))[:, :, None]      # s <= t
    sim = sim * past
    if normalise:
        sim = sim / np.sum(sim, axis=1, keepdims=True)
    return np.einsum("tsb,sbd->tbd", sim, v)                         # (T, B, d_v)


def init_state(batch_size, d_k, d_v, dtype=np.float64):
    """The empty state: S = 0 (B, d_k, d_v) and z = 0 (B, d_k)."""
    return {"S": np.zeros((batch_size, d_k, d_v), dtype=dtype),
            "z": np.zeros((batch_size, d_k), dtype=dtype)}


def step(q, k, v, state, feature=elu_plus_one, normalise=True):
    """One token: q, k (B, d_k), v (B, d_v) -> (out (B, d_v), the new state). Pure: the old
    state is not changed. Costs 2 B d_k d_v multiply-adds (the outer product and the read)."""
    fq, fk = _features(feature, q, k)
    S = state["S"] + fk[:, :, None] @ v[:, None, :]                  # (B, d_k, d_v)
    z = state["z"] + fk                                              # (B, d_k)
    out = (fq[:, None, :] @ S)[:, 0, :]                              # (B, d_v)
    if normalise:
        out = out / np.sum(fq * z, axis=-1, keepdims=True)
    return out, {"S": S, "z": z}


def recurrent(q, k, v, feature=elu_plus_one, normalise=True):
    """Causal linear attention computed as an RNN, one step at a time: out (T, B, d_v)."""
    dims = check_shapes(q=(q, "T B dk"), k=(k, "T B dk"), v=(v, "T B dv"))
    state = init_state(dims["B"], dims["dk"], dims["dv"], np.result_type(q, v))
    outs = []
    for t in range(dims["T"]):
        out, state = step(q[t], k[t], v[t], state, feature, normalise)
        outs.append(out)
    return np.stack(outs)                                            # (T, B, d_v)


def prefill(params, xs, feature=elu_plus_one):
    """The state a linear-attention layer has after reading a prompt xs (n, B, d), all at once:
    S = sum_s phi(k_s)^T v_s, z = sum_s phi(k_s), with k = xs W_k, v = xs W_v."""
    fk = feature(xs @ params["W_k"])                                 # (n, B, d_k)
    v = xs @ params["W_v"]                                           # (n, B, d_v)
    return {"S": np.einsum("nbk,nbv->bkv", fk, v), "z": np.sum(fk, axis=0)}


def layer_step(params, x, state):
    """One token through a linear-attention layer: q, k, v = x W_q, x W_k, x W_v, then
    :func:`step`, then W_o. params: W_q, W_k, W_v, W_o (d, d) each (as
    :func:`rnncore.transformer.multihead_init`); x: (B, d). Returns (y (B, d), new state).
    6 d^2 multiply-adds per token: four projections and the state's d x d update and read."""
    q, k, v = x @ params["W_q"], x @ params["W_k"], x @ params["W_v"]     # (B, d) each
    out, state = step(q, k, v, state)
    return out @ params["W_o"], state
