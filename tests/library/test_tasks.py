"""rnncore.data.tasks.temporal_order: the data say what the docstring says."""
import numpy as np
import pytest

from rnncore.data import tasks


@pytest.mark.parametrize("T, B, V, symbols", [(40, 500, 8, (0, 1)), (16, 300, 3, (2, 0)),
                                              (64, 200, 10, (7, 3))])
def test_temporal_order_holds_two_symbols_in_their_windows_and_labels_their_order(T, B, V, symbols):
    xs, ys = tasks.temporal_order(np.random.default_rng(T), T, B, V, symbols)
    assert xs.shape == (T, B) and ys.shape == (B,)
    assert xs.dtype.kind == "i" and ys.dtype.kind == "i"
    assert xs.min() >= 0 and xs.max() < V and set(np.unique(ys)) <= {0, 1, 2, 3}
    X, Y = symbols
    for b in range(B):
        steps = np.flatnonzero(np.isin(xs[:, b], symbols))   # where X or Y stand
        assert len(steps) == 2, "exactly two relevant steps"
        t1, t2 = steps
        assert T // 8 <= t1 < T // 4 and T // 2 <= t2 < 3 * T // 4
        first, second = (xs[t, b] == Y for t in (t1, t2))
        assert ys[b] == 2 * first + second                   # XX 0, XY 1, YX 2, YY 3


def test_temporal_order_classes_and_distractors_are_balanced_and_reproducible():
    xs, ys = tasks.temporal_order(np.random.default_rng(0), 40, 20_000, V=8, symbols=(3, 5))
    np.testing.assert_allclose(np.bincount(ys, minlength=4) / len(ys), 0.25, atol=0.015)
    distractors = xs[~np.isin(xs, (3, 5))]
    np.testing.assert_allclose(np.bincount(distractors, minlength=8)[[0, 1, 2, 4, 6, 7]]
                               / distractors.size, 1 / 6, atol=0.005)
    again = tasks.temporal_order(np.random.default_rng(0), 40, 20_000, V=8, symbols=(3, 5))
    np.testing.assert_array_equal(again[0], xs)
    np.testing.assert_array_equal(again[1], ys)


def test_temporal_order_an_order_blind_rule_scores_three_quarters():
    """The best rule that sees only how many X and Y there are: 2 X -> XX, 2 Y -> YY, one of
    each -> XY or YX, a coin flip between equals; it is right 75% of the time, no more."""
    xs, ys = tasks.temporal_order(np.random.default_rng(1), 30, 20_000, V=6, symbols=(0, 1))
    n_y = (xs == 1).sum(axis=0)
    guess = np.where(n_y == 0, 0, np.where(n_y == 2, 3, 1))
    np.testing.assert_allclose(np.mean(guess == ys), 0.75, atol=0.01)
    mixed = (ys == 1) | (ys == 2)
    assert np.all((xs[:, mixed] == 0).sum(axis=0) == 1)       # XY and YX: the same counts


def test_temporal_order_errors_name_the_argument():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="symbols"):
        tasks.temporal_order(rng, 40, 2, V=8, symbols=(1, 1))
    with pytest.raises(ValueError, match="symbols"):
        tasks.temporal_order(rng, 40, 2, V=8, symbols=(0, 8))
    with pytest.raises(ValueError, match="V must be"):
        tasks.temporal_order(rng, 40, 2, V=2, symbols=(0, 1))
    with pytest.raises(ValueError, match="first"):
        tasks.temporal_order(rng, 40, 2, first=(10, 30), second=(20, 40))
