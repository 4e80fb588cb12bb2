"""Trusted questions of chapter 4's assignment: what each test cell's points are awarded for.

Each question calls the student's function in the sandbox on hidden inputs drawn from rng (other
shapes, seeds, activations, scales and dtypes than the visible tests) and compares the result
with the solution's (expect_call, which also fails a function that writes into its arguments);
predict_regime is asked about matrices built with a chosen largest singular value and spectral
radius, on both sides of every threshold. The inputs of jacobian_norms are drawn among those
where float32 arithmetic is accurate to well within the tolerance (rarely not: saturated tanh
units, products that nearly cancel), so that a correct float32 answer cannot lose its points on
an unlucky draw. While a question runs, the library functions that compute its answer are
unavailable to the submission (forbid).

When a result is wrong, the hint names the mistake if the result is what that mistake gives
(each computed here on the same inputs), and the general rule otherwise.
"""
import numpy as np

from rnncore_grader.checks import CheckFailed, expect, expect_call, known_mistakes, question
from rnncore import rnn
from rnncore.testing import AUTODIFF

TOL = dict(rtol=1e-4, atol=1e-5)
# Gradient norms shrink geometrically with the lag, so they are compared relative to their size.
NORM_TOL = dict(rtol=1e-4, atol=1e-12)
GAMMA = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}
# The norms are the exercise: the library's forward passes are allowed (rnn.forward and
# rnn.forward_reference), but a Jacobian computed for the student is not: autograd's entry points
# and rnncore.gradcheck's finite differences are unavailable, as in the visible tests (the
# notebook's AUTODIFF, the same list).


def _expect(student, ref, name, args, where, mistakes, hint, tol=TOL):
    """expect_call whose hint, when the result is wrong, names the known mistake it matches
    (each mistake a function of args giving what that mistake returns), else the general hint."""
    return expect_call(student, ref, name, *args, where=where, **tol,
                       diagnose=known_mistakes(mistakes, hint, **tol))


# --- jacobian_norms ------------------------------------------------------------------------------

def _norms(params, xs, h0, nonlinearity="tanh", mistake=None, dtype=np.float64):
    """The norms for every lag, or what a mistake makes of them."""
    f = dtype
    W_h = params["W_h"].astype(f)
    hs, _ = rnn.forward({k: v.astype(f) for k, v in params.items()}, xs.astype(f), h0.astype(f),
                        nonlinearity)
    states = np.concatenate([h0.astype(f)[None], hs[:-1]]) if mistake == "slope_early" else hs
    if mistake == "no_slope":
        slopes = np.ones_like(hs)
    elif nonlinearity == "tanh":
        slopes = f(1) - states ** 2
    else:
        slopes = (states >= 0 if mistake == "relu_ge" else states > 0).astype(f)
    T, B, H = hs.shape
    W = W_h if mistake == "not_transposed" else W_h.T
    P = np.broadcast_to(np.eye(H, dtype=f), (B, H, H))
    norms = [np.ones(B, dtype=f)]
    for k in range(1, T + 1):
        J = slopes[T - k][:, :, None] * W
        P = J @ P if mistake == "wrong_order" else P @ J
        norms.append(np.linalg.norm(P, ord="fro" if mistake == "frobenius" else 2, axis=(1, 2)))
    norms = np.stack(norms)
    return norms[::-1] if mistake == "indexed_by_t" else norms


NORM_MISTAKES = {
    "relu_ge": "a ReLU unit with h = 0 is inactive: its slope is 0, so the slope is (h > 0), "
               "not (h >= 0)",
    "no_slope": "each Jacobian is diag(f'(z_t)) W_h.T: yours leaves out the slopes f'(z_t)",
    "frobenius": "the spectral norm is the largest singular value, np.linalg.norm(P, ord=2); "
                 "yours is the Frobenius norm (np.linalg.norm's default)",
    "indexed_by_t": "the index is the lag k, counted back from the last step (norms[k] is about "
                    "h_(T-k)); yours is in time order",
    "wrong_order": "the product grows backwards, P_k = P_(k-1) @ J_(T-k+1), the new factor on "
                   "the RIGHT; yours multiplies it on the left",
    "slope_early": "the slope of step t is f'(z_t), read from the state the step PRODUCED, h_t "
                   "= hs[t - 1] in Python's numbering; yours takes it from the state before",
    "not_transposed": "in the code's row layout the Jacobian is diag(f') @ W_h.T; yours uses the "
                      "code's W_h without the transpose",
}
NORM_HINT = ("norms[k] is the spectral norm of J_T J_(T-1) ... J_(T-k+1), with J_t = "
             "diag(f'(z_t)) W_h.T and f'(z_t) from h_t (1 - h_t**2 for tanh, h_t > 0 for ReLU); "
             "norms[0] = 1 and the index is the lag k")


def _well_conditioned(rng, T, B, D, H, nonlinearity, scale):
    """Inputs redrawn (rarely: saturated tanh units, products of Jacobians that nearly cancel)
    until float32 arithmetic gives the norms to 1e-5 relative, ten times better than the
    tolerance, so that a correct float32 answer cannot fail."""
    for _ in range(200):
        params = {"W_x": rng.normal(0.0, 0.5, (D, H)),
                  "W_h": rng.normal(0.0, scale / np.sqrt(H), (H, H)),
                  "b_h": rng.normal(0.0, 0.3, H)}
        xs, h0 = rng.normal(size=(T, B, D)), np.tanh(rng.normal(size=(B, H)))
        with np.errstate(all="ignore"):
            probe = _norms(params, xs, h0, nonlinearity, dtype=np.float32)
            exact = _norms(params, xs, h0, nonlinearity)
        if np.allclose(probe, exact, rtol=1e-5, atol=1e-13):
            break
    return params, xs, h0


@question("test_jacobian_norms",
          forbid=("rnncore.dynamics:gradient_norms", "rnncore.dynamics:jacobian_products",
                  "rnncore.dynamics:step_jacobians", "rnncore.fastpath.rnn:numpy_backward")
          + AUTODIFF)
def jacobian_norms(student, ref, rng):
    mistakes = {m: (lambda *a, m=m: _norms(*a, mistake=m), why) for m, why in NORM_MISTAKES.items()}
    # never the visible (T, B, D, H) = (4, 1, 1, 1) or (5, 2, 2, 3)
    for (T, B, D, H), nonlinearity, scale in [
            ((6, 3, 2, 4), "tanh", 1.2), ((1, 2, 3, 2), "tanh", 1.0), ((12, 1, 2, 5), "tanh", 1.5),
            ((7, 2, 3, 3), "relu", 1.3), ((9, 4, 1, 6), "relu", 1.6), ((5, 2, 2, 1), "tanh", 2.0),
            ((8, 3, 2, 3), "tanh", 0.6), ((4, 1, 1, 1), "relu", 0.9)]:
        params, xs, h0 = _well_conditioned(rng, T, B, D, H, nonlinearity, scale)
        _expect(student, ref, "jacobian_norms", (params, xs, h0, nonlinearity),
                f"with {nonlinearity!r} for T={T}, B={B}, D={D}, H={H} (index: lag k, sequence b)",
                mistakes, NORM_HINT, NORM_TOL)


# --- clip_by_norm --------------------------------------------------------------------------------

def _global_norm(grads):
    return float(np.sqrt(sum(np.sum(np.asarray(g, np.float64) ** 2) for g in grads.values())))


def _clip(grads, c, mistake=None):
    norm = _global_norm(grads)
    if mistake == "per_array":
        return {k: g * min(1.0, c / max(_global_norm({k: g}), 1e-300)) for k, g in grads.items()}, norm
    scale = c / norm if (mistake == "always_rescale" or norm > c) else 1.0
    return {k: g * scale for k, g in grads.items()}, (norm * min(1.0, scale)
                                                      if mistake == "norm_after" else norm)


CLIP_MISTAKES = {
    "per_array": "the norm is GLOBAL: all arrays together as one long vector, clipped with one "
                 "factor; yours clips each array by its own norm",
    "always_rescale": "a gradient shorter than max_norm is left as it is (the factor is "
                      "min(1, max_norm / norm)); yours stretches it to max_norm",
    "norm_after": "the norm returned is the norm BEFORE clipping (what a training loop logs); "
                  "yours is the norm after",
}
CLIP_HINT = ("the global norm is sqrt of the sum of g**2 over EVERY entry of EVERY array; if it "
             "exceeds max_norm, multiply every array by max_norm / norm, otherwise leave them; "
             "return a new dict and the norm before clipping (a float)")


def _grads(rng, shapes, dtype, size=1.0):
    return {k: (size * rng.normal(size=shape)).astype(dtype) for k, shape in shapes.items()}


@question("test_clip_by_norm",
          forbid=("rnncore.optim:clip_by_global_norm", "rnncore.optim:global_norm",
                  "rnncore.optim:clip_elementwise"))
def clip_by_norm(student, ref, rng):
    mistakes = {m: (lambda *a, m=m: _clip(*a, mistake=m), why) for m, why in CLIP_MISTAKES.items()}
    # max_norm below the norm (clipped), above it (left alone); several arrays, other dtypes;
    # a zero gradient (no division by its norm) and a gradient whose entries overflow when
    # squared in float32 is not asked for (float64 inputs are the rule).
    for shapes, ratio, dtype in [
            ({"W_x": (3, 5), "W_h": (5, 5), "b_h": (5,)}, 0.3, np.float64),
            ({"W_x": (2, 5), "W_h": (5, 5), "b_h": (5,), "W_y": (5, 3), "b_y": (3,)}, 4.0,
             np.float64),
            ({"W": (6, 2)}, 0.5, np.float64),
            ({"a": (2, 3, 4), "b": (1,)}, 0.7, np.float32),
            ({"W_h": (3, 3), "b_h": (3,)}, 1.5, np.float64),
            ({"W_x": (1, 7), "W_h": (7, 7), "b_h": (7,)}, float(rng.uniform(0.05, 0.9)),
             np.float64),
            ({"W_h": (2, 3), "b_h": (3,)}, 0.0, np.float64)]:
        grads = _grads(rng, shapes, dtype, float(rng.uniform(0.1, 3.0)) if ratio else 0.0)
        c = float(ratio * _global_norm(grads)) if ratio else float(rng.uniform(0.5, 2.0))
        side = ("zero" if not ratio else "above max_norm" if ratio < 1 else "below max_norm")
        clipped, norm = _expect(
            student, ref, "clip_by_norm", (grads, c),
            f"for arrays of shapes {shapes} ({np.dtype(dtype)}), norm {side}", mistakes,
            CLIP_HINT)
        expect(isinstance(norm, (float, np.floating)),
               f"clip_by_norm should return the norm as a float, not {type(norm).__name__}")


# --- clip_elementwise ----------------------------------------------------------------------------

def _clip_entries(grads, c, mistake=None):
    norm = _global_norm(grads)
    if mistake == "upper_only":
        return {k: np.minimum(g, c) for k, g in grads.items()}, norm
    if mistake == "loses_sign":
        return {k: np.clip(np.abs(g), 0, c) for k, g in grads.items()}, norm
    if mistake == "rescale_largest":
        return {k: g * min(1.0, c / max(np.max(np.abs(g)), 1e-300)) for k, g in grads.items()}, norm
    clipped = {k: np.clip(g, -c, c) for k, g in grads.items()}
    return clipped, (_global_norm(clipped) if mistake == "norm_after" else norm)


ENTRY_MISTAKES = {
    "upper_only": "clip from BOTH sides, into [-max_value, max_value]: large negative entries "
                  "are cut too",
    "loses_sign": "each entry keeps its sign: np.clip(g, -max_value, max_value), not the "
                  "absolute value",
    "rescale_largest": "elementwise clipping cuts each entry on its own (and so changes the "
                       "direction); yours rescales whole arrays",
    "norm_after": "the norm returned is the global norm BEFORE clipping; yours is the norm after",
}
ENTRY_HINT = ("clip each entry on its own into [-max_value, max_value] (np.clip), both signs; "
              "the norm returned is the global norm of the gradient BEFORE clipping")


@question("test_clip_elementwise",
          forbid=("rnncore.optim:clip_elementwise", "rnncore.optim:global_norm",
                  "rnncore.optim:clip_by_global_norm"))
def clip_elementwise(student, ref, rng):
    mistakes = {m: (lambda *a, m=m: _clip_entries(*a, mistake=m), why)
                for m, why in ENTRY_MISTAKES.items()}
    for shapes, c, dtype in [
            ({"W_x": (3, 4), "W_h": (4, 4), "b_h": (4,)}, 0.5, np.float64),
            ({"W": (5, 2), "b": (2,), "W_y": (2, 3)}, 0.05, np.float64),
            ({"a": (2, 3, 4)}, 10.0, np.float64),
            ({"W_h": (6, 6), "b_h": (6,)}, 0.3, np.float32),
            ({"W_x": (2, 3), "W_h": (3, 3)}, float(rng.uniform(0.2, 1.5)), np.float64)]:
        grads = _grads(rng, shapes, dtype)
        _expect(student, ref, "clip_elementwise", (grads, c),
                f"for arrays of shapes {shapes} ({np.dtype(dtype)}), max_value {c:.3g}",
                mistakes, ENTRY_HINT)


# --- predict_regime ------------------------------------------------------------------------------

def _with_sizes(rng, H, sigma, rho):
    """An (H, H) matrix with largest singular value sigma and spectral radius rho <= sigma:
    Q (upper triangular) Q^T, eigenvalues rho and below on the diagonal, the rest above it."""
    Q, _ = np.linalg.qr(rng.normal(size=(H, H)))
    if H == 1 or np.isclose(rho, sigma):
        D = np.diag(rng.uniform(0.3, 1.0, H)) * rho
        D[0, 0] = rho
        return Q @ D @ Q.T
    U = np.triu(rng.normal(size=(H, H)), k=1)
    U *= 1.0 / np.linalg.svd(U, compute_uv=False)[0]
    eig = np.diag(rng.uniform(0.3, 1.0, H) * rho)
    eig[0, 0] = rho
    lo, hi = 0.0, 1e3                                      # scale the strictly upper part
    for _ in range(200):                                   # until sigma_max is sigma
        mid = (lo + hi) / 2
        if np.linalg.svd(eig + mid * U, compute_uv=False)[0] < sigma:
            lo = mid
        else:
            hi = mid
    return Q @ (eig + lo * U) @ Q.T


def _boundaries(rng):
    """Matrices exactly ON the thresholds, on every draw, each read with every activation (scaled
    by 1 / gamma, a power of 2): numpy computes their sigma_max and rho exactly, in float64 and
    float32 (checked on thousands of draws), so that the strict conditions decide. Each is a
    random signed permutation P of a matrix of one of three kinds, P M P.T:
    sigma_max = 1 > rho (a nilpotent shift), rho = 1 < sigma_max (upper triangular, a diagonal
    entry +-1), and sigma_max = rho = 1 (+-1 on the diagonal, or a rotation by 90 degrees)."""
    cases = []
    for kind in ("shift", "triangular", "diagonal", "rotation"):
        H = int(rng.integers(2, 6))
        if kind == "shift":
            M, what = np.diag(rng.choice([-1.0, 1.0], H - 1), 1), "sigma_max = 1, rho = 0"
        elif kind == "triangular":
            M = np.triu(rng.choice([-0.75, -0.5, 0.25, 0.5], (H, H)), 1)
            M += np.diag(np.r_[rng.choice([-1.0, 1.0]), rng.choice([-0.5, -0.25, 0.0, 0.5], H - 1)])
            what = "rho = 1, sigma_max > 1"
        else:
            M = np.diag(np.r_[rng.choice([-1.0, 1.0]),
                              rng.choice([-1.0, -0.5, 0.0, 0.25, 1.0], H - 1)])
            if kind == "rotation":
                M[:2, :2] = [[0.0, -1.0], [1.0, 0.0]]
            what = "sigma_max = rho = 1" + (" (a rotation by 90 degrees)" * (kind == "rotation"))
        P = np.eye(H)[rng.permutation(H)] * rng.choice([-1.0, 1.0], H)
        for nonlinearity in ("tanh", "relu", "sigmoid"):
            cases.append((P @ M @ P.T / GAMMA[nonlinearity], nonlinearity, "undetermined",
                          f"a {H}x{H} W_h ON the thresholds: gamma {what}"))
    return cases


def _regime(W_h, nonlinearity, mistake=None):
    """The prediction, or what a mistake makes of it."""
    gamma = 1.0 if mistake == "no_gamma" else GAMMA[nonlinearity]
    W = np.asarray(W_h, np.float64)
    eigenvalues = np.linalg.eigvals(W)
    rho = np.max(eigenvalues.real) if mistake == "real_part" else np.max(np.abs(eigenvalues))
    sigma = {"frobenius": np.linalg.norm(W), "radius_only": rho}.get(mistake, np.linalg.norm(W, 2))
    if gamma * sigma < 1 or (mistake == "closed_vanishing" and gamma * sigma == 1):
        return "vanishing"
    growth = gamma * (sigma if mistake == "sigma_explodes" else rho)
    if growth > 1 or (mistake == "closed_explosion" and growth == 1):
        return "explosion possible"
    return "undetermined"


REGIME_MISTAKES = {
    "no_gamma": "gamma, the activation's largest slope, is 1/4 for the sigmoid (1 for tanh and "
                "ReLU): the conditions read gamma * sigma_max and gamma * rho",
    "radius_only": "'vanishing' needs gamma * sigma_max < 1 with sigma_max the LARGEST SINGULAR "
                   "VALUE; a spectral radius below 1 does not force vanishing",
    "frobenius": "sigma_max is the largest singular value, np.linalg.norm(W, 2); yours looks like "
                 "the Frobenius norm (np.linalg.norm's default)",
    "sigma_explodes": "gamma * sigma_max > 1 is only necessary for growth: 'explosion possible' "
                      "needs gamma * rho > 1, rho the spectral radius",
    "real_part": "rho is the largest MODULUS of an eigenvalue, np.abs of the complex "
                 "eigenvalues: negative and complex eigenvalues count by their size",
    "closed_vanishing": "the conditions are strict: exactly at gamma * sigma_max = 1 the bound "
                        "does not shrink, so it is not 'vanishing' (< 1, not <= 1)",
    "closed_explosion": "the conditions are strict: exactly at gamma * rho = 1 nothing grows, so "
                        "it is not 'explosion possible' (> 1, not >= 1)",
}


def _regime_hint(got, W_h, nonlinearity):
    """The mistake the student's answer shows, or the rule."""
    if got not in ("vanishing", "explosion possible", "undetermined"):
        return ("the answer is one of 'vanishing', 'explosion possible', 'undetermined'"
                + (" ('explosion possible', not 'exploding': gamma rho > 1 makes growth "
                   "possible, not certain)" if got == "exploding" else ""))
    for mistake, why in REGIME_MISTAKES.items():
        if _regime(W_h, nonlinearity, mistake) == got:
            return why
    return ("'vanishing' if gamma * sigma_max < 1, else 'explosion possible' if gamma * rho > 1, "
            "else 'undetermined' (sigma_max the largest singular value, rho the largest modulus "
            "of an eigenvalue, gamma 1 for tanh and ReLU and 1/4 for the sigmoid)")


@question("test_predict_regime",
          forbid=("rnncore.dynamics:spectral_radius", "rnncore.dynamics:largest_singular_value",
                  "rnncore.dynamics:norm_bound"))
def predict_regime(student, ref, rng):
    cases = []
    # gamma sigma_max and gamma rho at least 3% away from 1, so rounding cannot decide a case
    # (the cases exactly on the thresholds are _boundaries', added below on every draw)
    for H, g_sigma, g_rho in [(4, 0.8, 0.8), (3, 0.9, 0.4), (5, 0.97, 0.6), (6, 1.5, 0.7),
                              (2, 3.0, 0.9), (4, 1.2, 0.97), (3, 1.04, 1.04), (5, 2.5, 1.5),
                              (1, 1.3, 1.3), (1, 0.6, 0.6), (7, 1.1, 1.05), (2, 1.6, 1.2)]:
        for nonlinearity in ("tanh", "relu", "sigmoid"):
            # sizes scaled by 1 / gamma, so that gamma * sigma and gamma * rho are as listed
            W_h = _with_sizes(rng, H, g_sigma / GAMMA[nonlinearity], g_rho / GAMMA[nonlinearity])
            expected = ("vanishing" if g_sigma < 1 else "explosion possible" if g_rho > 1
                        else "undetermined")
            cases.append((W_h, nonlinearity, expected,
                          f"a {H}x{H} W_h with gamma sigma_max = {g_sigma}, gamma rho = {g_rho}"))
    # the same matrices read with another activation's gamma
    W_h = _with_sizes(rng, 3, 3.0, 2.0)
    cases += [(W_h, "tanh", "explosion possible", "a 3x3 W_h with sigma_max = 3, rho = 2"),
              (W_h, "sigmoid", "vanishing", "a 3x3 W_h with sigma_max = 3, rho = 2")]
    W_h = _with_sizes(rng, 4, 6.0, 2.0)
    cases += [(W_h, "sigmoid", "undetermined", "a 4x4 W_h with sigma_max = 6, rho = 2"),
              (W_h, "relu", "explosion possible", "a 4x4 W_h with sigma_max = 6, rho = 2"),
              (W_h.T, "relu", "explosion possible", "the transpose of a 4x4 W_h with "
                                                    "sigma_max = 6, rho = 2")]
    # the dominant eigenvalues negative or complex: -W_h, and rotations in a plane
    for W_h, nonlinearity, expected, what in list(cases[::4]):
        cases.append((-W_h, nonlinearity, expected, "minus " + what))
    for H, angle, scale, nonlinearity, expected in [(3, 2.0, 1.2, "tanh", "explosion possible"),
                                                     (4, 2.5, 0.8, "relu", "vanishing"),
                                                     (2, 3.0, 4.4, "sigmoid",
                                                      "explosion possible"),
                                                     (3, 1.7, 0.9, "tanh", "vanishing")]:
        angle = angle + float(rng.uniform(-0.2, 0.2))
        Q, _ = np.linalg.qr(rng.normal(size=(H, H)))
        R = np.eye(H)
        R[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
        cases.append((scale * Q @ R @ Q.T, nonlinearity, expected,
                      f"{scale} times a {H}x{H} rotation by about {angle:.1f} rad"))
    cases += _boundaries(rng)
    for W_h, nonlinearity, expected, what in cases:
        if ref.predict_regime(W_h, nonlinearity) != expected:            # a bug of the question
            raise RuntimeError(f"the solution disagrees with the question about {what}")
        for W in (W_h, W_h.astype(np.float32)):
            label = what + (" (float32)" if W.dtype == np.float32 else "")
            try:
                got = expect_call(student, ref, "predict_regime", W, nonlinearity,
                                  where=f"for {label}")
            except CheckFailed as failure:
                if "changed its argument" in str(failure):
                    raise
                got = student.predict_regime(W, nonlinearity)
                raise CheckFailed(f"{failure} Hint: {_regime_hint(got, W, nonlinearity)}") from None
