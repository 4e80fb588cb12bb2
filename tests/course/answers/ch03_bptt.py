"""Wrong and alternative answers for ch03_bptt (see tests/course/answers/__init__.py)."""
from answers import Alternative, Wrong, code as _code

# ---------------------------------------------------------------------------------------------
# Chapter 3: step_backward, rnn_backward, truncated_bptt
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
    Wrong("step_backward", "imports_step_backward", "imports the library's step_backward instead "
          "of writing it", _code("""
        from rnncore.bptt import step_backward
        """)),
    Wrong("step_backward", "writes_into_dh", "computes dz in place in the caller's dh "
          "(dh *= 1 - h**2), which the caller still needs", _code("""
        def step_backward(params, x, h_prev, h, dh):
            dh *= 1 - h ** 2
            dz = dh
            grads = {"W_x": x.T @ dz, "W_h": h_prev.T @ dz, "b_h": dz.sum(axis=0)}
            return grads, dz @ params["W_h"].T, dz @ params["W_x"].T
        """)),
    Wrong("step_backward", "h_not_h_prev", "dW_h = h.T @ dz, the state after the step", _code("""
        def step_backward(params, x, h_prev, h, dh):
            dz = dh * (1 - h ** 2)
            grads = {"W_x": x.T @ dz, "W_h": h.T @ dz, "b_h": dz.sum(axis=0)}
            return grads, dz @ params["W_h"].T, dz @ params["W_x"].T
        """)),
    Wrong("rnn_backward", "imports_rnn_backward", "wraps the library's bptt.backward", _code("""
        from rnncore import bptt

        def rnn_backward(params, xs, hs, h0, dhs):
            grads, dh0, _ = bptt.backward(params, xs, hs, h0, dhs)
            return grads, dh0
        """)),
    Wrong("rnn_backward", "dhs_in_place", "adds the future's gradient into dhs[t] in place "
          "(dh = dhs[t]; dh += dh_next), changing the caller's array", _code("""
        def rnn_backward(params, xs, hs, h0, dhs):
            grads = {k: np.zeros_like(params[k]) for k in ("W_x", "W_h", "b_h")}
            dh_next = np.zeros_like(h0)
            for t in reversed(range(len(xs))):
                h_prev = hs[t - 1] if t > 0 else h0
                dh = dhs[t]
                dh += dh_next
                step_grads, dh_next, _ = step_backward(params, xs[t], h_prev, hs[t], dh)
                for k in grads:
                    grads[k] += step_grads[k]
            return grads, dh_next
        """)),
    Wrong("rnn_backward", "dh0_is_dh1", "returns the gradient at h_1 (before the first step's "
          "backward) as dh0", _code("""
        def rnn_backward(params, xs, hs, h0, dhs):
            grads = {k: np.zeros_like(params[k]) for k in ("W_x", "W_h", "b_h")}
            dh_next = np.zeros_like(h0)
            for t in reversed(range(len(xs))):
                h_prev = hs[t - 1] if t > 0 else h0
                dh = dhs[t] + dh_next
                step_grads, dh_next, _ = step_backward(params, xs[t], h_prev, hs[t], dh)
                for k in grads:
                    grads[k] += step_grads[k]
            return grads, dh
        """)),
    Wrong("rnn_backward", "skips_first_step", "range(T - 1, 0, -1): the loop stops before t = 0",
          _code("""
        def rnn_backward(params, xs, hs, h0, dhs):
            grads = {k: np.zeros_like(params[k]) for k in ("W_x", "W_h", "b_h")}
            dh_next = np.zeros_like(h0)
            for t in range(len(xs) - 1, 0, -1):
                step_grads, dh_next, _ = step_backward(params, xs[t], hs[t - 1], hs[t],
                                                       dhs[t] + dh_next)
                for k in grads:
                    grads[k] += step_grads[k]
            return grads, dh_next
        """)),
    Wrong("truncated_bptt", "imports_window_starts", "takes the windows' start states from the "
          "library's rnn_lm.window_starts", _code("""
        from rnncore import rnn_lm

        def truncated_bptt(params, xs, h0, dhs, k):
            starts = rnn_lm.window_starts(params, xs, k, h0)
            window_grads = []
            for i, h in enumerate(starts):
                hs_w, _ = rnn.forward(params, xs[i * k:(i + 1) * k], h)
                grads, _ = rnn_backward(params, xs[i * k:(i + 1) * k], hs_w, h,
                                        dhs[i * k:(i + 1) * k])
                window_grads.append(grads)
            return window_grads, rnn.forward(params, xs, h0)[1]
        """)),
    Wrong("truncated_bptt", "not_carried", "starts every window from h0: the state is not "
          "carried", _code("""
        def truncated_bptt(params, xs, h0, dhs, k):
            window_grads = []
            for start in range(0, len(xs), k):
                hs_w, h = rnn.forward(params, xs[start:start + k], h0)
                grads, _ = rnn_backward(params, xs[start:start + k], hs_w, h0,
                                        dhs[start:start + k])
                window_grads.append(grads)
            return window_grads, h
        """)),
    Wrong("truncated_bptt", "start_off_by_one", "one forward pass, then each window starts from "
          "hs[start] instead of hs[start - 1]", _code("""
        def truncated_bptt(params, xs, h0, dhs, k):
            hs, h_T = rnn.forward(params, xs, h0)
            window_grads = []
            for start in range(0, len(xs), k):
                h = hs[start] if start > 0 else h0
                hs_w, _ = rnn.forward(params, xs[start:start + k], h)
                grads, _ = rnn_backward(params, xs[start:start + k], hs_w, h, dhs[start:start + k])
                window_grads.append(grads)
            return window_grads, h_T
        """)),
    Wrong("truncated_bptt", "drops_last_window", "range(0, T - k + 1, k): the shorter last window "
          "is lost", _code("""
        def truncated_bptt(params, xs, h0, dhs, k):
            window_grads, h = [], h0
            for start in range(0, len(xs) - k + 1, k):
                hs_w, h_end = rnn.forward(params, xs[start:start + k], h)
                grads, _ = rnn_backward(params, xs[start:start + k], hs_w, h, dhs[start:start + k])
                window_grads.append(grads)
                h = h_end
            return window_grads, h
        """)),
    Wrong("truncated_bptt", "gradient_carried", "carries the gradient back across the windows "
          "too (full BPTT cut into windows)", _code("""
        def truncated_bptt(params, xs, h0, dhs, k):
            starts = list(range(0, len(xs), k))
            states, h = [], h0
            for start in starts:
                states.append(h)
                h = rnn.forward(params, xs[start:start + k], h)[1]
            window_grads, dh_carry = [], np.zeros_like(h0)
            for start, h_start in reversed(list(zip(starts, states))):
                hs_w, _ = rnn.forward(params, xs[start:start + k], h_start)
                dhs_w = dhs[start:start + k].copy()
                dhs_w[-1] = dhs_w[-1] + dh_carry
                grads, dh_carry = rnn_backward(params, xs[start:start + k], hs_w, h_start, dhs_w)
                window_grads.insert(0, grads)
            return window_grads, h
        """)),
    Wrong("truncated_bptt", "summed", "returns one gradient, the sum over the windows, as for "
          "one update per sequence", _code("""
        def truncated_bptt(params, xs, h0, dhs, k):
            total, h = None, h0
            for start in range(0, len(xs), k):
                hs_w, h_end = rnn.forward(params, xs[start:start + k], h)
                grads, _ = rnn_backward(params, xs[start:start + k], hs_w, h, dhs[start:start + k])
                total = grads if total is None else {n: total[n] + grads[n] for n in grads}
                h = h_end
            return [total], h
        """)),
    Wrong("step_backward", "autograd_through_step", "gets the gradients from autograd through "
          "the library's forward step instead of writing the backward pass", _code("""
        def step_backward(params, x, h_prev, h, dh):
            grads, dh_prev, dx = autograd.grad(
                lambda p, h_prev, x: anp.sum(rnn.step(p, x, h_prev) * dh),
                argnum=(0, 1, 2))(params, h_prev, x)
            return grads, dh_prev, dx
        """)),
    Wrong("rnn_backward", "autograd_through_forward_reference", "autograd through "
          "rnn.forward_reference, as the test cell's own witness does", _code("""
        def rnn_backward(params, xs, hs, h0, dhs):
            def loss(p):
                return anp.sum(rnn.forward_reference(p, xs, p["h0"])[0] * dhs)
            g = autograd.grad(loss)({**params, "h0": h0})
            return {k: g[k] for k in ("W_x", "W_h", "b_h")}, g["h0"]
        """)),
    Wrong("rnn_backward", "finite_differences", "the gradient by rnncore.gradcheck's finite "
          "differences", _code("""
        def rnn_backward(params, xs, hs, h0, dhs):
            def loss(p):
                return np.sum(rnn.forward(p, xs, p["h0"])[0] * dhs)
            g = gradcheck.numerical_gradient(loss, {**params, "h0": h0})
            return {k: g[k] for k in ("W_x", "W_h", "b_h")}, g["h0"]
        """)),
    # --- added by the red team: more plausible mistakes -------------------------------------
    Wrong("step_backward", "dW_h_transposed", "dW_h = dz.T @ h_prev: the transpose of the right "
                                              "gradient, with the same (H, H) shape", _code("""
        def step_backward(params, x, h_prev, h, dh):
            dz = dh * (1.0 - h ** 2)
            grads = {"W_x": x.T @ dz, "W_h": dz.T @ h_prev, "b_h": dz.sum(axis=0)}
            return grads, dz @ params["W_h"].T, dz @ params["W_x"].T
        """)),
    Wrong("step_backward", "slope_bracket", "writes tanh' as (1 - h) ** 2, a misplaced bracket",
          _code("""
        def step_backward(params, x, h_prev, h, dh):
            dz = dh * (1.0 - h) ** 2
            grads = {"W_x": x.T @ dz, "W_h": h_prev.T @ dz, "b_h": dz.sum(axis=0)}
            return grads, dz @ params["W_h"].T, dz @ params["W_x"].T
        """)),
    Wrong("step_backward", "slope_from_h_prev", "takes tanh' from the state before the step: "
                                                "1 - h_prev ** 2", _code("""
        def step_backward(params, x, h_prev, h, dh):
            dz = dh * (1.0 - h_prev ** 2)
            grads = {"W_x": x.T @ dz, "W_h": h_prev.T @ dz, "b_h": dz.sum(axis=0)}
            return grads, dz @ params["W_h"].T, dz @ params["W_x"].T
        """)),
    Wrong("step_backward", "dh_prev_skips_tanh", "the weights' gradients go through dz, but "
                                                 "dh_prev = dh @ W_h.T skips the tanh", _code("""
        def step_backward(params, x, h_prev, h, dh):
            dz = dh * (1.0 - h ** 2)
            grads = {"W_x": x.T @ dz, "W_h": h_prev.T @ dz, "b_h": dz.sum(axis=0)}
            return grads, dh @ params["W_h"].T, dz @ params["W_x"].T
        """)),
    Wrong("step_backward", "bias_wrong_axis", "sums dz over the units (axis 1) for db_h",
          _code("""
        def step_backward(params, x, h_prev, h, dh):
            dz = dh * (1.0 - h ** 2)
            grads = {"W_x": x.T @ dz, "W_h": h_prev.T @ dz, "b_h": dz.sum(axis=1)}
            return grads, dz @ params["W_h"].T, dz @ params["W_x"].T
        """)),
    Wrong("rnn_backward", "mean_over_time", "divides the summed gradients by T, as if the "
                                            "weights' gradient were an average over the steps",
          _code("""
        def rnn_backward(params, xs, hs, h0, dhs):
            grads = {name: np.zeros_like(params[name]) for name in ("W_x", "W_h", "b_h")}
            dh_next = np.zeros_like(h0)
            for t in reversed(range(len(xs))):
                h_prev = hs[t - 1] if t > 0 else h0
                g, dh_next, _ = step_backward(params, xs[t], h_prev, hs[t], dhs[t] + dh_next)
                for name in grads:
                    grads[name] += g[name]
            return {name: g / len(xs) for name, g in grads.items()}, dh_next
        """)),
    Wrong("rnn_backward", "ignores_dh_prev", "throws away the step's dh_prev and carries the "
                                             "total dh back unchanged, as if h_t fed h_(t+1) "
                                             "directly", _code("""
        def rnn_backward(params, xs, hs, h0, dhs):
            grads = {name: np.zeros_like(params[name]) for name in ("W_x", "W_h", "b_h")}
            dh_next = np.zeros_like(h0)
            for t in reversed(range(len(xs))):
                h_prev = hs[t - 1] if t > 0 else h0
                dh = dhs[t] + dh_next
                g, _, _ = step_backward(params, xs[t], h_prev, hs[t], dh)
                for name in grads:
                    grads[name] += g[name]
                dh_next = dh
            return grads, dh_next
        """)),
    Wrong("rnn_backward", "h0_one_step_late", "h_prev = hs[t - 1] if t > 1 else h0: the step "
                                              "at t = 1 is given h0 instead of hs[0]", _code("""
        def rnn_backward(params, xs, hs, h0, dhs):
            grads = {name: np.zeros_like(params[name]) for name in ("W_x", "W_h", "b_h")}
            dh_next = np.zeros_like(h0)
            for t in reversed(range(len(xs))):
                h_prev = hs[t - 1] if t > 1 else h0
                g, dh_next, _ = step_backward(params, xs[t], h_prev, hs[t], dhs[t] + dh_next)
                for name in grads:
                    grads[name] += g[name]
            return grads, dh_next
        """)),
    Wrong("truncated_bptt", "backward_from_h0", "carries the state forwards, but gives every "
                                                "window's backward pass h0 as its start state",
          _code("""
        def truncated_bptt(params, xs, h0, dhs, k):
            window_grads, h = [], h0
            for start in range(0, len(xs), k):
                xs_w = xs[start:start + k]
                hs_w, h_end = rnn.forward(params, xs_w, h)
                grads, _ = rnn_backward(params, xs_w, hs_w, h0, dhs[start:start + k])
                window_grads.append(grads)
                h = h_end
            return window_grads, h
        """)),
    Wrong("truncated_bptt", "backward_from_end_state", "reuses one variable for the state: "
                                                       "h = rnn.forward(...)[1] before the "
                                                       "backward pass, which then starts from "
                                                       "the window's END state", _code("""
        def truncated_bptt(params, xs, h0, dhs, k):
            window_grads, h = [], h0
            for start in range(0, len(xs), k):
                xs_w = xs[start:start + k]
                hs_w, h = rnn.forward(params, xs_w, h)
                grads, _ = rnn_backward(params, xs_w, hs_w, h, dhs[start:start + k])
                window_grads.append(grads)
            return window_grads, h
        """)),
    Wrong("truncated_bptt", "one_dict_appended", "fills one dict with each window's gradients "
                                                 "and appends that same dict every time: every "
                                                 "entry of the list is the last window's",
          _code("""
        def truncated_bptt(params, xs, h0, dhs, k):
            window_grads, h, current = [], h0, {}
            for start in range(0, len(xs), k):
                xs_w = xs[start:start + k]
                hs_w, h_end = rnn.forward(params, xs_w, h)
                grads, _ = rnn_backward(params, xs_w, hs_w, h, dhs[start:start + k])
                current.update(grads)
                window_grads.append(current)
                h = h_end
            return window_grads, h
        """)),
    Wrong("truncated_bptt", "forward_from_zeros", "calls rnn.forward(params, xs_w) without the "
                                                  "state, so every window starts from zeros",
          _code("""
        def truncated_bptt(params, xs, h0, dhs, k):
            window_grads, h = [], h0
            for start in range(0, len(xs), k):
                xs_w = xs[start:start + k]
                hs_w, h_end = rnn.forward(params, xs_w)
                grads, _ = rnn_backward(params, xs_w, hs_w, np.zeros_like(h0), dhs[start:start + k])
                window_grads.append(grads)
                h = h_end
            return window_grads, h
        """)),
    Wrong("truncated_bptt", "array_split_sections", "cuts the sequence with np.array_split(xs, "
                                                    "ceil(T / k)), which makes that many "
                                                    "near-equal pieces, not windows of k steps",
          _code("""
        def truncated_bptt(params, xs, h0, dhs, k):
            n = int(np.ceil(len(xs) / k))
            window_grads, h = [], h0
            for xs_w, dhs_w in zip(np.array_split(xs, n), np.array_split(dhs, n)):
                hs_w, h_end = rnn.forward(params, xs_w, h)
                grads, _ = rnn_backward(params, xs_w, hs_w, h, dhs_w)
                window_grads.append(grads)
                h = h_end
            return window_grads, h
        """)),
    Wrong("step_backward", "grads_alias_params", "wants 'a dict with the same keys' and writes "
                                                 "the gradients into grads = params: the "
                                                 "caller's parameters are overwritten", _code("""
        def step_backward(params, x, h_prev, h, dh):
            dz = dh * (1.0 - h ** 2)
            dh_prev, dx = dz @ params["W_h"].T, dz @ params["W_x"].T
            grads = params
            grads["W_x"], grads["W_h"], grads["b_h"] = x.T @ dz, h_prev.T @ dz, dz.sum(axis=0)
            return grads, dh_prev, dx
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
    Alternative("magics_and_loops", "plain Python loops over the batch and the units; %time "
                "and %%time in the answer cells, as students time their code", {
        "step_backward": _code("""
            def step_backward(params, x, h_prev, h, dh):
                B, D = x.shape
                H = h.shape[1]
                dz = np.zeros((B, H))
                for b in range(B):
                    for j in range(H):
                        dz[b, j] = dh[b, j] * (1.0 - h[b, j] * h[b, j])
                grads = {"W_x": np.zeros((D, H)), "W_h": np.zeros((H, H)), "b_h": np.zeros(H)}
                dh_prev, dx = np.zeros((B, H)), np.zeros((B, D))
                for b in range(B):
                    for j in range(H):
                        grads["b_h"][j] += dz[b, j]
                        for d in range(D):
                            grads["W_x"][d, j] += x[b, d] * dz[b, j]
                            dx[b, d] += dz[b, j] * params["W_x"][d, j]
                        for i in range(H):
                            grads["W_h"][i, j] += h_prev[b, i] * dz[b, j]
                            dh_prev[b, i] += dz[b, j] * params["W_h"][i, j]
                return grads, dh_prev, dx

            %time _ = step_backward({"W_x": np.ones((1, 2)), "W_h": np.eye(2), "b_h": np.zeros(2)}, np.ones((2, 1)), np.zeros((2, 2)), np.zeros((2, 2)), np.ones((2, 2)))
            """),
        "rnn_backward": _code("""
            %%time
            def rnn_backward(params, xs, hs, h0, dhs):
                grads = {k: np.zeros_like(params[k]) for k in ("W_x", "W_h", "b_h")}
                dh_next = np.zeros_like(h0)
                t = len(xs) - 1
                while t >= 0:
                    h_prev = h0 if t == 0 else hs[t - 1]
                    step_grads, dh_next, _ = step_backward(params, xs[t], h_prev, hs[t],
                                                           dhs[t] + dh_next)
                    grads = {k: grads[k] + step_grads[k] for k in grads}
                    t -= 1
                return grads, dh_next
            """),
        "truncated_bptt": _code("""
            def truncated_bptt(params, xs, h0, dhs, k):
                window_grads, h, start = [], h0, 0
                while start < len(xs):
                    stop = min(start + k, len(xs))
                    states, state = [], h                  # the window's forward, step by step
                    for t in range(start, stop):
                        state = rnn.step(params, xs[t], state)
                        states.append(state)
                    grads, _ = rnn_backward(params, xs[start:stop], np.stack(states), h,
                                            dhs[start:stop])
                    window_grads.append(grads)
                    h, start = state, stop
                return window_grads, h

            %timeit -n 1 -r 1 truncated_bptt({"W_x": np.ones((1, 2)), "W_h": np.eye(2), "b_h": np.zeros(2)}, np.ones((3, 2, 1)), np.zeros((2, 2)), np.ones((3, 2, 2)), 2)
            """),
    }),
    Alternative("forward_once_float32", "truncated BPTT from one forward pass over the whole "
                "sequence, the windows' start states read from it, in float32", {
        "truncated_bptt": _code("""
            def truncated_bptt(params, xs, h0, dhs, k):
                f = np.float32
                params = {n: v.astype(f) for n, v in params.items()}
                xs, h0, dhs = xs.astype(f), h0.astype(f), dhs.astype(f)
                hs, h_T = rnn.forward(params, xs, h0)
                window_grads = []
                for start in range(0, len(xs), k):
                    h_start = h0 if start == 0 else hs[start - 1]
                    grads, _ = rnn_backward(params, xs[start:start + k], hs[start:start + k],
                                            h_start, dhs[start:start + k])
                    window_grads.append(grads)
                return window_grads, h_T
            """),
    }),
    Alternative("library_forward", "the backward passes recompute their forward with the "
                "library (rnn.step in step_backward, rnn.forward in rnn_backward), which the "
                "exercise allows", {
        "step_backward": _code("""
            def step_backward(params, x, h_prev, h, dh):
                h = rnn.step(params, x, h_prev)          # recomputed, not trusted
                dz = dh * (1 - h ** 2)
                grads = {"W_x": x.T @ dz, "W_h": h_prev.T @ dz, "b_h": dz.sum(axis=0)}
                return grads, dz @ params["W_h"].T, dz @ params["W_x"].T
            """),
        "rnn_backward": _code("""
            def rnn_backward(params, xs, hs, h0, dhs):
                hs, _ = rnn.forward(params, xs, h0)      # recomputed from the inputs
                grads = {k: np.zeros_like(params[k]) for k in ("W_x", "W_h", "b_h")}
                dh_next = np.zeros_like(h0)
                for t in reversed(range(len(xs))):
                    h_prev = hs[t - 1] if t else h0
                    step, dh_next, _ = step_backward(params, xs[t], h_prev, hs[t],
                                                     dhs[t] + dh_next)
                    for k in grads:
                        grads[k] = grads[k] + step[k]
                return grads, dh_next
            """),
    }),
    Alternative("scalar_start_and_lists", "tanh' as (1 - h)(1 + h) and np.dot; BPTT from "
                "dh_next = 0.0 (a scalar that broadcasts) over reversed lists of the states; "
                "the windows as a list of slices, zipped", {
        "step_backward": _code("""
            def step_backward(params, x, h_prev, h, dh):
                dz = dh * (1.0 - h) * (1.0 + h)
                grads = {"W_x": np.dot(x.T, dz), "W_h": np.dot(h_prev.T, dz),
                         "b_h": np.sum(dz, axis=0)}
                return grads, np.dot(dz, params["W_h"].T), np.dot(dz, params["W_x"].T)
            """),
        "rnn_backward": _code("""
            def rnn_backward(params, xs, hs, h0, dhs):
                h_prevs = [h0] + [hs[t] for t in range(len(hs) - 1)]
                grads = {"W_x": 0.0, "W_h": 0.0, "b_h": 0.0}
                dh_next = 0.0
                for x, h_prev, h, dh_out in reversed(list(zip(xs, h_prevs, hs, dhs))):
                    g, dh_next, _ = step_backward(params, x, h_prev, h, dh_out + dh_next)
                    grads = {name: grads[name] + g[name] for name in grads}
                return grads, dh_next + np.zeros_like(h0)
            """),
        "truncated_bptt": _code("""
            def truncated_bptt(params, xs, h0, dhs, k):
                starts = range(0, len(xs), k)
                windows = [(xs[s:s + k], dhs[s:s + k]) for s in starts]
                out, h = [], h0
                for xs_w, dhs_w in windows:
                    hs_w, h_next = rnn.forward(params, xs_w, h)
                    out.append(rnn_backward(params, xs_w, hs_w, h, dhs_w)[0])
                    h = h_next
                return out, h
            """),
    }),
    Alternative("windows_inline", "truncated BPTT with its own forward loop (np.tanh) and its "
                "own backward loop inside each window, not calling rnn_backward; the step with "
                "dz = dh - dh * h**2; BPTT with a while loop", {
        "step_backward": _code("""
            def step_backward(params, x, h_prev, h, dh):
                dz = dh - dh * h ** 2
                return ({"W_x": x.T @ dz, "W_h": h_prev.T @ dz, "b_h": dz.sum(0)},
                        dz @ params["W_h"].T, dz @ params["W_x"].T)
            """),
        "rnn_backward": _code("""
            def rnn_backward(params, xs, hs, h0, dhs):
                grads = {n: np.zeros(params[n].shape) for n in ("W_x", "W_h", "b_h")}
                dh = np.zeros(h0.shape)
                t = len(xs) - 1
                while t >= 0:
                    g, dh, _ = step_backward(params, xs[t], hs[t - 1] if t else h0, hs[t],
                                             dhs[t] + dh)
                    for n in grads:
                        grads[n] = grads[n] + g[n]
                    t -= 1
                return grads, dh
            """),
        "truncated_bptt": _code("""
            def truncated_bptt(params, xs, h0, dhs, k):
                W_x, W_h, b_h = params["W_x"], params["W_h"], params["b_h"]
                result, h = [], h0
                for start in range(0, len(xs), k):
                    stop = min(start + k, len(xs))
                    states = [h]
                    for t in range(start, stop):
                        states.append(np.tanh(states[-1] @ W_h + xs[t] @ W_x + b_h))
                    g = {"W_x": np.zeros_like(W_x), "W_h": np.zeros_like(W_h),
                         "b_h": np.zeros_like(b_h)}
                    dh = np.zeros_like(h)
                    for i in range(stop - start - 1, -1, -1):
                        dz = (dhs[start + i] + dh) * (1 - states[i + 1] ** 2)
                        g["W_x"] = g["W_x"] + xs[start + i].T @ dz
                        g["W_h"] = g["W_h"] + states[i].T @ dz
                        g["b_h"] = g["b_h"] + dz.sum(axis=0)
                        dh = dz @ W_h.T
                    result.append(g)
                    h = states[-1]
                return result, h
            """),
    }),
]
