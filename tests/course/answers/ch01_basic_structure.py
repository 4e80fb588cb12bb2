"""Wrong and alternative answers for ch01_basic_structure (see tests/course/answers/__init__.py)."""
from answers import Alternative, Wrong, code as _code

# ---------------------------------------------------------------------------------------------
# Chapter 1: rnn_step, rnn_forward, output_layer
# ---------------------------------------------------------------------------------------------
WRONG = [
    Wrong("rnn_step", "no_tanh", "forgets the nonlinearity: returns the pre-activation z", _code("""
        def rnn_step(params, x, h_prev):
            return h_prev @ params["W_h"] + x @ params["W_x"] + params["b_h"]
        """)),
    Wrong("rnn_step", "W_h_transposed", "copies the book's column form W_h h as h_prev @ W_h.T",
          _code("""
        def rnn_step(params, x, h_prev):
            return np.tanh(h_prev @ params["W_h"].T + x @ params["W_x"] + params["b_h"])
        """)),
    Wrong("rnn_step", "no_bias", "leaves out b_h", _code("""
        def rnn_step(params, x, h_prev):
            return np.tanh(h_prev @ params["W_h"] + x @ params["W_x"])
        """)),
    Wrong("rnn_step", "imports_library", "imports the library's step instead of writing it",
          _code("""
        from rnncore.rnn import step as rnn_step
        """)),
    Wrong("rnn_step", "hand_tanh_overflows",
          "writes tanh with np.exp, (e^2z - 1) / (e^2z + 1), which is NaN for large z", _code("""
        def rnn_step(params, x, h_prev):
            z = h_prev @ params["W_h"] + x @ params["W_x"] + params["b_h"]
            e = np.exp(2 * z)
            return (e - 1) / (e + 1)
        """)),
    Wrong("rnn_step", "writes_into_h_prev",
          "stores the new state in the caller's h_prev with out= (the value is right)", _code("""
        def rnn_step(params, x, h_prev):
            z = h_prev @ params["W_h"] + x @ params["W_x"] + params["b_h"]
            return np.tanh(z, out=h_prev)
        """)),
    Wrong("rnn_forward", "state_not_carried", "starts every step from h0 instead of the last state",
          _code("""
        def rnn_forward(params, xs, h0, mask=None):
            h, hs = h0, []
            for t in range(len(xs)):
                h_new = rnn_step(params, xs[t], h0)
                real = np.ones((len(h0), 1), bool) if mask is None else (mask[t] != 0)[:, None]
                h = np.where(real, h_new, h)
                hs.append(np.where(real, h_new, 0.0))
            return np.stack(hs), h
        """)),
    Wrong("rnn_forward", "hs_shifted", "stores the state before the update: hs holds h_0..h_{T-1}",
          _code("""
        def rnn_forward(params, xs, h0, mask=None):
            h, hs = h0, []
            for t in range(len(xs)):
                real = np.ones((len(h0), 1), bool) if mask is None else (mask[t] != 0)[:, None]
                hs.append(np.where(real, h, 0.0))
                h = np.where(real, rnn_step(params, xs[t], h), h)
            return np.stack(hs), h
        """)),
    Wrong("rnn_forward", "imports_library", "runs the library's masked forward pass", _code("""
        from rnncore import rnn, wrappers

        def rnn_forward(params, xs, h0, mask=None):
            if mask is None:
                mask = np.ones(xs.shape[:2])
            return wrappers.masked_forward(rnn, params, xs, mask, h0)
        """)),
    Wrong("rnn_forward", "ignores_mask", "runs every step, padding included", _code("""
        def rnn_forward(params, xs, h0, mask=None):
            h, hs = h0, []
            for x in xs:
                h = rnn_step(params, x, h)
                hs.append(h)
            return np.stack(hs), h
        """)),
    Wrong("rnn_forward", "last_row_as_final", "holds the state at padding, but returns hs[-1] "
                                              "(0 for a padded sequence) as the final state",
          _code("""
        def rnn_forward(params, xs, h0, mask=None):
            h, hs = h0, []
            for t in range(len(xs)):
                h_new = rnn_step(params, xs[t], h)
                real = np.ones((len(h0), 1), bool) if mask is None else (mask[t] != 0)[:, None]
                h = np.where(real, h_new, h)
                hs.append(np.where(real, h_new, 0.0))
            hs = np.stack(hs)
            return hs, hs[-1]
        """)),
    Wrong("rnn_forward", "padding_resets_state", "multiplies the new state by the mask, so the "
                                                 "padding sets the state to 0", _code("""
        def rnn_forward(params, xs, h0, mask=None):
            h, hs = h0, []
            for t in range(len(xs)):
                h = rnn_step(params, xs[t], h)
                if mask is not None:
                    h = h * mask[t][:, None]
                hs.append(h)
            return np.stack(hs), h
        """)),
    Wrong("rnn_forward", "hs_keeps_state", "holds the state at padding but stores it in hs "
                                           "there too, instead of 0", _code("""
        def rnn_forward(params, xs, h0, mask=None):
            h, hs = h0, []
            for t in range(len(xs)):
                h_new = rnn_step(params, xs[t], h)
                real = np.ones((len(h0), 1), bool) if mask is None else (mask[t] != 0)[:, None]
                h = np.where(real, h_new, h)
                hs.append(h)
            return np.stack(hs), h
        """)),
    Wrong("rnn_forward", "writes_into_h0",
          "updates the state in place, h[real] = ..., and h is the caller's h0", _code("""
        def rnn_forward(params, xs, h0, mask=None):
            h, hs = h0, []
            for t in range(len(xs)):
                h_new = rnn_step(params, xs[t], h)
                real = np.ones(len(h0), bool) if mask is None else mask[t] != 0
                h[real] = h_new[real]
                hs.append(np.where(real[:, None], h_new, 0.0))
            return np.stack(hs), h
        """)),
    Wrong("output_layer", "no_bias", "leaves out b_y", _code("""
        def output_layer(params, hs):
            return hs @ params["W_y"]
        """)),
    Wrong("output_layer", "activation", "applies tanh to the logits, as in the hidden layer",
          _code("""
        def output_layer(params, hs):
            return np.tanh(hs @ params["W_y"] + params["b_y"])
        """)),
    Wrong("output_layer", "imports_library", "imports the library's output layer", _code("""
        from rnncore.linear import forward as output_layer
        """)),
    Wrong("output_layer", "assumes_3d", "reshapes to (T B, H) assuming a (T, B, H) input, so a "
                                        "single step (B, H) fails", _code("""
        def output_layer(params, hs):
            T, B, H = hs.shape
            flat = hs.reshape(T * B, H) @ params["W_y"] + params["b_y"]
            return flat.reshape(T, B, -1)
        """)),
    # --- added by the red team: more plausible mistakes -------------------------------------
    Wrong("rnn_step", "sinh_over_cosh", "writes tanh as np.sinh(z) / np.cosh(z), the definition: "
                                        "right up to |z| ~ 710, NaN (inf / inf) beyond", _code("""
        def rnn_step(params, x, h_prev):
            z = h_prev @ params["W_h"] + x @ params["W_x"] + params["b_h"]
            return np.sinh(z) / np.cosh(z)
        """)),
    Wrong("rnn_step", "tanh_bracket", "closes the bracket of np.tanh too early: the memory term "
                                      "is added after the squashing", _code("""
        def rnn_step(params, x, h_prev):
            return np.tanh(x @ params["W_x"] + params["b_h"]) + h_prev @ params["W_h"]
        """)),
    Wrong("rnn_step", "W_x_transposed", "copies the book's column form for the input term too: "
                                         "x @ W_x.T (an error unless D = H)", _code("""
        def rnn_step(params, x, h_prev):
            return np.tanh(h_prev @ params["W_h"] + x @ params["W_x"].T + params["b_h"])
        """)),
    Wrong("rnn_forward", "hs_a_list", "collects the states in a list and forgets np.stack: hs "
                                      "comes back as a list of T arrays, not one (T, B, H) array",
          _code("""
        def rnn_forward(params, xs, h0, mask=None):
            h, hs = h0, []
            for t in range(len(xs)):
                h_new = rnn_step(params, xs[t], h)
                real = np.ones((len(h0), 1), bool) if mask is None else (mask[t] != 0)[:, None]
                h = np.where(real, h_new, h)
                hs.append(np.where(real, h_new, 0.0))
            return hs, h
        """)),
    Wrong("rnn_forward", "zero_start", "starts from zeros, as the chapter's first examples do, "
                                       "instead of the h0 it is given", _code("""
        def rnn_forward(params, xs, h0, mask=None):
            h, hs = np.zeros_like(h0), []
            for t in range(len(xs)):
                h_new = rnn_step(params, xs[t], h)
                real = np.ones((len(h0), 1), bool) if mask is None else (mask[t] != 0)[:, None]
                h = np.where(real, h_new, h)
                hs.append(np.where(real, h_new, 0.0))
            return np.stack(hs), h
        """)),
    Wrong("rnn_forward", "state_runs_on", "zeros hs at the padding but lets the state run on "
                                          "through it, so the final state has read the junk",
          _code("""
        def rnn_forward(params, xs, h0, mask=None):
            h, hs = h0, []
            for t in range(len(xs)):
                h = rnn_step(params, xs[t], h)
                real = np.ones((len(h0), 1), bool) if mask is None else (mask[t] != 0)[:, None]
                hs.append(np.where(real, h, 0.0))
            return np.stack(hs), h
        """)),
    Wrong("rnn_forward", "mask_batch_major", "reads the mask as (B, T): mask[:, t]", _code("""
        def rnn_forward(params, xs, h0, mask=None):
            h, hs = h0, []
            for t in range(len(xs)):
                h_new = rnn_step(params, xs[t], h)
                real = np.ones((len(h0), 1), bool) if mask is None else (mask[:, t] != 0)[:, None]
                h = np.where(real, h_new, h)
                hs.append(np.where(real, h_new, 0.0))
            return np.stack(hs), h
        """)),
    Wrong("rnn_forward", "skips_first_input", "range(1, T): starts the loop at the second input",
          _code("""
        def rnn_forward(params, xs, h0, mask=None):
            h, hs = h0, []
            for t in range(1, len(xs)):
                h_new = rnn_step(params, xs[t], h)
                real = np.ones((len(h0), 1), bool) if mask is None else (mask[t] != 0)[:, None]
                h = np.where(real, h_new, h)
                hs.append(np.where(real, h_new, 0.0))
            return np.stack(hs), h
        """)),
    Wrong("output_layer", "last_step_only", "many-to-one by mistake: the logits of the last "
                                            "state hs[-1] only", _code("""
        def output_layer(params, hs):
            return hs[-1] @ params["W_y"] + params["b_y"]
        """)),
    Wrong("output_layer", "softmax", "applies the output nonlinearity g (a softmax) here, not "
                                     "later in the loss", _code("""
        def output_layer(params, hs):
            y = hs @ params["W_y"] + params["b_y"]
            e = np.exp(y - y.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        """)),
    Wrong("rnn_step", "squeezes", "ends with .squeeze() out of habit, which drops the batch "
                                  "axis of a single sequence (B = 1)", _code("""
        def rnn_step(params, x, h_prev):
            return np.tanh(h_prev @ params["W_h"] + x @ params["W_x"] + params["b_h"]).squeeze()
        """)),
    Wrong("output_layer", "squeezes", "ends with .squeeze() out of habit, which drops the output "
                                      "axis of a single output (V = 1)", _code("""
        def output_layer(params, hs):
            return (hs @ params["W_y"] + params["b_y"]).squeeze()
        """)),
    Wrong("rnn_forward", "appends_same_array", "updates one state array in place (h[real] = "
                                               "...) and appends that same array at every "
                                               "step: every entry of hs ends as the last state",
          _code("""
        def rnn_forward(params, xs, h0, mask=None):
            h, hs = h0.copy(), []
            for t in range(len(xs)):
                new = rnn_step(params, xs[t], h)
                real = np.ones(len(h0), bool) if mask is None else mask[t] != 0
                h[real] = new[real]
                hs.append(h)
            out = np.stack(hs)
            if mask is not None:
                out = np.where(np.asarray(mask)[..., None] != 0, out, 0.0)
            return out, h
        """)),
]

ALTERNATIVES = [
    Alternative("einsum", "every product written with np.einsum; forward inlines the step and "
                          "blends with the mask arithmetically", {
        "rnn_step": _code("""
            def rnn_step(params, x, h_prev):
                z = (np.einsum("bk,kh->bh", h_prev, params["W_h"])
                     + np.einsum("bd,dh->bh", x, params["W_x"]) + params["b_h"])
                return np.tanh(z)
            """),
        "rnn_forward": _code("""
            def rnn_forward(params, xs, h0, mask=None):
                m = np.ones(xs.shape[:2]) if mask is None else np.asarray(mask, dtype=float)
                h, hs = h0, []
                for t in range(xs.shape[0]):
                    h_new = np.tanh(np.einsum("bk,kh->bh", h, params["W_h"])
                                    + np.einsum("bd,dh->bh", xs[t], params["W_x"]) + params["b_h"])
                    keep = m[t][:, None]                      # (B, 1): 1 real, 0 padding
                    h = keep * h_new + (1 - keep) * h
                    hs.append(keep * h_new)
                return np.array(hs), h
            """),
        "output_layer": _code("""
            def output_layer(params, hs):
                return np.einsum("...h,hv->...v", hs, params["W_y"]) + params["b_y"]
            """),
    }),
    Alternative("float32", "computes in float32 throughout", {
        "rnn_step": _code("""
            def rnn_step(params, x, h_prev):
                f = np.float32
                z = (h_prev.astype(f) @ params["W_h"].astype(f)
                     + x.astype(f) @ params["W_x"].astype(f) + params["b_h"].astype(f))
                return np.tanh(z)
            """),
        "rnn_forward": _code("""
            def rnn_forward(params, xs, h0, mask=None):
                params = {k: v.astype(np.float32) for k, v in params.items()}
                h, hs = h0.astype(np.float32), []
                for t, x in enumerate(xs.astype(np.float32)):
                    h_new = rnn_step(params, x, h)
                    if mask is not None:
                        real = np.asarray(mask[t], dtype=bool)[:, None]
                        h_new, hs_t = np.where(real, h_new, h), np.where(real, h_new, 0)
                    else:
                        hs_t = h_new
                    h = h_new.astype(np.float32)
                    hs.append(hs_t.astype(np.float32))
                return np.stack(hs), h
            """),
        "output_layer": _code("""
            def output_layer(params, hs):
                f = np.float32
                return hs.astype(f) @ params["W_y"].astype(f) + params["b_y"].astype(f)
            """),
    }),
    Alternative("stacked", "one matrix [W_h; W_x] on [h_prev, x]; a preallocated hs filled "
                           "in place; the final states gathered at each sequence's last real "
                           "step; logits via reshape to 2-D", {
        "rnn_step": _code("""
            def rnn_step(params, x, h_prev):
                W = np.concatenate([params["W_h"], params["W_x"]], axis=0)   # (H + D, H)
                return np.tanh(np.concatenate([h_prev, x], axis=1) @ W + params["b_h"])
            """),
        "rnn_forward": _code("""
            def rnn_forward(params, xs, h0, mask=None):
                T, B = xs.shape[:2]
                real = np.ones((T, B), bool) if mask is None else np.asarray(mask) != 0
                hs = np.zeros((T,) + h0.shape)
                h = h0.copy()
                for t in range(T):
                    new = rnn_step(params, xs[t], h)
                    h[real[t]] = new[real[t]]
                    hs[t][real[t]] = new[real[t]]
                return hs, h
            """),
        "output_layer": _code("""
            def output_layer(params, hs):
                H, V = params["W_y"].shape
                flat = hs.reshape(-1, H) @ params["W_y"] + params["b_y"]
                return flat.reshape(hs.shape[:-1] + (V,))
            """),
    }),
    Alternative("magics_and_loops", "times its cells with %%time and %time, and loops over "
                                    "sequences and units instead of vectorising", {
        "rnn_step": _code("""
            %%time
            def rnn_step(params, x, h_prev):
                B, H = h_prev.shape
                h = np.empty((B, H))
                for b in range(B):
                    for j in range(H):
                        z = params["b_h"][j] + h_prev[b] @ params["W_h"][:, j] + x[b] @ params["W_x"][:, j]
                        h[b, j] = np.tanh(z)
                return h
            """),
        "rnn_forward": _code("""
            def rnn_forward(params, xs, h0, mask=None):
                T, B = len(xs), len(h0)
                hs = []
                last = [h0[b] for b in range(B)]
                for t in range(T):
                    new = rnn_step(params, xs[t], np.array(last))
                    row = []
                    for b in range(B):
                        if mask is None or mask[t][b]:
                            last[b] = new[b]
                            row.append(new[b])
                        else:
                            row.append(np.zeros_like(new[b]))
                    hs.append(np.array(row))
                return np.array(hs), np.array(last)

            %time _ = rnn_forward({"W_x": np.ones((1, 2)), "W_h": np.eye(2), "b_h": np.zeros(2)}, np.ones((3, 1, 1)), np.zeros((1, 2)))
            """),
        "output_layer": _code("""
            def output_layer(params, hs):
                out = np.zeros(hs.shape[:-1] + (params["W_y"].shape[1],))
                for index in np.ndindex(*hs.shape[:-1]):
                    out[index] = hs[index] @ params["W_y"] + params["b_y"]
                return out
            """),
    }),
    Alternative("stable_tanh_and_lengths", "tanh as 1 - 2 / (exp(2z) + 1), which is exact for "
                "any z (exp overflows to inf, and 2 / inf is 0; numpy warns, which fails "
                "nothing); z accumulated in place in a fresh array; the final state gathered "
                "from hs at each sequence's length (the masks are padding at the end); logits "
                "by np.dot, which contracts the last axis", {
        "rnn_step": _code("""
            def rnn_step(params, x, h_prev):
                z = x @ params["W_x"]
                z += h_prev @ params["W_h"]
                z += params["b_h"]
                with np.errstate(over="ignore"):
                    return 1.0 - 2.0 / (np.exp(2.0 * z) + 1.0)
            """),
        "rnn_forward": _code("""
            def rnn_forward(params, xs, h0, mask=None):
                T, B = xs.shape[:2]
                m = np.ones((T, B)) if mask is None else (np.asarray(mask) != 0).astype(float)
                hs = np.zeros((T,) + np.shape(h0))
                h = h0
                for t in range(T):
                    h_new = rnn_step(params, xs[t], h)
                    hs[t] = h_new * m[t][:, None]
                    h = np.where(m[t][:, None] > 0, h_new, h)
                lengths = m.sum(axis=0).astype(int)                  # (B,)
                last = hs[np.maximum(lengths - 1, 0), np.arange(B)]
                return hs, np.where(lengths[:, None] > 0, last, h0)
            """),
        "output_layer": _code("""
            def output_layer(params, hs):
                return np.dot(hs, params["W_y"]) + params["b_y"]
            """),
    }),
    Alternative("tensordot", "logits by np.tensordot over the hidden axis; the step with the "
                "weights applied by np.matmul with the operands' order spelled out; the forward "
                "pass without a mask branch (mask None becomes all ones)", {
        "rnn_step": _code("""
            def rnn_step(params, x, h_prev):
                return np.tanh(np.matmul(x, params["W_x"]) + np.matmul(h_prev, params["W_h"])
                               + params["b_h"][None, :])
            """),
        "rnn_forward": _code("""
            def rnn_forward(params, xs, h0, mask=None):
                if mask is None:
                    mask = np.ones(xs.shape[:2], dtype=bool)
                mask = np.asarray(mask).astype(bool)
                states, h = [], h0.copy()
                for x_t, m_t in zip(xs, mask):
                    new = rnn_step(params, x_t, h)
                    h = np.where(m_t[:, None], new, h)
                    states.append(new * m_t[:, None])
                return np.stack(states, axis=0), h
            """),
        "output_layer": _code("""
            def output_layer(params, hs):
                return np.tensordot(hs, params["W_y"], axes=([-1], [0])) + params["b_y"]
            """),
    }),
]
