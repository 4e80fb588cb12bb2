"""rnncore.rotary: rotary position embeddings turn each column pair, keep lengths, and make the
attention scores depend on the offset between positions only."""
import numpy as np
import pytest

from rnncore import rotary, transformer


def test_rotate_is_the_rotation_of_each_pair_written_out():
    rng = np.random.default_rng(0)
    T, B, d = 5, 2, 6
    x = rng.normal(size=(T, B, d))
    got = rotary.rotate(x)
    for t in range(T):
        for i in range(d // 2):
            a = t * 10000.0 ** (-2 * i / d)
            x0, x1 = x[t, :, 2 * i], x[t, :, 2 * i + 1]
            np.testing.assert_allclose(got[t, :, 2 * i], x0 * np.cos(a) - x1 * np.sin(a))
            np.testing.assert_allclose(got[t, :, 2 * i + 1], x0 * np.sin(a) + x1 * np.cos(a))


def test_norms_kept_and_position_zero_unchanged():
    x = np.random.default_rng(1).normal(size=(7, 3, 8))
    r = rotary.rotate(x)
    np.testing.assert_allclose(np.linalg.norm(r, axis=-1), np.linalg.norm(x, axis=-1))
    np.testing.assert_allclose(r[0], x[0])


@pytest.mark.parametrize("shift", [1, 13, 1000])
def test_scores_depend_on_the_offset_only(shift):
    rng = np.random.default_rng(shift)
    q, k = rng.normal(size=(2, 9, 2, 8))
    positions = np.arange(9)
    scores = lambda p: np.einsum("tbd,sbd->tsb", rotary.rotate(q, p), rotary.rotate(k, p))  # noqa
    np.testing.assert_allclose(scores(positions + shift), scores(positions), atol=1e-9)
    # the same content at every position: the scores are constant along each diagonal
    same_q, same_k = np.repeat(q[:1], 9, axis=0), np.repeat(k[:1], 9, axis=0)
    s = np.einsum("tbd,sbd->tsb", rotary.rotate(same_q), rotary.rotate(same_k))[:, :, 0]
    for offset in range(-8, 9):
        assert np.ptp(np.diagonal(s, offset)) < 1e-9


def test_an_added_encoding_is_not_shift_invariant():
    rng = np.random.default_rng(2)
    q, k = rng.normal(size=(2, 9, 1, 8))
    pe = transformer.sinusoidal_positional_encoding(30, 8)[:, None, :]
    scores = lambda o: np.einsum("tbd,sbd->tsb", q + pe[o:o + 9], k + pe[o:o + 9])  # noqa: E731
    assert np.abs(scores(5) - scores(0)).max() > 0.1


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="even"):
        rotary.rotate(np.zeros((3, 1, 5)))
    with pytest.raises(ValueError, match="positions"):
        rotary.rotate(np.zeros((3, 1, 4)), np.arange(4))
