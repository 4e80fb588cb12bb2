"""Wrong and alternative answers for ch05_variants (see tests/course/answers/__init__.py)."""
from answers import Alternative, Wrong, code as _code

# ---------------------------------------------------------------------------------------------
# Chapter 5: lstm_step, gru_step, bidirectional, attention
# ---------------------------------------------------------------------------------------------
WRONG = [
    Wrong("lstm_step", "gate_order_ifog", "reads the gate blocks in the order i, f, o, g "
          "(a layout some blogs use) instead of PyTorch's i, f, g, o", _code("""
        def lstm_step(params, x, state):
            h_prev, c_prev = state
            H = h_prev.shape[-1]
            z = x @ params["W_x"] + h_prev @ params["W_h"] + params["b"]
            i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
            o, g = sigmoid(z[:, 2 * H:3 * H]), np.tanh(z[:, 3 * H:])
            c = f * c_prev + i * g
            return o * np.tanh(c), c
        """)),
    Wrong("lstm_step", "no_tanh_on_cell", "shows the cell without squashing it: h = o * c",
          _code("""
        def lstm_step(params, x, state):
            h_prev, c_prev = state
            H = h_prev.shape[-1]
            z = x @ params["W_x"] + h_prev @ params["W_h"] + params["b"]
            i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
            g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
            c = f * c_prev + i * g
            return o * c, c
        """)),
    Wrong("lstm_step", "gates_swapped_in_cell", "mixes up the roles of the input and forget "
          "gates: c = i * c_prev + f * g", _code("""
        def lstm_step(params, x, state):
            h_prev, c_prev = state
            H = h_prev.shape[-1]
            z = x @ params["W_x"] + h_prev @ params["W_h"] + params["b"]
            i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
            g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
            c = i * c_prev + f * g
            return o * np.tanh(c), c
        """)),
    Wrong("lstm_step", "sigmoid_candidate", "squashes the candidate with the sigmoid like the "
          "gates, so the cell can only grow: g = sigmoid(z_g)", _code("""
        def lstm_step(params, x, state):
            h_prev, c_prev = state
            H = h_prev.shape[-1]
            z = sigmoid(x @ params["W_x"] + h_prev @ params["W_h"] + params["b"])
            i, f, g, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
            c = f * c_prev + i * g
            return o * np.tanh(c), c
        """)),
    Wrong("gru_step", "cho_form", "Cho et al.'s form: resets h_prev before the matmul, "
          "(r * h_prev) W_hn + b_hn", _code("""
        def gru_step(params, x, h_prev):
            H = h_prev.shape[-1]
            W_x, W_h, b_x, b_h = params["W_x"], params["W_h"], params["b_x"], params["b_h"]
            gx = x @ W_x + b_x
            gh = h_prev @ W_h + b_h
            r = sigmoid(gx[:, :H] + gh[:, :H])
            z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
            n = np.tanh(gx[:, 2 * H:] + (r * h_prev) @ W_h[:, 2 * H:] + b_h[2 * H:])
            return (1 - z) * n + z * h_prev
        """)),
    Wrong("gru_step", "z_swapped", "lets z weigh the candidate and 1 - z the old state "
          "(the other convention, without negating the z weights)", _code("""
        def gru_step(params, x, h_prev):
            H = h_prev.shape[-1]
            gx = x @ params["W_x"] + params["b_x"]
            gh = h_prev @ params["W_h"] + params["b_h"]
            r = sigmoid(gx[:, :H] + gh[:, :H])
            z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
            n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
            return z * n + (1 - z) * h_prev
        """)),
    Wrong("gru_step", "b_hn_outside_reset", "adds b_hn outside the reset: "
          "tanh(x W_xn + b_xn + r * (h_prev W_hn) + b_hn)", _code("""
        def gru_step(params, x, h_prev):
            H = h_prev.shape[-1]
            gx = x @ params["W_x"] + params["b_x"]
            gh = h_prev @ params["W_h"]
            b = params["b_h"]
            r = sigmoid(gx[:, :H] + gh[:, :H] + b[:H])
            z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H] + b[H:2 * H])
            n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:] + b[2 * H:])
            return (1 - z) * n + z * h_prev
        """)),
    Wrong("bidirectional", "not_reversed_back", "runs the backward cell on the reversed "
          "sequence but forgets to reverse its states back", _code("""
        def bidirectional(cell_forward, params, xs):
            hs_f, final_f = cell_forward(params["forward"], xs)
            hs_b, final_b = cell_forward(params["backward"], xs[::-1])
            return np.concatenate([hs_f, hs_b], axis=-1), (final_f, final_b)
        """)),
    Wrong("bidirectional", "backward_reads_forwards", "runs the backward cell over xs as it is, "
          "left to right, and reverses its states", _code("""
        def bidirectional(cell_forward, params, xs):
            hs_f, final_f = cell_forward(params["forward"], xs)
            hs_b, final_b = cell_forward(params["backward"], xs)
            return np.concatenate([hs_f, hs_b[::-1]], axis=-1), (final_f, final_b)
        """)),
    Wrong("bidirectional", "one_set_of_params", "uses the forward parameters for both directions",
          _code("""
        def bidirectional(cell_forward, params, xs):
            hs_f, final_f = cell_forward(params["forward"], xs)
            hs_b, final_b = cell_forward(params["forward"], xs[::-1])
            return np.concatenate([hs_f, hs_b[::-1]], axis=-1), (final_f, final_b)
        """)),
    Wrong("bidirectional", "halves_swapped", "puts the backward states first: [backward ; forward]",
          _code("""
        def bidirectional(cell_forward, params, xs):
            hs_f, final_f = cell_forward(params["forward"], xs)
            hs_b, final_b = cell_forward(params["backward"], xs[::-1])
            return np.concatenate([hs_b[::-1], hs_f], axis=-1), (final_f, final_b)
        """)),
    Wrong("attention", "softmax_over_batch", "takes the softmax over the last axis of the (S, B) "
          "scores, across the batch instead of the positions", _code("""
        def attention(query, keys, values, mask=None):
            scores = np.sum(keys * query, axis=-1)
            if mask is not None:
                scores = np.where(mask != 0, scores, -np.inf)
            scores = scores - scores.max(axis=-1, keepdims=True)
            weights = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
            return np.sum(weights[:, :, None] * values, axis=0), weights
        """)),
    Wrong("attention", "mask_after_softmax", "zeroes the masked weights after the softmax "
          "without renormalising, so the weights no longer sum to 1", _code("""
        def attention(query, keys, values, mask=None):
            scores = np.sum(keys * query, axis=-1)
            weights = np.exp(scores - scores.max(axis=0))
            weights = weights / weights.sum(axis=0)
            if mask is not None:
                weights = weights * mask
            return np.sum(weights[:, :, None] * values, axis=0), weights
        """)),
    Wrong("attention", "no_max_subtraction", "computes exp(scores) directly, which overflows to "
          "inf (and inf / inf = NaN) for large scores", _code("""
        def attention(query, keys, values, mask=None):
            scores = np.sum(keys * query, axis=-1)
            weights = np.exp(scores)
            if mask is not None:
                weights = weights * mask
            weights = weights / weights.sum(axis=0)
            return np.sum(weights[:, :, None] * values, axis=0), weights
        """)),
    Wrong("attention", "scaled", "divides the scores by sqrt(H), the Transformer's scaled dot "
          "product, which this function is not", _code("""
        def attention(query, keys, values, mask=None):
            scores = np.sum(keys * query, axis=-1) / np.sqrt(query.shape[-1])
            if mask is not None:
                scores = np.where(mask != 0, scores, -np.inf)
            weights = np.exp(scores - scores.max(axis=0))
            weights = weights / weights.sum(axis=0)
            return np.sum(weights[:, :, None] * values, axis=0), weights
        """)),
    # --- issue 12: the library's own implementation, edge cases, writing into the inputs ---
    Wrong("lstm_step", "imports_library", "imports the library's LSTM step instead of writing "
          "it", _code("""
        from rnncore.lstm import step as lstm_step
        """)),
    Wrong("lstm_step", "exp_tanh", "writes tanh with np.exp, which overflows (inf / inf = NaN) "
          "when a gate's pre-activation or the cell is large", _code("""
        def tanh(z):
            return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))


        def lstm_step(params, x, state):
            h_prev, c_prev = state
            H = h_prev.shape[-1]
            z = x @ params["W_x"] + h_prev @ params["W_h"] + params["b"]
            i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
            g, o = tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
            c = f * c_prev + i * g
            return o * tanh(c), c
        """)),
    Wrong("lstm_step", "writes_into_c_prev", "updates the cell in place, c_prev *= f; "
          "c_prev += i * g, overwriting the caller's cell state", _code("""
        def lstm_step(params, x, state):
            h_prev, c_prev = state
            H = h_prev.shape[-1]
            z = x @ params["W_x"] + h_prev @ params["W_h"] + params["b"]
            i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
            g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
            c_prev *= f
            c_prev += i * g
            return o * np.tanh(c_prev), c_prev
        """)),
    Wrong("gru_step", "imports_library", "imports the library's GRU step instead of writing it",
          _code("""
        from rnncore import gru


        def gru_step(params, x, h_prev):
            return gru.step(params, x, h_prev)
        """)),
    Wrong("gru_step", "exp_tanh", "writes the candidate's tanh with np.exp, which overflows "
          "(inf / inf = NaN) for large pre-activations", _code("""
        def gru_step(params, x, h_prev):
            H = h_prev.shape[-1]
            gx = x @ params["W_x"] + params["b_x"]
            gh = h_prev @ params["W_h"] + params["b_h"]
            r = sigmoid(gx[:, :H] + gh[:, :H])
            z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
            a = gx[:, 2 * H:] + r * gh[:, 2 * H:]
            n = (np.exp(2 * a) - 1) / (np.exp(2 * a) + 1)
            return (1 - z) * n + z * h_prev
        """)),
    Wrong("gru_step", "writes_into_h_prev", "interpolates in place, h_prev *= z; h_prev += "
          "(1 - z) * n, overwriting the caller's state", _code("""
        def gru_step(params, x, h_prev):
            H = h_prev.shape[-1]
            gx = x @ params["W_x"] + params["b_x"]
            gh = h_prev @ params["W_h"] + params["b_h"]
            r = sigmoid(gx[:, :H] + gh[:, :H])
            z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
            n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
            h_prev *= z
            h_prev += (1 - z) * n
            return h_prev
        """)),
    Wrong("bidirectional", "imports_library", "finds the cell's module and calls the library's "
          "bidirectional layer", _code("""
        import sys

        from rnncore.wrappers import bidirectional_forward


        def bidirectional(cell_forward, params, xs):
            return bidirectional_forward(sys.modules[cell_forward.__module__], params, xs)
        """)),
    Wrong("bidirectional", "final_b_from_states", "takes final_b as the last row of the "
          "backward half (the state after reading x_T alone) instead of the backward cell's final "
          "state (after x_1)", _code("""
        def bidirectional(cell_forward, params, xs):
            hs_f, final_f = cell_forward(params["forward"], xs)
            hs_b = cell_forward(params["backward"], xs[::-1])[0][::-1]
            return np.concatenate([hs_f, hs_b], axis=-1), (final_f, hs_b[-1])
        """)),
    Wrong("bidirectional", "final_h_only", "returns each direction's last hidden state as its "
          "final state, right for the RNN and the GRU but not the LSTM's pair (h, c)", _code("""
        def bidirectional(cell_forward, params, xs):
            hs_f, _ = cell_forward(params["forward"], xs)
            hs_b, _ = cell_forward(params["backward"], xs[::-1])
            return np.concatenate([hs_f, hs_b[::-1]], axis=-1), (hs_f[-1], hs_b[-1])
        """)),
    Wrong("bidirectional", "reverses_xs_in_place", "reverses the caller's sequence in place "
          "(xs[:] = xs[::-1]) to feed the backward cell", _code("""
        def bidirectional(cell_forward, params, xs):
            hs_f, final_f = cell_forward(params["forward"], xs)
            xs[:] = xs[::-1].copy()
            hs_b, final_b = cell_forward(params["backward"], xs)
            return np.concatenate([hs_f, hs_b[::-1]], axis=-1), (final_f, final_b)
        """)),
    Wrong("attention", "imports_library", "imports the library's dot-product attention", _code("""
        from rnncore.attention import dot_attention as attention
        """)),
    Wrong("attention", "batch_max_shift", "subtracts the largest score of the whole batch "
          "instead of each column's: a column far below it underflows to 0 / 0", _code("""
        def attention(query, keys, values, mask=None):
            scores = np.sum(keys * query, axis=-1)
            if mask is not None:
                scores = np.where(np.asarray(mask) != 0, scores, -np.inf)
            weights = np.exp(scores - scores.max())
            weights = weights / weights.sum(axis=0)
            return np.sum(weights[:, :, None] * values, axis=0), weights
        """)),
    Wrong("attention", "mask_after_exp", "applies the mask after the exponential (and "
          "renormalises): a masked score far above the kept ones sets the shift, and every kept "
          "weight underflows to 0 / 0", _code("""
        def attention(query, keys, values, mask=None):
            scores = np.sum(keys * query, axis=-1)
            weights = np.exp(scores - scores.max(axis=0))
            if mask is not None:
                weights = weights * np.asarray(mask)
            weights = weights / weights.sum(axis=0)
            return np.sum(weights[:, :, None] * values, axis=0), weights
        """)),
    Wrong("attention", "writes_into_values", "weights the values in place (values *= weights), "
          "overwriting the caller's values", _code("""
        def attention(query, keys, values, mask=None):
            scores = np.sum(keys * query, axis=-1)
            if mask is not None:
                scores = np.where(np.asarray(mask) != 0, scores, -np.inf)
            weights = np.exp(scores - scores.max(axis=0))
            weights = weights / weights.sum(axis=0)
            values *= weights[:, :, None]
            return values.sum(axis=0), weights
        """)),
    # --- red team, second pass: gate layouts of other libraries, precedence, conventions ---
    Wrong("lstm_step", "tanh_old_cell", "reads out the OLD cell, h = o * tanh(c_prev), computing "
          "h before c as the equations are sometimes listed", _code("""
        def lstm_step(params, x, state):
            h_prev, c_prev = state
            H = h_prev.shape[-1]
            z = x @ params["W_x"] + h_prev @ params["W_h"] + params["b"]
            i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
            g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
            h = o * np.tanh(c_prev)
            return h, f * c_prev + i * g
        """)),
    Wrong("lstm_step", "tf_order_igfo", "reads the blocks in TensorFlow's LSTMCell order i, g "
          "(TF's j), f, o instead of PyTorch's i, f, g, o", _code("""
        def lstm_step(params, x, state):
            h_prev, c_prev = state
            H = h_prev.shape[-1]
            z = x @ params["W_x"] + h_prev @ params["W_h"] + params["b"]
            i, g = sigmoid(z[:, :H]), np.tanh(z[:, H:2 * H])
            f, o = sigmoid(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
            c = f * c_prev + i * g
            return o * np.tanh(c), c
        """)),
    Wrong("lstm_step", "reshape_interleaved", "splits z with reshape(B, H, 4), which interleaves "
          "the gates unit by unit, instead of reshape(B, 4, H) (the blocks); right when H = 1",
          _code("""
        def lstm_step(params, x, state):
            h_prev, c_prev = state
            B, H = h_prev.shape
            z = (x @ params["W_x"] + h_prev @ params["W_h"] + params["b"]).reshape(B, H, 4)
            i, f, g, o = (z[:, :, k] for k in range(4))
            c = sigmoid(f) * c_prev + sigmoid(i) * np.tanh(g)
            return sigmoid(o) * np.tanh(c), c
        """)),
    Wrong("lstm_step", "forget_bias_in_step", "adds 1 to the forget gate's pre-activation in the "
          "step (TF's BasicLSTMCell forget_bias=1.0), mixing up the chapter's initialisation "
          "trick with the step", _code("""
        def lstm_step(params, x, state):
            h_prev, c_prev = state
            H = h_prev.shape[-1]
            z = x @ params["W_x"] + h_prev @ params["W_h"] + params["b"]
            i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H] + 1.0)
            g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
            c = f * c_prev + i * g
            return o * np.tanh(c), c
        """)),
    Wrong("gru_step", "keras_order_zrn", "reads the blocks in Keras's GRU order z, r, n instead "
          "of PyTorch's r, z, n", _code("""
        def gru_step(params, x, h_prev):
            H = h_prev.shape[-1]
            gx = x @ params["W_x"] + params["b_x"]
            gh = h_prev @ params["W_h"] + params["b_h"]
            z = sigmoid(gx[:, :H] + gh[:, :H])
            r = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
            n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
            return (1 - z) * n + z * h_prev
        """)),
    Wrong("gru_step", "precedence", "writes r * h_prev @ W_hn + b_hn without brackets: * and @ "
          "bind equally and left to right, so this is (r * h_prev) @ W_hn, Cho's form",
          _code("""
        def gru_step(params, x, h_prev):
            H = h_prev.shape[-1]
            W_h, b_h = params["W_h"], params["b_h"]
            gx = x @ params["W_x"] + params["b_x"]
            r = sigmoid(gx[:, :H] + h_prev @ W_h[:, :H] + b_h[:H])
            z = sigmoid(gx[:, H:2 * H] + h_prev @ W_h[:, H:2 * H] + b_h[H:2 * H])
            n = np.tanh(gx[:, 2 * H:] + r * h_prev @ W_h[:, 2 * H:] + r * b_h[2 * H:])
            return (1 - z) * n + z * h_prev
        """)),
    Wrong("gru_step", "reset_whole_preactivation", "lets the reset gate scale the input's part "
          "too: n = tanh(r * (x W_xn + b_xn + h_prev W_hn + b_hn))", _code("""
        def gru_step(params, x, h_prev):
            H = h_prev.shape[-1]
            gx = x @ params["W_x"] + params["b_x"]
            gh = h_prev @ params["W_h"] + params["b_h"]
            r = sigmoid(gx[:, :H] + gh[:, :H])
            z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
            n = np.tanh(r * (gx[:, 2 * H:] + gh[:, 2 * H:]))
            return (1 - z) * n + z * h_prev
        """)),
    Wrong("gru_step", "sigmoid_candidate", "squashes the candidate with the sigmoid like the "
          "gates (one sigmoid over all 3H columns)", _code("""
        def gru_step(params, x, h_prev):
            H = h_prev.shape[-1]
            gx = x @ params["W_x"] + params["b_x"]
            gh = h_prev @ params["W_h"] + params["b_h"]
            r = sigmoid(gx[:, :H] + gh[:, :H])
            z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
            n = sigmoid(gx[:, 2 * H:] + r * gh[:, 2 * H:])
            return (1 - z) * n + z * h_prev
        """)),
    Wrong("bidirectional", "flip_all_axes", "reverses with np.flip(xs) and np.flip(hs_b) without "
          "axis=0, which flips the batch and feature axes too", _code("""
        def bidirectional(cell_forward, params, xs):
            hs_f, final_f = cell_forward(params["forward"], xs)
            hs_b, final_b = cell_forward(params["backward"], np.flip(xs))
            return np.concatenate([hs_f, np.flip(hs_b)], axis=-1), (final_f, final_b)
        """)),
    Wrong("bidirectional", "hstack", "puts the halves 'side by side' with np.hstack, which joins "
          "3-d arrays on axis 1 (the batch), not the last axis", _code("""
        def bidirectional(cell_forward, params, xs):
            hs_f, final_f = cell_forward(params["forward"], xs)
            hs_b, final_b = cell_forward(params["backward"], xs[::-1])
            return np.hstack([hs_f, hs_b[::-1]]), (final_f, final_b)
        """)),
    Wrong("bidirectional", "finals_swapped", "returns the final states in the order of the "
          "backward pass first, (final_b, final_f)", _code("""
        def bidirectional(cell_forward, params, xs):
            hs_f, final_f = cell_forward(params["forward"], xs)
            hs_b, final_b = cell_forward(params["backward"], xs[::-1])
            return np.concatenate([hs_f, hs_b[::-1]], axis=-1), (final_b, final_f)
        """)),
    Wrong("bidirectional", "params_swapped", "gives the forward pass params['backward'] and the "
          "backward pass params['forward']", _code("""
        def bidirectional(cell_forward, params, xs):
            hs_f, final_f = cell_forward(params["backward"], xs)
            hs_b, final_b = cell_forward(params["forward"], xs[::-1])
            return np.concatenate([hs_f, hs_b[::-1]], axis=-1), (final_f, final_b)
        """)),
    Wrong("attention", "mask_inverted", "reads the mask the way PyTorch's key_padding_mask is "
          "read, 1 (True) = padding, and drops the positions marked 1", _code("""
        def attention(query, keys, values, mask=None):
            scores = np.sum(keys * query, axis=-1)
            if mask is not None:
                scores = np.where(np.asarray(mask) != 0, -np.inf, scores)
            scores = scores - scores.max(axis=0)
            weights = np.exp(scores)
            weights = weights / weights.sum(axis=0)
            return np.sum(weights[:, :, None] * values, axis=0), weights
        """)),
    Wrong("attention", "mask_multiplies_scores", "multiplies the scores by the mask, so a masked "
          "score becomes 0 (weight exp(0), not 0) instead of -inf", _code("""
        def attention(query, keys, values, mask=None):
            scores = np.sum(keys * query, axis=-1)
            if mask is not None:
                scores = scores * np.asarray(mask)
            scores = scores - scores.max(axis=0)
            weights = np.exp(scores)
            weights = weights / weights.sum(axis=0)
            return np.sum(weights[:, :, None] * values, axis=0), weights
        """)),
    Wrong("attention", "max_before_mask", "takes each column's maximum before masking, so a "
          "masked score far above the kept ones sets the shift and they underflow to 0 / 0",
          _code("""
        def attention(query, keys, values, mask=None):
            scores = np.sum(keys * query, axis=-1)
            scores = scores - scores.max(axis=0)
            if mask is not None:
                scores = np.where(np.asarray(mask) != 0, scores, -np.inf)
            weights = np.exp(scores)
            weights = weights / weights.sum(axis=0)
            return np.sum(weights[:, :, None] * values, axis=0), weights
        """)),
    Wrong("attention", "einsum_batch_typo", "writes the scores as einsum('sbh,ch->sb'), a new "
          "letter for the query's batch axis, which sums over every query: right only for B = 1",
          _code("""
        def attention(query, keys, values, mask=None):
            scores = np.einsum("sbh,ch->sb", keys, query)
            if mask is not None:
                scores = np.where(np.asarray(mask) != 0, scores, -np.inf)
            weights = np.exp(scores - scores.max(axis=0))
            weights = weights / weights.sum(axis=0)
            return np.einsum("sb,sbv->bv", weights, values), weights
        """)),
    Wrong("attention", "mask_fill_minus_1000", "masks with a 'large negative number', -1000, "
          "instead of -inf: where every kept score of a column is below about -1700, the masked "
          "positions get the weight", _code("""
        def attention(query, keys, values, mask=None):
            scores = np.sum(keys * query, axis=-1)
            if mask is not None:
                scores = np.where(np.asarray(mask) != 0, scores, -1000.0)
            weights = np.exp(scores - scores.max(axis=0))
            weights = weights / weights.sum(axis=0)
            return np.sum(weights[:, :, None] * values, axis=0), weights
        """)),
]

ALTERNATIVES = [
    Alternative("per_gate", "one matmul per gate on the weights' column blocks (np.split), the "
                            "sigmoid written out, the GRU as n + z (h - n); the bidirectional "
                            "layer with np.flip; attention with einsum and a large negative "
                            "number for the mask", {
        "lstm_step": _code("""
            def lstm_step(params, x, state):
                h_prev, c_prev = state
                blocks = zip(np.split(params["W_x"], 4, axis=1), np.split(params["W_h"], 4, axis=1),
                             np.split(params["b"], 4))
                zi, zf, zg, zo = [x @ Wx + h_prev @ Wh + b for Wx, Wh, b in blocks]
                i, f, o = (1 / (1 + np.exp(-zi)), 1 / (1 + np.exp(-zf)), 1 / (1 + np.exp(-zo)))
                c = f * c_prev + i * np.tanh(zg)
                return o * np.tanh(c), c
            """),
        "gru_step": _code("""
            def gru_step(params, x, h_prev):
                Wxr, Wxz, Wxn = np.split(params["W_x"], 3, axis=1)
                Whr, Whz, Whn = np.split(params["W_h"], 3, axis=1)
                bxr, bxz, bxn = np.split(params["b_x"], 3)
                bhr, bhz, bhn = np.split(params["b_h"], 3)
                r = 1 / (1 + np.exp(-(x @ Wxr + bxr + h_prev @ Whr + bhr)))
                z = 1 / (1 + np.exp(-(x @ Wxz + bxz + h_prev @ Whz + bhz)))
                n = np.tanh(x @ Wxn + bxn + r * (h_prev @ Whn + bhn))
                return n + z * (h_prev - n)
            """),
        "bidirectional": _code("""
            def bidirectional(cell_forward, params, xs):
                forward_states, final_f = cell_forward(params["forward"], xs)
                backward_states, final_b = cell_forward(params["backward"], np.flip(xs, axis=0))
                both = np.dstack([forward_states, np.flip(backward_states, axis=0)])
                return both, (final_f, final_b)
            """),
        "attention": _code("""
            def attention(query, keys, values, mask=None):
                scores = np.einsum("sbh,bh->sb", keys, query)
                if mask is not None:
                    scores = scores + np.where(np.asarray(mask) == 0, -1e30, 0.0)
                weights = np.exp(scores - np.max(scores, axis=0, keepdims=True))
                weights /= np.sum(weights, axis=0, keepdims=True)
                return np.einsum("sb,sbv->bv", weights, values), weights
            """),
    }),
    Alternative("float32", "computes in float32 throughout", {
        "lstm_step": _code("""
            def lstm_step(params, x, state):
                f32 = np.float32
                p = {k: np.asarray(v, f32) for k, v in params.items()}
                h_prev, c_prev = (np.asarray(s, f32) for s in state)
                H = h_prev.shape[-1]
                z = np.asarray(x, f32) @ p["W_x"] + h_prev @ p["W_h"] + p["b"]
                i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
                g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
                c = f * c_prev + i * g
                return o * np.tanh(c), c
            """),
        "gru_step": _code("""
            def gru_step(params, x, h_prev):
                f32 = np.float32
                p = {k: np.asarray(v, f32) for k, v in params.items()}
                x, h_prev = np.asarray(x, f32), np.asarray(h_prev, f32)
                H = h_prev.shape[-1]
                gx, gh = x @ p["W_x"] + p["b_x"], h_prev @ p["W_h"] + p["b_h"]
                r = sigmoid(gx[:, :H] + gh[:, :H])
                z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
                n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
                return (f32(1) - z) * n + z * h_prev
            """),
        "bidirectional": _code("""
            def bidirectional(cell_forward, params, xs):
                f32 = lambda p: {k: np.asarray(v, np.float32) for k, v in p.items()}
                xs = np.asarray(xs, np.float32)
                hs_f, final_f = cell_forward(f32(params["forward"]), xs)
                hs_b, final_b = cell_forward(f32(params["backward"]), xs[::-1])
                return np.concatenate([hs_f, hs_b[::-1]], axis=-1), (final_f, final_b)
            """),
        "attention": _code("""
            def attention(query, keys, values, mask=None):
                query, keys = np.asarray(query, np.float32), np.asarray(keys, np.float32)
                values = np.asarray(values, np.float32)
                scores = (keys * query).sum(axis=-1)
                if mask is not None:
                    scores = np.where(np.asarray(mask) != 0, scores, np.float32(-np.inf))
                weights = np.exp(scores - scores.max(axis=0))
                weights = weights / weights.sum(axis=0)
                return (weights[:, :, None] * values).sum(axis=0), weights
            """),
    }),
    Alternative("loops", "a Python loop over the batch for the attention (one softmax per "
                         "example) and over the gates' blocks for the LSTM", {
        "lstm_step": _code("""
            def lstm_step(params, x, state):
                h_prev, c_prev = state
                H = h_prev.shape[-1]
                z = x @ params["W_x"] + h_prev @ params["W_h"] + params["b"]
                blocks = [z[:, k * H:(k + 1) * H] for k in range(4)]
                i, f, o = (sigmoid(blocks[k]) for k in (0, 1, 3))
                c = f * c_prev + i * np.tanh(blocks[2])
                return o * np.tanh(c), c
            """),
        "attention": _code("""
            def attention(query, keys, values, mask=None):
                S, B = keys.shape[:2]
                weights = np.zeros((S, B))
                context = np.zeros((B, values.shape[-1]))
                for b in range(B):
                    valid = np.ones(S, bool) if mask is None else np.asarray(mask)[:, b] != 0
                    e = keys[valid, b] @ query[b]
                    a = np.exp(e - e.max())
                    weights[valid, b] = a / a.sum()
                    context[b] = weights[:, b] @ values[:, b]
                return context, weights
            """),
    }),
    Alternative("magics", "times its cells with %%time, %time and %timeit, as the notebooks "
                          "suggest for training; the magics run their code when graded", {
        "lstm_step": _code("""
            %%time
            def lstm_step(params, x, state):
                h_prev, c_prev = state
                H = h_prev.shape[-1]
                z = x @ params["W_x"] + h_prev @ params["W_h"] + params["b"]
                i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
                g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
                c = f * c_prev + i * g
                return o * np.tanh(c), c
            """),
        "gru_step": _code("""
            def gru_step(params, x, h_prev):
                H = h_prev.shape[-1]
                gx = x @ params["W_x"] + params["b_x"]
                gh = h_prev @ params["W_h"] + params["b_h"]
                r = sigmoid(gx[:, :H] + gh[:, :H])
                z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
                n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
                return (1 - z) * n + z * h_prev


            demo = {"W_x": np.zeros((2, 6)), "W_h": np.zeros((2, 6)), "b_x": np.zeros(6),
                    "b_h": np.zeros(6)}
            %time h_demo = gru_step(demo, np.ones((3, 2)), np.ones((3, 2)))
            """),
        "attention": _code("""
            def attention(query, keys, values, mask=None):
                scores = np.sum(keys * query, axis=-1)
                if mask is not None:
                    scores = np.where(np.asarray(mask) != 0, scores, -np.inf)
                weights = np.exp(scores - scores.max(axis=0))
                weights = weights / weights.sum(axis=0)
                return np.sum(weights[:, :, None] * values, axis=0), weights


            %timeit -n 2 -r 1 attention(np.ones((2, 3)), np.ones((4, 2, 3)), np.ones((4, 2, 1)))
            """),
        "bidirectional": _code("""
            %%time
            def bidirectional(cell_forward, params, xs):
                hs_f, final_f = cell_forward(params["forward"], xs)
                hs_b, final_b = cell_forward(params["backward"], xs[::-1])
                return np.concatenate([hs_f, hs_b[::-1]], axis=-1), (final_f, final_b)
            """),
    }),
    Alternative("loops2", "plain Python loops: the GRU unit by unit, the bidirectional layer "
                          "reversing and concatenating step by step", {
        "gru_step": _code("""
            def gru_step(params, x, h_prev):
                B, H = h_prev.shape
                h = np.empty((B, H))
                for j in range(H):
                    cols = [j, H + j, 2 * H + j]
                    gx = x @ params["W_x"][:, cols] + params["b_x"][cols]
                    gh = h_prev @ params["W_h"][:, cols] + params["b_h"][cols]
                    r = sigmoid(gx[:, 0] + gh[:, 0])
                    z = sigmoid(gx[:, 1] + gh[:, 1])
                    n = np.tanh(gx[:, 2] + r * gh[:, 2])
                    h[:, j] = (1 - z) * n + z * h_prev[:, j]
                return h
            """),
        "bidirectional": _code("""
            def bidirectional(cell_forward, params, xs):
                T = len(xs)
                hs_f, final_f = cell_forward(params["forward"], xs)
                reversed_xs = np.stack([xs[T - 1 - t] for t in range(T)])
                hs_b, final_b = cell_forward(params["backward"], reversed_xs)
                rows = [np.concatenate([hs_f[t], hs_b[T - 1 - t]], axis=-1) for t in range(T)]
                return np.stack(rows), (final_f, final_b)
            """),
    }),
    Alternative("reshaped", "the LSTM's and GRU's gate blocks by reshape(B, k, H), the LSTM on "
                            "the concatenation [x, h_prev] @ [W_x; W_h]; the bidirectional "
                            "layer returning its final states as a list; attention scores from "
                            "the batched matmul's diagonal and a log-sum-exp normaliser", {
        "lstm_step": _code("""
            def lstm_step(params, x, state):
                h_prev, c_prev = state
                B, H = h_prev.shape
                W = np.concatenate([params["W_x"], params["W_h"]], axis=0)
                z = (np.concatenate([x, h_prev], axis=1) @ W + params["b"]).reshape(B, 4, H)
                c = sigmoid(z[:, 1]) * c_prev + sigmoid(z[:, 0]) * np.tanh(z[:, 2])
                return sigmoid(z[:, 3]) * np.tanh(c), c
            """),
        "gru_step": _code("""
            def gru_step(params, x, h_prev):
                B, H = h_prev.shape
                gx = (x @ params["W_x"] + params["b_x"]).reshape(B, 3, H)
                gh = (h_prev @ params["W_h"] + params["b_h"]).reshape(B, 3, H)
                r, z = sigmoid(gx[:, 0] + gh[:, 0]), sigmoid(gx[:, 1] + gh[:, 1])
                n = np.tanh(gx[:, 2] + r * gh[:, 2])
                return z * h_prev + (1 - z) * n
            """),
        "bidirectional": _code("""
            def bidirectional(cell_forward, params, xs):
                out_f = cell_forward(params["forward"], xs)
                out_b = cell_forward(params["backward"], xs[::-1, :, :])
                hs = np.concatenate((out_f[0], out_b[0][::-1, :, :]), axis=2)
                return hs, [out_f[1], out_b[1]]
            """),
        "attention": _code("""
            def attention(query, keys, values, mask=None):
                scores = np.diagonal(keys @ query.T, axis1=1, axis2=2)     # (S, B)
                if mask is not None:
                    scores = np.where(np.asarray(mask, dtype=bool), scores, -np.inf)
                top = scores.max(axis=0)
                log_norm = top + np.log(np.exp(scores - top).sum(axis=0))
                weights = np.exp(scores - log_norm)
                return (weights[:, :, None] * values).sum(axis=0), weights
            """),
    }),
    Alternative("in_place_on_own", "in-place arithmetic, but only on arrays the function made "
                                   "itself (z += b, gh[:, 2H:] *= r, scores[mask == 0] = -inf, "
                                   "weights /= ...): the caller's arrays stay unchanged", {
        "lstm_step": _code("""
            def lstm_step(params, x, state):
                h_prev, c_prev = state
                H = h_prev.shape[-1]
                z = x @ params["W_x"]
                z += h_prev @ params["W_h"]
                z += params["b"]
                z[:, :2 * H] = sigmoid(z[:, :2 * H])
                z[:, 3 * H:] = sigmoid(z[:, 3 * H:])
                np.tanh(z[:, 2 * H:3 * H], out=z[:, 2 * H:3 * H])
                c = z[:, H:2 * H] * c_prev
                c += z[:, :H] * z[:, 2 * H:3 * H]
                return z[:, 3 * H:] * np.tanh(c), c
            """),
        "gru_step": _code("""
            def gru_step(params, x, h_prev):
                H = h_prev.shape[-1]
                gx = x @ params["W_x"]
                gx += params["b_x"]
                gh = h_prev @ params["W_h"]
                gh += params["b_h"]
                r = sigmoid(gx[:, :H] + gh[:, :H])
                z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
                gh[:, 2 * H:] *= r
                gh[:, 2 * H:] += gx[:, 2 * H:]
                n = np.tanh(gh[:, 2 * H:])
                n -= h_prev
                n *= 1 - z
                n += h_prev
                return n
            """),
        "attention": _code("""
            def attention(query, keys, values, mask=None):
                scores = np.sum(keys * query, axis=-1)
                if mask is not None:
                    scores[np.asarray(mask) == 0] = -np.inf
                scores -= scores.max(axis=0)
                np.exp(scores, out=scores)
                scores /= scores.sum(axis=0)
                return np.einsum("sb,sbv->bv", scores, values), scores
            """),
    }),
]
