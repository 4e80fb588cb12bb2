"""Figures for the book: every plot titled, every axis labelled, colour-blind-safe colours.

The line colours are Okabe & Ito's palette; maps use ``cividis``, readable with any colour vision.
"""
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000"]


def use_style():
    """Set the course's matplotlib defaults (palette, colour map, sizes) for this session."""
    plt.rcParams.update({
        "axes.prop_cycle": cycler(color=OKABE_ITO),
        "image.cmap": "cividis",
        "figure.figsize": (7, 3.2),
        "figure.dpi": 100,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titleweight": "bold",
    })


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots()
    return ax


def hidden_states(hs, ax=None, title="Hidden state over time", t0=1):
    """One line per hidden unit. hs: (T, H) (a single sequence) -> the axes."""
    ax = _axes(ax)
    hs = np.asarray(hs)
    steps = np.arange(t0, t0 + len(hs))
    for j in range(hs.shape[1]):
        ax.plot(steps, hs[:, j], label=f"unit {j + 1}", lw=1.5)
    ax.set(title=title, xlabel="time step t", ylabel="activation $h_{t,j}$")
    if hs.shape[1] <= 8:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize="small")
    return ax


def hidden_heatmap(hs, ax=None, title="Hidden state over time", t0=1):
    """A (unit x time) heatmap of hs: (T, H), with a colour bar; returns the axes."""
    ax = _axes(ax)
    hs = np.asarray(hs)
    image = ax.imshow(hs.T, aspect="auto", cmap="cividis", vmin=-1, vmax=1, interpolation="nearest",
                      extent=(t0 - 0.5, t0 + len(hs) - 0.5, hs.shape[1] + 0.5, 0.5))
    ax.figure.colorbar(image, ax=ax, label="$h_{t,j}$")
    ax.set(title=title, xlabel="time step t", ylabel="hidden unit j")
    return ax


def activations(ax=None, title="Activation functions"):
    """tanh, the logistic sigmoid and ReLU on [-4, 4]; returns the axes."""
    ax = _axes(ax)
    z = np.linspace(-4, 4, 401)
    ax.plot(z, np.tanh(z), label="tanh(z)")
    ax.plot(z, 1 / (1 + np.exp(-z)), label="sigmoid(z)", ls="--")
    ax.plot(z, np.maximum(z, 0), label="ReLU(z)", ls=":")
    ax.set(title=title, xlabel="pre-activation z", ylabel="f(z)", ylim=(-1.5, 2.5))
    ax.axhline(0, color="0.7", lw=0.8)
    ax.legend(frameon=False)
    return ax


def unrolled_graph(steps=4, ax=None, title="An RNN unrolled through time"):
    """The computation graph x_t -> h_t -> y_t, with h_{t-1} -> h_t, drawn for a few steps."""
    if ax is None:
        _, ax = plt.subplots(figsize=(1.9 * steps + 1.6, 3.4))
    boxes = {"x": (0.0, OKABE_ITO[4]), "h": (1.0, OKABE_ITO[1]), "y": (2.0, OKABE_ITO[2])}

    def node(x, y, text, colour):
        ax.text(x, y, text, ha="center", va="center", fontsize=13,
                bbox=dict(boxstyle="round,pad=0.45", fc=colour, ec="black", alpha=0.9))

    def arrow(start, end, text=None):
        ax.annotate("", xy=end, xytext=start,
                    arrowprops=dict(arrowstyle="-|>", lw=1.4, color="black", shrinkA=16, shrinkB=16))
        if text:
            ax.text((start[0] + end[0]) / 2 + 0.08, (start[1] + end[1]) / 2 + 0.06, text,
                    fontsize=10, ha="left", va="bottom")

    node(-0.2, 1.0, "$h_0$", "white")
    arrow((-0.2, 1.0), (1.0, 1.0), "$W_h$")
    for t in range(1, steps + 1):
        for kind, (y, colour) in boxes.items():
            node(t, y, f"${kind}_{{{t}}}$", colour)
        arrow((t, 0.0), (t, 1.0), "$W_x$")
        arrow((t, 1.0), (t, 2.0), "$W_y$")
        if t < steps:
            arrow((t, 1.0), (t + 1, 1.0), "$W_h$")
    ax.set(xlim=(-0.6, steps + 0.6), ylim=(-0.5, 2.5), title=title)
    ax.axis("off")
    return ax


def bptt_graph(steps=4, ax=None, title="Backpropagation through time: the gradient flows back"):
    """The unrolled graph (black, forward) with the losses l_t and the backward flow (vermillion).

    Each h_t receives gradient from its own loss (through y_t) and from h_{t+1} (through W_h),
    which is why dh_t = g_t + dz_{t+1} W_h^T in the row layout.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(1.9 * steps + 1.6, 4.4))
    unrolled_graph(steps, ax=ax, title=title)
    back = dict(arrowstyle="-|>", lw=1.8, color=OKABE_ITO[5], ls="--", shrinkA=14, shrinkB=14)
    for t in range(1, steps + 1):
        ax.text(t, 3.0, f"$\\ell_{{{t}}}$", ha="center", va="center", fontsize=13,
                bbox=dict(boxstyle="round,pad=0.45", fc="white", ec="black"))
        ax.annotate("", xy=(t, 3.0), xytext=(t, 2.0), arrowprops=dict(
            arrowstyle="-|>", lw=1.4, color="black", shrinkA=16, shrinkB=16))
        ax.annotate("", xy=(t - 0.2, 2.0), xytext=(t - 0.2, 3.0), arrowprops=back)
        ax.annotate("", xy=(t - 0.2, 1.0), xytext=(t - 0.2, 2.0), arrowprops=back)
        ax.text(t - 0.27, 1.5, f"$g_{{{t}}}$", color=OKABE_ITO[5], fontsize=11,
                va="center", ha="right")
    for t in range(steps, 0, -1):          # from h_t back to h_{t-1} (h_0 for t = 1)
        start, end = (t, 1.0), ((t - 1, 1.0) if t > 1 else (-0.2, 1.0))
        ax.annotate("", xy=end, xytext=start,
                    arrowprops={**back, "connectionstyle": "arc3,rad=-0.4"})
        ax.text((start[0] + end[0]) / 2 + 0.1, 0.58, f"$dz_{{{t}}} W_h^\\top$", color=OKABE_ITO[5],
                fontsize=10, ha="center", va="top")
    ax.plot([], [], color="black", lw=1.4, label="forward: compute and store $h_t$")
    ax.plot([], [], color=OKABE_ITO[5], lw=1.8, ls="--", label="backward: gradient of the loss")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.02), ncol=2, frameon=False)
    ax.set(ylim=(-0.5, 3.5))
    return ax
