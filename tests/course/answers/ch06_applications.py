"""Wrong and alternative answers for ch06_applications (see tests/course/answers/__init__.py)."""
from answers import Alternative, Wrong, code as _code

# ---------------------------------------------------------------------------------------------
# Chapter 6: windows, standardize, baselines, forecaster, spectrogram, word_classifier
# ---------------------------------------------------------------------------------------------

# The correct forecaster and classifier, for answers that change only one line of them.
_FORECASTER = '''
def train_forecaster(series, input_len, horizon, rng):
    series = np.asarray(series, dtype=float)
    mean, std = float(np.mean(series)), float(np.std(series))
    xs, ys = data.windows((series - mean) / std, input_len, horizon)
    spec = many_to_one.ManyToOneSpec(cell=gru)

    def loss(params, xs, ys):
        return losses.mse(many_to_one.forward(params, xs, spec), ys[:, :, 0].T)

    model = many_to_one.init(1, 16, horizon, rng, spec)
    model, _ = train(loss, model, lambda r: data.minibatches(xs, ys, 32, r), optim.adam(5e-3),
                     steps=200, clip=1.0, rng=rng, progress=False)
    return {"model": model, "mean": mean, "std": std}


def rnn_forecast(params, xs):
    z = (np.asarray(xs, dtype=float) - params["mean"]) / params["std"]
    out = many_to_one.forward(params["model"], z, many_to_one.ManyToOneSpec(cell=gru))
    return out.T[:, :, None] * params["std"] + params["mean"]
'''

_CLASSIFIER = '''
def train_word_classifier(spectrograms, labels, rng):
    spec = many_to_one.ManyToOneSpec(cell=gru, bidirectional=True, pool="mean")
    mean, std = spectrograms.mean(axis=(0, 1)), spectrograms.std(axis=(0, 1))
    xs = (spectrograms - mean) / std
    model = many_to_one.init(xs.shape[-1], 16, len(audio.WORDS), rng, spec)
    model, _ = train(lambda p, x, y: many_to_one.classification_loss(p, x, y, spec), model,
                     lambda r: data.minibatches(xs, labels, 32, r), optim.adam(1e-2), steps=100,
                     clip=1.0, rng=rng, progress=False)
    return {"model": model, "mean": mean, "std": std}


def classify_words(params, spectrograms):
    spec = many_to_one.ManyToOneSpec(cell=gru, bidirectional=True, pool="mean")
    xs = (spectrograms - params["mean"]) / params["std"]
    return np.argmax(many_to_one.forward(params["model"], xs, spec), axis=1)
'''


def _edit(text, old, new):
    """text with old replaced by new (old must occur exactly once)."""
    assert text.count(old) == 1, old
    return _code(text.replace(old, new))


WRONG = [
    Wrong("windows", "drops_last_window", "stops one window early: range(N - L - h) instead of "
          "N - L - h + 1 windows", _code("""
        def windows(series, input_len, horizon):
            series = np.asarray(series, dtype=float)
            M = len(series) - input_len - horizon
            xs = np.stack([series[i:i + input_len] for i in range(M)], axis=1)
            ys = np.stack([series[i + input_len:i + input_len + horizon] for i in range(M)], axis=1)
            return xs[:, :, None], ys[:, :, None]
        """)),
    Wrong("windows", "targets_overlap", "starts the targets at the window's last value, "
          "series[i + L - 1 : i + L - 1 + h]", _code("""
        def windows(series, input_len, horizon):
            series = np.asarray(series, dtype=float)
            M = len(series) - input_len - horizon + 1
            xs = np.stack([series[i:i + input_len] for i in range(M)], axis=1)
            ys = np.stack([series[i + input_len - 1:i + input_len - 1 + horizon]
                           for i in range(M)], axis=1)
            return xs[:, :, None], ys[:, :, None]
        """)),
    Wrong("standardize", "all_splits", "takes the mean and std of the whole series, the three "
          "splits together (a leak of the future)", _code("""
        def standardize(train, val, test):
            everything = np.concatenate([train, val, test])
            mean, std = float(np.mean(everything)), float(np.std(everything))
            return (train - mean) / std, (val - mean) / std, (test - mean) / std, mean, std
        """)),
    Wrong("standardize", "own_statistics", "standardises each split with its own mean and std",
          _code("""
        def standardize(train, val, test):
            z = [(x - np.mean(x)) / np.std(x) for x in (train, val, test)]
            return z[0], z[1], z[2], float(np.mean(train)), float(np.std(train))
        """)),
    Wrong("baselines", "persistence_first_value", "repeats the window's FIRST value, xs[0]",
          _code("""
        def persistence(xs, horizon):
            return np.repeat(xs[:1], horizon, axis=0)


        def fit_ar(xs, ys):
            X = np.concatenate([xs[:, :, 0].T, np.ones((xs.shape[1], 1))], axis=1)
            return np.linalg.lstsq(X, ys[:, :, 0].T, rcond=None)[0]


        def predict_ar(W, xs):
            X = np.concatenate([xs[:, :, 0].T, np.ones((xs.shape[1], 1))], axis=1)
            return (X @ W).T[:, :, None]
        """)),
    Wrong("baselines", "reshape_not_transpose", "builds X with reshape(M, L) instead of the "
          "transpose, scrambling the windows", _code("""
        def persistence(xs, horizon):
            return np.repeat(xs[-1:], horizon, axis=0)


        def _rows(xs):
            L, M = xs.shape[:2]
            return np.concatenate([xs[:, :, 0].reshape(M, L), np.ones((M, 1))], axis=1)


        def fit_ar(xs, ys):
            return np.linalg.lstsq(_rows(xs), ys[:, :, 0].reshape(ys.shape[1], -1), rcond=None)[0]


        def predict_ar(W, xs):
            return (_rows(xs) @ W).T[:, :, None]
        """)),
    Wrong("forecaster", "no_inverse_scaling", "returns the forecasts in the standardised units, "
          "forgetting z * std + mean", _edit(_FORECASTER,
                                             "return out.T[:, :, None] * params[\"std\"] + "
                                             "params[\"mean\"]", "return out.T[:, :, None]")),
    Wrong("forecaster", "targets_inside_window", "trains the model to output the window's own "
          "last values instead of the values after it", _edit(
              _FORECASTER, "return losses.mse(many_to_one.forward(params, xs, spec), ys[:, :, 0].T)",
              "return losses.mse(many_to_one.forward(params, xs, spec), xs[-len(ys):, :, 0].T)")),
    Wrong("spectrogram", "no_window", "takes the FFT of the raw frames, without the Hann window",
          _code("""
        def spectrogram(signals, frame_len, hop):
            signals = np.asarray(signals, dtype=float)
            T = 1 + (signals.shape[1] - frame_len) // hop
            index = hop * np.arange(T)[:, None] + np.arange(frame_len)
            power = np.abs(np.fft.rfft(signals[:, index], axis=-1)) ** 2
            return np.log(power + 1e-6).transpose(1, 0, 2)
        """)),
    Wrong("spectrogram", "no_overlap", "cuts the signal into frames back to back with a "
          "reshape, ignoring hop", _code("""
        def spectrogram(signals, frame_len, hop):
            signals = np.asarray(signals, dtype=float)
            B, N = signals.shape
            T = N // frame_len
            frames = signals[:, :T * frame_len].reshape(B, T, frame_len) * np.hanning(frame_len)
            power = np.abs(np.fft.rfft(frames, axis=-1)) ** 2
            return np.log(power + 1e-6).transpose(1, 0, 2)
        """)),
    Wrong("word_classifier", "bag_of_frames", "averages the frames before the recurrent layer, "
          "so the order of the frames is lost", _edit(
              _CLASSIFIER, "    xs = (spectrograms - mean) / std\n",
              "    xs = ((spectrograms - mean) / std).mean(axis=0, keepdims=True)\n").replace(
              "    xs = (spectrograms - params[\"mean\"]) / params[\"std\"]\n",
              "    xs = ((spectrograms - params[\"mean\"]) / params[\"std\"]).mean(axis=0, "
              "keepdims=True)\n")),
    Wrong("word_classifier", "test_not_standardised", "standardises the training clips but "
          "classifies the raw spectrograms", _edit(
              _CLASSIFIER, "xs = (spectrograms - params[\"mean\"]) / params[\"std\"]",
              "xs = spectrograms")),
]

WRONG += [
    # (a) answers that import the library's implementation: the exercise asks for it
    Wrong("windows", "imports_windows", "imports the library's windows instead of writing them",
          _code("""
        from rnncore.data import windows
        """)),
    Wrong("windows", "imports_split_windows", "cuts the windows with forecast.split_windows and "
          "a single split", _code("""
        from rnncore import forecast


        def windows(series, input_len, horizon):
            return forecast.split_windows(series, input_len, horizon, (1.0,))[0]
        """)),
    Wrong("standardize", "imports_scaler", "standardises with the library's data.Scaler",
          _code("""
        def standardize(train, val, test):
            scaler = data.Scaler.fit(np.asarray(train)[:, None])
            z = [scaler.transform(np.asarray(x)[:, None])[:, 0] for x in (train, val, test)]
            return z[0], z[1], z[2], float(scaler.mean[0]), float(scaler.std[0])
        """)),
    Wrong("baselines", "imports_forecast", "takes the three functions from rnncore.forecast",
          _code("""
        from rnncore.forecast import persistence, fit_linear_ar as fit_ar, linear_ar


        def predict_ar(W, xs):
            return linear_ar(W, xs)
        """)),
    Wrong("spectrogram", "imports_spectrogram", "calls the library's audio.spectrogram",
          _code("""
        from rnncore.audio import spectrogram as library_spectrogram


        def spectrogram(signals, frame_len, hop):
            return library_spectrogram(signals, frame_len, hop)
        """)),
    Wrong("spectrogram", "imports_frames", "cuts the frames with the library's audio.frames and "
          "writes the rest", _code("""
        def spectrogram(signals, frame_len, hop):
            frames = audio.frames(signals, frame_len, hop) * np.hanning(frame_len)
            return np.log(np.abs(np.fft.rfft(frames, axis=-1)) ** 2 + 1e-6)
        """)),
    # (b) plausible mistakes of the classes of issue 12
    Wrong("standardize", "in_place", "standardises the caller's arrays in place (train -= mean): "
          "right values, but the caller's splits are overwritten", _code("""
        def standardize(train, val, test):
            mean, std = float(np.mean(train)), float(np.std(train))
            for x in (train, val, test):
                x -= mean
                x /= std
            return train, val, test, mean, std
        """)),
    Wrong("baselines", "no_constant", "fits the AR model without the column of ones (no "
          "intercept)", _code("""
        def persistence(xs, horizon):
            return np.repeat(xs[-1:], horizon, axis=0)


        def fit_ar(xs, ys):
            return np.linalg.lstsq(xs[:, :, 0].T, ys[:, :, 0].T, rcond=None)[0]


        def predict_ar(W, xs):
            return (xs[:, :, 0].T @ W).T[:, :, None]
        """)),
    Wrong("spectrogram", "no_epsilon", "takes np.log(power) without the 1e-6: a silent frame "
          "gives -inf", _code("""
        def spectrogram(signals, frame_len, hop):
            signals = np.asarray(signals, dtype=float)
            T = 1 + (signals.shape[1] - frame_len) // hop
            index = hop * np.arange(T)[:, None] + np.arange(frame_len)
            power = np.abs(np.fft.rfft(signals[:, index] * np.hanning(frame_len), axis=-1)) ** 2
            with np.errstate(divide="ignore"):
                return np.log(power).transpose(1, 0, 2)
        """)),
    Wrong("forecaster", "batch_statistics", "standardises the windows it is given with their own "
          "mean and std (the statistics of the batch: a look-ahead leak)", _edit(
              _FORECASTER, 'z = (np.asarray(xs, dtype=float) - params["mean"]) / params["std"]',
              "z = (np.asarray(xs, dtype=float) - np.mean(xs)) / np.std(xs)")),
    Wrong("forecaster", "ignores_rng", "makes its own generator, np.random.default_rng(0), "
          "instead of using the rng it is given", _edit(
              _FORECASTER, "    series = np.asarray(series, dtype=float)\n",
              "    series = np.asarray(series, dtype=float)\n"
              "    rng = np.random.default_rng(0)\n")),
    Wrong("forecaster", "unseeded_init", "draws the initial weights from an unseeded generator: "
          "every training gives another model", _edit(
              _FORECASTER, "model = many_to_one.init(1, 16, horizon, rng, spec)",
              "model = many_to_one.init(1, 16, horizon, np.random.default_rng(), spec)")),
    Wrong("forecaster", "scales_in_place", "standardises the caller's windows in place in "
          "rnn_forecast (xs -= mean)", _edit(
              _FORECASTER, 'z = (np.asarray(xs, dtype=float) - params["mean"]) / params["std"]',
              'z = xs\n    z -= params["mean"]\n    z /= params["std"]')),
    Wrong("word_classifier", "batch_statistics", "standardises the clips it classifies with "
          "their own mean and std (the statistics of the batch)", _edit(
              _CLASSIFIER, 'xs = (spectrograms - params["mean"]) / params["std"]',
              "xs = ((spectrograms - spectrograms.mean(axis=(0, 1)))\n"
              "          / spectrograms.std(axis=(0, 1)))")),
    Wrong("word_classifier", "ignores_rng", "makes its own generator, np.random.default_rng(0), "
          "instead of using the rng it is given", _edit(
              _CLASSIFIER, "    mean, std = spectrograms.mean(",
              "    rng = np.random.default_rng(0)\n    mean, std = spectrograms.mean(")),
    Wrong("word_classifier", "unseeded_batches", "shuffles the batches with an unseeded "
          "generator: every training gives another model", _edit(
              _CLASSIFIER, "lambda r: data.minibatches(xs, labels, 32, r)",
              "lambda r: data.minibatches(xs, labels, 32, np.random.default_rng())")),
    Wrong("word_classifier", "float_labels", "fills the labels in a loop into np.zeros(B), "
          "returning floats where the docstring asks for integers", _edit(
              _CLASSIFIER,
              '    return np.argmax(many_to_one.forward(params["model"], xs, spec), axis=1)',
              '    logits = many_to_one.forward(params["model"], xs, spec)\n'
              '    labels = np.zeros(len(logits))\n'
              '    for b in range(len(logits)):\n'
              '        labels[b] = np.argmax(logits[b])\n'
              '    return labels')),
    Wrong("word_classifier", "scales_in_place", "standardises the caller's training "
          "spectrograms in place (spectrograms -= mean)", _edit(
              _CLASSIFIER, "    xs = (spectrograms - mean) / std\n",
              "    spectrograms -= mean\n    spectrograms /= std\n    xs = spectrograms\n")),
    # --- red team, second pass: reshape for transpose, pandas' ddof, scipy's periodic Hann, and
    # --- trained models kept in globals (predicting functions that ignore their params). Each
    # --- entry here costs a whole grading with two trainings (~7 s of CI): only the likeliest ---
    Wrong("windows", "reshape_not_transpose", "builds the (M, P) matrix of windows and reshapes "
          "it to (P, M) instead of transposing it, scrambling the windows", _code("""
        def windows(series, input_len, horizon):
            series = np.asarray(series, dtype=float)
            M = len(series) - input_len - horizon + 1
            xs = np.array([series[i:i + input_len] for i in range(M)])
            ys = np.array([series[i + input_len:i + input_len + horizon] for i in range(M)])
            return xs.reshape(input_len, M, 1), ys.reshape(horizon, M, 1)
        """)),
    Wrong("standardize", "sample_std", "takes the sample standard deviation, ddof=1 (pandas' "
          "default for .std()), instead of numpy's population std", _code("""
        def standardize(train, val, test):
            mean, std = float(np.mean(train)), float(np.std(train, ddof=1))
            return (train - mean) / std, (val - mean) / std, (test - mean) / std, mean, std
        """)),
    Wrong("baselines", "predict_reshape", "returns the (B, K) forecasts reshaped to (K, B, 1) "
          "instead of transposed: right only when B or K is 1", _code("""
        def persistence(xs, horizon):
            return np.repeat(xs[-1:], horizon, axis=0)


        def fit_ar(xs, ys):
            X = np.concatenate([xs[:, :, 0].T, np.ones((xs.shape[1], 1))], axis=1)
            return np.linalg.lstsq(X, ys[:, :, 0].T, rcond=None)[0]


        def predict_ar(W, xs):
            X = np.concatenate([xs[:, :, 0].T, np.ones((xs.shape[1], 1))], axis=1)
            B, K = X.shape[0], W.shape[1]
            return (X @ W).reshape(K, B, 1)
        """)),
    Wrong("spectrogram", "periodic_hann", "writes the Hann window as scipy's periodic one, "
          "0.5 - 0.5 cos(2 pi n / L), instead of np.hanning's symmetric 2 pi n / (L - 1)",
          _code("""
        def spectrogram(signals, frame_len, hop):
            signals = np.asarray(signals, dtype=float)
            T = 1 + (signals.shape[1] - frame_len) // hop
            index = hop * np.arange(T)[:, None] + np.arange(frame_len)
            hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame_len) / frame_len)
            power = np.abs(np.fft.rfft(signals[:, index] * hann, axis=-1)) ** 2
            return np.log(power + 1e-6).transpose(1, 0, 2)
        """)),
    Wrong("forecaster", "model_in_a_global", "keeps the trained model in a global variable and "
          "forecasts with whatever was trained last, ignoring the params it is given",
          _edit(_edit(_FORECASTER,
                      "    return {\"model\": model, \"mean\": mean, \"std\": std}",
                      "    global LAST_MODEL\n    LAST_MODEL = model\n"
                      "    return {\"mean\": mean, \"std\": std}"),
                "out = many_to_one.forward(params[\"model\"], z,",
                "out = many_to_one.forward(LAST_MODEL, z,")),
    Wrong("forecaster", "squeezes_windows", "drops the windows' last axis with np.squeeze(xs), "
          "which drops the batch axis too when one window comes alone (B = 1)",
          _edit(_FORECASTER, "z = (np.asarray(xs, dtype=float) - params[\"mean\"]) / params[\"std\"]",
                "z = ((np.squeeze(xs) - params[\"mean\"]) / params[\"std\"])[:, :, None]")),
    Wrong("word_classifier", "squeezes_scores", "squeezes the (B, 6) scores before the argmax, "
          "so a single clip (B = 1) gets a 0-d label instead of shape (1,)",
          _edit(_CLASSIFIER, "return np.argmax(many_to_one.forward(params[\"model\"], xs, spec), axis=1)",
                "return np.argmax(np.squeeze(many_to_one.forward(params[\"model\"], xs, spec)), axis=-1)")),
    Wrong("word_classifier", "model_in_globals", "keeps the model and the training statistics "
          "in global variables and returns an empty dict: classify_words ignores its params and "
          "uses whatever was trained last", _code("""
        def train_word_classifier(spectrograms, labels, rng):
            global MODEL, MEAN, STD
            spec = many_to_one.ManyToOneSpec(cell=gru, bidirectional=True, pool="mean")
            MEAN, STD = spectrograms.mean(axis=(0, 1)), spectrograms.std(axis=(0, 1))
            xs = (spectrograms - MEAN) / STD
            model = many_to_one.init(xs.shape[-1], 16, len(audio.WORDS), rng, spec)
            MODEL, _ = train(lambda p, x, y: many_to_one.classification_loss(p, x, y, spec), model,
                             lambda r: data.minibatches(xs, labels, 32, r), optim.adam(1e-2),
                             steps=100, clip=1.0, rng=rng, progress=False)
            return {}


        def classify_words(params, spectrograms):
            spec = many_to_one.ManyToOneSpec(cell=gru, bidirectional=True, pool="mean")
            xs = (spectrograms - MEAN) / STD
            return np.argmax(many_to_one.forward(MODEL, xs, spec), axis=1)
        """)),
]

ALTERNATIVES = [
    Alternative("vectorised", "windows with sliding_window_view; the statistics written out; "
                              "the AR model by the normal equations with the constant first; "
                              "the spectrogram with sliding_window_view; an LSTM forecaster; a "
                              "one-way GRU classifier read at its last state", {
        "windows": _code("""
            def windows(series, input_len, horizon):
                from numpy.lib.stride_tricks import sliding_window_view
                spans = sliding_window_view(np.asarray(series, dtype=float), input_len + horizon)
                return spans[:, :input_len].T[:, :, None], spans[:, input_len:].T[:, :, None]
            """),
        "standardize": _code("""
            def standardize(train, val, test):
                n = len(train)
                mean = float(sum(train)) / n
                std = (float(sum((x - mean) ** 2 for x in train)) / n) ** 0.5
                scale = lambda x: (np.asarray(x) - mean) / std
                return scale(train), scale(val), scale(test), mean, std
            """),
        "baselines": _code("""
            def persistence(xs, horizon):
                return np.broadcast_to(xs[-1], (horizon,) + xs.shape[1:]).copy()


            def _design(xs):
                return np.column_stack([np.ones(xs.shape[1]), np.transpose(xs[:, :, 0])])


            def fit_ar(xs, ys):
                X = _design(xs)
                return np.linalg.solve(X.T @ X, X.T @ np.transpose(ys[:, :, 0]))


            def predict_ar(W, xs):
                return np.transpose(_design(xs) @ W)[..., np.newaxis]
            """),
        "forecaster": _code("""
            from rnncore import lstm


            def train_forecaster(series, input_len, horizon, rng):
                mean, std = np.mean(series), np.std(series)
                xs, ys = data.windows((np.asarray(series) - mean) / std, input_len, horizon)
                spec = many_to_one.ManyToOneSpec(cell=lstm)
                loss = lambda p, x, y: many_to_one.regression_loss(p, x, y[:, :, 0].T, spec)
                model = many_to_one.init(1, 16, horizon, rng, spec)
                model, _ = train(loss, model, lambda r: data.minibatches(xs, ys, 32, r),
                                 optim.adam(5e-3), steps=200, clip=1.0, rng=rng, progress=False)
                return {"model": model, "scale": np.array([mean, std])}


            def rnn_forecast(params, xs):
                mean, std = params["scale"]
                spec = many_to_one.ManyToOneSpec(cell=lstm)
                out = many_to_one.forward(params["model"], (xs - mean) / std, spec)
                return np.transpose(out)[:, :, None] * std + mean
            """),
        "spectrogram": _code("""
            def spectrogram(signals, frame_len, hop):
                from numpy.lib.stride_tricks import sliding_window_view
                frames = sliding_window_view(signals, frame_len, axis=1)[:, ::hop]
                spectrum = np.fft.rfft(frames * np.hanning(frame_len))
                power = spectrum.real ** 2 + spectrum.imag ** 2
                return np.moveaxis(np.log(power + 1e-6), 1, 0)
            """),
        "word_classifier": _code("""
            def train_word_classifier(spectrograms, labels, rng):
                spec = many_to_one.ManyToOneSpec(cell=gru, bidirectional=False, pool="last")
                scaler = data.Scaler.fit(spectrograms)
                xs = scaler.transform(spectrograms)
                model = many_to_one.init(xs.shape[-1], 32, 6, rng, spec)
                model, _ = train(lambda p, x, y: many_to_one.classification_loss(p, x, y, spec), model,
                                 lambda r: data.minibatches(xs, labels, 32, r), optim.adam(1e-2),
                                 steps=150, clip=1.0, rng=rng, progress=False)
                return {"model": model, "mean": scaler.mean, "std": scaler.std}


            def classify_words(params, spectrograms):
                spec = many_to_one.ManyToOneSpec(cell=gru, bidirectional=False, pool="last")
                logits = many_to_one.forward(params["model"],
                                         (spectrograms - params["mean"]) / params["std"], spec)
                return logits.argmax(axis=-1)
            """),
    }),
    Alternative("loops_float32", "loops over windows and frames, in float32 (the full FFT, "
                                 "its first half kept), and a pseudo-inverse for the AR model", {
        "windows": _code("""
            def windows(series, input_len, horizon):
                M = len(series) - input_len - horizon + 1
                xs = np.zeros((input_len, M, 1), dtype=np.float32)
                ys = np.zeros((horizon, M, 1), dtype=np.float32)
                for i in range(M):
                    xs[:, i, 0] = series[i:i + input_len]
                    ys[:, i, 0] = series[i + input_len:i + input_len + horizon]
                return xs, ys
            """),
        "standardize": _code("""
            def standardize(train, val, test):
                train, val, test = (np.asarray(x, dtype=np.float32) for x in (train, val, test))
                mean, std = train.mean(), train.std()
                return (train - mean) / std, (val - mean) / std, (test - mean) / std, mean, std
            """),
        "baselines": _code("""
            def persistence(xs, horizon):
                return np.stack([xs[-1]] * horizon).astype(np.float32)


            def fit_ar(xs, ys):
                L, M, _ = xs.shape
                X = np.ones((M, L + 1))
                for i in range(M):
                    X[i, :L] = xs[:, i, 0]
                return np.linalg.pinv(X) @ ys[:, :, 0].T


            def predict_ar(W, xs):
                L, B, _ = xs.shape
                out = np.zeros((W.shape[1], B, 1), dtype=np.float32)
                for i in range(B):
                    out[:, i, 0] = np.append(xs[:, i, 0], 1.0) @ W
                return out
            """),
        "spectrogram": _code("""
            def spectrogram(signals, frame_len, hop):
                signals = np.asarray(signals, dtype=np.float32)
                B, N = signals.shape
                T, F = 1 + (N - frame_len) // hop, frame_len // 2 + 1
                window = np.hanning(frame_len).astype(np.float32)
                out = np.zeros((T, B, F), dtype=np.float32)
                for t in range(T):
                    frame = signals[:, t * hop:t * hop + frame_len] * window
                    out[t] = np.log(np.abs(np.fft.fft(frame, axis=-1)[:, :F]) ** 2 + 1e-6)
                return out
            """),
    }),
]

ALTERNATIVES += [
    Alternative("magics", "times its work with IPython magics, as the notebooks suggest: a "
                          "%%time cell for the forecaster and the classifier, a %time line "
                          "after the spectrogram", {
        "forecaster": "%%time\n" + _FORECASTER.strip("\n"),
        "spectrogram": _code("""
            def spectrogram(signals, frame_len, hop):
                signals = np.asarray(signals, dtype=float)
                T = 1 + (signals.shape[1] - frame_len) // hop
                index = hop * np.arange(T)[:, None] + np.arange(frame_len)
                power = np.abs(np.fft.rfft(signals[:, index] * np.hanning(frame_len), axis=-1)) ** 2
                return np.log(power + 1e-6).transpose(1, 0, 2)


            %time S = spectrogram(np.random.default_rng(0).normal(size=(4, 4000)), 256, 128)
            """),
        "word_classifier": "%%time\n" + _CLASSIFIER.strip("\n"),
    }),
    Alternative("float32_loops", "a forecaster trained in float32 that forecasts window by "
                                 "window; a classifier that labels clip by clip into an "
                                 "integer array", {
        "forecaster": _code("""
            def train_forecaster(series, input_len, horizon, rng):
                series = np.asarray(series, dtype=np.float32)
                mean, std = series.mean(), series.std()
                xs, ys = data.windows((series - mean) / std, input_len, horizon)
                spec = many_to_one.ManyToOneSpec(cell=gru)

                def loss(params, xs, ys):
                    return losses.mse(many_to_one.forward(params, xs, spec), ys[:, :, 0].T)

                model = many_to_one.init(1, 16, horizon, rng, spec, dtype=np.float32)
                model, _ = train(loss, model, lambda r: data.minibatches(xs, ys, 32, r),
                                 optim.adam(5e-3), steps=200, clip=1.0, rng=rng, progress=False)
                return {"model": model, "mean": float(mean), "std": float(std)}


            def rnn_forecast(params, xs):
                B = xs.shape[1]
                out = np.zeros((len(params["model"]["output"]["b_y"]), B, 1), dtype=np.float32)
                for b in range(B):
                    z = ((xs[:, b:b + 1] - params["mean"]) / params["std"]).astype(np.float32)
                    spec = many_to_one.ManyToOneSpec(cell=gru)
                    y = many_to_one.forward(params["model"], z, spec)                  # (1, K)
                    out[:, b, 0] = y[0] * params["std"] + params["mean"]
                return out
            """),
        "word_classifier": _CLASSIFIER.replace(
            '    return np.argmax(many_to_one.forward(params["model"], xs, spec), axis=1)',
            '    labels = np.zeros(xs.shape[1], dtype=int)\n'
            '    for b in range(xs.shape[1]):\n'
            '        labels[b] = np.argmax(many_to_one.forward(params["model"], xs[:, [b]], spec))\n'
            '    return labels'),
    }),
    Alternative("other_algebra", "windows by fancy indexing with an index matrix; the std as "
                                 "sqrt(mean(x^2) - mean^2); persistence as a read-only "
                                 "broadcast view; the AR model with the constant FIRST and the "
                                 "normal equations; the power as X times its conjugate", {
        "windows": _code("""
            def windows(series, input_len, horizon):
                series = np.asarray(series, dtype=float)
                M = len(series) - input_len - horizon + 1
                starts = np.arange(M)[None, :]
                xs = series[starts + np.arange(input_len)[:, None]]
                ys = series[starts + input_len + np.arange(horizon)[:, None]]
                return xs[..., None], ys[..., None]
            """),
        "standardize": _code("""
            def standardize(train, val, test):
                mean = np.mean(train)
                std = np.sqrt(np.mean(np.square(train)) - mean ** 2)
                return tuple((np.asarray(x) - mean) / std for x in (train, val, test)) + (mean, std)
            """),
        "baselines": _code("""
            def persistence(xs, horizon):
                return np.broadcast_to(xs[-1], (horizon,) + xs.shape[1:])


            def features(xs):
                return np.column_stack([np.ones(xs.shape[1]), xs[:, :, 0].T])


            def fit_ar(xs, ys):
                X = features(xs)
                return np.linalg.solve(X.T @ X, X.T @ ys[:, :, 0].T)


            def predict_ar(W, xs):
                return np.einsum("bp,pk->kb", features(xs), W)[:, :, None]
            """),
        "spectrogram": _code("""
            def spectrogram(signals, frame_len, hop):
                B, N = np.shape(signals)
                T = 1 + (N - frame_len) // hop
                frames = np.stack([np.asarray(signals)[:, t * hop:t * hop + frame_len]
                                   for t in range(T)])                        # (T, B, L)
                X = np.fft.rfft(frames * np.hanning(frame_len))
                return np.log((X * np.conj(X)).real + 1e-6)
            """),
    }),
]
