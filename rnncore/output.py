r"""The output layer: y_t = g(W_y h_t + b_y) in the book, ``hs @ W_y + b_y`` in the code.

It returns the *logits* (the pre-activation); g is applied by the loss, e.g. the softmax inside
:func:`rnncore.losses.softmax_cross_entropy`, which is both simpler and numerically safer.
"""
import autograd.numpy as np

from .numerics import uniform_init
from .validation import check_shapes


def init(hidden_size, output_size, rng, dtype=np.float64):
    """W_y ~ U(-1/sqrt(H), 1/sqrt(H)), as PyTorch's nn.Linear; zero bias."""
    return {
        "W_y": uniform_init(rng, hidden_size, (hidden_size, output_size), dtype),  # (H, V)
        "b_y": np.zeros(output_size, dtype=dtype),                            # (V,)
    }


def forward(params, hs):
    """Logits for every state: hs (..., H) -> (..., V), e.g. (T, B, H) -> (T, B, V)."""
    missing = [k for k in ("W_y", "b_y") if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}: the output layer needs W_y and b_y")
    check_shapes(W_y=(params["W_y"], "H V"), b_y=(params["b_y"], "V"))
    if np.ndim(hs) < 1 or np.shape(hs)[-1] != np.shape(params["W_y"])[0]:
        raise ValueError(f"hs has shape {tuple(np.shape(hs))}, expected (..., H) with "
                         f"H = {np.shape(params['W_y'])[0]} from W_y")
    return hs @ params["W_y"] + params["b_y"]
