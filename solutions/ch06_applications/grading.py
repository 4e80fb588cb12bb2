"""Trusted questions of chapter 6's assignment: what each test cell's points are awarded for.

Exercises 1, 2, 3 and 5 (windows, scaling, the two baselines, the spectrogram) are compared
with the solution on hidden inputs drawn from rng: other lengths, windows, horizons, frame
sizes, splits and scales than the visible tests, silent and quiet signals among them. While they
are graded, the library functions that compute them are unavailable to the submission (forbid).
Every call checks that the student's function left its arguments unchanged.

Exercises 4 and 6 are graded by outcome, and as trained models: the student's forecaster is
trained on the first part of hidden series (a chaotic Mackey-Glass series and a noisy sine, each
with a hidden seed, scale and window) and must beat persistence and come close to a
least-squares AR model on the rest; the word classifier is trained on freshly generated clips
and must name at least 80% of other fresh clips, as integers. For both: the training must draw
from the rng it is given (a generator of its own ignores the grader's seed), the same seed must
give the same model, a prediction must not depend on the other windows or clips of its batch
(standardising with the batch's own statistics is a look-ahead leak), and the predicting
function must compute from the params it is given, not from a model kept in a global variable
(the first forecaster forecasts as before after a second one was trained; the classifier does
not predict the same labels with every number of its params set to 0).
"""
import numpy as np

from rnncore_grader.checks import StudentError, expect, expect_call, question
from rnncore import audio, forecast
from rnncore.data import tasks
from rnncore.testing import changed_argument, difference, predicts_without_params

TOL = dict(rtol=1e-4, atol=1e-5)

# The library functions that compute what each exercise asks for.
WINDOWS = ("rnncore.data:windows", "rnncore.forecast:split_windows")
SCALER = ("rnncore.data:Scaler.__init__", "rnncore.data:Scaler.transform")
BASELINES = ("rnncore.forecast:persistence", "rnncore.forecast:seasonal_naive",
             "rnncore.forecast:fit_linear_ar", "rnncore.forecast:linear_ar",
             "rnncore.forecast:_features")
SPECTROGRAM = ("rnncore.audio:spectrogram", "rnncore.audio:frames")


def _call(student, ref, name, args, where, diagnose):
    """expect_call; when the result is wrong, the hint is diagnose(the student's result, *args):
    the mistake that result points to."""
    return expect_call(student, ref, name, *args, where=where, **TOL, diagnose=diagnose)


def _matches(got, want):
    return difference(got, want, "x", **TOL) is None


# --- 1. windows ----------------------------------------------------------------------------------

def _windows_hint(got, series, P, K):
    M = len(series) - P - K + 1
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        return "return the pair (xs, ys)"
    xs, ys = (np.asarray(a) for a in got)
    if xs.shape[:2] == (M, P) or ys.shape[:2] == (M, K):
        return "time-major: xs (P, M, 1) and ys (K, M, 1), the window index on axis 1"
    if xs.ndim >= 2 and xs.shape[1] == M - 1:
        return (f"one window short: every start i from 0 to N - P - K gives a window, "
                f"M = N - P - K + 1 = {M}")
    late = np.stack([series[i + P - 1:i + P - 1 + K] for i in range(M)], axis=1)[:, :, None]
    if _matches(ys, late):
        return "the targets start right AFTER the window: ys[:, i, 0] = series[i + P : i + P + K]"
    return ("xs[:, i, 0] = series[i : i + P] and ys[:, i, 0] = series[i + P : i + P + K], "
            "for M = N - P - K + 1 windows")


@question("test_windows", forbid=WINDOWS)
def windows(student, ref, rng):
    cases = [(30, 5, 3), (12, 1, 1), (9, 4, 5), (50, 20, 10),
             (int(rng.integers(15, 40)), int(rng.integers(5, 9)), int(rng.integers(1, 6)))]
    for N, P, K in cases:
        series = rng.normal(size=N) * rng.uniform(0.5, 50)
        _call(student, ref, "windows", (series, P, K),
              f"for a series of {N} values, input_len={P}, horizon={K}", _windows_hint)


# --- 2. standardize ------------------------------------------------------------------------------

def _standardize_hint(got, train, val, test):
    if not (isinstance(got, (tuple, list)) and len(got) == 5):
        return "return the five values (train_z, val_z, test_z, mean, std)"
    every = np.concatenate([train, val, test])
    if _matches(got[3], float(np.mean(every))):
        return ("the mean (and std) come from the TRAINING split alone, not from the three "
                "splits together: their statistics are the future")
    if _matches(got[4], float(np.std(train, ddof=1))):
        return "the population std, np.std(train) with ddof=0"
    if _matches(got[4], float(np.var(train))):
        return "divide by the standard deviation, not the variance"
    if _matches(got[1], (val - np.mean(val)) / np.std(val)):
        return ("every split is transformed with the TRAINING split's mean and std, not with its "
                "own")
    return ("mean = np.mean(train), std = np.std(train), then z = (x - mean) / std for all three "
            "splits")


@question("test_standardize", forbid=SCALER)
def standardize(student, ref, rng):
    for sizes in [(50, 10, 10), (7, 3, 1), (200, 40, 60),
                  tuple(int(n) for n in rng.integers(2, 30, size=3))]:
        scale, shift = rng.uniform(1e-3, 100), rng.uniform(-50, 50)
        train, val, test = (shift + scale * rng.normal(size=n) + k * scale * rng.uniform(1, 5)
                            for k, n in enumerate(sizes))
        _call(student, ref, "standardize", (train, val, test),
              f"for splits of {sizes} values", _standardize_hint)


# --- 3. baselines --------------------------------------------------------------------------------

def _persistence_hint(got, xs, horizon):
    if np.shape(got) != (horizon,) + xs.shape[1:]:
        return f"one forecast per horizon: shape (horizon, B, 1) = {(horizon,) + xs.shape[1:]}"
    if _matches(got, np.repeat(xs[:1], horizon, axis=0)):
        return "the LAST value of each window, xs[-1], not the first"
    return "the last value of each window, xs[-1], repeated horizon times"


def _ar_hint(got, xs, ys, new):
    P, K = xs.shape[0], ys.shape[0]
    if np.shape(got) != (K,) + new.shape[1:]:
        return f"the forecasts are (K, B, 1) = {(K,) + new.shape[1:]}: (X_new @ W).T[:, :, None]"
    X = xs[:, :, 0].T
    no_constant = (new[:, :, 0].T @ np.linalg.lstsq(X, ys[:, :, 0].T, rcond=None)[0]).T
    if _matches(got, no_constant[:, :, None]):
        return "add the column of ones to X (the constant beta_{k,0}), in both functions"
    return ("X holds window i in row i, [xs[:, i, 0], 1], built from the TRANSPOSE of xs[:, :, 0] "
            "(a reshape scrambles the windows); Y = ys[:, :, 0].T")


@question("test_baselines", forbid=BASELINES)
def baselines(student, ref, rng):
    for P, M, K, B in [(5, 40, 3, 7), (1, 10, 1, 2), (20, 187, 10, 37),
                       (int(rng.integers(4, 12)), int(rng.integers(30, 80)),
                        int(rng.integers(3, 8)), int(rng.integers(5, 9)))]:
        xs, ys = rng.normal(size=(P, M, 1)), rng.normal(size=(K, M, 1))
        new = rng.normal(size=(P, B, 1)) * rng.uniform(0.5, 5)
        where = f"for P={P}, K={K}, {M} training windows and {B} new ones"
        _call(student, ref, "persistence", (new, K), where, _persistence_hint)
        W, after, _ = student.arguments_after().fit_ar(xs, ys)
        changed = changed_argument([xs, ys], after, ["xs", "ys"])
        expect(changed is None, f"fit_ar(xs, ys) {where} changed its argument {changed}: a "
                                f"function must not write into its inputs")
        expect(np.shape(W) == (P + 1, K),
               f"fit_ar(xs, ys) {where} returned W of shape {np.shape(W)}, expected (P + 1, K) "
               f"= {(P + 1, K)}. Hint: "
               + ("add the column of ones to X (the constant beta_{k,0})" if np.shape(W) == (P, K)
                  else "one weight per window value plus one for the constant 1, one column "
                       "per horizon"))
        # The student's W with the student's predict_ar, against the solution's pair (the order
        # of the columns of X is the student's choice).
        got, after, _ = student.arguments_after().predict_ar(W, new)
        changed = changed_argument([W, new], after, ["W", "xs"])
        expect(changed is None, f"predict_ar(W, xs) {where} changed its argument {changed}: a "
                                f"function must not write into its inputs")
        want = ref.predict_ar(ref.fit_ar(xs, ys), new)
        found = difference(got, want, f"predict_ar(fit_ar(xs, ys), xs_new) {where}", **TOL)
        expect(found is None, f"{found}. Hint: {_ar_hint(got, xs, ys, new)}")


# --- 4. the forecaster, graded by outcome --------------------------------------------------------

def _hidden_series(rng, kind):
    """A hidden series of 400 values, on a scale and level of its own."""
    scale, level = rng.uniform(5, 50), rng.uniform(-20, 80)
    if kind == "chaotic":
        x = tasks.mackey_glass(rng, 400, 1, sample_every=float(rng.uniform(1.5, 3.0)))[:, 0, 0]
        return level + scale * (x + 0.03 * rng.normal(size=400))
    x = tasks.noisy_sine(rng, 400, 1, noise=0.3, period=(8.0, 20.0))[0][:, 0, 0]
    return level + scale * x


def _mean_rmse(forecasts, targets):
    return float(np.mean(np.sqrt(np.mean((np.asarray(forecasts) - targets) ** 2, axis=(1, 2)))))


def _forecast_shape_hint(shape, horizon, B):
    if tuple(shape[:2]) == (B, horizon):
        return ("the batch comes first in what you returned: many_to_one.forward gives "
                "(B, horizon); transpose it to (horizon, B) and add the last axis, "
                "out.T[:, :, None]")
    if tuple(shape) == (horizon, B):
        return "add the last axis, of size 1: out[:, :, None]"
    if len(shape) == 3 and tuple(shape[1:]) == (B, 1):
        return f"the first axis must hold the {horizon} horizons, not {shape[0]} values"
    return "one forecast per horizon and window, (horizon, B, 1)"


def _forecast_hint(got, xs, ys, mean, std):
    if _mean_rmse(np.asarray(got) * std + mean, ys) < 0.5 * _mean_rmse(got, ys):
        return ("your forecasts are in standardised units: turn them back with z * std + mean, "
                "the TRAINING series' mean and std")
    K = len(ys)
    if len(xs) >= K and _mean_rmse(got, xs[-K:]) < 0.5 * _mean_rmse(got, ys):
        return ("your forecasts repeat the window's own last values: the targets of window i are "
                "the values AFTER it, series[i + P : i + P + K]")
    return ("train on the standardised windows (the targets are the values after each window) "
            "for a couple of hundred steps (200 steps of Adam at 5e-3 is a good start)")


def _trained(student, function, args, names, what):
    """student.function(*args) for a training function whose last argument is the rng: checks
    that it changed no other argument and drew from the rng; returns the parameters."""
    params, after, _ = getattr(student.arguments_after(), function)(*args)
    changed = changed_argument(list(args[:-1]), list(after[:-1]), names[:-1])
    expect(changed is None, f"{function}({', '.join(names)}) on {what} changed its argument "
                            f"{changed}: a function must not write into its inputs. Compute new "
                            f"arrays, z = ({changed} - mean) / std, never {changed} -= mean.")
    rng_after = after[-1]
    expect(not isinstance(rng_after, np.random.Generator)
           or rng_after.bit_generator.state != args[-1].bit_generator.state,
           f"{function}(...) on {what} did not draw a single number from the rng it was given. "
           f"Hint: pass rng on, many_to_one.init(..., rng, spec) and train(..., rng=rng); a "
           f"generator of your own, such as np.random.default_rng(0), ignores the seed the grader "
           f"passes")
    return params


def _predicted(student, function, params, xs, what):
    """student.function(params, xs), checking that it changed neither argument."""
    got, after, _ = getattr(student.arguments_after(), function)(params, xs)
    changed = changed_argument([params, xs], list(after), ["params", "xs"])
    expect(changed is None, f"{function}(params, ...) on {what} changed its argument {changed}: a "
                            f"function must not write into its inputs. Compute new arrays, "
                            f"z = (xs - mean) / std, never xs -= mean.")
    return got


_OWN_PARAMS = ("Hint: return everything the predicting function needs (the model's arrays, the "
               "mean and the std) in params and read it from there, never from a global variable "
               "that the last training set")


def _expect_uses_params(student, function, params, xs, predicted, what):
    """student.function must compute from its params: with every number in them 0, it must not
    give the same predictions again (a model kept in a global variable would)."""
    expect(not predicts_without_params(getattr(student, function), params, xs, predicted,
                                       failures=StudentError),
           f"{function}(params, ...) on {what} gave the same predictions with every number in "
           f"params set to 0: it does not compute from the params it is given. {_OWN_PARAMS}")


_SAME_SEED = ("Hint: the same rng must give the same model: draw every random number from rng, "
              "none from np.random's global functions or from a generator made without a seed")


@question("test_forecaster")
def forecaster(student, ref, rng):
    first = None
    for kind in ("chaotic", "noisy periodic"):
        series = _hidden_series(rng, kind)
        P, K = int(rng.choice([12, 16, 20])), int(rng.choice([5, 8, 10]))
        (xs_fit, ys_fit), (xs_test, ys_test) = forecast.split_windows(series, P, K, (0.75, 0.25))
        history = series[:300]                                     # 300 values to learn from
        seed = int(rng.integers(2**32))
        what = f"a hidden {kind} series (input_len={P}, horizon={K})"
        params = _trained(student, "train_forecaster",
                          (history, P, K, np.random.default_rng(seed)),
                          ["series", "input_len", "horizon", "rng"], what)
        got = _predicted(student, "rnn_forecast", params, xs_test, what)
        B = xs_test.shape[1]
        expect(np.shape(got) == ys_test.shape,
               f"rnn_forecast(params, xs) on {what} returned shape {np.shape(got)} for {B} "
               f"windows, expected (horizon, B, 1) = {ys_test.shape}. Hint: "
               f"{_forecast_shape_hint(np.shape(got), K, B)}")
        got = np.asarray(got, dtype=float)
        for idx in (np.sort(rng.choice(B, size=3, replace=False)), [int(rng.integers(B))]):
            alone = student.rnn_forecast(params, xs_test[:, idx])
            found = difference(alone, got[:, idx], f"rnn_forecast(params, xs) on {what}, for "
                               f"{len(idx)} of its windows given alone", rtol=1e-5,
                               atol=1e-6 * np.std(history))
            expect(found is None, f"{found}: a window's forecast changed when the other windows "
                                  f"were left out of the batch. Hint: standardise with the "
                                  f"TRAINING series' mean and std kept in params, never with the "
                                  f"statistics of xs (that lets the windows of a batch, and the "
                                  f"future, leak into each other's forecasts)")
        mine = _mean_rmse(got, ys_test)
        persistence = _mean_rmse(forecast.persistence(xs_test, K), ys_test)
        linear = _mean_rmse(forecast.linear_ar(forecast.fit_linear_ar(xs_fit, ys_fit), xs_test),
                            ys_test)
        hint = _forecast_hint(got, xs_test, ys_test, history.mean(), history.std())
        expect(np.isfinite(mine) and mine < 0.8 * persistence,
               f"on {what}, the forecaster's mean RMSE is {mine / persistence:.2f} times "
               f"persistence's; it must be below 0.8 times. Hint: {hint}")
        expect(mine <= 1.2 * linear,
               f"on {what}, the forecaster's mean RMSE is {mine / linear:.2f} times the linear "
               f"AR model's; it must be at most 1.2 times. Hint: {hint}")
        if first is None:
            first = (history, P, K, seed, xs_test, got, what, params)

    # The first forecaster forecasts as it did, after another one was trained: rnn_forecast
    # computes from the params it is given (not from a global that the last training set).
    history, P, K, seed, xs_test, got, what, params = first
    later = student.rnn_forecast(params, xs_test)
    found = difference(later, got, f"the forecasts on {what}, asked again after a forecaster for "
                                   f"another series was trained", rtol=1e-6,
                                   atol=1e-6 * np.std(history))
    expect(found is None, f"{found}: rnn_forecast must compute from the params it is given. "
                          f"{_OWN_PARAMS}")

    # The same seed gives the same forecaster.
    names = ["series", "input_len", "horizon", "rng"]
    again = student.rnn_forecast(_trained(student, "train_forecaster",
                                          (history, P, K, np.random.default_rng(seed)), names,
                                          what), xs_test)
    found = difference(again, got, f"the forecasts of a second training on {what} with the same "
                                   f"seed", rtol=1e-6, atol=1e-6 * np.std(history))
    expect(found is None, f"{found}. {_SAME_SEED}")


# --- 5. spectrogram ------------------------------------------------------------------------------

def _spectrogram_hint(got, signals, frame_len, hop):
    B, N = signals.shape
    T, F = 1 + (N - frame_len) // hop, frame_len // 2 + 1
    if np.shape(got) != (T, B, F):
        return (f"T = 1 + (N - frame_len) // hop frames, one every hop samples, time-major: "
                f"(T, B, frame_len // 2 + 1) = {(T, B, F)}")
    got = np.asarray(got)
    if not np.all(np.isfinite(got)):
        return ("a frequency that is absent has power 0, and log(0) = -inf: add 1e-6 to the "
                "power before the log, np.log(power + 1e-6)")
    frames = np.stack([signals[:, t * hop:t * hop + frame_len] for t in range(T)])   # (T, B, L)
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(frame_len), axis=-1))
    variants = {"multiply each frame by the Hann window, np.hanning(frame_len), before the FFT":
                np.log(np.abs(np.fft.rfft(frames, axis=-1)) ** 2 + 1e-6),
                "the spectrogram holds the POWER |X_k|^2, not the magnitude |X_k|":
                np.log(spectrum + 1e-6),
                "the natural logarithm, np.log, not np.log10": np.log10(spectrum ** 2 + 1e-6)}
    for mistake, variant in variants.items():
        if _matches(got, variant):
            return mistake
    return ("frame t = signals[:, t * hop : t * hop + frame_len] (frames overlap when hop < "
            "frame_len) times np.hanning(frame_len); np.log(|np.fft.rfft(frame)|^2 + 1e-6)")


@question("test_spectrogram", forbid=SPECTROGRAM)
def spectrogram(student, ref, rng):
    cases = [(3, 500, 64, 16, "random"), (1, 300, 32, 40, "random"),
             (2, 4000, 256, 128, "random"), (4, 33, 8, 5, "random"), (2, 200, 32, 16, "silent"),
             (2, 300, 64, 24, "quiet"),
             (int(rng.integers(2, 4)), int(rng.integers(200, 700)), int(rng.choice([16, 32, 64])),
              int(rng.integers(4, 50)), "random")]
    for B, N, frame_len, hop, kind in cases:
        signals = rng.normal(size=(B, N)) * rng.uniform(0.1, 10)
        if kind == "silent":                       # one silent signal: log(0 + 1e-6), not -inf
            signals[0] = 0.0
        if kind == "quiet":                        # powers near the 1e-6 that is added
            signals *= 1e-4
        _call(student, ref, "spectrogram", (signals, frame_len, hop),
              f"for B={B} {kind} signals of {N} samples, frame_len={frame_len}, hop={hop}",
              _spectrogram_hint)


# --- 6. the word classifier, graded by outcome ---------------------------------------------------

@question("test_word_classifier")
def word_classifier(student, ref, rng):
    snr = float(rng.uniform(0.0, 3.0))
    signals, labels = audio.spoken_words(rng, 584, snr_db=snr)
    S = audio.spectrogram(signals, bands=32)                       # (30, 584, 32)
    S_train, labels_train, S_test, labels_test = S[:, :384], labels[:384], S[:, 384:], labels[384:]
    seed = int(rng.integers(2**32))
    names = ["spectrograms", "labels", "rng"]
    what = "384 hidden training clips"
    params = _trained(student, "train_word_classifier",
                      (S_train, labels_train, np.random.default_rng(seed)), names, what)
    predicted = _predicted(student, "classify_words", params, S_test, "200 hidden clips")
    shape = np.shape(predicted)
    expect(shape == labels_test.shape,
           f"classify_words(params, spectrograms) returned shape {shape} for 200 clips, expected "
           f"(B,) = (200,). Hint: "
           + ("you returned one score per class: return the argmax over the last axis"
              if shape == (200, len(audio.WORDS)) else
              "take the argmax over the classes (axis=-1), not over the clips"
              if shape == (len(audio.WORDS),) else "one integer label per clip"))
    predicted = np.asarray(predicted)
    expect(np.issubdtype(predicted.dtype, np.integer),
           f"classify_words returned labels of dtype {predicted.dtype}, expected integers "
           f"(indices into audio.WORDS). Hint: np.argmax gives integers; do not turn them into "
           f"floats")
    word, one = int(rng.integers(len(audio.WORDS))), int(rng.integers(200))
    few = np.flatnonzero(labels_test == word)[:5]
    everything = np.arange(200)
    for batch, idx, how in [(S_test[:, few], few, "given 5 of the hidden clips on their own"),
                            (S_test[:, [one]], [one], "given one hidden clip on its own"),
                            (np.concatenate([S_test, S_test + 8.0], axis=1), everything,
                             "given the 200 hidden clips with 200 louder copies (e^8 times the "
                             "power) in the same batch")]:
        alone = np.asarray(student.classify_words(params, batch))
        expect(alone.shape == (batch.shape[1],),
               f"{how}, classify_words returned shape {alone.shape}, expected (B,) = "
               f"{(batch.shape[1],)}. Hint: one integer label per clip, also for a batch of one "
               f"clip (np.squeeze drops the batch axis when B = 1)")
        expect(np.array_equal(alone[:len(idx)], predicted[idx]),
               f"{how}, classify_words named them otherwise than in the batch of 200. Hint: "
               f"standardise with the TRAINING clips' mean and std kept in params, never with "
               f"the statistics of the batch you are given")
    accuracy = float(np.mean(predicted == labels_test))
    wrong = predicted != labels_test
    reversed_share = (float(np.mean(predicted[wrong] == (labels_test[wrong] ^ 1)))
                      if wrong.any() else 0.0)
    hint = ("nearly all your mistakes take a word for its reversal: your model ignores the order "
            "of the frames; read them in order with a recurrent layer, and pool the states (not "
            "the frames) over time" if reversed_share > 0.7 else
            "standardise the clips with the TRAINING clips' mean and std (kept in params), read "
            "the frames in order with a recurrent layer, and predict the argmax over the 6 "
            "classes")
    expect(accuracy >= 0.8,
           f"the classifier named {accuracy:.0%} of 200 hidden fresh clips right; at least 80% "
           f"is needed (chance is 1/6). Hint: {hint}")

    # The same seed gives the same classifier.
    again = _trained(student, "train_word_classifier",
                     (S_train, labels_train, np.random.default_rng(seed)), names, what)
    found = difference(again, params, "params", rtol=1e-6, atol=1e-8)
    expect(found is None, f"a second training on {what} with the same seed gave other "
                          f"parameters: {found}. {_SAME_SEED}")
    _expect_uses_params(student, "classify_words", params, S_test, predicted, "200 hidden clips")
