"""Tests for rnncore.audio: synthetic spoken words, frames and log power spectrograms."""
import numpy as np
import pytest

from rnncore import audio


def test_frames_cut_overlapping_windows_time_major():
    signals = np.arange(20.0).reshape(2, 10)                      # B = 2, N = 10
    f = audio.frames(signals, frame_len=4, hop=3)                 # T = 1 + (10 - 4) // 3 = 3
    assert f.shape == (3, 2, 4)
    np.testing.assert_array_equal(f[1, 0], [3, 4, 5, 6])
    np.testing.assert_array_equal(f[2, 1], [16, 17, 18, 19])
    assert audio.frames(np.arange(10.0), 4, 3).shape == (3, 1, 4)   # one signal (N,)
    with pytest.raises(ValueError, match="fewer than one frame of 16"):
        audio.frames(signals, 16, 4)
    with pytest.raises(ValueError, match=r"signals must have shape \(B, N\)"):
        audio.frames(np.zeros((2, 2, 10)), 4, 2)


def test_spectrogram_matches_a_loop_over_frames_with_the_full_fft():
    """A second implementation: window each frame by hand, the complex FFT, the first half."""
    rng = np.random.default_rng(0)
    signals = rng.normal(size=(3, 1000))
    S = audio.spectrogram(signals, frame_len=64, hop=16)
    T = 1 + (1000 - 64) // 16
    assert S.shape == (T, 3, 33)
    n = np.arange(64)
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * n / 63)                # numpy's symmetric Hann window
    for t in (0, 7, T - 1):
        for b in range(3):
            spectrum = np.fft.fft(signals[b, 16 * t:16 * t + 64] * hann)[:33]
            np.testing.assert_allclose(S[t, b], np.log(np.abs(spectrum) ** 2 + 1e-6), rtol=1e-10)
    banded = audio.spectrogram(signals, frame_len=64, hop=16, bands=8)
    assert banded.shape == (T, 3, 8)
    power = np.exp(S[..., :32]) - 1e-6                            # back to power, Nyquist dropped
    np.testing.assert_allclose(np.exp(banded) - 1e-6, power.reshape(T, 3, 8, 4).mean(-1),
                               rtol=1e-8)
    with pytest.raises(ValueError, match="bands must divide frame_len // 2 = 32"):
        audio.spectrogram(signals, 64, 16, bands=5)


def test_a_tone_peaks_in_its_band():
    t = np.arange(4000) / audio.SAMPLE_RATE
    for hz in (300.0, 1250.0, 2300.0):
        S = audio.spectrogram(np.sin(2 * np.pi * hz * t), bands=32)    # (T, 1, 32)
        centres = audio.band_frequencies(256, 32)
        peak = centres[np.argmax(S.mean(axis=0)[0])]
        assert abs(peak - hz) <= 62.5, (hz, peak)                 # within half a band of 125 Hz
    assert audio.band_frequencies(256).shape == (129,) and audio.band_frequencies(256)[-1] == 4000


def test_spoken_words_have_the_vowels_formants():
    rng = np.random.default_rng(1)
    signals, labels = audio.spoken_words(rng, 400, words=("a", "i"), scale=(1.0, 1.0),
                                         snr_db=40.0, pitch=(100.0, 100.0))
    assert signals.shape == (400, 4000) and labels.dtype.kind == "i"
    assert set(labels) == {0, 1}
    S = audio.spectrogram(signals, bands=None)                     # 31.25 Hz bins
    hz = audio.band_frequencies(256)
    for k, vowel in enumerate("ai"):
        mean = np.exp(S[:, labels == k]).mean(axis=(0, 1))         # average power spectrum
        top = sorted(hz[np.argsort(mean)[::-1][:6]])
        for formant in audio.VOWELS[vowel]:                        # F1 and F2 among the peaks
            assert min(abs(np.array(top) - formant)) < 40, (vowel, formant, top)


def test_noise_level_matches_snr():
    """Generating twice with the same seed, once without noise (snr = inf): the difference is the
    noise, whose power relative to the word's must be 10^(-snr/10)."""
    clean, _ = audio.spoken_words(np.random.default_rng(3), 100, snr_db=np.inf)
    noisy, _ = audio.spoken_words(np.random.default_rng(3), 100, snr_db=6.0)
    inside = clean != 0                                            # the word's samples
    ratio = np.mean((noisy - clean) ** 2) / (np.sum(clean ** 2) / inside.sum())
    assert abs(10 * np.log10(1 / ratio) - 6.0) < 0.2


def test_spoken_words_are_reproducible_and_checked():
    a, la = audio.spoken_words(np.random.default_rng(4), 5)
    b, lb = audio.spoken_words(np.random.default_rng(4), 5)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert la.max() < len(audio.WORDS)
    with pytest.raises(ValueError, match="words must be strings of the vowels"):
        audio.spoken_words(np.random.default_rng(0), 2, words=("ax",))
    with pytest.raises(ValueError, match="must fit in the clip"):
        audio.spoken_words(np.random.default_rng(0), 2, duration=0.3)


def _spoken_words_by_indexing(rng, B, snr_db, duration=0.5, sample_rate=audio.SAMPLE_RATE):
    """A second implementation of audio.spoken_words (with its default ranges): each sample's
    formants taken from the two vowels it glides between, by index."""
    words, N = audio.WORDS, int(round(duration * sample_rate))
    K = max(len(w) for w in words) + 1
    targets = np.array([[audio.VOWELS[c] for c in w + w[-1] * (K - len(w))] for w in words])
    segments = np.array([max(len(w) - 1, 1) for w in words])
    labels = rng.integers(len(words), size=B)
    tract, n = rng.uniform(0.8, 1.25, size=B), rng.uniform(0.2, 0.4, size=B) * sample_rate
    onset, f0, t = rng.uniform(0.0, N - n), rng.uniform(90.0, 250.0, size=B), np.arange(N)
    u = (t - onset[:, None]) / n[:, None]
    inside = (u >= 0) & (u <= 1)
    position = np.clip(u, 0.0, 1.0) * segments[labels][:, None]
    i = np.minimum(position.astype(int), segments[labels][:, None] - 1)
    frac = (position - i)[..., None]
    start = np.take_along_axis(targets[labels], i[..., None], axis=1)
    end = np.take_along_axis(targets[labels], i[..., None] + 1, axis=1)
    formants = (start * (1 - frac) + end * frac) * tract[:, None, None]
    phase = 2 * np.pi * np.cumsum(formants, axis=1) / sample_rate
    phase += rng.uniform(0.0, 2 * np.pi, size=(B, 1, 2))
    hum = 0.3 * np.sin(2 * np.pi * f0[:, None] * t / sample_rate
                       + rng.uniform(0.0, 2 * np.pi, size=(B, 1)))
    envelope = np.sqrt(np.sin(np.pi * np.clip(u, 0.0, 1.0))) * inside
    word = envelope * (np.sin(phase[..., 0]) + 0.6 * np.sin(phase[..., 1]) + hum)
    power = np.sum(word ** 2, axis=1, keepdims=True) / np.sum(inside, axis=1, keepdims=True)
    return word + rng.normal(size=word.shape) * np.sqrt(power / 10 ** (snr_db / 10)), labels


def test_spoken_words_glide_between_the_vowels_as_by_indexing():
    signals, labels = audio.spoken_words(np.random.default_rng(3), 40, snr_db=2.0)
    expected, expected_labels = _spoken_words_by_indexing(np.random.default_rng(3), 40, 2.0)
    np.testing.assert_array_equal(labels, expected_labels)
    np.testing.assert_allclose(signals, expected, rtol=0, atol=1e-9)
