r"""The vanilla (Elman) recurrent layer.

The book writes, for column vectors,

    h_t = f(W_h h_{t-1} + W_x x_t + b_h)

The code keeps a batch of row vectors, ``x: (B, D)`` and ``h: (B, H)``, so the same equation reads

    h = f(h_prev @ W_h + x @ W_x + b_h)

with ``W_x: (D, H)`` and ``W_h: (H, H)``: each code matrix is the transpose of the book's.
Sequences are time-major, ``xs: (T, B, D)``.
"""
import autograd.numpy as np

from .shapes import check_shapes

NONLINEARITIES = {
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
}


def init(input_size, hidden_size, rng, dtype=np.float64):
    """Parameters drawn as PyTorch does, U(-1/sqrt(H), 1/sqrt(H)), with a zero bias."""
    k = 1.0 / np.sqrt(hidden_size)
    return {
        "W_x": rng.uniform(-k, k, (input_size, hidden_size)).astype(dtype),   # (D, H)
        "W_h": rng.uniform(-k, k, (hidden_size, hidden_size)).astype(dtype),  # (H, H)
        "b_h": np.zeros(hidden_size, dtype=dtype),                            # (H,)
    }


def _activation(nonlinearity):
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {sorted(NONLINEARITIES)}, got {nonlinearity!r}")
    return NONLINEARITIES[nonlinearity]


def _check_params(params, **arrays):
    missing = [k for k in ("W_x", "W_h", "b_h") if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}: an RNN layer needs W_x, W_h and b_h")
    return check_shapes(W_x=(params["W_x"], "D H"), W_h=(params["W_h"], "H H"),
                        b_h=(params["b_h"], "H"), **arrays)


def step(params, x, h_prev, nonlinearity="tanh"):
    """One time step: h_t = f(h_{t-1} W_h + x_t W_x + b_h).  x: (B, D), h_prev: (B, H) -> (B, H)."""
    _check_params(params, x=(x, "B D"), h_prev=(h_prev, "B H"))
    return _cell(params, x, h_prev, _activation(nonlinearity))


def _cell(params, x, h_prev, f):
    return f(h_prev @ params["W_h"] + x @ params["W_x"] + params["b_h"])   # (B, H)


def forward(params, xs, state=None, nonlinearity="tanh"):
    """Run the layer over a sequence.

    xs: (T, B, D); state: the initial hidden state h_0, (B, H), zeros if None.
    Returns ``hs: (T, B, H)``, the states h_1..h_T, and the final state ``h_T: (B, H)``.
    """
    given = {} if state is None else {"state": (state, "B H")}
    dims = _check_params(params, xs=(xs, "T B D"), **given)
    f = _activation(nonlinearity)
    h = np.zeros((dims["B"], dims["H"]), dtype=params["W_h"].dtype) if state is None else state
    hs = []
    for x in xs:                                     # x: (B, D)
        h = _cell(params, x, h, f)
        hs.append(h)                                 # no in-place writes: autograd can follow
    return np.stack(hs), h                           # (T, B, H), (B, H)
