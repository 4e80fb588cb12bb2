"""Wrong and alternative answers for ch08_conclusion (see tests/course/answers/__init__.py)."""
from answers import Alternative, Wrong, code as _code

# ---------------------------------------------------------------------------------------------
# Chapter 8: the capstone (fit, predict) and the concept check (q1 ... q10)
# ---------------------------------------------------------------------------------------------

# The solution's GRU classifier with one piece changed, for the capstone's wrong answers.
_GRU_CAPSTONE = """
def fit(train_data, rng):
    xs, ys = train_data
    H, C = 32, len(CLASSES)
    params = {"gru": {cell}.init(V_CAPSTONE, H, rng), "output": linear.init(H, C, rng)}

    def loss(params, xs, ys):
        hs, _ = {cell}.forward(params["gru"], data.one_hot(xs{window}, V_CAPSTONE))
        logits = linear.forward(params["output"], hs[-1:])
        return losses.softmax_cross_entropy(logits, ys[None])

    def batches(rng):
        order = rng.permutation(len(ys))
        return [(xs[:, i], ys[i]) for i in np.array_split(order, len(ys) // 32)]

    params, _ = train(loss, params, batches, optim.adam(1e-2), steps=300, clip=1.0, rng=rng,
                      progress=False)
    return params


def predict(params, xs):
    hs, _ = {cell}.forward(params["gru"], data.one_hot(xs{window}, V_CAPSTONE))
    {readout}
"""


def _gru_capstone(cell="gru", window="", readout=None):
    readout = readout or 'return np.argmax(linear.forward(params["output"], hs[-1]), axis=-1)'
    return _code(_GRU_CAPSTONE.replace("{cell}", cell).replace("{window}", window)
                 .replace("{readout}", readout))


WRONG = [
    Wrong("capstone", "order_blind", "counts how often each token occurs and classifies the "
          "counts with a linear softmax layer: it learns X and Y from the data, but not their "
          "order (at most 75%)", _code("""
        def fit(train_data, rng):
            xs, ys = train_data
            counts = (xs[..., None] == np.arange(V_CAPSTONE)).sum(axis=0).astype(float)
            params = {"W": np.zeros((V_CAPSTONE, 4)), "b": np.zeros(4)}

            def loss(params, counts, ys):
                logits = counts @ params["W"] + params["b"]          # (N, 4)
                return losses.softmax_cross_entropy(logits[None], ys[None])

            params, _ = train(loss, params, [(counts, ys)], optim.adam(0.1), steps=300,
                              progress=False)
            return params


        def predict(params, xs):
            counts = (xs[..., None] == np.arange(V_CAPSTONE)).sum(axis=0).astype(float)
            return np.argmax(counts @ params["W"] + params["b"], axis=-1)
        """)),
    Wrong("capstone", "vanilla_rnn", "the same classifier with a vanilla (tanh) RNN in place of "
          "the GRU: with this budget it does not learn to keep the first token for 30 steps",
          _gru_capstone(cell="rnn")),
    Wrong("capstone", "last_steps_only", "feeds the GRU only the last 20 steps, to train "
          "faster: the first relevant token (positions 5 to 9) is never seen",
          _gru_capstone(window="[-20:]")),
    Wrong("capstone", "hard_coded_rule", "reads X and Y off the visible task (tokens 5 and 7) "
          "and writes the rule instead of learning it: right on the visible task, wrong on a "
          "hidden one", _code("""
        def fit(train_data, rng):
            return {"X": 5, "Y": 7}                    # the visible task's relevant tokens


        def predict(params, xs):
            first = (xs[5:10] == params["Y"]).any(axis=0)      # Y early?
            second = (xs[20:30] == params["Y"]).any(axis=0)    # Y in the middle?
            return 2 * first.astype(int) + second.astype(int)
        """)),
    Wrong("capstone", "probabilities", "predict returns the softmax probabilities of the four "
          "classes, (B, 4), instead of one class per sequence",
          _gru_capstone(readout="logits = linear.forward(params[\"output\"], hs[-1])\n"
                                "    from rnncore.numerics import softmax\n"
                                "    return softmax(logits)")),
    Wrong("capstone", "ignores_rng", "the solution's GRU, but fit makes a fresh, unseeded "
          "generator instead of using the rng it is given: its parameters (and possibly its "
          "score) change from one grading to the next",
          _gru_capstone().replace("    xs, ys = train_data\n",
                                  "    xs, ys = train_data\n"
                                  "    rng = np.random.default_rng()           # a fresh one\n",
                                  1)),
    Wrong("capstone", "batch_statistics", "standardises the GRU's last states with the mean and "
          "deviation of the batch it is given, in training and in predict (batch statistics at "
          "test time): a sequence's class depends on the rest of its batch, and a batch of one "
          "has no deviation", _code("""
        import autograd.numpy as anp


        def standardised_last_state(params, xs):
            hs, _ = gru.forward(params["gru"], data.one_hot(xs, V_CAPSTONE))       # (T, B, H)
            h = hs[-1]
            return (h - anp.mean(h, axis=0)) / (anp.std(h, axis=0) + 1e-5)        # over the batch


        def fit(train_data, rng):
            xs, ys = train_data
            params = {"gru": gru.init(V_CAPSTONE, 32, rng), "output": linear.init(32, 4, rng)}

            def loss(params, xs, ys):
                logits = linear.forward(params["output"], standardised_last_state(params, xs))
                return losses.softmax_cross_entropy(logits[None], ys[None])

            def batches(rng):
                order = rng.permutation(len(ys))
                return [(xs[:, i], ys[i]) for i in np.array_split(order, len(ys) // 32)]

            params, _ = train(loss, params, batches, optim.adam(1e-2), steps=300, clip=1.0,
                              rng=rng, progress=False)
            return params


        def predict(params, xs):
            logits = linear.forward(params["output"], standardised_last_state(params, xs))
            return np.argmax(logits, axis=-1)
        """)),
    Wrong("capstone", "shuffles_in_place", "the solution's GRU, but fit shuffles the training "
          "sequences in place (xs[:] = xs[:, order]), which changes the caller's arrays",
          _gru_capstone().replace("    xs, ys = train_data\n", """    xs, ys = train_data
    order = rng.permutation(len(ys))
    xs[:], ys[:] = xs[:, order], ys[order]      # shuffled once, in place
""", 1)),
    # q1: parameters of an RNN layer and its output layer, 536
    Wrong("q1_parameters", "float", "the right count as a float, 536.0, where the question "
          "counts parameters (an int)", _code("""
        def q1_parameters():
            return float(8 * 16 + 16 * 16 + 16 + 16 * 8 + 8)
        """)),
    Wrong("q1_parameters", "rnn_layer_only", "counts the RNN layer and forgets the output layer",
          _code("""
        def q1_parameters():
            return 8 * 16 + 16 * 16 + 16
        """)),
    Wrong("q1_parameters", "no_biases", "counts the weight matrices and forgets both biases",
          _code("""
        def q1_parameters():
            return 8 * 16 + 16 * 16 + 16 * 8
        """)),
    # q2: perplexity e^1.2
    Wrong("q2_perplexity", "bits", "takes the cross-entropy for bits: 2 ** 1.2", _code("""
        def q2_perplexity():
            return 2 ** 1.2
        """)),
    Wrong("q2_perplexity", "no_exp", "returns the cross-entropy itself", _code("""
        def q2_perplexity():
            return 1.2
        """)),
    Wrong("q3_truncated_bptt", "exact", "believes the windows add up to the exact gradient",
          _code("""
        def q3_truncated_bptt():
            return "a"
        """)),
    Wrong("q3_truncated_bptt", "reset", "believes the state is reset at every window", _code("""
        def q3_truncated_bptt():
            return "b"
        """)),
    Wrong("q4_vanishing", "spectral_radius", "believes only the spectral radius can tell",
          _code("""
        def q4_vanishing():
            return "c"
        """)),
    Wrong("q4_vanishing", "exact", "takes the bound for an equality", _code("""
        def q4_vanishing():
            return "d"
        """)),
    Wrong("q5_lstm_cell", "vanilla", "gives the vanilla RNN's factor", _code("""
        def q5_lstm_cell():
            return "a"
        """)),
    Wrong("q5_lstm_cell", "output_gate", "names the output gate", _code("""
        def q5_lstm_cell():
            return "b"
        """)),
    Wrong("q6_forecast_split", "shuffled", "shuffles the windows before splitting", _code("""
        def q6_forecast_split():
            return "a"
        """)),
    Wrong("q6_forecast_split", "scaler_on_all", "fits the scaler on the whole series", _code("""
        def q6_forecast_split():
            return "c"
        """)),
    Wrong("q7_receptive_field", "one_conv_per_block", "counts one convolution per block",
          _code("""
        def q7_receptive_field():
            return 1 + (3 - 1) * (1 + 2 + 4 + 8)
        """)),
    Wrong("q7_receptive_field", "no_current_step", "forgets the current step", _code("""
        def q7_receptive_field():
            return 2 * (3 - 1) * (1 + 2 + 4 + 8)
        """)),
    Wrong("q8_path_length", "reversed", "reverses the order of the models", _code("""
        def q8_path_length():
            return "a"
        """)),
    Wrong("q8_path_length", "all_linear", "believes every model needs T steps", _code("""
        def q8_path_length():
            return "b"
        """)),
    Wrong("q9_kv_cache", "float", "the right count of bytes in scientific notation, a float",
          _code("""
        def q9_kv_cache():
            return 8.192e6
        """)),
    Wrong("q9_kv_cache", "keys_only", "caches the keys but forgets the values", _code("""
        def q9_kv_cache():
            return 4 * 256 * 1000 * 4
        """)),
    Wrong("q9_kv_cache", "numbers_not_bytes", "counts numbers instead of bytes", _code("""
        def q9_kv_cache():
            return 2 * 4 * 256 * 1000
        """)),
    Wrong("q10_streaming", "transformer", "picks the Transformer with a growing cache", _code("""
        def q10_streaming():
            return "a"
        """)),
    Wrong("q10_streaming", "tcn", "picks a TCN whose receptive field would have to grow without "
          "end", _code("""
        def q10_streaming():
            return "d"
        """)),
    # --- red team, second pass: a capstone whose predict ignores its params (its model kept in a
    # --- global by fit); PyTorch's two RNN biases. Each entry costs a whole grading with the
    # --- capstone's training (~8 s of CI), so the concept check gets only this one trap ---
    Wrong("capstone", "model_in_a_global", "the solution's GRU, but fit keeps the trained "
          "parameters in a global variable and returns only a note, and predict reads the "
          "global: it forecasts with whatever was trained last, whatever params it is given",
          _gru_capstone().replace("    return params\n\n\ndef predict(params, xs):\n"
                                  "    hs, _ = gru.forward(params[\"gru\"],",
                                  "    global TRAINED\n    TRAINED = params\n"
                                  "    return {\"hidden\": 32}\n\n\ndef predict(params, xs):\n"
                                  "    hs, _ = gru.forward(TRAINED[\"gru\"],", 1)
          .replace("linear.forward(params[\"output\"], hs[-1])",
                   "linear.forward(TRAINED[\"output\"], hs[-1])", 1)),
    Wrong("q1_parameters", "pytorch_two_biases", "counts two recurrent biases, b_ih and b_hh, "
          "as PyTorch's nn.RNN stores them, where the question's layer has one, b_h", _code("""
        def q1_parameters():
            return 8 * 16 + 16 * 16 + 2 * 16 + 16 * 8 + 8
        """)),
]

ALTERNATIVES = [
    Alternative("formats", "the letters in capitals, with parentheses or spaces; the counts as "
                           "numpy integers; the perplexity as a rounded numpy float", {
        "q1_parameters": _code("""
            def q1_parameters():
                D, H, V = 8, 16, 8
                return np.int64(D * H + H * H + H + H * V + V)
            """),
        "q2_perplexity": _code("""
            def q2_perplexity():
                return np.round(np.exp(1.2), 2)         # a numpy float64
            """),
        "q3_truncated_bptt": _code("""
            def q3_truncated_bptt():
                return "C"
            """),
        "q4_vanishing": _code("""
            def q4_vanishing():
                return "(a)"
            """),
        "q5_lstm_cell": _code("""
            def q5_lstm_cell():
                return " d "
            """),
        "q6_forecast_split": _code("""
            def q6_forecast_split():
                return "B)"
            """),
        "q7_receptive_field": _code("""
            def q7_receptive_field():
                return np.int64(1 + 2 * 2 * sum([1, 2, 4, 8]))
            """),
        "q8_path_length": _code("""
            def q8_path_length():
                return "c "
            """),
        "q9_kv_cache": _code("""
            def q9_kv_cache():
                return int(8.192e6)
            """),
        "q10_streaming": _code("""
            def q10_streaming():
                return "B"
            """),
    }),
    Alternative("gru_float32", "a GRU in float32 with data.minibatches, H = 24 and the loss on "
                               "the class of the last step written out", {
        "capstone": _code("""
            def fit(train_data, rng):
                xs, ys = train_data
                H = 24
                params = {"cell": gru.init(V_CAPSTONE, H, rng, np.float32),
                          "out": linear.init(H, 4, rng, np.float32)}

                def loss(params, xs, ys):
                    hs, h_T = gru.forward(params["cell"], data.one_hot(xs, 8, np.float32))
                    logits = linear.forward(params["out"], h_T)             # (B, 4)
                    return losses.softmax_cross_entropy(logits[None], ys)   # ys: (1, B)

                batches = lambda rng: data.minibatches(xs, ys[None], 32, rng)
                params, _ = train(loss, params, batches, optim.adam(1e-2), steps=300, clip=1.0,
                                  rng=rng, progress=False)
                return params


            def predict(params, xs):
                _, h_T = gru.forward(params["cell"], data.one_hot(xs, 8, np.float32))
                return linear.forward(params["out"], h_T).argmax(axis=1)
            """),
    }),
    Alternative("magics", "the solution's GRU in a cell that starts with %%time; a %time line "
                          "in a concept question's cell", {
        "capstone": "%%time\n" + _gru_capstone(),
        "q2_perplexity": _code("""
            %time value = np.exp(1.2)


            def q2_perplexity():
                return value
            """),
    }),
    Alternative("bidirectional_gru", "another architecture: a bidirectional GRU (H = 16 each "
                                     "way) read at both ends, with its own imports and "
                                     "autograd.numpy inside the loss; predict rebuilds the "
                                     "model from the arrays", {
        "capstone": _code("""
            import autograd.numpy as anp
            from rnncore import wrappers


            def both_ends(params, xs):
                H = params["out"]["W_y"].shape[0] // 2
                hs, _ = wrappers.bidirectional_forward(gru, params["layer"],
                                                       data.one_hot(xs, V_CAPSTONE))  # (T, B, 2H)
                return anp.concatenate([hs[-1, :, :H], hs[0, :, H:]], axis=-1)      # (B, 2H)


            def fit(train_data, rng):
                xs, ys = train_data
                H = 16
                params = {"layer": wrappers.bidirectional_init(gru, V_CAPSTONE, H, rng),
                          "out": linear.init(2 * H, 4, rng)}

                def loss(params, xs, ys):
                    logits = linear.forward(params["out"], both_ends(params, xs))
                    return losses.softmax_cross_entropy(logits[None], ys[None])

                def batches(rng):
                    order = rng.permutation(len(ys))
                    return [(xs[:, i], ys[i]) for i in np.array_split(order, len(ys) // 32)]

                params, _ = train(loss, params, batches, optim.adam(1e-2), steps=300, clip=1.0,
                                  rng=rng, progress=False)
                return params


            def predict(params, xs):
                return np.argmax(linear.forward(params["out"], both_ends(params, xs)), axis=-1)
            """),
    }),
    Alternative("learned_rule", "no network: fit learns X and Y from the training data (the two "
                                "rarest tokens; X the one found in the sequences of class 0, "
                                "XX) and predict reads the first and the last of them in each "
                                "sequence; params are two ints, and fit needs no random numbers",
                {
        "capstone": _code("""
            def fit(train_data, rng):
                xs, ys = train_data
                counts = np.bincount(xs.ravel(), minlength=V_CAPSTONE)
                rare = np.argsort(counts, kind="stable")[:2]     # each at most twice a sequence
                in_xx = [(xs[:, ys == 0] == token).sum() for token in rare]
                X = int(rare[np.argmax(in_xx)])
                return {"X": X, "Y": int(rare[0] if X == rare[1] else rare[1])}


            def predict(params, xs):
                relevant = (xs == params["X"]) | (xs == params["Y"])       # (T, B)
                first = np.argmax(relevant, axis=0)
                last = len(xs) - 1 - np.argmax(relevant[::-1], axis=0)
                b = np.arange(xs.shape[1])
                return 2 * (xs[first, b] == params["Y"]) + (xs[last, b] == params["Y"]) * 1
            """),
    }),
]
