"""Data into arrays: characters to ids, language-model batches, time-series windows and splits.

Everything comes out time-major, as the layers expect: ids ``(T, B)``, series ``(T, B, D)``.
Plain numpy: data preparation is never differentiated. The package holds all the course's data:

- this module: the character vocabulary, language-model batches, windows, splits and scaling
- :mod:`rnncore.data.datasets`: the small real data shipped in this folder (sunspots, a text
  corpus; ``README.md`` here gives their provenance and licence)
- :mod:`rnncore.data.tasks`: synthetic tasks (adding, copy, parity, temporal order, noisy sine,
  Mackey-Glass)
"""
import numpy as np

from ..validation import check_ids


# --- characters ---------------------------------------------------------------------------------

class Vocab:
    """A character vocabulary: the sorted distinct characters of a text, numbered 0..V-1.

    >>> vocab = Vocab.from_text("hello")
    >>> vocab.chars, vocab.encode("hell"), vocab.decode([3, 0])
    ('ehlo', array([1, 0, 2, 2]), 'oe')
    """

    def __init__(self, chars):
        self.chars = "".join(sorted(set(chars)))
        self.index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text):
        return cls(text)

    def __len__(self):
        return len(self.chars)

    def __repr__(self):
        return f"Vocab({len(self)} characters: {self.chars!r})"

    def encode(self, text):
        """The ids of the characters of ``text``, an int64 array of shape (len(text),)."""
        try:
            return np.array([self.index[c] for c in text], dtype=np.int64)
        except KeyError as error:
            c = error.args[0]
            raise ValueError(f"character {c!r} at position {text.index(c)} is not in the "
                             f"vocabulary of {len(self)} characters") from None

    def decode(self, ids):
        """The text of a sequence of ids (any integer array; it is flattened)."""
        ids = check_ids("ids", ids, len(self)).ravel()
        return "".join(self.chars[i] for i in ids)


def one_hot(ids, V, dtype=np.float64):
    """x[..., v] = 1 if ids[...] == v else 0: ids (T, B) -> (T, B, V), any leading shape."""
    ids = check_ids("ids", ids, V)
    return (ids[..., None] == np.arange(V)).astype(dtype)


def lm_batches(ids, batch_size, seq_len):
    """Contiguous language-model batches: the list of (xs (T, B), ys (T, B)) with ys one ahead.

    The stream of N ids is cut into B = batch_size equal parallel streams, one per column::

        ids:   a b c d e f g h i j k l m n o p q r s t u v w x      (B = 2)
        column 0 reads  a b c d e f g h i j k l,  column 1 reads  m n o p q r s t u v w x

    and batch k holds steps k T .. (k+1) T - 1 of every column, T = seq_len. So column b of
    batch k+1 continues column b of batch k: the final hidden state of one batch is the right
    initial state of the next (truncated BPTT). Targets are the next character: ys[t] = xs[t+1]
    within a column, the last one taken from the next batch. Only full batches are returned;
    the ragged tail (fewer than T + 1 ids per column) is dropped.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids must be one stream of shape (N,), got shape {ids.shape}")
    n = len(ids) // batch_size                                # ids per column
    if n < seq_len + 1:
        raise ValueError(f"{len(ids)} ids give {n} per column for batch_size={batch_size}: "
                         f"too few for one batch of seq_len={seq_len} (needs {seq_len + 1})")
    columns = ids[:n * batch_size].reshape(batch_size, n).T   # (n, B)
    return [(columns[s:s + seq_len], columns[s + 1:s + 1 + seq_len])
            for s in range(0, n - seq_len, seq_len)]


# --- time series --------------------------------------------------------------------------------

def windows(series, input_len, horizon=1, stride=1):
    """Supervised pairs from a series: the past ``input_len`` values -> the next ``horizon``.

    series: (N,) or (N, D). Window i reads series[s : s + input_len] and predicts
    series[s + input_len : s + input_len + horizon], s = i * stride. Returns time-major
    ``xs: (input_len, M, D)`` and ``ys: (horizon, M, D)``, M windows (a 1-D series has D = 1).
    """
    series = np.asarray(series)
    if series.ndim == 1:
        series = series[:, None]
    if series.ndim != 2:
        raise ValueError(f"series must have shape (N,) or (N, D), got {series.shape}")
    span = input_len + horizon
    if len(series) < span:
        raise ValueError(f"the series has {len(series)} steps, fewer than input_len + horizon "
                         f"= {span}")
    starts = np.arange(0, len(series) - span + 1, stride)
    xs = np.stack([series[s:s + input_len] for s in starts], axis=1)          # (input_len, M, D)
    ys = np.stack([series[s + input_len:s + span] for s in starts], axis=1)   # (horizon, M, D)
    return xs, ys


def time_split(series, fractions=(0.7, 0.15, 0.15)):
    """Split along time, in order, into contiguous pieces (train, validation, test, ...).

    Never shuffle a time series before splitting: the model would be tested on the past of
    its training data. Returns a list of arrays, one per fraction (the fractions sum to 1).
    """
    if not np.isclose(sum(fractions), 1.0) or min(fractions) < 0:
        raise ValueError(f"fractions must be non-negative and sum to 1, got {fractions}")
    cuts = np.round(np.cumsum(fractions)[:-1] * len(series)).astype(int)
    return np.split(np.asarray(series), cuts)


class Scaler:
    """Standard scaling z = (x - mean) / std, per feature (last axis).

    Fit it on the training split only (:meth:`fit`), then apply the same transform to the
    validation and test splits: statistics taken from them would leak the future into training.
    """

    def __init__(self, mean, std):
        self.mean, self.std = np.asarray(mean), np.asarray(std)

    @classmethod
    def fit(cls, train):
        """Mean and standard deviation over every axis but the last (features); 1 for constants."""
        train = np.asarray(train, dtype=np.float64)
        axes = tuple(range(train.ndim - 1)) if train.ndim > 1 else 0
        std = train.std(axis=axes)
        return cls(train.mean(axis=axes), np.where(std > 0, std, 1.0))

    def transform(self, x):
        return (np.asarray(x) - self.mean) / self.std

    def inverse(self, z):
        """Back to the original units: x = z * std + mean (for plotting predictions)."""
        return np.asarray(z) * self.std + self.mean


def minibatches(xs, ys, batch_size, rng):
    """Shuffle the examples (axis 1 of time-major arrays) and cut them into minibatches.

    xs: (T, M, ...), ys: (T', M, ...) -> a list of (xs[:, idx], ys[:, idx]); ys may also be
    (M,), one label (or number) per example -> (xs[:, idx], ys[idx]). The last batch may be
    smaller. Pass it to :func:`rnncore.train.train` as ``lambda rng: minibatches(...)`` to
    reshuffle every epoch.
    """
    per_example = np.ndim(ys) == 1                            # labels (M,): examples on axis 0
    M = np.shape(ys)[0] if per_example else np.shape(ys)[1]
    if xs.shape[1] != M:
        raise ValueError(f"xs and ys must hold the same number of examples (axis 1 of xs, "
                         f"axis {0 if per_example else 1} of ys), got xs {xs.shape} and ys "
                         f"{np.shape(ys)}")
    order = rng.permutation(xs.shape[1])
    return [(xs[:, idx], ys[idx] if per_example else ys[:, idx]) for idx in np.array_split(
        order, range(batch_size, len(order), batch_size))]


from . import datasets, tasks  # noqa: E402,F401  (rnncore.data.datasets, rnncore.data.tasks)
