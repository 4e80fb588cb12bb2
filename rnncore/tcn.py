r"""Temporal convolutional networks (Bai, Kolter & Koltun 2018): convolution instead of recurrence.

A causal dilated convolution with kernel size k and dilation d computes, at every step at once,

    y_t = b + sum_{j=0}^{k-1} x_{t - j d} W_j            (x_t = 0 before the sequence starts)

so y_t sees x_t and the past only (causal), and the dilation d spaces the k taps d steps apart:
stacking blocks with d = 1, 2, 4, ... makes the window grow exponentially with depth.

Layout: time-major ``xs: (T, B, C_in) -> (T, B, C_out)``; ``W: (k, C_in, C_out)``, where ``W[j]``
is the tap that looks j*d steps back. (PyTorch's ``Conv1d`` stores the taps in the other order
and transposed: its ``weight[:, :, k - 1 - j]`` is our ``W[j].T``.)

A residual block (Bai et al.'s Figure 1, without weight normalisation and dropout):

    z   = ReLU(conv_2(ReLU(conv_1(x))))          both convs with the block's dilation d
    out = ReLU(x W_p + z)                        W_p: (C_in, C_out), a 1x1 convolution, only
                                                 when C_in != C_out; otherwise x itself
"""
import autograd.numpy as np

from .numerics import uniform_init
from .validation import check_shapes


def causal_conv_init(in_channels, out_channels, kernel_size, rng, dtype=np.float64):
    """W ~ U(-1/sqrt(k C_in), 1/sqrt(k C_in)) as PyTorch's Conv1d; zero bias."""
    return {"W": uniform_init(rng, kernel_size * in_channels,
                              (kernel_size, in_channels, out_channels), dtype),
            "b": np.zeros(out_channels, dtype=dtype)}


def causal_conv(params, xs, dilation=1):
    r"""y_t = b + sum_{j=0}^{k-1} x_{t - j d} W_j, with zeros for t - j d < 1 (left padding only).

    xs: (T, B, C_in) -> (T, B, C_out). Written as a sum over the k taps of *shifted copies* of the
    whole sequence, one matrix product each: no loop over t and no in-place writes.
    """
    if "W" not in params or "b" not in params:
        raise ValueError(f"params is missing {[n for n in ('W', 'b') if n not in params]}: "
                         f"a causal convolution needs W and b")
    dims = check_shapes(W=(params["W"], "k Cin Cout"), b=(params["b"], "Cout"), xs=(xs, "T B Cin"))
    if int(dilation) < 1:
        raise ValueError(f"dilation must be a positive integer, got {dilation}")
    T, k, pad = dims["T"], dims["k"], (dims["k"] - 1) * dilation
    zeros = np.zeros((pad, dims["B"], dims["Cin"]), dtype=xs.dtype)
    padded = np.concatenate([zeros, xs], axis=0)               # (pad + T, B, C_in): x_{1-pad}..x_T
    taps = [padded[pad - j * dilation: pad - j * dilation + T] @ params["W"][j]   # x_{t - j d} W_j
            for j in range(k)]                                 # each (T, B, C_out)
    return sum(taps) + params["b"]                             # (T, B, C_out)


def block_init(in_channels, out_channels, kernel_size, rng, dtype=np.float64):
    """Two causal convolutions, and the 1x1 projection W_p when the channel counts differ."""
    params = {"conv1": causal_conv_init(in_channels, out_channels, kernel_size, rng, dtype),
              "conv2": causal_conv_init(out_channels, out_channels, kernel_size, rng, dtype)}
    if in_channels != out_channels:
        params["W_p"] = uniform_init(rng, in_channels, (in_channels, out_channels), dtype)
    return params


def block_forward(params, xs, dilation=1):
    """out = ReLU(x W_p + ReLU(conv_2(ReLU(conv_1(x)))));  (T, B, C_in) -> (T, B, C_out)."""
    z = np.maximum(causal_conv(params["conv1"], xs, dilation), 0.0)
    z = np.maximum(causal_conv(params["conv2"], z, dilation), 0.0)    # (T, B, C_out)
    residual = xs @ params["W_p"] if "W_p" in params else xs          # (T, B, C_out)
    if np.shape(residual) != np.shape(z):
        raise ValueError(f"the residual has shape {tuple(np.shape(residual))} but the block's "
                         f"output {tuple(np.shape(z))}: a block that changes the channel count "
                         f"needs W_p (see block_init)")
    return np.maximum(residual + z, 0.0)


def init(input_size, channels, kernel_size, rng, dtype=np.float64):
    """A stack of blocks ``{"block1": ..., "blockL": ...}`` with ``channels[l-1]`` outputs each."""
    sizes = [input_size] + list(channels)
    return {f"block{l}": block_init(sizes[l - 1], sizes[l], kernel_size, rng, dtype)
            for l in range(1, len(sizes))}


def default_dilations(num_blocks):
    """1, 2, 4, ..., 2^(L-1): the window doubles with every block."""
    return [2 ** l for l in range(num_blocks)]


def forward(params, xs, dilations=None):
    """Run the blocks in order, block l with dilation ``dilations[l-1]`` (default 2^(l-1)).

    xs: (T, B, C_in) -> (T, B, C_L). The output at t depends on the inputs at
    t - R + 1 .. t only, R = :func:`receptive_field` (kernel_size, dilations).
    """
    names = [f"block{l}" for l in range(1, len(params) + 1)]
    if sorted(params) != sorted(names):
        raise ValueError(f"params of a TCN must have the keys {names}, got {sorted(params)}")
    dilations = default_dilations(len(names)) if dilations is None else list(dilations)
    if len(dilations) != len(names):
        raise ValueError(f"dilations must give one dilation per block ({len(names)}), "
                         f"got {len(dilations)}")
    for name, d in zip(names, dilations):
        xs = block_forward(params[name], xs, d)
    return xs


def receptive_field(kernel_size, dilations):
    r"""R = 1 + 2 (k - 1) sum_l d_l: how far back one output step can see, as a span.

    Each causal convolution with dilation d reaches (k - 1) d steps further back; a block has two
    of them, and the 1x1 projection and the ReLUs reach no further. R is the distance from the
    earliest input an output depends on to the output's own step, plus one; a stack whose
    dilations leave gaps (one block of dilation 4 sees t, t - 4 and t - 8) depends on fewer
    than R of the inputs inside that span (chapter 7).
    """
    return 1 + 2 * (kernel_size - 1) * sum(dilations)
