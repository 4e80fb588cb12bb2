"""Data preparation (vocabularies, batches, windows, splits, scaling), synthetic tasks, corpus."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnncore import data, losses
from rnncore.data import datasets, tasks


# --- characters ---------------------------------------------------------------------------------

def test_vocab_encodes_and_decodes_round_trip():
    vocab = data.Vocab.from_text("hello, world")
    assert vocab.chars == " ,dehlorw" and len(vocab) == 9
    ids = vocab.encode("world")
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(ids, [8, 6, 7, 5, 2])
    assert vocab.decode(ids) == "world"
    assert vocab.decode(ids.reshape(5, 1)) == "world"                  # (T, B) works too


def test_vocab_errors_name_the_character_and_the_range():
    vocab = data.Vocab.from_text("abc")
    with pytest.raises(ValueError, match=r"character 'z' at position 2 is not in the vocabulary"):
        vocab.encode("abzc")
    with pytest.raises(ValueError, match=r"ids must lie in \[0, V\) = \[0, 3\)"):
        vocab.decode([0, 3])


def test_one_hot_has_a_single_one_at_the_id():
    ids = np.array([[0, 2], [1, 1]])                                    # (T, B)
    x = data.one_hot(ids, 3, dtype=np.float32)
    assert x.shape == (2, 2, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(x.sum(-1), 1)
    np.testing.assert_array_equal(x.argmax(-1), ids)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, V\) = \[0, 2\)"):
        data.one_hot(ids, 2)
    with pytest.raises(ValueError, match="ids must hold integer class indices"):
        data.one_hot(np.zeros(2), 2)


# --- language-model batches ---------------------------------------------------------------------

def test_lm_batches_continue_each_stream_and_shift_targets_by_one():
    ids = np.arange(26)                                                 # "a".."z"
    batches = data.lm_batches(ids, batch_size=2, seq_len=4)
    # column 0 reads 0..12, column 1 reads 13..25; windows of 4 need 5 ids: 3 full batches
    assert len(batches) == 3
    xs, ys = batches[0]
    assert xs.shape == ys.shape == (4, 2)
    np.testing.assert_array_equal(xs[:, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(xs[:, 1], [13, 14, 15, 16])
    np.testing.assert_array_equal(ys, xs + 1)
    np.testing.assert_array_equal(batches[1][0][:, 0], [4, 5, 6, 7])    # column 0 goes on
    np.testing.assert_array_equal(batches[2][1][:, 1], [22, 23, 24, 25])
    with pytest.raises(ValueError, match="too few for one batch of seq_len=13"):
        data.lm_batches(ids, batch_size=2, seq_len=13)


@settings(max_examples=25, deadline=None)
@given(N=st.integers(10, 200), B=st.integers(1, 5), T=st.integers(1, 9))
def test_lm_batches_cover_each_column_contiguously(N, B, T):
    ids = np.arange(N)
    if N // B < T + 1:
        with pytest.raises(ValueError):
            data.lm_batches(ids, B, T)
        return
    batches = data.lm_batches(ids, B, T)
    xs = np.concatenate([x for x, _ in batches])                        # (K T, B)
    ys = np.concatenate([y for _, y in batches])
    n = N // B
    assert len(batches) == (n - 1) // T
    for b in range(B):
        np.testing.assert_array_equal(xs[:, b], np.arange(b * n, b * n + len(xs)))
    np.testing.assert_array_equal(ys, xs + 1)


# --- time series --------------------------------------------------------------------------------

def test_windows_pair_the_past_with_the_next_values():
    series = np.arange(10.0)
    xs, ys = data.windows(series, input_len=3, horizon=2)
    assert xs.shape == (3, 6, 1) and ys.shape == (2, 6, 1)
    np.testing.assert_array_equal(xs[:, 0, 0], [0, 1, 2])
    np.testing.assert_array_equal(ys[:, 0, 0], [3, 4])
    np.testing.assert_array_equal(ys[:, -1, 0], [8, 9])
    xs, ys = data.windows(np.stack([series, -series], 1), 4, 1, stride=3)
    assert xs.shape == (4, 2, 2)
    np.testing.assert_array_equal(xs[:, 1, 1], [-3, -4, -5, -6])
    np.testing.assert_array_equal(ys[0, 1], [7, -7])
    with pytest.raises(ValueError, match="fewer than input_len"):
        data.windows(series, 8, 3)


def test_time_split_keeps_order_and_the_scaler_sees_only_the_training_part():
    series = np.arange(100.0)
    train, val, test = data.time_split(series, (0.6, 0.2, 0.2))
    assert (len(train), len(val), len(test)) == (60, 20, 20)
    assert train[-1] < val[0] and val[-1] < test[0]                     # the future comes last
    scaler = data.Scaler.fit(train)
    assert scaler.mean == pytest.approx(29.5) and scaler.std == pytest.approx(np.std(train))
    z = scaler.transform(train)
    assert z.mean() == pytest.approx(0, abs=1e-12) and z.std() == pytest.approx(1)
    assert scaler.transform(test).min() > 1.7                          # test lies beyond train
    np.testing.assert_allclose(scaler.inverse(scaler.transform(test)), test)
    with pytest.raises(ValueError, match="sum to 1"):
        data.time_split(series, (0.5, 0.2))


def test_scaler_is_per_feature_and_tolerates_constants():
    x = np.stack([np.arange(6.0), np.full(6, 3.0)], axis=1).reshape(3, 2, 2)    # (T, B, D)
    scaler = data.Scaler.fit(x)
    np.testing.assert_allclose(scaler.mean, [2.5, 3.0])
    np.testing.assert_allclose(scaler.std, [np.std(np.arange(6.0)), 1.0])
    assert np.all(np.isfinite(scaler.transform(x)))


def test_minibatches_shuffle_examples_reproducibly():
    xs, ys = np.arange(10.0).reshape(1, 10, 1) * np.ones((3, 1, 1)), np.arange(10).reshape(1, 10)
    a = data.minibatches(xs, ys, 4, np.random.default_rng(0))
    b = data.minibatches(xs, ys, 4, np.random.default_rng(0))
    assert [x.shape[1] for x, _ in a] == [4, 4, 2]
    seen = np.concatenate([y[0] for _, y in a])
    assert sorted(seen) == list(range(10)) and list(seen) != list(range(10))
    for (x, y), (x2, _) in zip(a, b):
        np.testing.assert_array_equal(x[0, :, 0], y[0])                 # pairs stay together
        np.testing.assert_array_equal(x, x2)


def test_minibatches_take_one_label_per_example():
    xs, labels = np.arange(10.0).reshape(1, 10, 1), np.arange(10) * 10      # labels (M,)
    batches = data.minibatches(xs, labels, 4, np.random.default_rng(0))
    assert [y.shape for _, y in batches] == [(4,), (4,), (2,)]
    for x, y in batches:
        np.testing.assert_array_equal(x[0, :, 0] * 10, y)                   # pairs stay together
    same_order = data.minibatches(xs, labels[None], 4, np.random.default_rng(0))   # (1, M) form
    for (_, y), (_, y2) in zip(batches, same_order):
        np.testing.assert_array_equal(y, y2[0])
    with pytest.raises(ValueError, match="the same number of examples"):
        data.minibatches(xs, labels[:9], 4, np.random.default_rng(0))


# --- synthetic tasks ----------------------------------------------------------------------------

def test_adding_problem_target_is_the_sum_of_the_marked_values():
    xs, ys = tasks.adding_problem(np.random.default_rng(0), T=30, B=50)
    assert xs.shape == (30, 50, 2) and ys.shape == (50, 1)
    values, markers = xs[..., 0], xs[..., 1]
    np.testing.assert_array_equal(markers.sum(0), 2)
    np.testing.assert_allclose(ys[:, 0], (values * markers).sum(0))
    first, second = markers.argmax(0), 29 - markers[::-1].argmax(0)
    assert first.max() < 15 <= second.min()                             # one in each half
    xs, _ = tasks.adding_problem(np.random.default_rng(1), T=30, B=200, first=(0, 3))
    assert xs[..., 1].argmax(0).max() < 3                               # lag of at least 27
    with pytest.raises(ValueError, match="first="):
        tasks.adding_problem(np.random.default_rng(0), T=10, B=2, first=(0, 8), second=(5, 10))


def test_adding_problem_constant_predictor_scores_the_variance():
    _, ys = tasks.adding_problem(np.random.default_rng(2), T=20, B=20000)
    constant = np.full_like(ys, 1.0)                                    # E[U1 + U2] = 1
    assert losses.mse(constant, ys) == pytest.approx(1 / 6, rel=0.03)
    assert tasks.baseline_mse(ys) == pytest.approx(float(np.var(ys)))
    assert tasks.baseline_mse(ys) == pytest.approx(1 / 6, rel=0.03)


@pytest.mark.parametrize("make", [
    lambda rng: tasks.adding_problem(rng, 12, 3),
    lambda rng: tasks.copy_task(rng, 3, length=4, delay=5),
    lambda rng: tasks.parity(rng, 12, 3),
    lambda rng: tasks.noisy_sine(rng, 12, 3),
    lambda rng: (tasks.mackey_glass(rng, 12, 2, discard=20),),
])
def test_tasks_are_reproducible_by_seed(make):
    first, again = make(np.random.default_rng(7)), make(np.random.default_rng(7))
    other = make(np.random.default_rng(8))
    for a, b, c in zip(first, again, other):
        np.testing.assert_array_equal(a, b)
        assert a.shape == c.shape and not np.array_equal(a, c)


def test_copy_task_targets_repeat_the_symbols_after_the_delimiter():
    xs, ys = tasks.copy_task(np.random.default_rng(0), B=5, length=4, delay=6, K=3)
    assert xs.shape == ys.shape == (15, 5)                              # 2*4 + 6 + 1
    np.testing.assert_array_equal(ys[-4:], xs[:4])
    assert set(np.unique(xs[:4])) <= {1, 2, 3} and np.all(xs[10] == 4)  # the delimiter K + 1
    np.testing.assert_array_equal(xs[4:10], 0)
    np.testing.assert_array_equal(ys[:-4], 0)
    assert tasks.copy_baseline(4, 6, 3) == pytest.approx(4 * np.log(3) / 15)


def test_parity_labels_are_the_running_xor():
    xs, ys = tasks.parity(np.random.default_rng(0), T=16, B=8)
    assert xs.shape == (16, 8, 1) and ys.shape == (16, 8)
    for b in range(8):
        running = 0
        for t in range(16):
            running ^= int(xs[t, b, 0])
            assert ys[t, b] == running, f"example {b}, step {t}"


def test_noisy_sine_is_a_sine_plus_the_requested_noise():
    noisy, clean = tasks.noisy_sine(np.random.default_rng(0), T=400, B=50, noise=0.2)
    assert noisy.shape == clean.shape == (400, 50, 1)
    assert np.abs(clean).max() <= 1.0 and np.abs(clean).max() > 0.99
    assert np.std(noisy - clean) == pytest.approx(0.2, rel=0.02)


def test_mackey_glass_stays_on_its_attractor_and_is_chaotic():
    rng = np.random.default_rng(0)
    xs = tasks.mackey_glass(rng, T=1000, B=3)
    assert xs.shape == (1000, 3, 1)
    assert 0.2 < xs.min() and xs.max() < 1.45                           # the known range
    assert xs.std() > 0.15                                              # not settled
    assert np.abs(np.diff(xs, axis=0)).max() < 0.2                      # smooth at this sampling
    # sensitive dependence: a 1e-8 change of the history grows more than 1000-fold
    a = tasks.mackey_glass(rng, T=1500, x0=1.2)
    b = tasks.mackey_glass(rng, T=1500, x0=1.2 + 1e-8)
    assert np.abs(a - b).max() > 1e-5


# --- the corpus ---------------------------------------------------------------------------------

def test_the_corpus_ships_as_english_ascii_prose():
    text = datasets.load_corpus()
    assert 100_000 < len(text) < 300_000
    assert text.isascii() and text.startswith('The "assert" statement')
    vocab = data.Vocab.from_text(text)
    assert 60 < len(vocab) < 100
    assert ">>>" not in text and "::=" not in text and "****" not in text
    words = text.split()
    assert words.count("the") > 0.03 * len(words)                      # English prose
