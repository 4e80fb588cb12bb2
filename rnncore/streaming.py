r"""Streaming inference: what one more token costs a recurrent cell and causal self-attention.

A stream is read one token at a time, and each token's output is wanted before the next token
arrives (a sensor, speech, text being generated). Both kinds of model can do that exactly:

- a recurrent cell keeps its state, h_t = cell(x_t, h_{t-1}): H numbers (2H for the LSTM's
  pair (h, c)), whatever t;
- causal self-attention keeps the key and the value of every token so far, the *KV cache*, and
  compares each new token's query with all of them. For the n-th token:

      q = x W_q,  k = x W_k,  v = x W_v        k and v become row n of K and V: (n, d) each
      y = softmax(q K^T / sqrt(d)) V W_o       over the n cached tokens

  2 n d numbers after n tokens.

A whole Transformer block also runs its position-wise MLP (d_ff = 4 d, as in Vaswani et al.) on
the token: :func:`block_step`. Causal *linear* attention (:mod:`rnncore.linear_attention`) keeps
a d x d matrix instead of a cache: :func:`linear_step`.

Multiply-adds per token, counting the matrix products (the elementwise work is O(H) or O(n)):

    RNN    D H + H^2            GRU   3 (D H + H^2)            LSTM   4 (D H + H^2)
    attention, context of n tokens (the new one included):   4 d^2 + 2 n d
    Transformer block (attention + MLP of 4 d units):        12 d^2 + 2 n d
    linear attention (state d x d):                           6 d^2

:func:`count_macs` counts them by running a step, a witness for these formulas.

Layout, as everywhere in rnncore: a token is x: (B, D); the cache holds ``K, V: (capacity, B,
d)``, time-major, of which the first ``cache["length"]`` rows are filled. The cache is a
buffer allocated once and written in place (this is inference, never differentiated): appending
by concatenation would copy the whole cache at every token.
"""
import timeit

import numpy as np

from . import gru, linear_attention, lstm, transformer
from .numerics import softmax
from .validation import check_shapes

MODELS = ("rnn", "gru", "lstm", "attention", "block", "linear")


# --- the KV cache and one step of causal self-attention -------------------------------------

def kv_cache(capacity, batch_size, d, dtype=np.float64):
    """An empty cache with room for ``capacity`` tokens: K, V (capacity, B, d) and length 0."""
    if int(capacity) < 1:
        raise ValueError(f"capacity must be a positive number of tokens, got {capacity}")
    return {"K": np.zeros((capacity, batch_size, d), dtype=dtype),
            "V": np.zeros((capacity, batch_size, d), dtype=dtype), "length": 0}


def prefill(params, xs, capacity=None):
    """The cache that reading a prompt leaves behind: K = xs W_k, V = xs W_v in rows 0..n-1.

    xs: (n, B, d), all n tokens at once (two matrix products, no loop over time); capacity:
    room for that many tokens (default n + 1, one more to come). The outputs of the prompt's
    tokens are not computed: only what later tokens need.
    """
    dims = check_shapes(xs=(xs, "n B d"), W_k=(params["W_k"], "d d"), W_v=(params["W_v"], "d d"))
    n = dims["n"]
    capacity = n + 1 if capacity is None else capacity
    if capacity < n:
        raise ValueError(f"capacity = {capacity} is smaller than the prompt's {n} tokens")
    cache = kv_cache(capacity, dims["B"], dims["d"], np.result_type(xs, params["W_k"]))
    cache["K"][:n] = xs @ params["W_k"]                      # (n, B, d)
    cache["V"][:n] = xs @ params["W_v"]
    cache["length"] = n
    return cache


def cached_attention(params, x, cache):
    r"""One token through causal single-head self-attention with a KV cache; no checks.

    x: (B, d). Writes the token's key and value into row n = cache["length"], sets the length
    to n + 1 and returns y: (B, d), the token's output, which has looked at tokens 0..n only.
    """
    n = cache["length"]
    q, k, v = x @ params["W_q"], x @ params["W_k"], x @ params["W_v"]      # (B, d) each
    cache["K"][n], cache["V"][n] = k, v                                    # the cache grows
    cache["length"] = n + 1
    K = cache["K"][:n + 1].transpose(1, 2, 0)                             # (B, d, n + 1)
    V = cache["V"][:n + 1].transpose(1, 0, 2)                             # (B, n + 1, d)
    scores = (q[:, None, :] @ K) / np.sqrt(x.shape[-1])                   # (B, 1, n + 1)
    a = softmax(scores, axis=-1)                                          # the weights
    return (a @ V)[:, 0, :] @ params["W_o"]                               # (B, d)


def attention_step(params, x, cache):
    """:func:`cached_attention` after checking the shapes and that the cache has room.

    params: W_q, W_k, W_v, W_o, each (d, d) (:func:`rnncore.transformer.multihead_init`);
    x: (B, d); cache: from :func:`kv_cache` or :func:`prefill`. Returns y: (B, d).
    Run over x_1..x_T from an empty cache, it gives, one token at a time, the outputs of
    ``transformer.multihead_forward(params, xs, 1, transformer.causal_mask(T))``.
    """
    missing = [k for k in ("W_q", "W_k", "W_v", "W_o") if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}: attention needs W_q, W_k, W_v, W_o")
    if not isinstance(cache, dict) or not {"K", "V", "length"} <= set(cache):
        raise ValueError("cache must be a dict with K, V and length (see streaming.kv_cache)")
    check_shapes(W_q=(params["W_q"], "d d"), W_k=(params["W_k"], "d d"),
                 W_v=(params["W_v"], "d d"), W_o=(params["W_o"], "d d"),
                 K=(cache["K"], "capacity B d"), V=(cache["V"], "capacity B d"), x=(x, "B d"))
    if cache["length"] >= len(cache["K"]):
        raise ValueError(f"cache is full: it holds {cache['length']} tokens, its capacity; "
                         f"make a larger one with kv_cache(capacity, ...)")
    return cached_attention(params, x, cache)


def block_step(params, x, cache):
    """One token through a pre-norm Transformer block with a KV cache, one head; no checks.

    params: :func:`rnncore.transformer.block_init` (ln1, attn, ln2, mlp); x: (B, d) -> (B, d):
    x' = x + attention(LN_1(x)) over the cache, y = x' + FFN(LN_2(x')). Run over x_1..x_T from
    an empty cache, it gives the rows of ``transformer.block_forward(params, xs, 1, causal=True)``.
    """
    x = x + cached_attention(params["attn"], transformer.layer_norm(params["ln1"], x), cache)
    return x + transformer.mlp_forward(params["mlp"], transformer.layer_norm(params["ln2"], x))


def linear_step(params, x, state):
    """One token through a causal linear-attention layer: (y (B, d), the new d x d state).
    See :func:`rnncore.linear_attention.layer_step`; the state does not grow."""
    return linear_attention.layer_step(params, x, state)


# --- what a token costs: memory, multiply-adds, time ----------------------------------------

def state_bytes(state):
    """The bytes a model keeps between tokens: a recurrent state (an array, or a tuple or dict of
    them such as the LSTM's (h, c) or linear attention's {S, z}), or a KV cache (its filled rows
    of K and V)."""
    if isinstance(state, dict) and "length" in state:
        n = state["length"]
        return int(state["K"][:n].nbytes + state["V"][:n].nbytes)
    if isinstance(state, dict):
        return sum(state_bytes(s) for s in state.values())
    if isinstance(state, (tuple, list)):
        return sum(state_bytes(s) for s in state)
    return int(np.asarray(state).nbytes)


def macs_per_token(model, D, H, n=None):
    """The formula: multiply-adds of one token's matrix products (see the module docstring).

    model: "rnn", "gru", "lstm" (input size D, hidden size H), "linear" (d = D = H) or
    "attention", "block" (d = D = H, a context of n tokens, the new one included; the block's
    MLP has 4 d units).
    """
    if model in ("attention", "block"):
        if D != H or n is None:
            raise ValueError(f"{model} needs D == H (= d) and a context n, got D={D}, H={H}, "
                             f"n={n}")
        mlp = 2 * D * (4 * D) if model == "block" else 0
        return 4 * D * D + 2 * n * D + mlp
    if model == "linear":
        if D != H:
            raise ValueError(f"linear attention needs D == H (= d), got D={D}, H={H}")
        return 6 * D * D
    gates = {"rnn": 1, "gru": 3, "lstm": 4}
    if model not in gates:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    return gates[model] * (D * H + H * H)


class _Counted(np.ndarray):
    """An array that adds the multiply-adds of every matrix product it takes part in to
    _Counted.tally; whatever is computed from it is counted too."""
    tally = None

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain = [i.view(np.ndarray) if isinstance(i, _Counted) else i for i in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, _Counted) else o
                                  for o in kwargs["out"])
        if ufunc is np.matmul and method == "__call__":
            a, b = (np.shape(i) for i in plain[:2])
            a, b = (1,) + a if len(a) == 1 else a, b + (1,) if len(b) == 1 else b
            batch = np.broadcast_shapes(a[:-2], b[:-2])
            _Counted.tally += int(np.prod(batch, dtype=np.int64)) * a[-2] * a[-1] * b[-1]
        result = getattr(ufunc, method)(*plain, **kwargs)
        if isinstance(result, np.ndarray) and "out" not in kwargs:
            return result.view(_Counted)
        return result


def _count_in(tree, undo):
    """tree with its arrays viewed as _Counted. Dicts and lists are changed in place, so that
    what fn writes into them (a cache's length) stays; undo records how to put them back."""
    if isinstance(tree, np.ndarray):
        return tree.view(_Counted)
    if isinstance(tree, tuple):
        return tuple(_count_in(v, undo) for v in tree)
    if isinstance(tree, (dict, list)):
        for key in list(tree.keys() if isinstance(tree, dict) else range(len(tree))):
            original = tree[key]
            counted = _count_in(original, undo)
            if counted is not original:
                tree[key] = counted
                undo.append((tree, key, original, counted))
    return tree


def _plain(tree):
    if isinstance(tree, dict):
        return {k: _plain(v) for k, v in tree.items()}
    if isinstance(tree, (tuple, list)):
        return type(tree)(_plain(v) for v in tree)
    return tree.view(np.ndarray) if isinstance(tree, _Counted) else tree


def count_macs(fn, *args):
    """Run fn(*args) and count the multiply-adds of its matrix products (``@``, np.matmul).

    The arrays in args (also inside dicts, tuples and lists) are viewed as counting arrays
    while fn runs, so every product that involves them, or anything computed from them, is
    counted: an (m, k) by (k, p) product counts m k p. What fn writes into the arrays and dicts
    it is given (a KV cache and its length) stays written, as without counting. Returns
    ``(fn's result as plain arrays, macs)``.
    """
    if _Counted.tally is not None:
        raise RuntimeError("count_macs cannot be nested")
    _Counted.tally, undo = 0, []
    try:
        result = fn(*_count_in(list(args), undo))
        return _plain(result), _Counted.tally
    finally:
        _Counted.tally = None
        for container, key, original, counted in reversed(undo):
            if container[key] is counted:                   # unless fn put something else there
                container[key] = original


def seconds_per_call(fns, number=50, repeat=7):
    """The time of one call of each function in ``fns`` (a dict name -> fn()), in seconds.

    Each fn is called ``number`` times in a row, and that is repeated ``repeat`` times, the
    functions taking turns (so that a burst of other work on the machine cannot fall on one
    of them only). A function's time is its best run divided by ``number``: the minimum is what
    the code costs, and a busy machine only ever adds to it. Returns a dict name -> seconds.
    """
    best = {name: np.inf for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            best[name] = min(best[name], timeit.timeit(fn, number=number) / number)
    return best


def per_token_costs(contexts, d, rng, dtype=np.float32, number=50, repeat=7):
    """Memory, multiply-adds and time of one more token, batch size 1, at each context length.

    The GRU and the LSTM have D = H = d; causal self-attention ("attention", one sub-layer) and
    a whole Transformer block ("block": attention and an MLP of 4 d units) have model size d
    and, at context n, a cache of n - 1 earlier tokens to which the token adds the n-th; causal
    linear attention ("linear") keeps its d x d state, the sum over n - 1 earlier tokens. The
    weights and tokens are random (costs do not depend on the values). For each n in ``contexts`` and each
    model, "bytes" is :func:`state_bytes` of what is kept after the token, "macs" comes from
    :func:`count_macs` and "seconds" from :func:`seconds_per_call` (the cache is set back to
    n - 1 tokens before every call). The cells' steps are the unchecked ``cell_gates``, as is
    :func:`cached_attention`, so no model pays for argument checks.

    Returns {"gru" | "lstm" | "attention" | "block" | "linear":
    {"bytes", "macs", "seconds": arrays (len(contexts),)}}.
    The recurrent cells do not depend on n, but are measured at every n all the same: the
    spread of their times is the measurement noise.
    """
    contexts = [int(n) for n in contexts]
    if not contexts or min(contexts) < 1:
        raise ValueError(f"contexts must be positive numbers of tokens, got {contexts}")
    cast = lambda params: {k: v.astype(dtype) for k, v in params.items()}   # noqa: E731

    def gru_step(params, x, h):
        return gru.cell_gates(params, x, h)[-1]                     # h: (B, H)

    def lstm_step(params, x, state):
        *_, c, h = lstm.cell_gates(params, x, *state)
        return h, c                                                 # the state (h, c)

    def attention_at(n, step):
        def attend(params, x, cache):
            cache["length"] = n - 1                                 # forget the last token
            return step(params, x, cache)
        return attend

    def linear(params, x, state):
        return linear_step(params, x, state)[1]                     # the new state

    x = rng.normal(size=(1, d)).astype(dtype)                       # (B, d), B = 1
    h, c = (np.tanh(rng.normal(size=(1, d))).astype(dtype) for _ in range(2))   # (B, H)
    models = {"gru": (gru_step, cast(gru.init(d, d, rng)), h),
              "lstm": (lstm_step, cast(lstm.init(d, d, rng)), (h, c))}
    attention = cast(transformer.multihead_init(d, rng))
    block = transformer.block_init(d, 4 * d, rng)
    block = {part: cast(p) for part, p in block.items()}
    linear_params = cast(transformer.multihead_init(d, rng))
    prompt = rng.normal(size=(max(contexts) - 1, 1, d)).astype(dtype)   # (n - 1, B, d)
    costs = {name: {"bytes": [], "macs": [], "seconds": []}
             for name in (*models, "attention", "block", "linear")}
    jobs = {}
    for n in contexts:
        caches = {"attention": prefill(attention, prompt[:n - 1], capacity=n),
                  "block": prefill(block["attn"], prompt[:n - 1], capacity=n)}
        state = linear_attention.prefill(linear_params, prompt[:n - 1])   # S, z of n - 1 tokens
        runs = {**models, "attention": (attention_at(n, cached_attention), attention,
                                        caches["attention"]),
                "block": (attention_at(n, block_step), block, caches["block"]),
                "linear": (linear, linear_params, state)}
        for name, (step, params, state) in runs.items():
            kept = step(params, x, state)                           # the new state ...
            kept = caches.get(name, kept)                           # ... or the cache, now n
            costs[name]["bytes"].append(state_bytes(kept))
            costs[name]["macs"].append(count_macs(step, params, x, state)[1])
            jobs[name, n] = lambda step=step, params=params, state=state: step(params, x, state)
    seconds = seconds_per_call(jobs, number, repeat)
    for (name, n) in jobs:
        costs[name]["seconds"].append(seconds[name, n])
    return {name: {k: np.array(v) for k, v in measured.items()} for name, measured in costs.items()}
