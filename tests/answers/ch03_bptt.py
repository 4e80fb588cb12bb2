"""Wrong and alternative answers for ch03_bptt (see tests/answers/__init__.py)."""
from answers import Alternative, Wrong, code as _code

# ---------------------------------------------------------------------------------------------
# Chapter 3: step_backward, rnn_backward
# ---------------------------------------------------------------------------------------------
WRONG = [
    Wrong("step_backward", "no_tanh_derivative", "forgets the (1 - h^2) factor: dz = dh", _code("""
        def step_backward(params, x, h_prev, h, dh):
            dz = dh
            grads = {"W_x": x.T @ dz, "W_h": h_prev.T @ dz, "b_h": dz.sum(axis=0)}
            return grads, dz @ params["W_h"].T, dz @ params["W_x"].T
        """)),
    Wrong("step_backward", "tanh_of_h", "evaluates tanh' at h instead of z: 1 - tanh(h)^2",
          _code("""
        def step_backward(params, x, h_prev, h, dh):
            dz = dh * (1 - np.tanh(h) ** 2)
            grads = {"W_x": x.T @ dz, "W_h": h_prev.T @ dz, "b_h": dz.sum(axis=0)}
            return grads, dz @ params["W_h"].T, dz @ params["W_x"].T
        """)),
    Wrong("step_backward", "W_h_not_transposed", "dh_prev = dz @ W_h (shapes agree, so no error)",
          _code("""
        def step_backward(params, x, h_prev, h, dh):
            dz = dh * (1 - h ** 2)
            grads = {"W_x": x.T @ dz, "W_h": h_prev.T @ dz, "b_h": dz.sum(axis=0)}
            return grads, dz @ params["W_h"], dz @ params["W_x"].T
        """)),
    Wrong("step_backward", "bias_mean",
          "averages dz over the batch for db_h (right only for B = 1)",
          _code("""
        def step_backward(params, x, h_prev, h, dh):
            dz = dh * (1 - h ** 2)
            grads = {"W_x": x.T @ dz, "W_h": h_prev.T @ dz, "b_h": dz.mean(axis=0)}
            return grads, dz @ params["W_h"].T, dz @ params["W_x"].T
        """)),
    Wrong("rnn_backward", "not_carried",
          "the hidden-state gradient is not carried back: dh = dhs[t]",
          _code("""
        def rnn_backward(params, xs, hs, h0, dhs):
            grads = {k: np.zeros_like(params[k]) for k in ("W_x", "W_h", "b_h")}
            dh_prev = np.zeros_like(h0)
            for t in reversed(range(len(xs))):
                h_prev = hs[t - 1] if t > 0 else h0
                step_grads, dh_prev, _ = step_backward(params, xs[t], h_prev, hs[t], dhs[t])
                for k in grads:
                    grads[k] += step_grads[k]
            return grads, dh_prev
        """)),
    Wrong("rnn_backward", "overwritten", "keeps only one step's gradients (= instead of +=)",
          _code("""
        def rnn_backward(params, xs, hs, h0, dhs):
            dh_next = np.zeros_like(h0)
            for t in reversed(range(len(xs))):
                h_prev = hs[t - 1] if t > 0 else h0
                grads, dh_next, _ = step_backward(params, xs[t], h_prev, hs[t], dhs[t] + dh_next)
            return grads, dh_next
        """)),
    Wrong("rnn_backward", "h_prev_wraps",
          "h_prev = hs[t - 1] also at t = 0, where it wraps to hs[-1]",
          _code("""
        def rnn_backward(params, xs, hs, h0, dhs):
            grads = {k: np.zeros_like(params[k]) for k in ("W_x", "W_h", "b_h")}
            dh_next = np.zeros_like(h0)
            for t in reversed(range(len(xs))):
                step_grads, dh_next, _ = step_backward(params, xs[t], hs[t - 1], hs[t],
                                                       dhs[t] + dh_next)
                for k in grads:
                    grads[k] += step_grads[k]
            return grads, dh_next
        """)),
    Wrong("rnn_backward", "forward_order", "loops forwards in time, so dh_next comes from the past",
          _code("""
        def rnn_backward(params, xs, hs, h0, dhs):
            grads = {k: np.zeros_like(params[k]) for k in ("W_x", "W_h", "b_h")}
            dh_next = np.zeros_like(h0)
            for t in range(len(xs)):
                h_prev = hs[t - 1] if t > 0 else h0
                dh = dhs[t] + dh_next
                step_grads, dh_next, _ = step_backward(params, xs[t], h_prev, hs[t], dh)
                for k in grads:
                    grads[k] += step_grads[k]
            return grads, dh_next
        """)),
]

ALTERNATIVES = [
    Alternative("einsum", "step with np.einsum; BPTT collects every dz and sums the weight "
                          "gradients over (time, batch) in one einsum at the end", {
        "step_backward": _code("""
            def step_backward(params, x, h_prev, h, dh):
                dz = dh * (1 - h * h)
                grads = {"W_x": np.einsum("bd,bh->dh", x, dz),
                         "W_h": np.einsum("bk,bh->kh", h_prev, dz),
                         "b_h": np.einsum("bh->h", dz)}
                return (grads, np.einsum("bh,kh->bk", dz, params["W_h"]),
                        np.einsum("bh,dh->bd", dz, params["W_x"]))
            """),
        "rnn_backward": _code("""
            def rnn_backward(params, xs, hs, h0, dhs):
                T = len(xs)
                h_prevs = np.concatenate([h0[None], hs[:-1]], axis=0)    # (T, B, H)
                dzs = np.zeros_like(hs)
                dh = np.zeros_like(h0)
                for t in range(T - 1, -1, -1):
                    dzs[t] = (dhs[t] + dh) * (1 - hs[t] ** 2)
                    dh = dzs[t] @ params["W_h"].T
                grads = {"W_x": np.einsum("tbd,tbh->dh", xs, dzs),
                         "W_h": np.einsum("tbk,tbh->kh", h_prevs, dzs),
                         "b_h": dzs.sum(axis=(0, 1))}
                return grads, dh
            """),
    }),
    Alternative("float32", "computes in float32 throughout", {
        "step_backward": _code("""
            def step_backward(params, x, h_prev, h, dh):
                f = np.float32
                x, h_prev, h, dh = x.astype(f), h_prev.astype(f), h.astype(f), dh.astype(f)
                dz = dh * (f(1) - h ** 2)
                grads = {"W_x": x.T @ dz, "W_h": h_prev.T @ dz, "b_h": dz.sum(axis=0)}
                return grads, dz @ params["W_h"].astype(f).T, dz @ params["W_x"].astype(f).T
            """),
        "rnn_backward": _code("""
            def rnn_backward(params, xs, hs, h0, dhs):
                f = np.float32
                params = {k: v.astype(f) for k, v in params.items()}
                xs, hs, h0, dhs = xs.astype(f), hs.astype(f), h0.astype(f), dhs.astype(f)
                grads = {k: np.zeros_like(params[k]) for k in ("W_x", "W_h", "b_h")}
                dh_next = np.zeros_like(h0)
                for t in reversed(range(len(xs))):
                    h_prev = hs[t - 1] if t > 0 else h0
                    g, dh_next, _ = step_backward(params, xs[t], h_prev, hs[t], dhs[t] + dh_next)
                    grads = {k: grads[k] + g[k] for k in grads}
                return grads, dh_next
            """),
    }),
    Alternative("recompute", "the step recomputes z and uses tanh'(z) = 1 / cosh(z)^2; BPTT "
                             "inlines the step and collects the steps' gradients in lists", {
        "step_backward": _code("""
            def step_backward(params, x, h_prev, h, dh):
                z = h_prev @ params["W_h"] + x @ params["W_x"] + params["b_h"]
                dz = dh / np.cosh(z) ** 2
                grads = {"W_x": x.T @ dz, "W_h": h_prev.T @ dz, "b_h": np.sum(dz, axis=0)}
                return grads, dz @ params["W_h"].T, dz @ params["W_x"].T
            """),
        "rnn_backward": _code("""
            def rnn_backward(params, xs, hs, h0, dhs):
                states = [h0] + list(hs)                 # states[t] is h_t, t = 0..T
                parts = {"W_x": [], "W_h": [], "b_h": []}
                dh = np.zeros_like(h0)
                for t in range(len(xs), 0, -1):          # t = T..1 in the book's numbering
                    dz = (dhs[t - 1] + dh) * (1 - states[t] ** 2)
                    parts["W_x"].append(xs[t - 1].T @ dz)
                    parts["W_h"].append(states[t - 1].T @ dz)
                    parts["b_h"].append(dz.sum(axis=0))
                    dh = dz @ params["W_h"].T
                return {k: sum(v) for k, v in parts.items()}, dh
            """),
    }),
]
