r"""Optimizers and gradient clipping, as pure functions over parameter dicts.

Every optimizer is a pair of functions, made by a factory that fixes its hyperparameters::

    opt = adam(lr=1e-3)                          # Optimizer(init, update)
    state = opt.init(params)                     # the optimizer's memory: zeros like params, t = 0
    params, state = opt.update(params, grads, state)

``update`` returns *new* dicts and never writes into ``params``, ``grads`` or ``state``, so an
old ``(params, state)`` pair stays valid (you can compare before and after, or restart from it).
Parameter dicts may nest (``{"encoder": {"W_h": ...}, "W_y": ...}``); gradients have the same
keys, as ``autograd.grad`` returns them. The learning rate ``lr`` is a number or a schedule, a
function of the step count t = 1, 2, ... returning a number.

With g the gradient, eta the learning rate and every operation elementwise:

    sgd        theta <- theta - eta g
    momentum   v <- mu v + g,  theta <- theta - eta v          (heavy ball, Polyak 1964)
               theta <- theta - eta (g + mu v)                  (nesterov=True, as PyTorch)
    adagrad    G <- G + g^2,  theta <- theta - eta g / (sqrt(G) + eps)   (Duchi et al. 2011)
    adam       m <- b1 m + (1 - b1) g,  v <- b2 v + (1 - b2) g^2         (Kingma & Ba 2015)
               m_hat = m / (1 - b1^t),  v_hat = v / (1 - b2^t)             (bias correction)
               theta <- theta - eta m_hat / (sqrt(v_hat) + eps)

Plain numpy (``import numpy as np``): optimizers act on gradients and are never differentiated.
"""
from collections import namedtuple

import numpy as np

from .trees import leaves, tree_map
from .validation import check_finite_gradients

Optimizer = namedtuple("Optimizer", ["init", "update"])


def _next_step(lr, grads, state):
    """Every update starts here: check the gradients, count the step t and read the rate eta."""
    check_finite_gradients(grads)
    t = state["t"] + 1
    return t, (lr(t) if callable(lr) else lr)


# --- the optimizers -----------------------------------------------------------------------------

def sgd(lr):
    """Plain gradient descent: theta <- theta - eta g. The state only counts the steps."""
    def init(params):
        return {"t": 0}

    def update(params, grads, state):
        t, eta = _next_step(lr, grads, state)
        return tree_map(lambda theta, g: theta - eta * g, params, grads), {"t": t}

    return Optimizer(init, update)


def momentum(lr, mu=0.9, nesterov=False):
    """Gradient descent with momentum: v <- mu v + g, theta <- theta - eta v (heavy ball).

    v is a running sum of past gradients, decayed by mu: in a direction where the gradient keeps
    its sign the steps grow towards eta / (1 - mu) times the gradient; where it flips they cancel.
    ``nesterov=True`` steps with g + mu v instead of v, PyTorch's form of Nesterov's look-ahead.
    """
    def init(params):
        return {"t": 0, "v": tree_map(np.zeros_like, params)}

    def update(params, grads, state):
        t, eta = _next_step(lr, grads, state)
        v = tree_map(lambda v, g: mu * v + g, state["v"], grads)
        step = tree_map(lambda v, g: g + mu * v, v, grads) if nesterov else v
        return tree_map(lambda theta, s: theta - eta * s, params, step), {"t": t, "v": v}

    return Optimizer(init, update)


def adagrad(lr, eps=1e-8):
    """Per-entry learning rates: G <- G + g^2, theta <- theta - eta g / (sqrt(G) + eps).

    G sums every squared gradient so far, so each entry's step shrinks as its history grows:
    rarely-updated entries keep large steps, and every step size decays like 1 / sqrt(t).
    """
    def init(params):
        return {"t": 0, "G": tree_map(np.zeros_like, params)}

    def update(params, grads, state):
        t, eta = _next_step(lr, grads, state)
        G = tree_map(lambda G, g: G + g ** 2, state["G"], grads)
        new = tree_map(lambda theta, g, G: theta - eta * g / (np.sqrt(G) + eps), params, grads, G)
        return new, {"t": t, "G": G}

    return Optimizer(init, update)


def adam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam (Kingma & Ba 2015): momentum on g and per-entry scaling by a running mean of g^2.

    m and v start at zero, so early on they are biased towards zero: after t steps of a constant
    gradient g, m = (1 - beta1^t) g. Dividing by (1 - beta1^t) and (1 - beta2^t) removes that
    bias, so the very first step is eta * g / (|g| + eps), about eta in every entry.
    """
    def init(params):
        return {"t": 0, "m": tree_map(np.zeros_like, params), "v": tree_map(np.zeros_like, params)}

    def update(params, grads, state):
        t, eta = _next_step(lr, grads, state)
        m = tree_map(lambda m, g: beta1 * m + (1 - beta1) * g, state["m"], grads)
        v = tree_map(lambda v, g: beta2 * v + (1 - beta2) * g ** 2, state["v"], grads)
        c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t                       # bias corrections
        new = tree_map(lambda theta, m, v: theta - eta * (m / c1) / (np.sqrt(v / c2) + eps),
                       params, m, v)
        return new, {"t": t, "m": m, "v": v}

    return Optimizer(init, update)


# --- clipping -----------------------------------------------------------------------------------

def global_norm(grads):
    """||g|| = sqrt(sum over every parameter and entry of g^2): all gradients as one vector."""
    return float(np.sqrt(sum(np.sum(np.square(g)) for _, g in leaves(grads))))


def clip_by_global_norm(grads, max_norm):
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

    g <- g * min(1, max_norm / ||g||): the direction is kept, only the length shrinks.
    Returns ``(clipped, norm)`` with the global norm *before* clipping (worth logging: spikes
    in it are exploding gradients).
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    check_finite_gradients(grads)
    norm = global_norm(grads)
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return tree_map(lambda g: g * scale if scale < 1.0 else g, grads), norm


def clip_elementwise(grads, max_value):
    """Clip every gradient entry into [-max_value, max_value] (Mikolov's clipping).

    Unlike :func:`clip_by_global_norm` this can change the gradient's direction.
    Returns ``(clipped, norm)`` with the global norm *before* clipping.
    """
    if not max_value > 0:
        raise ValueError(f"max_value must be positive, got {max_value}")
    check_finite_gradients(grads)
    return tree_map(lambda g: np.clip(g, -max_value, max_value), grads), global_norm(grads)
