"""Wrong and alternative answers for ch01_basic_structure (see tests/answers/__init__.py)."""
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
    Wrong("rnn_forward", "state_not_carried", "starts every step from h0 instead of the last state",
          _code("""
        def rnn_forward(params, xs, h0):
            hs = []
            for x in xs:
                h = rnn_step(params, x, h0)
                hs.append(h)
            return np.stack(hs), h
        """)),
    Wrong("rnn_forward", "hs_shifted", "stores the state before the update: hs holds h_0..h_{T-1}",
          _code("""
        def rnn_forward(params, xs, h0):
            h = h0
            hs = []
            for x in xs:
                hs.append(h)
                h = rnn_step(params, x, h)
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
]

ALTERNATIVES = [
    Alternative("einsum", "every product written with np.einsum; forward inlines the step", {
        "rnn_step": _code("""
            def rnn_step(params, x, h_prev):
                z = (np.einsum("bk,kh->bh", h_prev, params["W_h"])
                     + np.einsum("bd,dh->bh", x, params["W_x"]) + params["b_h"])
                return np.tanh(z)
            """),
        "rnn_forward": _code("""
            def rnn_forward(params, xs, h0):
                h, hs = h0, []
                for t in range(xs.shape[0]):
                    h = np.tanh(np.einsum("bk,kh->bh", h, params["W_h"])
                                + np.einsum("bd,dh->bh", xs[t], params["W_x"]) + params["b_h"])
                    hs.append(h)
                return np.array(hs), hs[-1]
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
            def rnn_forward(params, xs, h0):
                params = {k: v.astype(np.float32) for k, v in params.items()}
                h, hs = h0.astype(np.float32), []
                for x in xs.astype(np.float32):
                    h = rnn_step(params, x, h)
                    hs.append(h)
                return np.stack(hs), h
            """),
        "output_layer": _code("""
            def output_layer(params, hs):
                f = np.float32
                return hs.astype(f) @ params["W_y"].astype(f) + params["b_y"].astype(f)
            """),
    }),
    Alternative("stacked", "one matrix [W_h; W_x] on [h_prev, x]; a preallocated hs filled "
                           "in place; logits via reshape to 2-D", {
        "rnn_step": _code("""
            def rnn_step(params, x, h_prev):
                W = np.concatenate([params["W_h"], params["W_x"]], axis=0)   # (H + D, H)
                return np.tanh(np.concatenate([h_prev, x], axis=1) @ W + params["b_h"])
            """),
        "rnn_forward": _code("""
            def rnn_forward(params, xs, h0):
                T = len(xs)
                hs = np.zeros((T,) + h0.shape)
                h = h0
                for t in range(T):
                    h = rnn_step(params, xs[t], h)
                    hs[t] = h
                return hs, hs[T - 1]
            """),
        "output_layer": _code("""
            def output_layer(params, hs):
                H, V = params["W_y"].shape
                flat = hs.reshape(-1, H) @ params["W_y"] + params["b_y"]
                return flat.reshape(hs.shape[:-1] + (V,))
            """),
    }),
]
