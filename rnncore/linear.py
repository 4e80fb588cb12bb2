r"""The linear output layer: y_t = g(W_y h_t + b_y) in the book, ``hs @ W_y + b_y`` in the code.

It returns the *logits* (the pre-activation); g is applied by the loss, e.g. the softmax inside
:func:`rnncore.losses.softmax_cross_entropy`, which is both simpler and numerically safer.

A model's parameters hold its parts by name and this layer under the key ``"output"``:
``{"layer": lstm.init(...), "output": linear.init(...)}``; :func:`split_model` takes them apart.
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


def split_model(params):
    """(the body's params, the output layer's) of a model ``{"<part>": ..., "output": ...}``.

    A flat dict, as :func:`rnncore.rnn_lm.init` makes (the layer's weights beside W_y and b_y),
    serves as both.
    """
    if "output" not in params:
        return params, params
    parts = [k for k in params if k != "output"]
    if len(parts) != 1:
        raise ValueError(f"params has the parts {parts} beside 'output': expected one, as in "
                         f'{{"layer": ..., "output": ...}}')
    return params[parts[0]], params["output"]
