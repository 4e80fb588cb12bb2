"""Tests for rnncore.dates: random dates in several formats, and seq2seq batches of them."""
import datetime

import numpy as np

from rnncore import dates

PARSE = {"{d} {mon} {y}": "%d %b %Y", "{month} {d}, {y}": "%B %d, %Y", "{dd}.{mm}.{y}": "%d.%m.%Y"}


def test_every_source_names_the_date_of_its_target():
    """Python's own date parser as the witness: each source, read in its format, is the target."""
    sources, targets = dates.random_dates(np.random.default_rng(0), 3000)
    seen = set()
    for source, target in zip(sources, targets):
        day = datetime.date.fromisoformat(target)                  # a valid date (leap years too)
        assert 1950 <= day.year <= 2049
        parsed = [datetime.datetime.strptime(source, f).date() for f in PARSE.values()
                  if _parses(source, f)]
        assert parsed == [day], (source, target)
        seen.add(next(k for k, f in PARSE.items() if _parses(source, f)))
    assert seen == set(dates.FORMATS)
    assert any(t.endswith("-02-29") for t in targets)             # leap days do occur


def _parses(text, fmt):
    try:
        datetime.datetime.strptime(text, fmt)
        return True
    except ValueError:
        return False


def test_batch_is_padded_time_major_and_teacher_forced():
    sources, targets = ["3 Dec 1998", "December 13, 1998"], ["1998-12-03", "1998-12-13"]
    src, src_mask, tgt_in, tgt_out, tgt_mask = dates.batch(sources, targets)
    assert src.shape == src_mask.shape == (17, 2)
    np.testing.assert_array_equal(src_mask.sum(axis=0), [10, 17])
    assert np.all(src[10:, 0] == 0)                                # padding is id 0
    assert dates.SOURCE.decode(src[:10, 0]) == "3 Dec 1998"
    assert tgt_out.shape == tgt_in.shape == tgt_mask.shape == (10, 2)
    assert np.all(tgt_in[0] == dates.TARGET.index[dates.START])
    np.testing.assert_array_equal(tgt_in[1:], tgt_out[:-1])
    assert dates.decode(tgt_out) == targets
    assert dates.decode(tgt_in) == ["1998-12-0", "1998-12-1"]      # start token dropped
