"""Trusted questions of chapter 6's assignment: what each test cell's points are awarded for.

Exercises 1, 2, 3 and 5 (windows, scaling, the two baselines, the spectrogram) are compared
with the solution on hidden inputs drawn from rng: other lengths, windows, horizons, frame
sizes, splits and scales than the visible tests. Exercises 4 and 6 are graded by outcome: the
student's forecaster is trained on the first part of hidden series (a chaotic Mackey-Glass
series and a noisy sine, each with a hidden seed, scale and window) and must beat persistence
and come close to a least-squares AR model on the rest; the student's word classifier is
trained on freshly generated clips and must name at least 80% of other fresh clips.
"""
import numpy as np

from grader.checks import expect, expect_close, question
from rnncore import audio, forecast, tasks

TOL = dict(rtol=1e-4, atol=1e-5)


# --- 1. windows ----------------------------------------------------------------------------------

@question("test_windows")
def windows(student, ref, rng):
    cases = [(30, 5, 3), (12, 1, 1), (9, 4, 5), (50, 20, 10),
             (int(rng.integers(15, 40)), int(rng.integers(1, 8)), int(rng.integers(1, 6)))]
    for N, P, K in cases:
        series = rng.normal(size=N) * rng.uniform(0.5, 50)
        expect_close(student.windows(series, P, K), ref.windows(series, P, K),
                     f"windows(series, input_len={P}, horizon={K}) for a series of {N} values",
                     **TOL, hint="(xs, ys) time-major: xs (P, M, 1) with xs[:, i, 0] = "
                                 "series[i : i + P], ys (K, M, 1) with ys[:, i, 0] = "
                                 "series[i + P : i + P + K], M = N - P - K + 1")


# --- 2. standardize ------------------------------------------------------------------------------

@question("test_standardize")
def standardize(student, ref, rng):
    for sizes in [(50, 10, 10), (7, 3, 1), (200, 40, 60),
                  tuple(int(n) for n in rng.integers(2, 30, size=3))]:
        scale, shift = rng.uniform(1e-3, 100), rng.uniform(-50, 50)
        train, val, test = (shift + scale * rng.normal(size=n) + k * scale * rng.uniform(0, 5)
                            for k, n in enumerate(sizes))
        expect_close(student.standardize(train, val, test), ref.standardize(train, val, test),
                     f"standardize(train, val, test) for splits of {sizes} values", **TOL,
                     hint="(train_z, val_z, test_z, mean, std): mean = np.mean(train) and std = "
                          "np.std(train), from the TRAINING split only, then z = (x - mean) / std "
                          "for all three splits")


# --- 3. baselines --------------------------------------------------------------------------------

@question("test_baselines")
def baselines(student, ref, rng):
    for P, M, K, B in [(5, 40, 3, 7), (1, 10, 1, 2), (20, 187, 10, 37),
                       (int(rng.integers(2, 12)), int(rng.integers(30, 80)),
                        int(rng.integers(1, 8)), int(rng.integers(1, 9)))]:
        xs, ys = rng.normal(size=(P, M, 1)), rng.normal(size=(K, M, 1))
        new = rng.normal(size=(P, B, 1)) * rng.uniform(0.5, 5)
        where = f"for P={P}, K={K}, {M} training windows and {B} new ones"
        expect_close(student.persistence(new, K), ref.persistence(new, K),
                     f"persistence(xs, {K}) {where}", **TOL,
                     hint="the LAST value of each window, xs[-1], repeated: (K, B, 1)")
        W = student.fit_ar(xs, ys)
        expect(np.shape(W) == (P + 1, K), f"fit_ar(xs, ys) {where} returned W of shape "
                                          f"{np.shape(W)}, expected (P + 1, K) = {(P + 1, K)}. "
                                          f"Hint: one weight per window value plus the constant "
                                          f"1, one column per horizon")
        expect_close(student.predict_ar(W, new), ref.predict_ar(ref.fit_ar(xs, ys), new),
                     f"predict_ar(fit_ar(xs, ys), new) {where}", **TOL,
                     hint="X = [xs[:, :, 0].T, ones] (window i in row i), W = lstsq(X, "
                          "ys[:, :, 0].T); the forecasts (X_new @ W).T[:, :, None]")


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
    return float(np.mean(np.sqrt(np.mean((forecasts - targets) ** 2, axis=(1, 2)))))


@question("test_forecaster")
def forecaster(student, ref, rng):
    for kind in ("chaotic", "noisy periodic"):
        series = _hidden_series(rng, kind)
        P, K = int(rng.choice([12, 16, 20])), int(rng.choice([5, 8, 10]))
        fractions = (0.75, 0.25)                                   # 300 values to learn from
        (xs_fit, ys_fit), (xs_test, ys_test) = forecast.split_windows(series, P, K, fractions)
        params = student.train_forecaster(series[:300].copy(), P, K,
                                          np.random.default_rng(rng.integers(2**32)))
        got = student.rnn_forecast(params, xs_test)
        what = f"a hidden {kind} series (input_len={P}, horizon={K})"
        expect(np.shape(got) == ys_test.shape,
               f"rnn_forecast(params, xs) on {what} returned shape {np.shape(got)} for "
               f"{xs_test.shape[1]} windows, expected (horizon, B, 1) = {ys_test.shape}. Hint: "
               f"readout.forward returns (B, horizon): transpose it")
        mine = _mean_rmse(np.asarray(got, dtype=float), ys_test)
        persistence = _mean_rmse(forecast.persistence(xs_test, K), ys_test)
        linear = _mean_rmse(forecast.linear_ar(forecast.fit_linear_ar(xs_fit, ys_fit), xs_test),
                            ys_test)
        hint = ("standardise the training series, train on its windows (the targets are the "
                "values AFTER each window), and turn the forecasts back into the series' units "
                "with the training series' mean and std")
        expect(np.isfinite(mine) and mine < 0.8 * persistence,
               f"on {what}, the forecaster's mean RMSE is {mine / persistence:.2f} times "
               f"persistence's; it must be below 0.8 times. Hint: {hint}")
        expect(mine <= 1.2 * linear,
               f"on {what}, the forecaster's mean RMSE is {mine / linear:.2f} times the linear "
               f"AR model's; it must be at most 1.2 times. Hint: too few training steps leave "
               f"the model near the mean, too many overfit; {hint}")


# --- 5. spectrogram ------------------------------------------------------------------------------

@question("test_spectrogram")
def spectrogram(student, ref, rng):
    cases = [(3, 500, 64, 16), (1, 300, 32, 40), (2, 4000, 256, 128), (4, 33, 8, 5),
             (int(rng.integers(1, 4)), int(rng.integers(200, 700)), int(rng.choice([16, 32, 64])),
              int(rng.integers(4, 50)))]
    for B, N, frame_len, hop in cases:
        signals = rng.normal(size=(B, N)) * rng.uniform(0.1, 10)
        expect_close(student.spectrogram(signals, frame_len, hop),
                     ref.spectrogram(signals, frame_len, hop),
                     f"spectrogram(signals, frame_len={frame_len}, hop={hop}) for B={B} signals "
                     f"of {N} samples", **TOL,
                     hint="frame t = signals[:, t * hop : t * hop + frame_len] times "
                          "np.hanning(frame_len); np.log(|np.fft.rfft(frame)|^2 + 1e-6); "
                          "time-major, (T, B, frame_len // 2 + 1)")


# --- 6. the word classifier, graded by outcome ---------------------------------------------------

@question("test_word_classifier")
def word_classifier(student, ref, rng):
    snr = float(rng.uniform(0.0, 3.0))
    signals, labels = audio.spoken_words(rng, 812, snr_db=snr)
    S = audio.spectrogram(signals, bands=32)                       # (30, 812, 32)
    S_train, labels_train, S_test, labels_test = S[:, :512], labels[:512], S[:, 512:], labels[512:]
    params = student.train_word_classifier(S_train, labels_train,
                                           np.random.default_rng(rng.integers(2**32)))
    predicted = student.classify_words(params, S_test)
    expect(np.shape(predicted) == labels_test.shape,
           f"classify_words(params, spectrograms) returned shape {np.shape(predicted)} for 300 "
           f"clips, expected (B,) = (300,). Hint: one label per clip, the argmax over the "
           f"classes")
    accuracy = float(np.mean(np.asarray(predicted) == labels_test))
    expect(accuracy >= 0.8,
           f"the classifier named {accuracy:.0%} of 300 hidden fresh clips right; at least 80% "
           f"is needed (chance is 1/6). Hint: read the frames in order with a recurrent layer "
           f"(a word and its reversal hold the same frames), standardise the clips with the "
           f"training clips' statistics, and predict the argmax over the 6 classes")
