"""Wrong and alternative answers for ch04_limitations (see tests/course/answers/__init__.py)."""
from answers import Alternative, Wrong, code as _code

# ---------------------------------------------------------------------------------------------
# Chapter 4: jacobian_norms, clip_by_norm, clip_elementwise, predict_regime
# ---------------------------------------------------------------------------------------------
WRONG = [
    Wrong("jacobian_norms", "no_slope", "forgets the activation's slope: powers of W_h.T only",
          _code("""
        def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
            T, B = xs.shape[:2]
            H = params["W_h"].shape[0]
            P = np.broadcast_to(np.eye(H), (B, H, H))
            norms = [np.ones(B)]
            for k in range(1, T + 1):
                P = P @ params["W_h"].T
                norms.append(np.linalg.norm(P, ord=2, axis=(1, 2)))
            return np.stack(norms)
        """)),
    Wrong("jacobian_norms", "frobenius", "takes the Frobenius norm (np.linalg.norm's default)",
          _code("""
        def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
            hs, _ = rnn.forward(params, xs, h0, nonlinearity)
            slopes = 1.0 - hs ** 2 if nonlinearity == "tanh" else (hs > 0).astype(hs.dtype)
            T, B, H = hs.shape
            P = np.broadcast_to(np.eye(H), (B, H, H))
            norms = [np.ones(B)]
            for k in range(1, T + 1):
                P = P @ (slopes[T - k][:, :, None] * params["W_h"].T)
                norms.append(np.linalg.norm(P, axis=(1, 2)))
            return np.stack(norms)
        """)),
    Wrong("jacobian_norms", "indexed_by_t", "returns the norms in time order (index t), not by lag",
          _code("""
        def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
            hs, _ = rnn.forward(params, xs, h0, nonlinearity)
            slopes = 1.0 - hs ** 2 if nonlinearity == "tanh" else (hs > 0).astype(hs.dtype)
            T, B, H = hs.shape
            P = np.broadcast_to(np.eye(H), (B, H, H))
            norms = [np.ones(B)]
            for k in range(1, T + 1):
                P = P @ (slopes[T - k][:, :, None] * params["W_h"].T)
                norms.append(np.linalg.norm(P, ord=2, axis=(1, 2)))
            return np.stack(norms)[::-1]
        """)),
    Wrong("jacobian_norms", "wrong_order", "multiplies each new Jacobian on the left: J P",
          _code("""
        def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
            hs, _ = rnn.forward(params, xs, h0, nonlinearity)
            slopes = 1.0 - hs ** 2 if nonlinearity == "tanh" else (hs > 0).astype(hs.dtype)
            T, B, H = hs.shape
            P = np.broadcast_to(np.eye(H), (B, H, H))
            norms = [np.ones(B)]
            for k in range(1, T + 1):
                P = (slopes[T - k][:, :, None] * params["W_h"].T) @ P
                norms.append(np.linalg.norm(P, ord=2, axis=(1, 2)))
            return np.stack(norms)
        """)),
    Wrong("jacobian_norms", "slope_one_step_early",
          "takes the slope of step t from h_{t-1}, the state before the step", _code("""
        def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
            hs, _ = rnn.forward(params, xs, h0, nonlinearity)
            states = np.concatenate([h0[None], hs[:-1]])       # h_0 .. h_{T-1}
            slopes = 1.0 - states ** 2 if nonlinearity == "tanh" else (states > 0) * 1.0
            T, B, H = hs.shape
            P = np.broadcast_to(np.eye(H), (B, H, H))
            norms = [np.ones(B)]
            for k in range(1, T + 1):
                P = P @ (slopes[T - k][:, :, None] * params["W_h"].T)
                norms.append(np.linalg.norm(P, ord=2, axis=(1, 2)))
            return np.stack(norms)
        """)),
    Wrong("jacobian_norms", "W_h_not_transposed", "J_t = diag(f') W_h, the book's form with the "
          "code's matrix", _code("""
        def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
            hs, _ = rnn.forward(params, xs, h0, nonlinearity)
            slopes = 1.0 - hs ** 2 if nonlinearity == "tanh" else (hs > 0).astype(hs.dtype)
            T, B, H = hs.shape
            P = np.broadcast_to(np.eye(H), (B, H, H))
            norms = [np.ones(B)]
            for k in range(1, T + 1):
                P = P @ (slopes[T - k][:, :, None] * params["W_h"])
                norms.append(np.linalg.norm(P, ord=2, axis=(1, 2)))
            return np.stack(norms)
        """)),
    Wrong("clip_by_norm", "per_array", "clips each array by its own norm", _code("""
        def clip_by_norm(grads, max_norm):
            norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
            clipped = {}
            for name, g in grads.items():
                n = np.sqrt(np.sum(g ** 2))
                clipped[name] = g * (max_norm / n) if n > max_norm else g
            return clipped, norm
        """)),
    Wrong("clip_by_norm", "always_rescale", "rescales to length max_norm even when shorter",
          _code("""
        def clip_by_norm(grads, max_norm):
            norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
            return {name: g * max_norm / norm for name, g in grads.items()}, norm
        """)),
    Wrong("clip_by_norm", "norm_after", "returns the norm after clipping", _code("""
        def clip_by_norm(grads, max_norm):
            norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
            scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
            return {name: g * scale for name, g in grads.items()}, norm * scale
        """)),
    Wrong("clip_by_norm", "in_place", "scales the given arrays in place (g *= scale)", _code("""
        def clip_by_norm(grads, max_norm):
            norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
            if norm > max_norm:
                for g in grads.values():
                    g *= max_norm / norm
            return grads, norm
        """)),
    Wrong("clip_elementwise", "upper_only", "clips only from above: np.minimum(g, c)", _code("""
        def clip_elementwise(grads, max_value):
            norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
            return {name: np.minimum(g, max_value) for name, g in grads.items()}, norm
        """)),
    Wrong("clip_elementwise", "rescale_largest",
          "rescales each array so that its largest entry is max_value (keeps the direction)",
          _code("""
        def clip_elementwise(grads, max_value):
            norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
            clipped = {}
            for name, g in grads.items():
                largest = np.max(np.abs(g))
                clipped[name] = g * (max_value / largest) if largest > max_value else g
            return clipped, norm
        """)),
    Wrong("clip_elementwise", "norm_after", "returns the norm after clipping", _code("""
        def clip_elementwise(grads, max_value):
            clipped = {name: np.clip(g, -max_value, max_value) for name, g in grads.items()}
            return clipped, float(np.sqrt(sum(np.sum(g ** 2) for g in clipped.values())))
        """)),
    Wrong("clip_elementwise", "loses_sign", "clips the absolute values: np.clip(np.abs(g), 0, c)",
          _code("""
        def clip_elementwise(grads, max_value):
            norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
            return {name: np.clip(np.abs(g), 0, max_value) for name, g in grads.items()}, norm
        """)),
    Wrong("predict_regime", "radius_only",
          "uses the spectral radius for both conditions (rho < 1/gamma: vanishing)", _code("""
        def predict_regime(W_h, nonlinearity="tanh"):
            gamma = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}[nonlinearity]
            rho = np.max(np.abs(np.linalg.eigvals(W_h)))
            if gamma * rho < 1:
                return "vanishing"
            if gamma * rho > 1:
                return "explosion possible"
            return "undetermined"
        """)),
    Wrong("predict_regime", "no_gamma", "ignores the activation: gamma = 1 for the sigmoid too",
          _code("""
        def predict_regime(W_h, nonlinearity="tanh"):
            sigma_max = np.linalg.norm(W_h, ord=2)
            rho = np.max(np.abs(np.linalg.eigvals(W_h)))
            if sigma_max < 1:
                return "vanishing"
            if rho > 1:
                return "explosion possible"
            return "undetermined"
        """)),
    Wrong("predict_regime", "sigma_explodes",
          "reads the necessary condition gamma sigma_max > 1 as a prediction of exploding",
          _code("""
        def predict_regime(W_h, nonlinearity="tanh"):
            gamma = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}[nonlinearity]
            sigma_max = np.linalg.norm(W_h, ord=2)
            if gamma * sigma_max < 1:
                return "vanishing"
            if gamma * sigma_max > 1:
                return "explosion possible"
            return "undetermined"
        """)),
    Wrong("predict_regime", "frobenius", "uses the Frobenius norm for sigma_max", _code("""
        def predict_regime(W_h, nonlinearity="tanh"):
            gamma = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}[nonlinearity]
            if gamma * np.linalg.norm(W_h) < 1:
                return "vanishing"
            if gamma * np.max(np.abs(np.linalg.eigvals(W_h))) > 1:
                return "explosion possible"
            return "undetermined"
        """)),
    Wrong("predict_regime", "real_part", "takes the largest real part of an eigenvalue, not the "
          "largest modulus",
          _code("""
        def predict_regime(W_h, nonlinearity="tanh"):
            gamma = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}[nonlinearity]
            if gamma * np.linalg.norm(W_h, ord=2) < 1:
                return "vanishing"
            if gamma * np.max(np.linalg.eigvals(W_h).real) > 1:
                return "explosion possible"
            return "undetermined"
        """)),
    Wrong("jacobian_norms", "imports_gradient_norms", "calls the library's "
          "dynamics.gradient_norms", _code("""
        from rnncore import dynamics

        def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
            return dynamics.gradient_norms(params, xs, h0, nonlinearity)
        """)),
    Wrong("jacobian_norms", "relu_ge", "ReLU's slope as (h >= 0): inactive units (h = 0) pass "
          "the gradient", _code("""
        def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
            hs, _ = rnn.forward(params, xs, h0, nonlinearity)
            slopes = 1.0 - hs ** 2 if nonlinearity == "tanh" else (hs >= 0).astype(hs.dtype)
            T, B, H = hs.shape
            P = np.broadcast_to(np.eye(H), (B, H, H))
            norms = [np.ones(B)]
            for k in range(1, T + 1):
                P = P @ (slopes[T - k][:, :, None] * params["W_h"].T)
                norms.append(np.linalg.norm(P, ord=2, axis=(1, 2)))
            return np.stack(norms)
        """)),
    Wrong("jacobian_norms", "skips_last_lag", "range(1, T): the product through every step "
          "(lag T) is missing", _code("""
        def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
            hs, _ = rnn.forward(params, xs, h0, nonlinearity)
            slopes = 1.0 - hs ** 2 if nonlinearity == "tanh" else (hs > 0).astype(hs.dtype)
            T, B, H = hs.shape
            P = np.broadcast_to(np.eye(H), (B, H, H))
            norms = [np.ones(B)]
            for k in range(1, T):
                P = P @ (slopes[T - k][:, :, None] * params["W_h"].T)
                norms.append(np.linalg.norm(P, ord=2, axis=(1, 2)))
            return np.stack(norms)
        """)),
    Wrong("clip_by_norm", "imports_clip_by_global_norm", "calls the library's "
          "optim.clip_by_global_norm", _code("""
        from rnncore import optim

        def clip_by_norm(grads, max_norm):
            return optim.clip_by_global_norm(grads, max_norm)
        """)),
    Wrong("clip_by_norm", "zero_division", "divides by the norm even when it is 0: "
          "min(1, max_norm / norm) fails for a zero gradient", _code("""
        def clip_by_norm(grads, max_norm):
            norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
            scale = min(1.0, max_norm / norm)
            return {name: g * scale for name, g in grads.items()}, norm
        """)),
    Wrong("clip_by_norm", "norm_squared", "returns the sum of the squares as the norm (forgets "
          "the square root there)", _code("""
        def clip_by_norm(grads, max_norm):
            squares = sum(np.sum(g ** 2) for g in grads.values())
            norm = np.sqrt(squares)
            scale = max_norm / norm if norm > max_norm else 1.0
            return {name: g * scale for name, g in grads.items()}, squares
        """)),
    Wrong("clip_elementwise", "imports_clip_elementwise", "calls the library's "
          "optim.clip_elementwise", _code("""
        from rnncore.optim import clip_elementwise
        """)),
    Wrong("clip_elementwise", "in_place", "clips into the given arrays: np.clip(g, -c, c, out=g)",
          _code("""
        def clip_elementwise(grads, max_value):
            norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
            return {name: np.clip(g, -max_value, max_value, out=g)
                    for name, g in grads.items()}, norm
        """)),
    Wrong("predict_regime", "imports_spectral_radius", "uses the library's "
          "dynamics.spectral_radius and largest_singular_value", _code("""
        from rnncore import dynamics

        def predict_regime(W_h, nonlinearity="tanh"):
            gamma = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}[nonlinearity]
            if gamma * dynamics.largest_singular_value(W_h) < 1:
                return "vanishing"
            if gamma * dynamics.spectral_radius(W_h) > 1:
                return "explosion possible"
            return "undetermined"
        """)),
    Wrong("predict_regime", "old_label", "returns 'exploding', the label before the chapter "
          "said growth is only possible", _code("""
        def predict_regime(W_h, nonlinearity="tanh"):
            gamma = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}[nonlinearity]
            if gamma * np.linalg.norm(W_h, ord=2) < 1:
                return "vanishing"
            if gamma * np.max(np.abs(np.linalg.eigvals(W_h))) > 1:
                return "exploding"
            return "undetermined"
        """)),
    Wrong("predict_regime", "scales_in_place", "scales the caller's matrix by gamma in place "
          "(W_h *= gamma), then reads the conditions without gamma", _code("""
        def predict_regime(W_h, nonlinearity="tanh"):
            W_h *= {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}[nonlinearity]
            if np.linalg.norm(W_h, ord=2) < 1:
                return "vanishing"
            if np.max(np.abs(np.linalg.eigvals(W_h))) > 1:
                return "explosion possible"
            return "undetermined"
        """)),
    Wrong("jacobian_norms", "autograd_jacobian", "takes each Jacobian from autograd.jacobian "
          "through rnn.forward_reference, as the test cell's witness does, instead of the "
          "product of the steps' Jacobians", _code("""
        def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
            hs, _ = rnn.forward(params, xs, h0, nonlinearity)
            states = [h0] + list(hs)
            T, B = len(xs), h0.shape[0]
            norms = np.ones((T + 1, B))
            for k in range(1, T + 1):
                jac = autograd.jacobian(lambda h: rnn.forward_reference(
                    params, xs[T - k:], h, nonlinearity)[1])(states[T - k])
                norms[k] = [np.linalg.norm(jac[b, :, b, :], ord=2) for b in range(B)]
            return norms
        """)),
    Wrong("predict_regime", "closed_vanishing", "gamma * sigma_max <= 1 for 'vanishing': a "
          "matrix exactly on the threshold is called vanishing", _code("""
        def predict_regime(W_h, nonlinearity="tanh"):
            gamma = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}[nonlinearity]
            sigma = np.linalg.norm(W_h, 2)
            rho = np.max(np.abs(np.linalg.eigvals(W_h)))
            if gamma * sigma <= 1:
                return "vanishing"
            if gamma * rho > 1:
                return "explosion possible"
            return "undetermined"
        """)),
    Wrong("predict_regime", "closed_explosion", "gamma * rho >= 1 for 'explosion possible': a "
          "matrix exactly on the threshold is called explosive", _code("""
        def predict_regime(W_h, nonlinearity="tanh"):
            gamma = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}[nonlinearity]
            sigma = np.linalg.norm(W_h, 2)
            rho = np.max(np.abs(np.linalg.eigvals(W_h)))
            if gamma * sigma < 1:
                return "vanishing"
            if gamma * rho >= 1:
                return "explosion possible"
            return "undetermined"
        """)),
    # --- added by the red team: more plausible mistakes -------------------------------------
    Wrong("jacobian_norms", "norms_a_list", "appends each lag's norms to a list and forgets "
                                           "np.stack: a list of T + 1 arrays, not (T + 1, B)",
          _code("""
        def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
            hs, _ = rnn.forward(params, xs, h0, nonlinearity)
            slopes = 1.0 - hs ** 2 if nonlinearity == "tanh" else (hs > 0).astype(hs.dtype)
            T, B, H = hs.shape
            P = np.broadcast_to(np.eye(H), (B, H, H))
            norms = [np.ones(B)]
            for k in range(1, T + 1):
                P = P @ (slopes[T - k][:, :, None] * params["W_h"].T)
                norms.append(np.linalg.norm(P, ord=2, axis=(1, 2)))
            return norms
        """)),
    Wrong("jacobian_norms", "forward_tanh_always", "forgets to pass nonlinearity to rnn.forward: "
                                                   "the states are tanh's, the slopes ReLU's",
          _code("""
        def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
            hs, _ = rnn.forward(params, xs, h0)
            slopes = 1.0 - hs ** 2 if nonlinearity == "tanh" else (hs > 0).astype(hs.dtype)
            T, B, H = hs.shape
            P = np.broadcast_to(np.eye(H), (B, H, H))
            norms = [np.ones(B)]
            for k in range(1, T + 1):
                P = P @ (slopes[T - k][:, :, None] * params["W_h"].T)
                norms.append(np.linalg.norm(P, ord=2, axis=(1, 2)))
            return np.stack(norms)
        """)),
    Wrong("jacobian_norms", "forward_from_zeros", "forgets to pass h0 to rnn.forward, so the "
                                                  "states start from zeros", _code("""
        def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
            hs, _ = rnn.forward(params, xs, None, nonlinearity)
            slopes = 1.0 - hs ** 2 if nonlinearity == "tanh" else (hs > 0).astype(hs.dtype)
            T, B, H = hs.shape
            P = np.broadcast_to(np.eye(H), (B, H, H))
            norms = [np.ones(B)]
            for k in range(1, T + 1):
                P = P @ (slopes[T - k][:, :, None] * params["W_h"].T)
                norms.append(np.linalg.norm(P, ord=2, axis=(1, 2)))
            return np.stack(norms)
        """)),
    Wrong("jacobian_norms", "spectral_radius", "takes the spectral radius of each product (its "
                                               "largest |eigenvalue|) for its norm, the chapter's "
                                               "other quantity", _code("""
        def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
            hs, _ = rnn.forward(params, xs, h0, nonlinearity)
            slopes = 1.0 - hs ** 2 if nonlinearity == "tanh" else (hs > 0).astype(hs.dtype)
            T, B, H = hs.shape
            P = np.broadcast_to(np.eye(H), (B, H, H))
            norms = [np.ones(B)]
            for k in range(1, T + 1):
                P = P @ (slopes[T - k][:, :, None] * params["W_h"].T)
                norms.append(np.abs(np.linalg.eigvals(P)).max(axis=-1))
            return np.stack(norms)
        """)),
    Wrong("jacobian_norms", "first_sequence_slopes", "builds diag(f') with np.diag from the first "
                                                     "sequence's slopes, for the whole batch",
          _code("""
        def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
            hs, _ = rnn.forward(params, xs, h0, nonlinearity)
            slopes = 1.0 - hs ** 2 if nonlinearity == "tanh" else (hs > 0).astype(hs.dtype)
            T, B, H = hs.shape
            P = np.eye(H)
            norms = [np.ones(B)]
            for k in range(1, T + 1):
                P = P @ np.diag(slopes[T - k][0]) @ params["W_h"].T
                norms.append(np.full(B, np.linalg.norm(P, ord=2)))
            return np.stack(norms)
        """)),
    Wrong("clip_by_norm", "sum_of_norms", "adds up the arrays' norms instead of taking the norm "
                                          "of all the entries together", _code("""
        def clip_by_norm(grads, max_norm):
            norm = float(sum(np.linalg.norm(g) for g in grads.values()))
            scale = max_norm / norm if norm > max_norm else 1.0
            return {name: g * scale for name, g in grads.items()}, norm
        """)),
    Wrong("clip_by_norm", "shallow_copy_in_place", "makes the 'new dict' with grads.copy() and "
                                                   "scales its arrays in place: they are the "
                                                   "caller's arrays", _code("""
        def clip_by_norm(grads, max_norm):
            norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
            clipped = grads.copy()
            if norm > max_norm:
                for g in clipped.values():
                    g *= max_norm / norm
            return clipped, norm
        """)),
    Wrong("clip_by_norm", "spectral_norms", "uses np.linalg.norm(g, 2), the spectral norm, for "
                                            "each matrix (exercise 1's ord=2)", _code("""
        def clip_by_norm(grads, max_norm):
            norm = float(np.sqrt(sum(np.linalg.norm(g, 2) ** 2 for g in grads.values())))
            scale = max_norm / norm if norm > max_norm else 1.0
            return {name: g * scale for name, g in grads.items()}, norm
        """)),
    Wrong("clip_elementwise", "last_array_norm", "overwrites the norm in the loop: returns the "
                                                 "norm of the last array only", _code("""
        def clip_elementwise(grads, max_value):
            clipped = {}
            for name, g in grads.items():
                norm = float(np.sqrt(np.sum(g ** 2)))
                clipped[name] = np.clip(g, -max_value, max_value)
            return clipped, norm
        """)),
    Wrong("clip_elementwise", "clips_to_sign", "sets every entry beyond c to +-c but every entry "
                                               "inside to 0 (np.sign(g) * c where |g| > c, "
                                               "else 0)", _code("""
        def clip_elementwise(grads, max_value):
            norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
            return {name: np.where(np.abs(g) > max_value, np.sign(g) * max_value, 0.0)
                    for name, g in grads.items()}, norm
        """)),
    Wrong("predict_regime", "eigvalsh", "takes the eigenvalues with np.linalg.eigvalsh, which "
                                        "assumes a symmetric matrix and reads only its lower "
                                        "triangle", _code("""
        def predict_regime(W_h, nonlinearity="tanh"):
            gamma = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}[nonlinearity]
            sigma_max = np.linalg.norm(W_h, ord=2)
            rho = np.max(np.abs(np.linalg.eigvalsh(W_h)))
            if gamma * sigma_max < 1:
                return "vanishing"
            if gamma * rho > 1:
                return "explosion possible"
            return "undetermined"
        """)),
    Wrong("predict_regime", "sigmoid_half", "takes the sigmoid's largest slope as 1/2 "
                                            "(mixing it up with sigmoid(0))", _code("""
        def predict_regime(W_h, nonlinearity="tanh"):
            gamma = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.5}[nonlinearity]
            sigma_max = np.linalg.norm(W_h, ord=2)
            rho = np.max(np.abs(np.linalg.eigvals(W_h)))
            if gamma * sigma_max < 1:
                return "vanishing"
            if gamma * rho > 1:
                return "explosion possible"
            return "undetermined"
        """)),
    Wrong("predict_regime", "np_where_array", "decides with nested np.where, which returns a "
                                              "0-d numpy array of text, not a str", _code("""
        def predict_regime(W_h, nonlinearity="tanh"):
            gamma = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}[nonlinearity]
            sigma_max = np.linalg.norm(W_h, ord=2)
            rho = np.max(np.abs(np.linalg.eigvals(W_h)))
            return np.where(gamma * sigma_max < 1, "vanishing",
                            np.where(gamma * rho > 1, "explosion possible", "undetermined"))
        """)),
    Wrong("jacobian_norms", "slope_tanh_of_h", "takes tanh' as 1 - tanh(h)^2, applying tanh to "
                                               "the state again", _code("""
        def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
            hs, _ = rnn.forward(params, xs, h0, nonlinearity)
            slopes = 1.0 - np.tanh(hs) ** 2 if nonlinearity == "tanh" else (hs > 0).astype(float)
            T, B, H = hs.shape
            P = np.broadcast_to(np.eye(H), (B, H, H))
            norms = [np.ones(B)]
            for k in range(1, T + 1):
                P = P @ (slopes[T - k][:, :, None] * params["W_h"].T)
                norms.append(np.linalg.norm(P, ord=2, axis=(1, 2)))
            return np.stack(norms)
        """)),
    Wrong("clip_by_norm", "rebinds_callers_dict", "writes the scaled arrays back into the "
                                                  "caller's dict (grads[name] = ...) and returns "
                                                  "it: the arrays are new, the dict is not",
          _code("""
        def clip_by_norm(grads, max_norm):
            norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
            if norm > max_norm:
                for name in grads:
                    grads[name] = grads[name] * (max_norm / norm)
            return grads, norm
        """)),
    Wrong("clip_elementwise", "rebinds_callers_dict", "writes the clipped arrays back into the "
                                                      "caller's dict and returns it", _code("""
        def clip_elementwise(grads, max_value):
            norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
            for name in grads:
                grads[name] = np.clip(grads[name], -max_value, max_value)
            return grads, norm
        """)),
]

ALTERNATIVES = [
    Alternative("loops_and_svd", "each product rebuilt from scratch for each sequence with "
                "np.linalg.svd; clipping through one concatenated vector split back into arrays "
                "and through np.where; sigma_max from the eigenvalues of W_h^T W_h", {
        "jacobian_norms": _code("""
            def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
                hs, _ = rnn.forward(params, xs, h0, nonlinearity)
                T, B, H = hs.shape
                norms = np.ones((T + 1, B))
                for b in range(B):
                    for k in range(1, T + 1):
                        P = np.eye(H)
                        for t in range(T, T - k, -1):            # J_T, J_(T-1), ..., J_(T-k+1)
                            h = hs[t - 1, b]
                            if nonlinearity == "tanh":
                                slope = 1 - h * h
                            else:
                                slope = np.where(h > 0, 1.0, 0.0)
                            P = P @ (np.diag(slope) @ params["W_h"].T)
                        norms[k, b] = np.linalg.svd(P, compute_uv=False)[0]
                return norms
            """),
        "clip_by_norm": _code("""
            def clip_by_norm(grads, max_norm):
                names = list(grads)
                flat = np.concatenate([np.ravel(grads[n]) for n in names])
                norm = float(np.linalg.norm(flat))
                if norm > max_norm:
                    flat = flat * (max_norm / norm)
                pieces = np.split(flat, np.cumsum([np.size(grads[n]) for n in names])[:-1])
                return {n: p.reshape(np.shape(grads[n])) for n, p in zip(names, pieces)}, norm
            """),
        "clip_elementwise": _code("""
            def clip_elementwise(grads, max_value):
                norm = np.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
                clipped = {}
                for name, g in grads.items():
                    g = np.where(g > max_value, max_value, g)
                    clipped[name] = np.where(g < -max_value, -max_value, g)
                return clipped, norm
            """),
        "predict_regime": _code("""
            def predict_regime(W_h, nonlinearity="tanh"):
                gamma = 0.25 if nonlinearity == "sigmoid" else 1.0
                sigma_max = np.sqrt(np.max(np.linalg.eigvalsh(W_h.T @ W_h)))
                rho = max(abs(complex(z)) for z in np.linalg.eigvals(W_h))
                if sigma_max < 1 / gamma:
                    return "vanishing"
                return "explosion possible" if rho > 1 / gamma else "undetermined"
            """),
    }),
    Alternative("float32", "computes in float32 throughout", {
        "jacobian_norms": _code("""
            def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
                f = np.float32
                params = {k: v.astype(f) for k, v in params.items()}
                hs, _ = rnn.forward(params, xs.astype(f), h0.astype(f), nonlinearity)
                slopes = f(1) - hs ** 2 if nonlinearity == "tanh" else (hs > 0).astype(f)
                T, B, H = hs.shape
                P = np.broadcast_to(np.eye(H, dtype=f), (B, H, H))
                norms = [np.ones(B, dtype=f)]
                for k in range(1, T + 1):
                    P = P @ (slopes[T - k][:, :, None] * params["W_h"].T)
                    norms.append(np.linalg.norm(P, ord=2, axis=(1, 2)))
                return np.stack(norms)
            """),
        "clip_by_norm": _code("""
            def clip_by_norm(grads, max_norm):
                grads = {k: np.asarray(g, dtype=np.float32) for k, g in grads.items()}
                norm = np.sqrt(sum(np.sum(g * g) for g in grads.values()))
                scale = np.float32(max_norm) / norm if norm > max_norm else np.float32(1)
                return {k: g * scale for k, g in grads.items()}, norm
            """),
        "clip_elementwise": _code("""
            def clip_elementwise(grads, max_value):
                grads = {k: np.asarray(g, dtype=np.float32) for k, g in grads.items()}
                c = np.float32(max_value)
                norm = np.sqrt(sum(np.sum(g * g) for g in grads.values()))
                return {k: np.clip(g, -c, c) for k, g in grads.items()}, norm
            """),
        "predict_regime": _code("""
            def predict_regime(W_h, nonlinearity="tanh"):
                W = np.asarray(W_h, dtype=np.float32)
                gamma = np.float32({"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}[nonlinearity])
                if gamma * np.linalg.svd(W, compute_uv=False)[0] < 1:
                    return "vanishing"
                if gamma * np.abs(np.linalg.eigvals(W)).max() > 1:
                    return "explosion possible"
                return "undetermined"
            """),
    }),
    Alternative("transposed_products", "builds the transposed products in the row layout, "
                "(W_h * f') on the left, which have the same spectral norms; clips with "
                "max_norm / max(norm, max_norm); a sequence of ifs on the thresholds", {
        "jacobian_norms": _code("""
            def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
                hs, _ = rnn.forward(params, xs, h0, nonlinearity)
                slopes = 1.0 - hs ** 2 if nonlinearity == "tanh" else (hs > 0) * 1.0
                T, B, H = hs.shape
                N = np.tile(np.eye(H), (B, 1, 1))              # (dh_T/dh_(T-k))^T
                norms = np.empty((T + 1, B))
                norms[0] = 1.0
                for k in range(1, T + 1):
                    N = (params["W_h"][None] * slopes[T - k][:, None, :]) @ N   # J^T N
                    norms[k] = [np.linalg.norm(n, 2) for n in N]
                return norms
            """),
        "clip_by_norm": _code("""
            def clip_by_norm(grads, max_norm):
                norm = np.sqrt(np.sum([np.sum(np.square(g)) for g in grads.values()]))
                factor = max_norm / max(norm, max_norm)
                return {k: factor * g for k, g in grads.items()}, norm
            """),
        "predict_regime": _code("""
            def predict_regime(W_h, nonlinearity="tanh"):
                gamma = dict(tanh=1, relu=1, sigmoid=1 / 4)[nonlinearity]
                singular = np.linalg.svd(W_h, compute_uv=False)
                moduli = np.abs(np.linalg.eigvals(W_h))
                regime = "undetermined"
                if gamma * moduli.max() > 1:
                    regime = "explosion possible"
                if gamma * singular.max() < 1:
                    regime = "vanishing"
                return regime
            """),
    }),
    Alternative("magics", "%%time and %time in the answer cells, as students time their code; "
                "the norms through np.linalg.svd of the whole stack; clipping through a loop", {
        "jacobian_norms": _code("""
            %%time
            def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
                hs, _ = rnn.forward(params, xs, h0, nonlinearity)
                slopes = 1 - hs * hs if nonlinearity == "tanh" else np.where(hs > 0, 1.0, 0.0)
                T, B, H = hs.shape
                products = [np.tile(np.eye(H), (B, 1, 1))]
                for t in range(T - 1, -1, -1):
                    products.append(products[-1] @ (slopes[t][:, :, None] * params["W_h"].T))
                return np.linalg.svd(np.stack(products), compute_uv=False)[..., 0]
            """),
        "clip_by_norm": _code("""
            def clip_by_norm(grads, max_norm):
                total = 0.0
                for g in grads.values():
                    for value in np.ravel(g):
                        total += float(value) ** 2
                norm = total ** 0.5
                clipped = {}
                for name, g in grads.items():
                    clipped[name] = g * (max_norm / norm) if norm > max_norm else g.copy()
                return clipped, norm

            %time clip_by_norm({"W": np.ones((2, 2))}, 1.0)
            """),
        "predict_regime": _code("""
            def predict_regime(W_h, nonlinearity="tanh"):
                gamma = 0.25 if nonlinearity == "sigmoid" else 1.0
                sigma_max = np.linalg.svd(W_h, compute_uv=False).max()
                rho = np.abs(np.linalg.eigvals(W_h)).max()
                if gamma * sigma_max < 1:
                    return "vanishing"
                elif gamma * rho > 1:
                    return "explosion possible"
                else:
                    return "undetermined"

            %timeit -n 1 -r 1 predict_regime(np.eye(2), "tanh")
            """),
    }),
    Alternative("warns", "clip_by_norm warns while debugging (warnings.warn) and lets numpy warn "
                "about c / 0 for a zero gradient (a RuntimeWarning, the scale then taken as 1); "
                "warnings are shown on stdout and fail nothing, in Validate as in the grade", {
        "clip_by_norm": _code("""
            import warnings


            def clip_by_norm(grads, max_norm):
                warnings.warn("debug: clip_by_norm called")
                norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
                scale = np.minimum(1.0, max_norm / np.float64(norm))   # c / 0 = inf warns
                return {name: g * float(scale) for name, g in grads.items()}, norm
            """),
    }),
    Alternative("recomputed_slopes", "the slopes from the pre-activations recomputed from "
                "the states (1 - tanh(z)^2, z > 0; np.sign(h) for ReLU is the same); the "
                "products of one sequence at a time with np.linalg.multi_dot-free loops; "
                "clipping as PyTorch does, max_norm / (norm + 1e-6), and through np.where; "
                "the explosion condition tested first (gamma rho > 1 implies gamma sigma_max "
                "> 1, so the order does not matter)", {
        "jacobian_norms": _code("""
            def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
                hs, _ = rnn.forward(params, xs, h0, nonlinearity)
                T, B, H = hs.shape
                prev = np.concatenate([h0[None], hs[:-1]])                 # h_(t-1), (T, B, H)
                z = prev @ params["W_h"] + xs @ params["W_x"] + params["b_h"]
                slopes = 1.0 - np.tanh(z) ** 2 if nonlinearity == "tanh" else np.sign(hs)
                out = np.ones((T + 1, B))
                for b in range(B):
                    P = np.eye(H)
                    for k in range(1, T + 1):
                        P = P @ (slopes[T - k, b][:, None] * params["W_h"].T)
                        out[k, b] = np.linalg.svd(P, compute_uv=False).max()
                return out
            """),
        "clip_by_norm": _code("""
            def clip_by_norm(grads, max_norm):
                norm = float(np.sqrt(sum(np.vdot(g, g) for g in grads.values())))
                factor = min(1.0, max_norm / (norm + 1e-6))
                return {k: g * factor for k, g in grads.items()}, norm
            """),
        "clip_elementwise": _code("""
            def clip_elementwise(grads, max_value):
                norm = float(np.linalg.norm(np.concatenate([np.ravel(g) for g in grads.values()])))
                return {k: np.where(np.abs(g) > max_value, np.sign(g) * max_value, g)
                        for k, g in grads.items()}, norm
            """),
        "predict_regime": _code("""
            def predict_regime(W_h, nonlinearity="tanh"):
                gamma = 0.25 if nonlinearity == "sigmoid" else 1.0
                rho = np.abs(np.linalg.eig(W_h)[0]).max()
                sigma_max = np.linalg.svd(W_h)[1][0]
                if gamma * rho > 1:
                    return "explosion possible"
                if gamma * sigma_max < 1:
                    return "vanishing"
                return "undetermined"
            """),
    }),
    Alternative("stacked_svd_norm_of_norms", "every product stacked, (T + 1, B, H, H), and all "
                "their spectral norms from one np.linalg.norm(ord=2); the global norm as the "
                "norm of the arrays' norms; clipping with np.minimum(np.maximum(g, -c), c); "
                "rho from the eigenvalues' moduli by np.hypot", {
        "jacobian_norms": _code("""
            def jacobian_norms(params, xs, h0, nonlinearity="tanh"):
                hs, _ = rnn.forward(params, xs, h0, nonlinearity)
                T, B, H = hs.shape
                if nonlinearity == "tanh":
                    slopes = (1.0 - hs) * (1.0 + hs)
                else:
                    slopes = np.where(hs > 0, 1.0, 0.0)
                products = np.empty((T + 1, B, H, H))
                products[0] = np.eye(H)
                for k in range(1, T + 1):
                    J = np.einsum("bi,ji->bij", slopes[T - k], params["W_h"])    # diag(f') W_h.T
                    products[k] = np.einsum("bij,bjk->bik", products[k - 1], J)
                return np.linalg.norm(products, ord=2, axis=(-2, -1))
            """),
        "clip_by_norm": _code("""
            def clip_by_norm(grads, max_norm):
                norm = float(np.linalg.norm([np.linalg.norm(np.ravel(g)) for g in grads.values()]))
                clipped = {k: np.array(g, copy=True) for k, g in grads.items()}
                if norm > max_norm:
                    clipped = {k: g * (max_norm / norm) for k, g in clipped.items()}
                return clipped, norm
            """),
        "clip_elementwise": _code("""
            def clip_elementwise(grads, max_value):
                squares = 0.0
                clipped = {}
                for k, g in grads.items():
                    squares += float(np.sum(np.square(g)))
                    clipped[k] = np.minimum(np.maximum(g, -max_value), max_value)
                return clipped, squares ** 0.5
            """),
        "predict_regime": _code("""
            def predict_regime(W_h, nonlinearity="tanh"):
                gamma = {"sigmoid": 0.25}.get(nonlinearity, 1.0)
                eigenvalues = np.linalg.eigvals(W_h)
                rho = np.max(np.hypot(eigenvalues.real, eigenvalues.imag))
                sigma_max = np.linalg.norm(W_h, 2)
                if gamma * sigma_max < 1:
                    return "vanishing"
                return "explosion possible" if gamma * rho > 1 else "undetermined"
            """),
    }),
    Alternative("label_array", "predict_regime picks its answer from a numpy array of the "
                "three labels: an np.str_, which is a str", {
        "predict_regime": _code("""
            LABELS = np.array(["vanishing", "explosion possible", "undetermined"])


            def predict_regime(W_h, nonlinearity="tanh"):
                gamma = 0.25 if nonlinearity == "sigmoid" else 1.0
                sigma_max = np.linalg.norm(W_h, 2)
                rho = np.abs(np.linalg.eigvals(W_h)).max()
                index = 0 if gamma * sigma_max < 1 else 1 if gamma * rho > 1 else 2
                return LABELS[index]
            """),
    }),
]
