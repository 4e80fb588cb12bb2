r"""Date-format translation, a small sequence-to-sequence task with a known alignment.

    "3 Dec 1998",  "December 3, 1998",  "03.12.1998"   ->   "1998-12-03"

The source is written in one of :data:`FORMATS`; the target is always the ISO 8601 form. Each
output character comes from a known place in the source (the year's digits, the month's name or
number, the day), and the order differs between the formats, so an attention map shows whether
a model has learned where to look. Batches come out as :mod:`rnncore.seq2seq` takes them:
tokens time-major ``(S, B)`` padded with id 0, a mask, and the target with and without the
start token in front (teacher forcing).
"""
import numpy as np

from .data import Vocab

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
FORMATS = ("{d} {mon} {y}", "{month} {d}, {y}", "{dd}.{mm}.{y}")
PAD, START = "\0", "\1"                   # ids 0 and 1: they sort before every printable character
SOURCE = Vocab(PAD + START + " ,.0123456789" + "".join(MONTHS))
TARGET = Vocab(PAD + START + "-0123456789")
TARGET_LEN = 10                           # yyyy-mm-dd


def random_dates(rng, n, formats=FORMATS, years=(1950, 2049)):
    """n random dates as ``(sources, targets)``, two lists of n strings.

    Year uniform in ``years`` (inclusive), month uniform, day uniform over the month's days
    (leap years included); each source in a format drawn uniformly from ``formats``, whose
    fields are {y} (1998), {m} and {d} (3), {mm} and {dd} (03), {mon} (Dec) and {month} (December).
    """
    year = rng.integers(years[0], years[1] + 1, size=n)
    month = rng.integers(1, 13, size=n)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    length = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[month - 1] + (
        leap & (month == 2))
    day = 1 + np.floor(rng.random(n) * length).astype(int)
    chosen = rng.integers(len(formats), size=n)
    sources = [formats[f].format(y=y, m=m, d=d, mm=f"{m:02d}", dd=f"{d:02d}",
                                 mon=MONTHS[m - 1][:3], month=MONTHS[m - 1])
               for y, m, d, f in zip(year, month, day, chosen)]
    targets = [f"{y}-{m:02d}-{d:02d}" for y, m, d in zip(year, month, day)]
    return sources, targets


def encode(texts, vocab):
    """Strings -> ``(ids (S, B), mask (S, B))``, padded with id 0 to the longest, mask 1 on text."""
    S = max(len(text) for text in texts)
    ids = np.zeros((S, len(texts)), dtype=np.int64)
    mask = np.zeros((S, len(texts)))
    for b, text in enumerate(texts):
        ids[:len(text), b] = vocab.encode(text)
        mask[:len(text), b] = 1.0
    return ids, mask


def decode(ids, vocab=TARGET):
    """Token ids (T, B) -> B strings (padding and start tokens dropped)."""
    return [vocab.decode(column).replace(PAD, "").replace(START, "")
            for column in np.asarray(ids).T]


def batch(sources, targets):
    """``(src, src_mask, tgt_in, tgt_out, tgt_mask)`` for :func:`rnncore.seq2seq.loss`.

    src, src_mask: (S, B); tgt_out: (T, B) the target ids, tgt_in: (T, B) the same shifted one
    step right behind the start token; tgt_mask: (T, B) of ones (every target has T = 10).
    """
    src, src_mask = encode(sources, SOURCE)
    tgt_out, tgt_mask = encode(targets, TARGET)
    start = np.full((1, len(targets)), TARGET.index[START])
    tgt_in = np.concatenate([start, tgt_out[:-1]])
    return src, src_mask, tgt_in, tgt_out, tgt_mask
