"""Trusted questions of chapter 4's assignment: what each test cell's points are awarded for.

Each question calls the student's function in the sandbox on hidden inputs drawn from rng (other
shapes, seeds, activations, scales and dtypes than the visible tests) and compares the result
with the solution's; predict_regime is asked about matrices built with a chosen largest singular
value and spectral radius, on both sides of every threshold. The inputs of jacobian_norms are
drawn as the hidden tests drew theirs, among those where float32 arithmetic is accurate to
well within the tolerance (rarely not: saturated tanh units, products that nearly cancel),
so that a correct float32 answer cannot lose its points on an unlucky draw.

Whether the clipping functions leave their arguments alone is checked on the arguments as the
call left them (student.arguments_after(), see grader.engine.Student).
"""
import numpy as np

from grader.checks import expect, expect_close, question
from rnncore import rnn

TOL = dict(rtol=1e-4, atol=1e-5)
# Gradient norms shrink geometrically with the lag, so they are compared relative to their size.
NORM_TOL = dict(rtol=1e-4, atol=1e-12)



# --- jacobian_norms ------------------------------------------------------------------------------

def _float32_norms(params, xs, h0, nonlinearity):
    """The norms computed with every operation in float32: a probe of the inputs' conditioning."""
    f = np.float32
    W_h = params["W_h"].astype(f)
    hs, _ = rnn.forward({k: v.astype(f) for k, v in params.items()}, xs.astype(f), h0.astype(f),
                        nonlinearity)
    slopes = f(1) - hs ** 2 if nonlinearity == "tanh" else (hs > 0).astype(f)
    T, B, H = hs.shape
    P = np.broadcast_to(np.eye(H, dtype=f), (B, H, H))
    norms = [np.ones(B, dtype=f)]
    for k in range(1, T + 1):
        P = P @ (slopes[T - k][:, :, None] * W_h.T)
        norms.append(np.linalg.norm(P, ord=2, axis=(1, 2)))
    return np.stack(norms)


def _well_conditioned(rng, ref, T, B, D, H, nonlinearity, scale):
    """Inputs as the hidden tests drew them, redrawn (rarely: saturated tanh units, products of
    Jacobians that nearly cancel) until float32 arithmetic gives the norms to 1e-5 relative, ten
    times better than the tolerance, so that a correct float32 answer cannot fail."""
    for _ in range(200):
        params = {"W_x": rng.normal(0.0, 0.5, (D, H)),
                  "W_h": rng.normal(0.0, scale / np.sqrt(H), (H, H)),
                  "b_h": rng.normal(0.0, 0.3, H)}
        xs, h0 = rng.normal(size=(T, B, D)), np.tanh(rng.normal(size=(B, H)))
        with np.errstate(all="ignore"):
            probe = _float32_norms(params, xs, h0, nonlinearity)
            exact = ref.jacobian_norms(params, xs, h0, nonlinearity)
        if np.allclose(probe, exact, rtol=1e-5, atol=1e-13):
            break
    return params, xs, h0


@question("test_jacobian_norms")
def jacobian_norms(student, ref, rng):
    hint = ("norms[k] is the spectral norm of J_T J_(T-1) ... J_(T-k+1), with J_t = "
            "diag(f'(z_t)) W_h.T and f'(z_t) from h_t (1 - h_t**2 for tanh, h_t > 0 for ReLU); "
            "norms[0] = 1 and the index is the lag k, counted back from the last step")
    for (T, B, D, H), nonlinearity, scale in [
            ((6, 3, 2, 4), "tanh", 1.2), ((1, 2, 3, 2), "tanh", 1.0), ((12, 1, 2, 5), "tanh", 1.5),
            ((7, 2, 3, 3), "relu", 1.3), ((9, 4, 1, 6), "relu", 1.6), ((5, 2, 2, 1), "tanh", 2.0),
            ((8, 3, 2, 3), "tanh", 0.6), ((4, 1, 1, 1), "relu", 0.9)]:
        params, xs, h0 = _well_conditioned(rng, ref, T, B, D, H, nonlinearity, scale)
        expect_close(student.jacobian_norms(params, xs, h0, nonlinearity),
                     ref.jacobian_norms(params, xs, h0, nonlinearity),
                     f"jacobian_norms(params, xs, h0, {nonlinearity!r}) for T={T}, B={B}, D={D}, "
                     f"H={H} (index: lag k, sequence b)", **NORM_TOL, hint=hint)


# --- clip_by_norm --------------------------------------------------------------------------------

def _expect_dict(got, want, call, hint):
    """got: the clipped gradients returned by call; want: the solution's."""
    expect(isinstance(got, dict) and set(got) == set(want),
           f"the clipped gradients returned by {call} should be a dict with the keys "
           f"{sorted(want)}, not " + (f"one with the keys {sorted(got)}" if isinstance(got, dict)
                                     else f"a {type(got).__name__}") + f". Hint: {hint}")
    for name in want:
        expect_close(got[name], want[name], f"clipped[{name!r}] returned by {call}", **TOL,
                     hint=hint)


def _expect_pair(got, call):
    expect(isinstance(got, (tuple, list)) and len(got) == 2,
           f"{call} should return the pair (clipped, norm), not "
           + (f"{len(got)} values" if isinstance(got, (tuple, list))
              else f"a {type(got).__name__}"))
    return got


def _grads(rng, shapes, dtype, size=1.0):
    return {k: (size * rng.normal(size=shape)).astype(dtype) for k, shape in shapes.items()}


def _global_norm(grads):
    return float(np.sqrt(sum(np.sum(np.asarray(g, np.float64) ** 2) for g in grads.values())))


@question("test_clip_by_norm")
def clip_by_norm(student, ref, rng):
    hint = ("the global norm is sqrt of the sum of g**2 over EVERY entry of EVERY array; if it "
            "exceeds max_norm, multiply every array by max_norm / norm, otherwise leave them; "
            "return a new dict and the norm before clipping")
    untouched = "do not change the arrays you were given (g *= ... writes into them): build " \
                "new ones, g * scale"
    # max_norm below the norm (clipped), above it (left alone); several arrays, other dtypes.
    for shapes, ratio, dtype in [
            ({"W_x": (3, 4), "W_h": (4, 4), "b_h": (4,)}, 0.3, np.float64),
            ({"W_x": (2, 5), "W_h": (5, 5), "b_h": (5,), "W_y": (5, 3), "b_y": (3,)}, 4.0,
             np.float64),
            ({"W": (6, 2)}, 0.5, np.float64),
            ({"a": (2, 3, 4), "b": (1,)}, 0.7, np.float32),
            ({"W_h": (3, 3), "b_h": (3,)}, 1.5, np.float64),
            ({"W_x": (1, 7), "W_h": (7, 7), "b_h": (7,)}, float(rng.uniform(0.05, 0.9)),
             np.float64)]:
        grads = _grads(rng, shapes, dtype, float(rng.uniform(0.1, 3.0)))
        c = float(ratio * _global_norm(grads))
        side = "above" if ratio < 1 else "below"
        call = f"clip_by_norm(grads, max_norm) for arrays of shapes {shapes} ({np.dtype(dtype)}) " \
               f"whose norm is {side} max_norm"
        want_clipped, want_norm = ref.clip_by_norm(grads, c)
        got, (grads_after, _), _ = student.arguments_after().clip_by_norm(grads, c)
        clipped, norm = _expect_pair(got, call)
        expect_close(norm, want_norm, f"the norm returned by {call}", **TOL, hint=hint)
        _expect_dict(clipped, want_clipped, call, hint)
        expect(isinstance(grads_after, dict) and set(grads_after) == set(grads),
               f"{call} changed the keys of the dict it was given. Hint: {untouched}")
        for name in grads:
            expect_close(grads_after[name], grads[name], f"the input grads[{name!r}] after "
                         f"{call}", rtol=0, atol=0, hint=untouched)
        # Clipping by norm only shortens: the clipped gradient has norm min(norm, max_norm).
        expect_close(_global_norm(clipped), min(want_norm, c), f"the norm of the clipped "
                     f"gradients of {call}", **TOL, hint=hint)

    # A zero gradient comes back unchanged, with norm 0 (no division by a zero norm).
    zero = {"W_h": np.zeros((2, 2)), "b_h": np.zeros(2)}
    clipped, norm = _expect_pair(student.clip_by_norm(zero, 1.0), "clip_by_norm(grads, 1.0) "
                                                                  "for a zero gradient")
    expect_close(norm, 0.0, "the norm returned by clip_by_norm(grads, 1.0) for a zero gradient",
                 **TOL, hint="the norm of zeros is 0")
    _expect_dict(clipped, zero, "clip_by_norm(grads, 1.0) for a zero gradient",
                 "a zero gradient comes back unchanged: avoid dividing by a zero norm")


# --- clip_elementwise ----------------------------------------------------------------------------

@question("test_clip_elementwise")
def clip_elementwise(student, ref, rng):
    hint = ("clip each entry on its own into [-max_value, max_value] (np.clip), both signs; the "
            "norm returned is the global norm of the gradient BEFORE clipping")
    for shapes, c, dtype in [
            ({"W_x": (3, 4), "W_h": (4, 4), "b_h": (4,)}, 0.5, np.float64),
            ({"W": (5, 2), "b": (2,), "W_y": (2, 3)}, 0.05, np.float64),
            ({"a": (2, 3, 4)}, 10.0, np.float64),
            ({"W_h": (6, 6), "b_h": (6,)}, 0.3, np.float32),
            ({"W_x": (2, 3), "W_h": (3, 3)}, float(rng.uniform(0.2, 1.5)), np.float64)]:
        grads = _grads(rng, shapes, dtype)
        call = f"clip_elementwise(grads, max_value) for arrays of shapes {shapes} " \
               f"({np.dtype(dtype)}), max_value {c:.3g}"
        want_clipped, want_norm = ref.clip_elementwise(grads, c)
        got, (grads_after, _), _ = student.arguments_after().clip_elementwise(grads, c)
        clipped, norm = _expect_pair(got, call)
        _expect_dict(clipped, want_clipped, call, hint)
        expect_close(norm, want_norm, f"the norm returned by {call}", **TOL, hint=hint)
        expect(isinstance(grads_after, dict) and set(grads_after) == set(grads),
               f"{call} changed the keys of the dict it was given. Hint: return a new dict")
        for name in grads:
            expect_close(grads_after[name], grads[name], f"the input grads[{name!r}] after "
                         f"{call}", rtol=0, atol=0, hint="do not change the arrays you were "
                                                         "given: return new ones")


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


@question("test_predict_regime")
def predict_regime(student, ref, rng):
    gamma = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}
    cases = []
    # gamma sigma_max and gamma rho at least 3% away from 1, so rounding cannot decide a case
    for H, g_sigma, g_rho in [(4, 0.8, 0.8), (3, 0.9, 0.4), (5, 0.97, 0.6), (6, 1.5, 0.7),
                              (2, 3.0, 0.9), (4, 1.2, 0.97), (3, 1.04, 1.04), (5, 2.5, 1.5),
                              (1, 1.3, 1.3), (1, 0.6, 0.6), (7, 1.1, 1.05), (2, 1.6, 1.2)]:
        for nonlinearity in ("tanh", "relu", "sigmoid"):
            # sizes scaled by 1 / gamma, so that gamma * sigma and gamma * rho are as listed
            W_h = _with_sizes(rng, H, g_sigma / gamma[nonlinearity], g_rho / gamma[nonlinearity])
            expected = "vanishing" if g_sigma < 1 else "exploding" if g_rho > 1 else "undetermined"
            cases.append((W_h, nonlinearity, expected,
                          f"a {H}x{H} W_h with gamma sigma_max = {g_sigma}, gamma rho = {g_rho}"))
    # the same matrices read with another activation's gamma
    W_h = _with_sizes(rng, 3, 3.0, 2.0)
    cases += [(W_h, "tanh", "exploding", "a 3x3 W_h with sigma_max = 3, rho = 2"),
              (W_h, "sigmoid", "vanishing", "a 3x3 W_h with sigma_max = 3, rho = 2")]
    W_h = _with_sizes(rng, 4, 6.0, 2.0)
    cases += [(W_h, "sigmoid", "undetermined", "a 4x4 W_h with sigma_max = 6, rho = 2"),
              (W_h, "relu", "exploding", "a 4x4 W_h with sigma_max = 6, rho = 2"),
              (W_h.T, "relu", "exploding", "the transpose of a 4x4 W_h with sigma_max = 6, "
                                           "rho = 2")]
    # the dominant eigenvalues negative or complex: -W_h, and rotations in a plane
    for W_h, nonlinearity, expected, what in list(cases[::4]):
        cases.append((-W_h, nonlinearity, expected, "minus " + what))
    for H, angle, scale, nonlinearity, expected in [(3, 2.0, 1.2, "tanh", "exploding"),
                                                     (4, 2.5, 0.8, "relu", "vanishing"),
                                                     (2, 3.0, 4.4, "sigmoid", "exploding"),
                                                     (3, 1.7, 0.9, "tanh", "vanishing")]:
        angle = angle + float(rng.uniform(-0.2, 0.2))
        Q, _ = np.linalg.qr(rng.normal(size=(H, H)))
        R = np.eye(H)
        R[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
        cases.append((scale * Q @ R @ Q.T, nonlinearity, expected,
                      f"{scale} times a {H}x{H} rotation by about {angle:.1f} rad"))
    for W_h, nonlinearity, expected, what in cases:
        if ref.predict_regime(W_h, nonlinearity) != expected:            # a bug of the question
            raise RuntimeError(f"the solution disagrees with the question about {what}")
        for W in (W_h, W_h.astype(np.float32)):
            label = what + (" (float32)" if W.dtype == np.float32 else "")
            got = student.predict_regime(W, nonlinearity)
            expect(got == expected,
                   f"predict_regime(W_h, {nonlinearity!r}) for {label} returned {got!r:.40}, "
                   f"expected {expected!r}. Hint: gamma is 1 for tanh and ReLU and 1/4 for the "
                   f"sigmoid; 'vanishing' needs gamma * sigma_max < 1 (the largest singular "
                   f"value, not the spectral radius nor another norm), 'exploding' needs "
                   f"gamma * rho > 1 (rho the largest modulus of an eigenvalue), anything else "
                   f"is 'undetermined'")
