"""Wrong and alternative answers for ch07_alternatives (see tests/course/answers/__init__.py)."""
from answers import Alternative, Wrong, code as _code

# ---------------------------------------------------------------------------------------------
# Chapter 7: positional_encoding, causal_attention, multihead_attention, receptive_field,
# blocks_to_reach
# ---------------------------------------------------------------------------------------------
WRONG = [
    Wrong("positional_encoding", "halves", "puts all the sines in the first half of the columns "
          "and all the cosines in the second (a layout some libraries use), not interleaved",
          _code("""
        def positional_encoding(T, d):
            t = np.arange(T)[:, None]
            half = (d + 1) // 2
            angles = t / 10000.0 ** (2 * np.arange(half) / d)
            return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)[:, :d]
        """)),
    Wrong("positional_encoding", "exponent_per_column", "gives every column its own exponent "
          "j / d, so that the cosine of a pair turns at another speed than its sine", _code("""
        def positional_encoding(T, d):
            t = np.arange(T)[:, None]
            j = np.arange(d)[None, :]
            angles = t / 10000.0 ** (j / d)
            return np.where(j % 2 == 0, np.sin(angles), np.cos(angles))
        """)),
    Wrong("positional_encoding", "positions_from_one", "numbers the positions 1..T instead of "
          "0..T-1", _code("""
        def positional_encoding(T, d):
            t = np.arange(1, T + 1)[:, None]
            j = np.arange(d)[None, :]
            angles = t / 10000.0 ** ((j - j % 2) / d)
            return np.where(j % 2 == 0, np.sin(angles), np.cos(angles))
        """)),
    Wrong("positional_encoding", "pair_index_exponent", "uses the pair index i instead of 2i in "
          "the exponent: t / 10000^(i/d)", _code("""
        def positional_encoding(T, d):
            t = np.arange(T)[:, None]
            j = np.arange(d)[None, :]
            angles = t / 10000.0 ** ((j // 2) / d)
            return np.where(j % 2 == 0, np.sin(angles), np.cos(angles))
        """)),
    Wrong("causal_attention", "unscaled", "forgets to divide the scores by sqrt(d_k)", _code("""
        def causal_attention(q, k, v):
            T = q.shape[0]
            scores = np.einsum("tbd,sbd->tsb", q, k)
            future = np.triu(np.ones((T, T), dtype=bool), k=1)[:, :, None]
            scores = np.where(future, -np.inf, scores)
            weights = np.exp(scores - scores.max(axis=1, keepdims=True))
            weights = weights / weights.sum(axis=1, keepdims=True)
            return np.einsum("tsb,sbd->tbd", weights, v), weights
        """)),
    Wrong("causal_attention", "mask_includes_diagonal", "masks s >= t (np.triu with k=0), so a "
          "position may not look at itself and the first row has nothing to attend to",
          _code("""
        def causal_attention(q, k, v):
            T, d_k = q.shape[0], q.shape[-1]
            scores = np.einsum("tbd,sbd->tsb", q, k) / np.sqrt(d_k)
            future = np.triu(np.ones((T, T), dtype=bool))[:, :, None]
            scores = np.where(future, -np.inf, scores)
            weights = np.exp(scores - scores.max(axis=1, keepdims=True))
            weights = weights / weights.sum(axis=1, keepdims=True)
            return np.einsum("tsb,sbd->tbd", weights, v), weights
        """)),
    Wrong("causal_attention", "mask_transposed", "masks the lower triangle (np.tril) instead of "
          "the upper one: every position sees the future and not the past", _code("""
        def causal_attention(q, k, v):
            T, d_k = q.shape[0], q.shape[-1]
            scores = np.einsum("tbd,sbd->tsb", q, k) / np.sqrt(d_k)
            future = np.tril(np.ones((T, T), dtype=bool), k=-1)[:, :, None]
            scores = np.where(future, -np.inf, scores)
            weights = np.exp(scores - scores.max(axis=1, keepdims=True))
            weights = weights / weights.sum(axis=1, keepdims=True)
            return np.einsum("tsb,sbd->tbd", weights, v), weights
        """)),
    Wrong("causal_attention", "mask_after_softmax", "zeroes the future weights after the "
          "softmax without renormalising, so the rows no longer sum to 1", _code("""
        def causal_attention(q, k, v):
            T, d_k = q.shape[0], q.shape[-1]
            scores = np.einsum("tbd,sbd->tsb", q, k) / np.sqrt(d_k)
            weights = np.exp(scores - scores.max(axis=1, keepdims=True))
            weights = weights / weights.sum(axis=1, keepdims=True)
            weights = weights * np.tril(np.ones((T, T)))[:, :, None]
            return np.einsum("tsb,sbd->tbd", weights, v), weights
        """)),
    Wrong("causal_attention", "softmax_over_queries", "normalises over axis 0, the queries, "
          "instead of axis 1, the keys", _code("""
        def causal_attention(q, k, v):
            T, d_k = q.shape[0], q.shape[-1]
            scores = np.einsum("tbd,sbd->tsb", q, k) / np.sqrt(d_k)
            future = np.triu(np.ones((T, T), dtype=bool), k=1)[:, :, None]
            scores = np.where(future, -np.inf, scores)
            weights = np.exp(scores - scores.max(axis=0, keepdims=True))
            weights = weights / weights.sum(axis=0, keepdims=True)
            return np.einsum("tsb,sbd->tbd", weights, v), weights
        """)),
    Wrong("causal_attention", "mask_after_exp", "subtracts each row's maximum over ALL keys, "
          "takes np.exp, and only then zeroes the future and renormalises: right for ordinary "
          "scores, 0/0 when a masked key scores far above the kept ones", _code("""
        def causal_attention(q, k, v):
            T, d_k = q.shape[0], q.shape[-1]
            scores = np.einsum("tbd,sbd->tsb", q, k) / np.sqrt(d_k)
            weights = np.exp(scores - scores.max(axis=1, keepdims=True))
            weights = weights * np.tril(np.ones((T, T)))[:, :, None]
            weights = weights / weights.sum(axis=1, keepdims=True)
            return np.einsum("tsb,sbd->tbd", weights, v), weights
        """)),
    Wrong("causal_attention", "max_includes_future", "masks with -inf before np.exp, but "
          "subtracts the row's maximum taken before masking, a future key's score included",
          _code("""
        def causal_attention(q, k, v):
            T, d_k = q.shape[0], q.shape[-1]
            scores = np.einsum("tbd,sbd->tsb", q, k) / np.sqrt(d_k)
            future = np.triu(np.ones((T, T), dtype=bool), k=1)[:, :, None]
            weights = np.exp(np.where(future, -np.inf, scores)
                             - scores.max(axis=1, keepdims=True))
            weights = weights / weights.sum(axis=1, keepdims=True)
            return np.einsum("tsb,sbd->tbd", weights, v), weights
        """)),
    Wrong("causal_attention", "batch_max", "shifts the scores by the largest score of the whole "
          "batch instead of each row's: rows far below it underflow to 0/0", _code("""
        def causal_attention(q, k, v):
            T, d_k = q.shape[0], q.shape[-1]
            scores = np.einsum("tbd,sbd->tsb", q, k) / np.sqrt(d_k)
            future = np.triu(np.ones((T, T), dtype=bool), k=1)[:, :, None]
            scores = np.where(future, -np.inf, scores)
            weights = np.exp(scores - scores.max())
            weights = weights / weights.sum(axis=1, keepdims=True)
            return np.einsum("tsb,sbd->tbd", weights, v), weights
        """)),
    Wrong("causal_attention", "scales_q_in_place", "divides the queries by sqrt(d_k) in place, "
          "q /= ..., which changes the caller's array", _code("""
        def causal_attention(q, k, v):
            T, d_k = q.shape[0], q.shape[-1]
            q /= np.sqrt(d_k)
            scores = np.einsum("tbd,sbd->tsb", q, k)
            future = np.triu(np.ones((T, T), dtype=bool), k=1)[:, :, None]
            scores = np.where(future, -np.inf, scores)
            weights = np.exp(scores - scores.max(axis=1, keepdims=True))
            weights = weights / weights.sum(axis=1, keepdims=True)
            return np.einsum("tsb,sbd->tbd", weights, v), weights
        """)),
    Wrong("causal_attention", "imports_library", "calls the library's attention with the "
          "library's mask instead of writing it", _code("""
        from rnncore.transformer import causal_mask, scaled_dot_product_attention


        def causal_attention(q, k, v):
            return scaled_dot_product_attention(q, k, v, causal_mask(len(q)))
        """)),
    Wrong("positional_encoding", "imports_library", "imports the library's encoding under the "
          "exercise's name", _code("""
        from rnncore.transformer import sinusoidal_positional_encoding as positional_encoding
        """)),
    Wrong("multihead_attention", "imports_library", "calls the library's multi-head attention",
          _code("""
        def multihead_attention(params, x, num_heads):
            return transformer.multihead_forward(params, x, num_heads,
                                                 transformer.causal_mask(len(x)))
        """)),
    Wrong("multihead_attention", "caches_in_params", "keeps the projections in the params dict "
          "it was given (params['Q'] = ...), which changes the caller's dict", _code("""
        def multihead_attention(params, x, num_heads):
            T, d = x.shape[0], x.shape[-1]
            d_k = d // num_heads
            for W, name in [("W_q", "Q"), ("W_k", "K"), ("W_v", "V")]:
                params[name] = x @ params[W]
            mask = transformer.causal_mask(T)
            heads, weights = [], []
            for i in range(num_heads):
                cols = slice(i * d_k, (i + 1) * d_k)
                head, w = transformer.scaled_dot_product_attention(
                    params["Q"][..., cols], params["K"][..., cols], params["V"][..., cols], mask)
                heads.append(head)
                weights.append(w)
            return np.concatenate(heads, axis=-1) @ params["W_o"], np.stack(weights, axis=-1)
        """)),
    Wrong("multihead_attention", "interleaved_heads", "splits the width as (d_k, h) instead of "
          "(h, d_k), so head i gets the columns i, i + h, i + 2h, ...", _code("""
        def multihead_attention(params, x, num_heads):
            T, B, d = x.shape
            d_k = d // num_heads
            split = lambda A: A.reshape(T, B, d_k, num_heads)
            Q, K, V = (split(x @ params[W]) for W in ("W_q", "W_k", "W_v"))
            mask = transformer.causal_mask(T)
            heads, weights = [], []
            for i in range(num_heads):
                head, w = transformer.scaled_dot_product_attention(Q[..., i], K[..., i],
                                                                   V[..., i], mask)
                heads.append(head)
                weights.append(w)
            out = np.stack(heads, axis=-1).reshape(T, B, d) @ params["W_o"]
            return out, np.stack(weights, axis=-1)
        """)),
    Wrong("multihead_attention", "no_output_projection", "concatenates the heads but forgets to "
          "multiply by W_o", _code("""
        def multihead_attention(params, x, num_heads):
            T, d = x.shape[0], x.shape[-1]
            d_k = d // num_heads
            Q, K, V = x @ params["W_q"], x @ params["W_k"], x @ params["W_v"]
            mask = transformer.causal_mask(T)
            heads, weights = [], []
            for i in range(num_heads):
                cols = slice(i * d_k, (i + 1) * d_k)
                head, w = transformer.scaled_dot_product_attention(Q[..., cols], K[..., cols],
                                                                   V[..., cols], mask)
                heads.append(head)
                weights.append(w)
            return np.concatenate(heads, axis=-1), np.stack(weights, axis=-1)
        """)),
    Wrong("multihead_attention", "not_causal", "calls the attention without the causal mask",
          _code("""
        def multihead_attention(params, x, num_heads):
            T, d = x.shape[0], x.shape[-1]
            d_k = d // num_heads
            Q, K, V = x @ params["W_q"], x @ params["W_k"], x @ params["W_v"]
            heads, weights = [], []
            for i in range(num_heads):
                cols = slice(i * d_k, (i + 1) * d_k)
                head, w = transformer.scaled_dot_product_attention(Q[..., cols], K[..., cols],
                                                                   V[..., cols])
                heads.append(head)
                weights.append(w)
            return np.concatenate(heads, axis=-1) @ params["W_o"], np.stack(weights, axis=-1)
        """)),
    Wrong("multihead_attention", "heads_first", "stacks the heads' weights on a new first axis, "
          "(h, T, T, B), instead of the last", _code("""
        def multihead_attention(params, x, num_heads):
            T, d = x.shape[0], x.shape[-1]
            d_k = d // num_heads
            Q, K, V = x @ params["W_q"], x @ params["W_k"], x @ params["W_v"]
            mask = transformer.causal_mask(T)
            heads, weights = [], []
            for i in range(num_heads):
                cols = slice(i * d_k, (i + 1) * d_k)
                head, w = transformer.scaled_dot_product_attention(Q[..., cols], K[..., cols],
                                                                   V[..., cols], mask)
                heads.append(head)
                weights.append(w)
            return np.concatenate(heads, axis=-1) @ params["W_o"], np.stack(weights)
        """)),
    Wrong("receptive_field", "one_conv_per_block", "counts one convolution per block: "
          "1 + (k - 1) sum(d)", _code("""
        def receptive_field(kernel_size, dilations):
            return 1 + (kernel_size - 1) * sum(dilations)
        """)),
    Wrong("receptive_field", "k_taps_back", "lets each convolution reach k d steps back instead "
          "of (k - 1) d", _code("""
        def receptive_field(kernel_size, dilations):
            return 1 + 2 * kernel_size * sum(dilations)
        """)),
    Wrong("receptive_field", "without_own_step", "forgets that the output's own step counts: "
          "2 (k - 1) sum(d)", _code("""
        def receptive_field(kernel_size, dilations):
            return 2 * (kernel_size - 1) * sum(dilations)
        """)),
    Wrong("receptive_field", "largest_dilation_only", "multiplies the number of blocks by the "
          "largest dilation, as if every block had it", _code("""
        def receptive_field(kernel_size, dilations):
            return 1 + 2 * (kernel_size - 1) * len(dilations) * max(dilations, default=0)
        """)),
    Wrong("receptive_field", "imports_library", "imports the library's receptive field",
          _code("""
        from rnncore.tcn import receptive_field
        """)),
    Wrong("receptive_field", "float", "computes R with a float factor and returns 3.0 where "
          "the docstring asks for the int 3", _code("""
        def receptive_field(kernel_size, dilations):
            return 1 + 2.0 * (kernel_size - 1) * sum(dilations)
        """)),
    Wrong("receptive_field", "counts_inputs", "counts the inputs the output depends on (the "
          "distinct offsets the taps reach) instead of the span: the same with dilations 1, 2, "
          "4, ..., fewer where the dilations leave holes", _code("""
        def receptive_field(kernel_size, dilations):
            offsets = {0}
            for d in dilations:
                for conv in range(2):
                    offsets = {o + j * d for o in offsets for j in range(kernel_size)}
            return len(offsets)
        """)),
    Wrong("receptive_field", "sorts_in_place", "sorts the caller's list of dilations in place "
          "(to look at the largest last), which changes it", _code("""
        def receptive_field(kernel_size, dilations):
            dilations.sort()
            return 1 + 2 * (kernel_size - 1) * sum(dilations)
        """)),
    Wrong("blocks_to_reach", "imports_library", "imports the library's depth",
          _code("""
        from rnncore.sequence_models import blocks_to_reach
        """)),
    Wrong("blocks_to_reach", "float_ceil", "returns the closed form's np.ceil, a float, where "
          "the docstring asks for an int", _code("""
        def blocks_to_reach(T, kernel_size):
            if T <= 1:
                return 0
            return np.ceil(np.log2((T - 1) / (2 * (kernel_size - 1)) + 1))
        """)),
    Wrong("blocks_to_reach", "strictly_more", "asks for R > T instead of R >= T, one block too "
          "many when R equals T", _code("""
        def blocks_to_reach(T, kernel_size):
            L = 0
            while receptive_field(kernel_size, [2 ** l for l in range(L)]) <= T:
                L += 1
            return L
        """)),
    Wrong("blocks_to_reach", "floor_of_log", "uses the closed form with floor instead of ceil",
          _code("""
        def blocks_to_reach(T, kernel_size):
            return int(np.floor(np.log2((T - 1) / (2 * (kernel_size - 1)) + 1)))
        """)),
    Wrong("blocks_to_reach", "ignores_kernel", "takes ceil(log2(T)) whatever the kernel size",
          _code("""
        def blocks_to_reach(T, kernel_size):
            return int(np.ceil(np.log2(T)))
        """)),
    # --- red team, second pass: broadcasting that works only because T == S, other scales,
    # --- the chapter's doubling formula applied to any list, off-by-ones in the depth ---
    Wrong("positional_encoding", "sin_cos_swapped", "puts the cosine in the even columns and the "
          "sine in the odd ones", _code("""
        def positional_encoding(T, d):
            t = np.arange(T)[:, None]
            j = np.arange(d)[None, :]
            angles = t / 10000.0 ** ((j - j % 2) / d)
            return np.where(j % 2 == 0, np.cos(angles), np.sin(angles))
        """)),
    Wrong("positional_encoding", "floor_division_exponent", "writes the exponent 2i // d with "
          "floor division (an integer habit), so every pair below d/2 gets exponent 0",
          _code("""
        def positional_encoding(T, d):
            t = np.arange(T)[:, None]
            j = np.arange(d)[None, :]
            angles = t / 10000.0 ** ((j - j % 2) // d)
            return np.where(j % 2 == 0, np.sin(angles), np.cos(angles))
        """)),
    Wrong("causal_attention", "max_without_keepdims", "subtracts scores.max(axis=1) without "
          "keepdims: (T, S, B) - (T, B) broadcasts silently because T == S, shifting row t by "
          "row s's maximum", _code("""
        def causal_attention(q, k, v):
            T, d_k = q.shape[0], q.shape[-1]
            scores = np.einsum("tbd,sbd->tsb", q, k) / np.sqrt(d_k)
            future = np.triu(np.ones((T, T), dtype=bool), k=1)[:, :, None]
            scores = np.where(future, -np.inf, scores)
            weights = np.exp(scores - scores.max(axis=1))
            weights = weights / weights.sum(axis=1, keepdims=True)
            return np.einsum("tsb,sbd->tbd", weights, v), weights
        """)),
    Wrong("causal_attention", "sum_without_keepdims", "divides by weights.sum(axis=1) without "
          "keepdims: (T, S, B) / (T, B) broadcasts because T == S, dividing row t by row s's sum",
          _code("""
        def causal_attention(q, k, v):
            T, d_k = q.shape[0], q.shape[-1]
            scores = np.einsum("tbd,sbd->tsb", q, k) / np.sqrt(d_k)
            future = np.triu(np.ones((T, T), dtype=bool), k=1)[:, :, None]
            scores = np.where(future, -np.inf, scores)
            weights = np.exp(scores - scores.max(axis=1, keepdims=True))
            weights = weights / weights.sum(axis=1)
            return np.einsum("tsb,sbd->tbd", weights, v), weights
        """)),
    Wrong("causal_attention", "scaled_by_d_v", "divides by sqrt of the values' width, "
          "v.shape[-1], instead of the queries' d_k", _code("""
        def causal_attention(q, k, v):
            T = q.shape[0]
            scores = np.einsum("tbd,sbd->tsb", q, k) / np.sqrt(v.shape[-1])
            future = np.triu(np.ones((T, T), dtype=bool), k=1)[:, :, None]
            scores = np.where(future, -np.inf, scores)
            weights = np.exp(scores - scores.max(axis=1, keepdims=True))
            weights = weights / weights.sum(axis=1, keepdims=True)
            return np.einsum("tsb,sbd->tbd", weights, v), weights
        """)),
    Wrong("causal_attention", "mask_without_batch_axis", "uses the (T, T) mask without [:, :, "
          "None]: it broadcasts against the trailing axes (S, B), right only if B == T",
          _code("""
        def causal_attention(q, k, v):
            T, d_k = q.shape[0], q.shape[-1]
            scores = np.einsum("tbd,sbd->tsb", q, k) / np.sqrt(d_k)
            scores = np.where(np.triu(np.ones((T, T), dtype=bool), k=1), -np.inf, scores)
            weights = np.exp(scores - scores.max(axis=1, keepdims=True))
            weights = weights / weights.sum(axis=1, keepdims=True)
            return np.einsum("tsb,sbd->tbd", weights, v), weights
        """)),
    Wrong("multihead_attention", "double_scaled", "divides Q by sqrt(d_k) itself before calling "
          "the library's attention, which scales again", _code("""
        def multihead_attention(params, x, num_heads):
            T, d = x.shape[0], x.shape[-1]
            d_k = d // num_heads
            Q = x @ params["W_q"] / np.sqrt(d_k)
            K, V = x @ params["W_k"], x @ params["W_v"]
            mask = transformer.causal_mask(T)
            heads, weights = [], []
            for i in range(num_heads):
                cols = slice(i * d_k, (i + 1) * d_k)
                head, w = transformer.scaled_dot_product_attention(Q[..., cols], K[..., cols],
                                                                   V[..., cols], mask)
                heads.append(head)
                weights.append(w)
            return np.concatenate(heads, axis=-1) @ params["W_o"], np.stack(weights, axis=-1)
        """)),
    Wrong("multihead_attention", "torch_linear_layout", "multiplies by the transposed weights, "
          "x @ W.T, as PyTorch's nn.Linear stores them (out, in)", _code("""
        def multihead_attention(params, x, num_heads):
            T, d = x.shape[0], x.shape[-1]
            d_k = d // num_heads
            Q, K, V = (x @ params[W].T for W in ("W_q", "W_k", "W_v"))
            mask = transformer.causal_mask(T)
            heads, weights = [], []
            for i in range(num_heads):
                cols = slice(i * d_k, (i + 1) * d_k)
                head, w = transformer.scaled_dot_product_attention(Q[..., cols], K[..., cols],
                                                                   V[..., cols], mask)
                heads.append(head)
                weights.append(w)
            return np.concatenate(heads, axis=-1) @ params["W_o"].T, np.stack(weights, axis=-1)
        """)),
    Wrong("receptive_field", "assumes_doubling", "uses the chapter's closed form for dilations "
          "1, 2, 4, ..., R = 1 + 2 (k - 1)(2^L - 1), whatever the list holds", _code("""
        def receptive_field(kernel_size, dilations):
            return 1 + 2 * (kernel_size - 1) * (2 ** len(dilations) - 1)
        """)),
    Wrong("receptive_field", "np_sum_empty_float", "sums with np.sum, which returns the float "
          "0.0 for the empty list, so a TCN without blocks gets R = 1.0", _code("""
        def receptive_field(kernel_size, dilations):
            return 1 + 2 * (kernel_size - 1) * np.sum(dilations)
        """)),
    Wrong("blocks_to_reach", "starts_at_one", "starts the search at one block, so T = 1 gets 1 "
          "instead of 0", _code("""
        def blocks_to_reach(T, kernel_size):
            L = 1
            while receptive_field(kernel_size, [2 ** l for l in range(L)]) < T:
                L += 1
            return L
        """)),
    Wrong("blocks_to_reach", "dilations_from_two", "gives block l the dilation 2^l with l from "
          "1 (2, 4, 8, ...) instead of from 0", _code("""
        def blocks_to_reach(T, kernel_size):
            L = 0
            while receptive_field(kernel_size, [2 ** l for l in range(1, L + 1)]) < T:
                L += 1
            return L
        """)),
    Wrong("causal_attention", "mask_fill_minus_1000", "masks with a 'large negative number', "
          "-1000, instead of -inf: where every kept score of a row is below about -1700, the "
          "future keys get the weight", _code("""
        def causal_attention(q, k, v):
            T, d_k = q.shape[0], q.shape[-1]
            scores = np.einsum("tbd,sbd->tsb", q, k) / np.sqrt(d_k)
            future = np.triu(np.ones((T, T), dtype=bool), k=1)[:, :, None]
            scores = np.where(future, -1000.0, scores)
            weights = np.exp(scores - scores.max(axis=1, keepdims=True))
            weights = weights / weights.sum(axis=1, keepdims=True)
            return np.einsum("tsb,sbd->tbd", weights, v), weights
        """)),
    Wrong("causal_attention", "imports_log_softmax", "writes the scores and the mask but takes "
          "the softmax from the library, as np.exp(numerics.log_softmax(...))", _code("""
        from rnncore.numerics import log_softmax


        def causal_attention(q, k, v):
            T, d_k = q.shape[0], q.shape[-1]
            scores = np.einsum("tbd,sbd->tsb", q, k) / np.sqrt(d_k)
            future = np.triu(np.ones((T, T), dtype=bool), k=1)[:, :, None]
            weights = np.exp(log_softmax(np.where(future, -np.inf, scores), axis=1))
            return np.einsum("tsb,sbd->tbd", weights, v), weights
        """)),
]

ALTERNATIVES = [
    Alternative("loops", "Python loops: the encoding position by position, the attention one "
                         "query at a time over its prefix, the heads folded into the batch "
                         "with a reshape (as the library does), the receptive field summed "
                         "block by block, the depth in closed form", {
        "positional_encoding": _code("""
            def positional_encoding(T, d):
                PE = np.zeros((T, d))
                for t in range(T):
                    for i in range(0, d, 2):
                        angle = t / 10000 ** (i / d)
                        PE[t, i] = np.sin(angle)
                        if i + 1 < d:
                            PE[t, i + 1] = np.cos(angle)
                return PE
            """),
        "causal_attention": _code("""
            def causal_attention(q, k, v):
                T, B, d_k = q.shape
                weights = np.zeros((T, T, B))
                out = np.zeros((T, B, v.shape[-1]))
                for t in range(T):
                    for b in range(B):
                        e = k[:t + 1, b] @ q[t, b] / np.sqrt(d_k)
                        a = np.exp(e - e.max())
                        weights[t, :t + 1, b] = a / a.sum()
                        out[t, b] = weights[t, :t + 1, b] @ v[:t + 1, b]
                return out, weights
            """),
        "multihead_attention": _code("""
            def multihead_attention(params, x, num_heads):
                T, B, d = x.shape
                fold = lambda A: A.reshape(T, B * num_heads, d // num_heads)
                Q, K, V = (fold(x @ params[W]) for W in ("W_q", "W_k", "W_v"))
                heads, weights = transformer.scaled_dot_product_attention(
                    Q, K, V, transformer.causal_mask(T))
                out = heads.reshape(T, B, d) @ params["W_o"]
                return out, weights.reshape(T, T, B, num_heads)
            """),
        "receptive_field": _code("""
            def receptive_field(kernel_size, dilations):
                R = 1
                for d in dilations:
                    for conv in range(2):
                        R += (kernel_size - 1) * d
                return R
            """),
        "blocks_to_reach": _code("""
            def blocks_to_reach(T, kernel_size):
                if T <= 1:
                    return 0
                return int(np.ceil(np.log2((T - 1) / (2 * (kernel_size - 1)) + 1)))
            """),
    }),
    Alternative("magics", "times its work with IPython magics, as the notebooks invite: a "
                          "%%time cell magic around a definition, %time and %timeit lines "
                          "after one", {
        "positional_encoding": _code("""
            %%time
            def positional_encoding(T, d):
                t = np.arange(T)[:, None]
                j = np.arange(d)[None, :]
                angles = t / 10000.0 ** ((j - j % 2) / d)
                return np.where(j % 2 == 0, np.sin(angles), np.cos(angles))
            """),
        "causal_attention": _code("""
            def causal_attention(q, k, v):
                T, d_k = q.shape[0], q.shape[-1]
                scores = np.einsum("tbd,sbd->tsb", q, k) / np.sqrt(d_k)
                future = np.triu(np.ones((T, T), dtype=bool), k=1)[:, :, None]
                scores = np.where(future, -np.inf, scores)
                weights = np.exp(scores - scores.max(axis=1, keepdims=True))
                weights = weights / weights.sum(axis=1, keepdims=True)
                return np.einsum("tsb,sbd->tbd", weights, v), weights


            ones = np.ones((50, 4, 8))
            %time _ = causal_attention(ones, ones, ones[..., :2])
            """),
        "receptive_field": _code("""
            def receptive_field(kernel_size, dilations):
                return 1 + 2 * (kernel_size - 1) * sum(dilations)


            %timeit -n 10 -r 2 receptive_field(3, [1, 2, 4])
            """),
    }),
    Alternative("float32", "computes the encoding and the attention in float32, with matmul "
                           "and a large negative number for the mask", {
        "positional_encoding": _code("""
            def positional_encoding(T, d):
                t = np.arange(T, dtype=np.float32)[:, None]
                freq = np.float32(10000.0) ** (-(np.arange(0, d, 2, dtype=np.float32) / d))
                angles = t * freq
                PE = np.empty((T, d), dtype=np.float32)
                PE[:, 0::2] = np.sin(angles)
                PE[:, 1::2] = np.cos(angles)[:, :d // 2]
                return PE
            """),
        "causal_attention": _code("""
            def causal_attention(q, k, v):
                q, k, v = (np.asarray(a, np.float32) for a in (q, k, v))
                T, d_k = q.shape[0], q.shape[-1]
                scores = np.transpose(q, (1, 0, 2)) @ np.transpose(k, (1, 2, 0))  # (B, T, S)
                scores = scores / np.float32(np.sqrt(d_k))
                scores = scores + np.triu(np.full((T, T), -1e30, np.float32), k=1)
                weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
                weights = weights / weights.sum(axis=-1, keepdims=True)
                out = weights @ np.transpose(v, (1, 0, 2))                         # (B, T, d_v)
                return np.transpose(out, (1, 0, 2)), np.transpose(weights, (1, 2, 0))
            """),
        "multihead_attention": _code("""
            def multihead_attention(params, x, num_heads):
                p = {name: np.asarray(w, np.float32) for name, w in params.items()}
                x = np.asarray(x, np.float32)
                T, d = x.shape[0], x.shape[-1]
                d_k = d // num_heads
                Q, K, V = x @ p["W_q"], x @ p["W_k"], x @ p["W_v"]
                parts = [transformer.scaled_dot_product_attention(
                             Q[..., i * d_k:(i + 1) * d_k], K[..., i * d_k:(i + 1) * d_k],
                             V[..., i * d_k:(i + 1) * d_k], transformer.causal_mask(T))
                         for i in range(num_heads)]
                out = np.concatenate([head for head, _ in parts], axis=-1) @ p["W_o"]
                return out, np.stack([w for _, w in parts], axis=-1)
            """),
        "blocks_to_reach": _code("""
            def blocks_to_reach(T, kernel_size):
                L, R = 0, 1
                while R < T:
                    L += 1
                    R = receptive_field(kernel_size, [2 ** l for l in range(L)])
                return L
            """),
    }),
    Alternative("torch_recipe", "the PyTorch tutorial's encoding (div_term = exp(-ln(10000) "
                                "2i / d), the cosine cut to d // 2 columns for odd d); the "
                                "attention with a boolean 's > t' from aranges, -1e9 and a "
                                "log-sum-exp normaliser; the heads by reshape (T, B, h, d_k) "
                                "and W_o applied per head and summed; numpy integers for the "
                                "counts", {
        "positional_encoding": _code("""
            def positional_encoding(T, d):
                position = np.arange(T)[:, None]
                div_term = np.exp(np.arange(0, d, 2) * (-np.log(10000.0) / d))
                pe = np.zeros((T, d))
                pe[:, 0::2] = np.sin(position * div_term)
                pe[:, 1::2] = np.cos(position * div_term[:d // 2])
                return pe
            """),
        "causal_attention": _code("""
            def causal_attention(q, k, v):
                T, d_k = q.shape[0], q.shape[-1]
                future = np.arange(T)[None, :] > np.arange(T)[:, None]      # (T, S): s > t
                scores = np.einsum("tbd,sbd->tsb", q / np.sqrt(d_k), k)
                scores = np.where(future[:, :, None], -1e9, scores)
                top = scores.max(axis=1, keepdims=True)
                log_norm = top + np.log(np.exp(scores - top).sum(axis=1, keepdims=True))
                weights = np.exp(scores - log_norm)
                return np.einsum("tsb,sbd->tbd", weights, v), weights
            """),
        "multihead_attention": _code("""
            def multihead_attention(params, x, num_heads):
                T, B, d = x.shape
                d_k = d // num_heads
                split = lambda A: A.reshape(T, B, num_heads, d_k)
                Q, K, V = (split(x @ params[W]) for W in ("W_q", "W_k", "W_v"))
                mask = transformer.causal_mask(T)
                out, weights = np.zeros((T, B, d)), np.zeros((T, T, B, num_heads))
                for i in range(num_heads):
                    head, weights[..., i] = transformer.scaled_dot_product_attention(
                        Q[:, :, i], K[:, :, i], V[:, :, i], mask)
                    out += head @ params["W_o"][i * d_k:(i + 1) * d_k]
                return out, weights
            """),
        "receptive_field": _code("""
            def receptive_field(kernel_size, dilations):
                return 1 + 2 * (kernel_size - 1) * np.sum(np.asarray(dilations, dtype=np.int64))
            """),
        "blocks_to_reach": _code("""
            def blocks_to_reach(T, kernel_size):
                L = np.arange(64)
                R = 1 + 2 * (kernel_size - 1) * (2 ** L - 1)
                return np.argmax(R >= T)
            """),
    }),
    Alternative("stacked_exact", "the encoding by stacking sine and cosine on a new last axis and "
                                 "flattening (interleaved, cut to d); the attention with "
                                 "np.tril's allowed keys and a softmax over the allowed ones; the "
                                 "heads with an attention of its own on a head axis (einsum), "
                                 "not the library's; the receptive field by recursion; the depth "
                                 "in exact integer arithmetic (bit_length)", {
        "positional_encoding": _code("""
            def positional_encoding(T, d):
                pairs = (d + 1) // 2
                angles = np.arange(T)[:, None] / 10000.0 ** (2 * np.arange(pairs) / d)   # (T, pairs)
                return np.stack([np.sin(angles), np.cos(angles)], axis=-1).reshape(T, 2 * pairs)[:, :d]
            """),
        "causal_attention": _code("""
            def causal_attention(q, k, v):
                T, d_k = q.shape[0], q.shape[-1]
                allowed = np.tril(np.ones((T, T), dtype=bool))[:, :, None]          # s <= t
                scores = np.einsum("tbd,sbd->tsb", q, k) / np.sqrt(d_k)
                top = np.max(scores, axis=1, keepdims=True, where=allowed, initial=-np.inf)
                weights = np.where(allowed, np.exp(np.where(allowed, scores - top, 0.0)), 0.0)
                weights /= weights.sum(axis=1, keepdims=True)
                return np.einsum("tsb,sbd->tbd", weights, v), weights
            """),
        "multihead_attention": _code("""
            def multihead_attention(params, x, num_heads):
                T, B, d = x.shape
                d_k = d // num_heads
                Q, K, V = (np.reshape(x @ params[W], (T, B, num_heads, d_k))
                           for W in ("W_q", "W_k", "W_v"))
                scores = np.einsum("tbhd,sbhd->tsbh", Q, K) / np.sqrt(d_k)          # (T, S, B, h)
                future = np.triu(np.ones((T, T), dtype=bool), k=1)[:, :, None, None]
                scores = np.where(future, -np.inf, scores)
                weights = np.exp(scores - scores.max(axis=1, keepdims=True))
                weights = weights / weights.sum(axis=1, keepdims=True)
                heads = np.einsum("tsbh,sbhd->tbhd", weights, V).reshape(T, B, d)
                return heads @ params["W_o"], weights
            """),
        "receptive_field": _code("""
            def receptive_field(kernel_size, dilations):
                if not dilations:
                    return 1
                return 2 * (kernel_size - 1) * dilations[-1] + receptive_field(kernel_size,
                                                                               dilations[:-1])
            """),
        "blocks_to_reach": _code("""
            def blocks_to_reach(T, kernel_size):
                span = 2 * (kernel_size - 1)
                m = -(-(T - 1) // span) + 1          # ceil((T - 1) / span) + 1: 2^L must reach it
                return (m - 1).bit_length()
            """),
    }),
]
