"""Tests for rnncore.video: moving shapes that wrap around the frame, and per-frame profiles."""
import numpy as np
import pytest

from rnncore import video


def test_each_frame_is_the_previous_one_moved_in_the_label_direction():
    clips, labels = video.moving_shapes(np.random.default_rng(0), 60, T=6, size=12, noise=0.0)
    assert clips.shape == (6, 60, 12, 12) and labels.shape == (60,)
    sizes = {len(offsets) for offsets in video.SHAPES.values()}
    for b in range(60):
        assert int(clips[0, b].sum()) in sizes                   # one whole shape per frame
        step = video.MOVES[labels[b]]
        speed = [v for v in (1, 2)
                 if np.array_equal(np.roll(clips[0, b], v * step, axis=(0, 1)), clips[1, b])]
        assert len(speed) == 1                                     # moved by 1 or by 2 pixels
        for t in range(1, 6):                                      # ... at a constant speed
            moved = np.roll(clips[t - 1, b], speed[0] * step, axis=(0, 1))
            np.testing.assert_array_equal(moved, clips[t, b])


def test_a_single_frame_says_nothing_about_the_direction():
    """Over many clips, the mean frame of each direction is the same flat image (positions are
    uniform whatever the label): no pixel tells the label apart, in any frame."""
    clips, labels = video.moving_shapes(np.random.default_rng(1), 8000, T=3, size=8, noise=0.0)
    for t in range(3):
        means = np.stack([clips[t, labels == k].mean(axis=0) for k in range(4)])  # (4, 8, 8)
        overall = clips[t].mean()
        assert np.abs(means - overall).max() < 0.03, np.abs(means - overall).max()


def test_frame_features_are_row_and_column_means():
    clips = np.random.default_rng(2).normal(size=(3, 2, 5, 7))
    f = video.frame_features(clips)
    assert f.shape == (3, 2, 12)
    np.testing.assert_allclose(f[1, 0, :5], [clips[1, 0, i].sum() / 7 for i in range(5)])
    np.testing.assert_allclose(f[2, 1, 5:], [clips[2, 1, :, j].sum() / 5 for j in range(7)])
    with pytest.raises(ValueError, match=r"clips must have shape \(T, B, rows, columns\)"):
        video.frame_features(clips[0])


def test_noise_and_errors():
    clean, _ = video.moving_shapes(np.random.default_rng(3), 200, noise=0.0)
    noisy, _ = video.moving_shapes(np.random.default_rng(3), 200, noise=0.3)
    assert abs(np.std(noisy - clean) - 0.3) < 0.01
    with pytest.raises(ValueError, match="size >= 5"):
        video.moving_shapes(np.random.default_rng(0), 2, size=4)
