r"""How a vanilla RNN's gradient behaves over many steps: Jacobian products, bounds, divergence.

The gradient that reaches the state h_t from step T has passed through every step in between.
By the chain rule it is multiplied by the Jacobian of h_T with respect to h_t,

    dh_T/dh_t = J_T J_{T-1} ... J_{t+1},    J_r = dh_r/dh_{r-1} = diag(f'(z_r)) W_h^T

with J_r[i, j] = dh_{r,i} / dh_{r-1,j}. Here W_h is the code's (H, H) matrix, the transpose of
the book's column form, in which the same Jacobian reads diag(f'(z_r)) W_h. Taking norms
(Pascanu, Mikolov & Bengio 2013), with gamma = max |f'| and sigma_max the largest singular value,

    ||dh_T/dh_t|| <= prod_r ||diag(f'(z_r))|| ||W_h|| <= (gamma sigma_max(W_h))^(T - t)

so gamma sigma_max < 1 is *sufficient* for the gradient to vanish geometrically with the lag
T - t, whatever the inputs, and gamma sigma_max > 1 is *necessary* for it to explode.
Norms are spectral norms (largest singular values) throughout: ||v J|| <= ||v|| ||J||.

Lags count back from the last step: index k of a result is about h_{T-k}, k = 0..T (k = 0 is
h_T itself, whose Jacobian is the identity). Plain numpy: these functions measure, they are not
differentiated.
"""
import numpy as np
from autograd.tracer import getval

from . import optim, rnn, train
from .validation import check_shapes

# gamma = max_z |f'(z)|: tanh' = 1 - tanh^2 <= 1 (at z = 0), ReLU' is 0 or 1, sigmoid' <= 1/4.
DERIVATIVE_BOUND = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}


# --- the size of W_h ----------------------------------------------------------------------------

def _square(W):
    W = np.asarray(W)
    check_shapes(W=(W, "H H"))
    return W


def spectral_radius(W):
    """rho(W) = max |lambda_i(W)|, the largest modulus of an eigenvalue of the square matrix W."""
    return float(np.max(np.abs(np.linalg.eigvals(_square(W)))))


def largest_singular_value(W):
    """sigma_max(W) = ||W||_2 = max over v of ||v W|| / ||v||, the spectral norm.

    Always rho(W) <= sigma_max(W), with equality for normal matrices (symmetric, a scaled
    orthogonal matrix, ...); a non-normal matrix can have rho < 1 < sigma_max.
    """
    return float(np.linalg.norm(_square(W), ord=2))


def with_spectral_radius(W, s):
    """W rescaled so that rho(W) = s (the eigenvectors stay, the eigenvalues scale by s / rho)."""
    rho = spectral_radius(W)
    if rho == 0:
        raise ValueError("W has spectral radius 0 (it is nilpotent): no rescaling changes that")
    return np.asarray(W) * (s / rho)


def with_spectral_norm(W, s):
    """W rescaled so that sigma_max(W) = s."""
    sigma = largest_singular_value(W)
    if sigma == 0:
        raise ValueError("W is zero: it cannot be rescaled to a non-zero spectral norm")
    return np.asarray(W) * (s / sigma)


def orthogonal(size, rng, dtype=np.float64):
    """A random orthogonal (size, size) matrix, drawn uniformly (Haar measure) with ``rng``.

    Every singular value is 1, so rho = sigma_max = 1: as a recurrent matrix it neither stretches
    nor shrinks any direction (Saxe, McClelland & Ganguli 2014). QR of a Gaussian matrix, with
    the signs of R's diagonal moved into Q so that the draw is uniform (Mezzadri 2007).
    """
    Q, R = np.linalg.qr(rng.normal(size=(size, size)))
    return (Q * np.sign(np.diag(R))).astype(dtype)


def derivative_bound(nonlinearity):
    """gamma = max |f'| for f in DERIVATIVE_BOUND ("tanh", "relu", "sigmoid")."""
    if nonlinearity not in DERIVATIVE_BOUND:
        raise ValueError(f"nonlinearity must be one of {sorted(DERIVATIVE_BOUND)}, "
                         f"got {nonlinearity!r}")
    return DERIVATIVE_BOUND[nonlinearity]


def norm_bound(W_h, nonlinearity, lags):
    """(gamma sigma_max(W_h))^k for each lag k: the bound on ||dh_T/dh_{T-k}||."""
    return (derivative_bound(nonlinearity) * largest_singular_value(W_h)) ** np.asarray(lags)


# --- the Jacobians of a run ---------------------------------------------------------------------

def step_jacobians(params, xs, state=None, nonlinearity="tanh"):
    """J_t = dh_t/dh_{t-1} = diag(f'(z_t)) W_h^T for t = 1..T, one (H, H) matrix per example.

    xs: (T, B, D); state: h_0, (B, H), zeros if None; nonlinearity "tanh" or "relu" (those of
    :mod:`rnncore.rnn`). f'(z_t) comes from the stored states: 1 - h_t^2 for tanh, [h_t > 0]
    for ReLU. Returns Js: (T, B, H, H), Js[t - 1, b, i, j] = dh_{t,i} / dh_{t-1,j} for example b.
    """
    hs, _ = rnn.forward(params, xs, state, nonlinearity)               # (T, B, H)
    slope = 1.0 - hs ** 2 if nonlinearity == "tanh" else (hs > 0).astype(hs.dtype)   # f'(z_t)
    return slope[..., :, None] * params["W_h"].T          # (T, B, H, H): row i of W_h^T * f'_i


def jacobian_products(params, xs, state=None, nonlinearity="tanh"):
    """dh_T/dh_{T-k} = J_T J_{T-1} ... J_{T-k+1} for every lag k = 0..T.

    Returns Ps: (T + 1, B, H, H), Ps[k, b] for example b; Ps[0] is the identity. Each product
    extends the previous one by one step back: P_k = P_{k-1} J_{T-k+1}.
    """
    Js = step_jacobians(params, xs, state, nonlinearity)               # (T, B, H, H)
    T, B, H, _ = Js.shape
    P = np.broadcast_to(np.eye(H, dtype=Js.dtype), (B, H, H))          # (B, H, H): dh_T/dh_T
    Ps = [P]
    for k in range(1, T + 1):
        P = P @ Js[T - k]                                              # Js[T - k] is J_{T-k+1}
        Ps.append(P)
    return np.stack(Ps)                                                # (T + 1, B, H, H)


def gradient_norms(params, xs, state=None, nonlinearity="tanh"):
    """||dh_T/dh_{T-k}||_2 for k = 0..T: (T + 1, B), the spectral norm of each Jacobian product.

    The largest factor by which a gradient at h_T can grow on its way back to h_{T-k}.
    """
    Ps = jacobian_products(params, xs, state, nonlinearity)
    return np.linalg.norm(Ps, ord=2, axis=(-2, -1))                    # (T + 1, B)


# --- training that may diverge ------------------------------------------------------------------

def train_until_divergence(loss_fn, params, batches, optimizer, steps, clip=None, **options):
    """:func:`rnncore.train.train` for ``steps`` steps, or until the run diverges.

    Returns ``(params, history, diverged_at)``. A run diverges at the first step whose loss or
    gradient is NaN or infinite: there ``train`` (or the backward pass) stops with a ValueError.
    Then ``diverged_at`` is that step, ``params`` is None, and ``history`` still holds ``step``,
    ``loss`` and ``grad_norm`` (before clipping) of every step up to it (``grad_norm`` is NaN
    where it was not computed) and ``error``, the message that stopped the run. A run that
    finishes returns train's params and history and ``None``.
    clip: None, a maximum global norm, or a function grads -> (clipped, norm), as for ``train``;
    other options (rng, state, progress, ...) go to ``train`` too. Other ValueErrors (shapes,
    arguments), raised before a step's loss is known, are raised as usual. A diverging run
    overflows on purpose: numpy's overflow warnings are silenced while it runs.
    """
    if clip is not None and not callable(clip):
        max_norm = float(clip)
        clip = lambda grads: optim.clip_by_global_norm(grads, max_norm)  # noqa: E731
    seen = {"loss": [], "grad_norm": []}

    def watched_loss(params, *args):
        out = loss_fn(params, *args)
        loss = out[0] if isinstance(out, tuple) else out           # (loss, new_state) with state=
        seen["loss"].append(float(getval(loss)))
        return out

    def watched_clip(grads):
        seen["grad_norm"].append(optim.global_norm(grads))         # before clipping, as train logs
        return clip(grads) if clip is not None else (grads, seen["grad_norm"][-1])

    try:
        with np.errstate(over="ignore", invalid="ignore"):
            params, history = train.train(watched_loss, params, batches, optimizer, steps=steps,
                                          clip=watched_clip, **options)
        return params, history, None
    except ValueError as error:
        n = len(seen["loss"])
        finite = np.all(np.isfinite(seen["loss"])) and np.all(np.isfinite(seen["grad_norm"]))
        if finite and len(seen["grad_norm"]) == n:
            raise                                   # not a divergence: the step never ran
        message = str(error)
    norms = seen["grad_norm"] + [np.nan] * (n - len(seen["grad_norm"]))
    history = {"step": list(range(1, n + 1)), "loss": seen["loss"], "grad_norm": norms,
               "error": message}
    return None, history, n
