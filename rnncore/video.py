r"""Video-like clips: shapes moving across a small frame, and features of each frame.

**Clips.** A shape (:data:`SHAPES`) moves in a straight line, one of the four
:data:`DIRECTIONS`, at 1 or 2 pixels per frame, over a frame of ``size x size`` pixels with
Gaussian noise; the label is the direction. The frame wraps around, like the screen of an old
arcade game: what leaves on the right comes back on the left. With a uniformly random start, the
shape's position in any one frame is then uniform whatever the direction, so **no single frame
carries any information about the label**: only the order of the frames does.

**Features.** A network for real video would turn each frame into a vector with a
convolutional network, then run an RNN over the vectors. Here the frames are simple enough for
a fixed feature extractor: the frame's mean over each row and over each column (its row and
column *profiles*), 2 size numbers that locate the shape on both axes.
"""
import numpy as np

DIRECTIONS = ("right", "left", "down", "up")
MOVES = np.array([[0, 1], [0, -1], [1, 0], [-1, 0]])        # (row, column) per frame, per label


def _stamp(rows):
    """A shape drawn as rows of '#' and '.', as the (row, column) offsets of its pixels."""
    pixels = np.argwhere(np.array([[c == "#" for c in row] for row in rows]))
    return pixels - np.array([len(rows) // 2, len(rows[0]) // 2])          # about the centre


SHAPES = {
    "square": _stamp(["###", "###", "###"]),
    "plus": _stamp(["..#..", "..#..", "#####", "..#..", "..#.."]),
    "diamond": _stamp(["..#..", ".###.", "#####", ".###.", "..#.."]),
}


def moving_shapes(rng, B, T=8, size=12, speed=(1, 2), noise=0.3):
    """B clips of T frames: ``(clips (T, B, size, size), labels (B,))``.

    Each clip draws a direction (the label, an index into :data:`DIRECTIONS`), a shape, a start
    position uniform over the frame and a speed from ``speed`` (pixels per frame, inclusive);
    the shape's pixels are 1, the background 0, positions wrap around the edges, and N(0,
    noise^2) is added to every pixel of every frame.
    """
    if T < 1 or size < 5:
        raise ValueError(f"need T >= 1 frames of size >= 5 pixels, got T={T}, size={size}")
    labels = rng.integers(len(DIRECTIONS), size=B)
    kinds = rng.integers(len(SHAPES), size=B)
    start = rng.integers(0, size, size=(B, 2))
    v = rng.integers(speed[0], speed[1] + 1, size=B)
    centres = start + np.arange(T)[:, None, None] * (v[:, None] * MOVES[labels])  # (T, B, 2)
    clips = np.zeros((T, B, size, size))
    t, b = np.arange(T)[:, None], np.arange(B)[None, :]
    for k, offsets in enumerate(SHAPES.values()):
        chosen = kinds == k                                                # clips of shape k
        for dr, dc in offsets:
            rows = (centres[:, chosen, 0] + dr) % size                     # (T, B_k)
            cols = (centres[:, chosen, 1] + dc) % size
            clips[t, b[:, chosen], rows, cols] = 1.0
    return clips + noise * rng.normal(size=clips.shape), labels


def frame_features(clips):
    """Each frame's row and column profiles: (T, B, size, size) -> (T, B, 2 size).

    Feature i < size is the mean of row i (where the shape is vertically), feature size + j the
    mean of column j (where it is horizontally).
    """
    clips = np.asarray(clips, dtype=np.float64)
    if clips.ndim != 4:
        raise ValueError(f"clips must have shape (T, B, rows, columns), got {clips.shape}")
    return np.concatenate([clips.mean(axis=3), clips.mean(axis=2)], axis=-1)
