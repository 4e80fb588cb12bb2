r"""Rotary position embeddings (Su et al. 2021, "RoFormer"): positions as rotations of q and k.

Chapter 7's sinusoidal encoding *adds* PE_t to the input, and a shift by Delta steps turns each
of its column pairs (2i, 2i + 1) by the fixed angle Delta omega_i. Rotary embeddings use the
rotation directly: before the scores are computed, the query of position t and the key of
position s are turned, pair by pair, by the angles t omega_i and s omega_i,

    rot(x, t)_{2i}     = x_{2i} cos(t omega_i) - x_{2i+1} sin(t omega_i)
    rot(x, t)_{2i+1}   = x_{2i} sin(t omega_i) + x_{2i+1} cos(t omega_i),   omega_i = base^{-2i/d}

Rotations keep lengths and compose, R_t^T R_s = R_{s-t}, so

    rot(q, t) . rot(k, s) = q . rot(k, s - t)

depends on the contents q, k and on the offset s - t only: shifting a whole sequence leaves every
score unchanged. The values are not rotated. (Used by LLaMA, GPT-NeoX and most of today's large
language models; the pairs here are the interleaved columns (2i, 2i + 1), as in the paper and in
:func:`rnncore.transformer.sinusoidal_positional_encoding`.)

Layout: time-major ``x: (T, B, d)``, d even; ``positions``: (T,) integers, default 0..T-1.
"""
import autograd.numpy as np

from .validation import check_shapes


def angles(positions, d, base=10000.0):
    """(T, d/2): the angle t omega_i by which pair i of position t is turned."""
    if d % 2:
        raise ValueError(f"rotary embeddings turn pairs of columns: d must be even, got d = {d}")
    omega = base ** (-np.arange(0, d, 2) / d)                   # (d/2,) each pair's speed
    return np.asarray(positions, dtype=float)[:, None] * omega[None, :]


def rotate(x, positions=None, base=10000.0):
    r"""rot(x_t, t) for every step: x (T, B, d) -> (T, B, d), each column pair turned by t omega_i.

    positions: (T,) the position of each step (default 0..T-1); shifting them all by the same
    amount leaves every dot product rot(q, t) . rot(k, s) unchanged.
    """
    dims = check_shapes(x=(x, "T B d"))
    T, d = dims["T"], dims["d"]
    positions = np.arange(T) if positions is None else np.asarray(positions)
    if np.shape(positions) != (T,):
        raise ValueError(f"positions has shape {np.shape(positions)}, expected (T,) = ({T},)")
    a = angles(positions, d, base)[:, None, :]                  # (T, 1, d/2)
    even, odd = x[..., 0::2], x[..., 1::2]                      # (T, B, d/2) each
    turned_even = even * np.cos(a) - odd * np.sin(a)
    turned_odd = even * np.sin(a) + odd * np.cos(a)
    return np.reshape(np.stack([turned_even, turned_odd], axis=-1), np.shape(x))  # interleaved
