r"""Speech-like audio: synthetic spoken "words" and their spectrograms, with numpy's FFT.

**Words.** A vowel is, to a first approximation, a pair of resonances of the vocal tract, the
first two *formants* F1 and F2 (Peterson & Barney 1952 measured them for American English). A
word here is a glide from one vowel to another, "ai" as in *eye*: two tones whose frequencies
move from one vowel's (F1, F2) to the next one's, over a low hum at the speaker's pitch f0. What
makes it hard is what makes speech hard: every speaker has a different vocal tract (all formants
scaled by a random factor), pitch and speed, the word starts at a random time, and noise is
added at a given signal-to-noise ratio. :data:`WORDS` holds three pairs of words that are each
other's reversal ("ai" and "ia"): the same sounds, in the opposite order.

**Spectrograms.** A sound's frequencies change over time, so we cut it into short overlapping
frames and take the power spectrum of each (the short-time Fourier transform):

    frame_t  = signal[t hop : t hop + frame_len] * w          w: the Hann window, (frame_len,)
    P_t(k)   = |sum_n frame_t(n) exp(-2 pi i k n / frame_len)|^2       k = 0 .. frame_len / 2
    S_t(k)   = log(P_t(k) + eps)

Bin k holds the frequency k * sample_rate / frame_len. The window tapers each frame to 0 at its
ends, so that cutting the signal does not smear the tones over every bin. The result is a
sequence of T frames of features, time-major ``(T, B, F)``, for a recurrent network to read.
"""
import numpy as np

SAMPLE_RATE = 8000                     # samples per second: frequencies up to 4 kHz
VOWELS = {"a": (750, 1250), "e": (500, 1900), "i": (300, 2300), "o": (500, 900),
          "u": (320, 750)}             # (F1, F2) in Hz, roughly an adult speaker's
WORDS = ("ai", "ia", "au", "ua", "eo", "oe")


def spoken_words(rng, B, words=WORDS, duration=0.5, sample_rate=SAMPLE_RATE, snr_db=0.0,
                 scale=(0.8, 1.25), length=(0.2, 0.4), pitch=(90.0, 250.0)):
    """B clips of ``duration`` seconds, each holding one word of ``words`` at a random time.

    For each clip: a word k (the label), a vocal-tract scale (all formants times U(scale)), a
    length in seconds (U(length): the speed), an onset (uniform, so that the word fits), a pitch
    f0 ~ U(pitch). The two formant tones glide linearly between the word's vowels; their
    amplitudes are 1 and 0.6, the hum's 0.3, under an envelope sqrt(sin(pi u)) over the word
    (u from 0 to 1). White Gaussian noise is added at ``snr_db`` decibels below the word's power.

    Returns ``(signals (B, N), labels (B,))``, N = duration * sample_rate, labels int64 in
    [0, len(words)).
    """
    N = int(round(duration * sample_rate))
    if not all(len(w) >= 1 and set(w) <= set(VOWELS) for w in words):
        raise ValueError(f"words must be strings of the vowels {sorted(VOWELS)}, got {words}")
    if length[1] > duration:
        raise ValueError(f"the longest word ({length[1]} s) must fit in the clip ({duration} s)")
    K = max(len(w) for w in words) + 1          # vowels per word, padded with its last vowel
    targets = np.array([[VOWELS[c] for c in w + w[-1] * (K - len(w))] for w in words],
                       dtype=np.float64)                                    # (W, K, 2)
    segments = np.array([max(len(w) - 1, 1) for w in words])                # glides per word
    labels = rng.integers(len(words), size=B)
    tract = rng.uniform(*scale, size=B)
    n = rng.uniform(*length, size=B) * sample_rate                          # samples per word
    onset = rng.uniform(0.0, N - n)
    f0 = rng.uniform(*pitch, size=B)
    t = np.arange(N)
    u = (t - onset[:, None]) / n[:, None]                                   # (B, N): 0..1 inside
    inside = (u >= 0) & (u <= 1)
    position = np.clip(u, 0.0, 1.0) * segments[labels][:, None]             # which glide, where
    vowels = targets[labels] * tract[:, None, None]                         # (B, K, 2) in Hz
    # Glide k moves the formants from vowel k to vowel k+1 while the position goes from k to
    # k+1: formants = vowel 0 + sum over k of clip(position - k, 0, 1) (vowel k+1 - vowel k).
    steps = np.diff(vowels, axis=1)                                         # (B, K-1, 2)
    formants = np.empty((2, B, N))                                          # one (B, N) each
    for f in range(2):
        formants[f] = vowels[:, :1, f]
        for k in range(K - 1):
            formants[f] += np.clip(position - k, 0.0, 1.0) * steps[:, k:k + 1, f]
    phase = 2 * np.pi * np.cumsum(formants, axis=2) / sample_rate           # integrate frequency
    phase += rng.uniform(0.0, 2 * np.pi, size=(B, 1, 2)).transpose(2, 0, 1)
    hum = 0.3 * np.sin(2 * np.pi * f0[:, None] * t / sample_rate
                       + rng.uniform(0.0, 2 * np.pi, size=(B, 1)))                 # (B, N)
    envelope = np.sqrt(np.sin(np.pi * np.clip(u, 0.0, 1.0))) * inside
    word = envelope * (np.sin(phase[0]) + 0.6 * np.sin(phase[1]) + hum)             # (B, N)
    power = np.sum(word ** 2, axis=1, keepdims=True) / np.sum(inside, axis=1, keepdims=True)
    noise = rng.normal(size=word.shape) * np.sqrt(power / 10 ** (snr_db / 10))
    return word + noise, labels


def frames(signals, frame_len, hop):
    """Overlapping frames, time-major: signals (B, N) or (N,) -> (T, B, frame_len).

    Frame t is signals[:, t hop : t hop + frame_len], for the T = 1 + (N - frame_len) // hop
    frames that fit; samples after the last full frame are dropped.
    """
    signals = np.asarray(signals, dtype=np.float64)
    if signals.ndim == 1:
        signals = signals[None]
    if signals.ndim != 2:
        raise ValueError(f"signals must have shape (B, N) or (N,), got {signals.shape}")
    if frame_len < 1 or hop < 1:
        raise ValueError(f"frame_len and hop must be positive, got {frame_len} and {hop}")
    N = signals.shape[1]
    if N < frame_len:
        raise ValueError(f"signals have {N} samples, fewer than one frame of {frame_len}")
    T = 1 + (N - frame_len) // hop
    index = hop * np.arange(T)[:, None] + np.arange(frame_len)              # (T, frame_len)
    return np.transpose(signals[:, index], (1, 0, 2))                       # (T, B, frame_len)


def spectrogram(signals, frame_len=256, hop=128, bands=None, eps=1e-6):
    """Log power spectrogram: signals (B, N) or (N,) -> (T, B, F).

    Each frame is multiplied by the Hann window ``np.hanning(frame_len)``; its power spectrum
    |rfft|^2 has F = frame_len // 2 + 1 bins, from 0 Hz to half the sample rate. With ``bands``,
    the first frame_len // 2 bins (the top one, at exactly half the sample rate, is dropped) are
    averaged in ``bands`` equal groups: F = bands. Then log(power + eps).
    """
    windowed = frames(signals, frame_len, hop) * np.hanning(frame_len)      # (T, B, frame_len)
    power = np.abs(np.fft.rfft(windowed, axis=-1)) ** 2                     # (T, B, frame_len/2+1)
    if bands is not None:
        bins = frame_len // 2
        if bands < 1 or bins % bands:
            raise ValueError(f"bands must divide frame_len // 2 = {bins}, got {bands}")
        power = power[..., :bins].reshape(*power.shape[:2], bands, bins // bands).mean(axis=-1)
    return np.log(power + eps)


def band_frequencies(frame_len=256, bands=None, sample_rate=SAMPLE_RATE):
    """The centre frequency in Hz of each feature of :func:`spectrogram`, (F,), for plots."""
    if bands is None:
        return np.arange(frame_len // 2 + 1) * sample_rate / frame_len
    width = (frame_len // 2) // bands                                       # bins per band
    return (np.arange(bands) * width + (width - 1) / 2) * sample_rate / frame_len
