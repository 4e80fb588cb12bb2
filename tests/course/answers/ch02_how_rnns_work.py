"""Wrong and alternative answers for ch02_how_rnns_work (see tests/course/answers/__init__.py)."""
from answers import Alternative, Wrong, code as _code

# ---------------------------------------------------------------------------------------------
# Chapter 2: sequence_cross_entropy, perplexity, sample, first_bit_params
# ---------------------------------------------------------------------------------------------
WRONG = [
    Wrong("sequence_cross_entropy", "naive_softmax",
          "takes the softmax as exp(y) / sum exp(y), which overflows for large logits",
          _code("""
        def sequence_cross_entropy(logits, targets):
            p = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
            picked = np.take_along_axis(p, targets[..., None], axis=-1)
            return float(-np.log(picked).mean())
        """)),
    Wrong("sequence_cross_entropy", "sum", "sums over the positions instead of averaging",
          _code("""
        def sequence_cross_entropy(logits, targets):
            m = logits.max(axis=-1, keepdims=True)
            log_p = logits - m - np.log(np.exp(logits - m).sum(axis=-1, keepdims=True))
            return float(-np.take_along_axis(log_p, targets[..., None], axis=-1).sum())
        """)),
    Wrong("sequence_cross_entropy", "softmax_over_time",
          "normalises over the time axis (axis 0) instead of over the classes", _code("""
        def sequence_cross_entropy(logits, targets):
            m = logits.max(axis=0, keepdims=True)
            log_p = logits - m - np.log(np.exp(logits - m).sum(axis=0, keepdims=True))
            return float(-np.take_along_axis(log_p, targets[..., None], axis=-1).mean())
        """)),
    Wrong("sequence_cross_entropy", "logits_as_log_probs",
          "treats the logits as log-probabilities: forgets the log-sum-exp term", _code("""
        def sequence_cross_entropy(logits, targets):
            return float(-np.take_along_axis(logits, targets[..., None], axis=-1).mean())
        """)),
    Wrong("sequence_cross_entropy", "in_place",
          "subtracts the maximum in place, changing the caller's logits (the value is right)",
          _code("""
        def sequence_cross_entropy(logits, targets):
            logits -= logits.max(axis=-1, keepdims=True)
            log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
            return float(-np.take_along_axis(log_p, targets[..., None], axis=-1).mean())
        """)),
    Wrong("sequence_cross_entropy", "imports_library", "calls the library's loss",
          _code("""
        from rnncore.losses import softmax_cross_entropy as sequence_cross_entropy
        """)),
    Wrong("sequence_cross_entropy", "global_max",
          "subtracts the largest logit of the whole array, not each position's own: positions "
          "far below it underflow to log 0", _code("""
        def sequence_cross_entropy(logits, targets):
            z = logits - logits.max()
            log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
            return float(-np.take_along_axis(log_p, targets[..., None], axis=-1).mean())
        """)),
    Wrong("perplexity", "arithmetic_mean",
          "averages 1 / p over the positions instead of taking the geometric mean", _code("""
        def perplexity(logits, targets):
            T, B = targets.shape
            z = logits - logits.max(axis=-1, keepdims=True)
            p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
            picked = p[np.arange(T)[:, None], np.arange(B)[None, :], targets]
            return float(np.mean(1.0 / picked))
        """)),
    Wrong("perplexity", "base_two", "uses 2 ** L, with L in nats", _code("""
        def perplexity(logits, targets):
            return float(2.0 ** sequence_cross_entropy(logits, targets))
        """)),
    Wrong("perplexity", "product", "the product of 1 / p to the power 1 / N, which underflows",
          _code("""
        def perplexity(logits, targets):
            T, B = targets.shape
            z = logits - logits.max(axis=-1, keepdims=True)
            p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
            picked = p[np.arange(T)[:, None], np.arange(B)[None, :], targets]
            return float(np.prod(picked) ** (-1.0 / picked.size))
        """)),
    Wrong("perplexity", "imports_library", "calls the library's perplexity", _code("""
        from rnncore import losses

        def perplexity(logits, targets):
            return losses.perplexity(sequence_cross_entropy(logits, targets))
        """)),
    Wrong("sample", "times_temperature", "multiplies the logits by the temperature", _code("""
        def sample(logits, temperature, rng):
            if temperature == 0:
                return np.argmax(logits, axis=-1)
            z = logits * temperature
            p = np.exp(z - z.max(axis=-1, keepdims=True))
            p /= p.sum(axis=-1, keepdims=True)
            return np.array([rng.choice(p.shape[-1], p=row) for row in p])
        """)),
    Wrong("sample", "no_max", "exp(logits / tau) without subtracting the maximum: overflows",
          _code("""
        def sample(logits, temperature, rng):
            if temperature == 0:
                return np.argmax(logits, axis=-1)
            p = np.exp(logits / temperature)
            p /= p.sum(axis=-1, keepdims=True)
            return np.array([rng.choice(p.shape[-1], p=row) for row in p])
        """)),
    Wrong("sample", "ignores_temperature", "samples from softmax(logits) at every temperature",
          _code("""
        def sample(logits, temperature, rng):
            p = np.exp(logits - logits.max(axis=-1, keepdims=True))
            p /= p.sum(axis=-1, keepdims=True)
            return np.array([rng.choice(p.shape[-1], p=row) for row in p])
        """)),
    Wrong("sample", "global_random", "draws from np.random's global state instead of rng",
          _code("""
        def sample(logits, temperature, rng):
            if temperature == 0:
                return np.argmax(logits, axis=-1)
            z = logits / temperature
            p = np.exp(z - z.max(axis=-1, keepdims=True))
            p /= p.sum(axis=-1, keepdims=True)
            return np.array([np.random.choice(p.shape[-1], p=row) for row in p])
        """)),
    Wrong("sample", "zero_not_special", "divides by the temperature even when it is 0", _code("""
        def sample(logits, temperature, rng):
            z = logits / temperature
            p = np.exp(z - z.max(axis=-1, keepdims=True))
            p /= p.sum(axis=-1, keepdims=True)
            return np.array([rng.choice(p.shape[-1], p=row) for row in p])
        """)),
    Wrong("sample", "always_greedy", "returns the argmax whatever the temperature", _code("""
        def sample(logits, temperature, rng):
            return np.argmax(logits, axis=-1)
        """)),
    Wrong("sample", "imports_library", "calls the library's sampler", _code("""
        from rnncore.generate import sample
        """)),
    Wrong("sample", "batch_max", "subtracts the largest logit of the whole batch, not each "
                                 "row's own: a row far below it becomes 0 / 0", _code("""
        def sample(logits, temperature, rng):
            if temperature == 0:
                return np.argmax(logits, axis=-1)
            z = logits / temperature
            p = np.exp(z - z.max())
            p = p / p.sum(axis=-1, keepdims=True)
            return np.array([rng.choice(p.shape[-1], p=row) for row in p])
        """)),
    Wrong("sample", "divides_in_place", "divides the caller's logits by the temperature in "
                                        "place (the samples are right)", _code("""
        def sample(logits, temperature, rng):
            if temperature == 0:
                return np.argmax(logits, axis=-1)
            logits /= temperature
            p = np.exp(logits - logits.max(axis=-1, keepdims=True))
            p = p / p.sum(axis=-1, keepdims=True)
            return np.array([rng.choice(p.shape[-1], p=row) for row in p])
        """)),
    Wrong("sample", "float_ids", "fills a preallocated np.zeros(B), so the classes come back "
                                 "as floats", _code("""
        def sample(logits, temperature, rng):
            if temperature == 0:
                return np.argmax(logits, axis=-1)
            z = logits / temperature
            p = np.exp(z - z.max(axis=-1, keepdims=True))
            p = p / p.sum(axis=-1, keepdims=True)
            ids = np.zeros(len(p))
            for b, row in enumerate(p):
                ids[b] = rng.choice(len(row), p=row)
            return ids
        """)),
    Wrong("sample", "own_generator", "makes a generator of its own with a fixed seed instead "
                                     "of using rng", _code("""
        def sample(logits, temperature, rng):
            if temperature == 0:
                return np.argmax(logits, axis=-1)
            z = logits / temperature
            p = np.exp(z - z.max(axis=-1, keepdims=True))
            p = p / p.sum(axis=-1, keepdims=True)
            mine = np.random.default_rng(0)
            return np.array([mine.choice(p.shape[-1], p=row) for row in p])
        """)),
    Wrong("first_bit_params", "latch", "the chapter's latch: remembers whether ANY 1 appeared",
          _code("""
        def first_bit_params():
            return {"W_x": np.array([[8.0]]), "W_h": np.array([[5.0]]), "b_h": np.array([-1.0]),
                    "W_y": np.array([[5.0]]), "b_y": np.array([0.0])}
        """)),
    Wrong("first_bit_params", "weak_memory",
          "a self-connection too weak to hold the state against later inputs", _code("""
        def first_bit_params():
            return {"W_x": np.array([[4.0]]), "W_h": np.array([[1.0]]), "b_h": np.array([-2.0]),
                    "W_y": np.array([[1.0]]), "b_y": np.array([0.0])}
        """)),
    Wrong("first_bit_params", "no_bias",
          "no bias: a first bit 0 gives h = 0 (no sign), and a later 1 then writes +1", _code("""
        def first_bit_params():
            return {"W_x": np.array([[4.0]]), "W_h": np.array([[10.0]]), "b_h": np.array([0.0]),
                    "W_y": np.array([[1.0]]), "b_y": np.array([0.0])}
        """)),
    Wrong("first_bit_params", "last_bit", "W_h = 0: the output follows the current bit", _code("""
        def first_bit_params():
            return {"W_x": np.array([[4.0]]), "W_h": np.array([[0.0]]), "b_h": np.array([-2.0]),
                    "W_y": np.array([[1.0]]), "b_y": np.array([0.0])}
        """)),
    Wrong("first_bit_params", "column_shapes",
          "the book's column shapes: W_y as (1, H) and W_x as (H, 1), with H = 2", _code("""
        def first_bit_params():
            return {"W_x": np.array([[4.0], [4.0]]), "W_h": 10.0 * np.eye(2),
                    "b_h": np.array([-2.0, -2.0]), "W_y": np.array([[1.0, 1.0]]),
                    "b_y": np.array([0.0])}
        """)),
    # --- added by the red team: more plausible mistakes -------------------------------------
    Wrong("sequence_cross_entropy", "log_of_stable_softmax",
          "computes a stable softmax (each position's max subtracted) and then takes its log: a "
          "target far below its position's maximum (~750 or more) has p = 0 and -log p = inf",
          _code("""
        def sequence_cross_entropy(logits, targets):
            e = np.exp(logits - logits.max(axis=-1, keepdims=True))
            p = e / e.sum(axis=-1, keepdims=True)
            picked = np.take_along_axis(p, targets[..., None], axis=-1)
            return float(-np.log(picked).mean())
        """)),
    Wrong("sequence_cross_entropy", "next_char_shift",
          "pairs each position's logits with the NEXT target (logits[:-1] with targets[1:]), "
          "as if the targets were not already shifted", _code("""
        def sequence_cross_entropy(logits, targets):
            logits, targets = logits[:-1], targets[1:]
            m = logits.max(axis=-1, keepdims=True)
            log_p = logits - m - np.log(np.exp(logits - m).sum(axis=-1, keepdims=True))
            picked = np.take_along_axis(log_p, targets[..., None], axis=-1)
            return float(-picked.mean())
        """)),
    Wrong("sequence_cross_entropy", "mean_over_batch_only",
          "averages over the batch but sums over time: the loss of a whole sequence", _code("""
        def sequence_cross_entropy(logits, targets):
            m = logits.max(axis=-1, keepdims=True)
            log_p = logits - m - np.log(np.exp(logits - m).sum(axis=-1, keepdims=True))
            picked = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]  # (T, B)
            return float(-picked.sum(axis=0).mean())
        """)),
    Wrong("perplexity", "minus_sign", "exp(-L): the mean probability's geometric mean, not its "
                                      "inverse", _code("""
        def perplexity(logits, targets):
            return float(np.exp(-sequence_cross_entropy(logits, targets)))
        """)),
    Wrong("sample", "zero_is_int_zero",
          "tests for greedy decoding with `temperature is 0`, true for the int 0 only: at "
          "temperature 0.0 it divides by zero and returns NaN-driven classes", _code("""
        def sample(logits, temperature, rng):
            if temperature is 0:
                return np.argmax(logits, axis=-1)
            with np.errstate(all="ignore"):
                z = logits / temperature
                z = z - z.max(axis=-1, keepdims=True)
                p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
            cdf = np.cumsum(p, axis=-1)
            u = rng.random((len(p), 1))
            return np.minimum((cdf <= u).sum(axis=-1), p.shape[-1] - 1)
        """)),
    Wrong("sample", "first_row_only", "draws every row from the first row's distribution: "
                                      "rng.choice(V, size=B, p=p[0]), as if B were 1", _code("""
        def sample(logits, temperature, rng):
            if temperature == 0:
                return np.argmax(logits, axis=-1)
            z = logits / temperature
            z = z - z.max(axis=-1, keepdims=True)
            p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
            return rng.choice(p.shape[-1], size=len(p), p=p[0])
        """)),
    Wrong("sample", "one_u_for_the_batch", "draws one uniform number for the whole batch "
                                           "(rng.random()), so every row uses the same u",
          _code("""
        def sample(logits, temperature, rng):
            if temperature == 0:
                return np.argmax(logits, axis=-1)
            z = logits / temperature
            z = z - z.max(axis=-1, keepdims=True)
            p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
            cdf = np.cumsum(p, axis=-1)
            u = rng.random()
            return np.minimum((cdf <= u).sum(axis=-1), p.shape[-1] - 1)
        """)),
    Wrong("first_bit_params", "output_inverted", "reads the memory with W_y = -1, so y_t is "
                                                 "negative after a first 1", _code("""
        def first_bit_params():
            return {"W_x": np.array([[4.0]]), "W_h": np.array([[10.0]]),
                    "b_h": np.array([-2.0]), "W_y": np.array([[-1.0]]), "b_y": np.array([0.0])}
        """)),
    Wrong("sample", "argmax_without_axis", "greedy decoding as np.argmax(logits), without "
                                           "axis=-1: one index into the flattened batch",
          _code("""
        def sample(logits, temperature, rng):
            if temperature == 0:
                return np.argmax(logits)
            z = logits / temperature
            z = z - z.max(axis=-1, keepdims=True)
            p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
            cdf = np.cumsum(p, axis=-1)
            u = rng.random((len(p), 1))
            return np.minimum((cdf <= u).sum(axis=-1), p.shape[-1] - 1)
        """)),
    Wrong("perplexity", "rounded", "rounds the perplexity to 2 decimals for a tidy printout",
          _code("""
        def perplexity(logits, targets):
            return round(float(np.exp(sequence_cross_entropy(logits, targets))), 2)
        """)),
    Wrong("sample", "mean_shift", "centres each row on its MEAN instead of subtracting its "
                                  "maximum: no overflow for the logits tried, but a logit of "
                                  "-inf makes the mean -inf and every probability NaN", _code("""
        def sample(logits, temperature, rng):
            if temperature == 0:
                return np.argmax(logits, axis=-1)
            z = logits / temperature
            with np.errstate(invalid="ignore"):
                z = z - z.mean(axis=-1, keepdims=True)
                p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
            cdf = np.cumsum(p, axis=-1)
            u = rng.random((len(p), 1))
            return np.minimum((cdf <= u).sum(axis=-1), p.shape[-1] - 1)
        """)),
]

ALTERNATIVES = [
    Alternative("logaddexp_and_loops", "log-sum-exp with np.logaddexp.reduce and indexing with "
                                       "np.arange; perplexity from scratch; sampling by a loop "
                                       "over rows with rng.choice; two identical units as lists", {
        "sequence_cross_entropy": _code("""
            def sequence_cross_entropy(logits, targets):
                T, B = targets.shape
                lse = np.logaddexp.reduce(logits, axis=-1)                      # (T, B)
                picked = logits[np.arange(T)[:, None], np.arange(B)[None, :], targets]
                return float(np.mean(lse - picked))
            """),
        "perplexity": _code("""
            def perplexity(logits, targets):
                z = logits - logits.max(axis=-1, keepdims=True)
                log_p = z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
                picked = np.take_along_axis(log_p, targets[..., None], axis=-1)
                return float(np.exp(-np.mean(picked)))
            """),
        "sample": _code("""
            def sample(logits, temperature, rng):
                out = []
                for row in logits:
                    if temperature == 0:
                        out.append(int(np.argmax(row)))
                        continue
                    z = row / temperature
                    p = np.exp(z - np.max(z))
                    out.append(rng.choice(len(p), p=p / p.sum()))
                return np.array(out, dtype=np.int64)
            """),
        "first_bit_params": _code("""
            def first_bit_params():
                # two copies of one memory unit, read out together
                return {"W_x": [[4.0, 4.0]], "W_h": [[10.0, 0.0], [0.0, 10.0]],
                        "b_h": [-2.0, -2.0], "W_y": [[0.5], [0.5]], "b_y": [0.0]}
            """),
    }),
    Alternative("float32", "computes in float32 throughout", {
        "sequence_cross_entropy": _code("""
            def sequence_cross_entropy(logits, targets):
                y = logits.astype(np.float32)
                m = y.max(axis=-1, keepdims=True)
                log_p = y - m - np.log(np.exp(y - m).sum(axis=-1, keepdims=True))
                return float(-np.take_along_axis(log_p, targets[..., None], axis=-1).mean())
            """),
        "perplexity": _code("""
            def perplexity(logits, targets):
                return float(np.exp(np.float32(sequence_cross_entropy(logits, targets))))
            """),
        "sample": _code("""
            def sample(logits, temperature, rng):
                y = logits.astype(np.float32)
                if temperature == 0:
                    return np.argmax(y, axis=-1)
                z = y / np.float32(temperature)
                p = np.exp(z - z.max(axis=-1, keepdims=True))
                cdf = np.cumsum(p, axis=-1)
                u = rng.random((len(p), 1), dtype=np.float32) * cdf[:, -1:]
                return np.minimum((cdf <= u).sum(axis=-1), p.shape[-1] - 1)
            """),
        "first_bit_params": _code("""
            def first_bit_params():
                f = np.float32
                return {"W_x": np.array([[6.0]], f), "W_h": np.array([[20.0]], f),
                        "b_h": np.array([-3.0], f), "W_y": np.array([[2.0]], f),
                        "b_y": np.array([0.0], f)}
            """),
    }),
    Alternative("gumbel_and_one_hot", "cross-entropy with a one-hot mask; perplexity as "
                                      "2 ** (L / ln 2); the Gumbel-max trick (argmax of "
                                      "logits / tau plus Gumbel noise is a sample of the softmax); "
                                      "a flag unit beside the memory", {
        "sequence_cross_entropy": _code("""
            def sequence_cross_entropy(logits, targets):
                onehot = targets[..., None] == np.arange(logits.shape[-1])       # (T, B, V)
                m = np.max(logits, axis=-1)                                       # (T, B)
                lse = m + np.log(np.sum(np.exp(logits - m[..., None]), axis=-1))
                return float(np.mean(lse - np.sum(np.where(onehot, logits, 0.0), axis=-1)))
            """),
        "perplexity": _code("""
            def perplexity(logits, targets):
                bits = sequence_cross_entropy(logits, targets) / np.log(2.0)     # bits per char
                return float(2.0 ** bits)
            """),
        "sample": _code("""
            def sample(logits, temperature, rng):
                if temperature == 0:
                    return np.argmax(logits, axis=-1)
                return np.argmax(logits / temperature + rng.gumbel(size=logits.shape), axis=-1)
            """),
        "first_bit_params": _code("""
            def first_bit_params():
                # unit 0 stores the first bit as in the solution; unit 1 is a flag, on from
                # t = 1 for ever (bias 3, self-connection 10), that the output does not read
                W_h = np.array([[10.0, 0.0],
                                [0.0, 10.0]])
                return {"W_x": np.array([[4.0, 0.0]]), "W_h": W_h, "b_h": np.array([-2.0, 3.0]),
                        "W_y": np.array([[1.0], [0.0]]), "b_y": np.array([0.0])}
            """),
    }),
    Alternative("magics", "times its cells with %%time and %time; loops over positions", {
        "sequence_cross_entropy": _code("""
            %%time
            def sequence_cross_entropy(logits, targets):
                T, B = targets.shape
                total = 0.0
                for t in range(T):
                    for b in range(B):
                        y = logits[t, b]
                        m = y.max()
                        total += m + np.log(np.sum(np.exp(y - m))) - y[targets[t, b]]
                return total / (T * B)
            """),
        "perplexity": _code("""
            def perplexity(logits, targets):
                return float(np.exp(sequence_cross_entropy(logits, targets)))

            %time print(perplexity(np.zeros((3, 2, 4)), np.zeros((3, 2), dtype=int)))
            """),
        "sample": _code("""
            %%time
            def sample(logits, temperature, rng):
                if temperature == 0:
                    return logits.argmax(axis=-1)
                z = logits / temperature
                z = z - z.max(axis=-1, keepdims=True)
                p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
                u = rng.random(len(p))
                return np.array([np.searchsorted(np.cumsum(row), x, side="right")
                                 for row, x in zip(p, u)]).clip(0, p.shape[-1] - 1)
            """),
    }),
    Alternative("max_first_and_lists", "cross-entropy indexed with np.arange and "
                "np.log(np.sum(np.exp(...))) per position; perplexity with math.exp; sampling "
                "that subtracts the maximum of the logits BEFORE dividing by the temperature "
                "((y - m) / tau has its maximum at 0 too) and searches each row's cdf; the "
                "weights as nested Python lists", {
        "sequence_cross_entropy": _code("""
            def sequence_cross_entropy(logits, targets):
                T, B, V = logits.shape
                shifted = logits - np.max(logits, axis=2)[:, :, None]
                log_z = np.log(np.sum(np.exp(shifted), axis=2))                 # (T, B)
                t, b = np.meshgrid(np.arange(T), np.arange(B), indexing="ij")
                return float(np.mean(log_z - shifted[t, b, targets]))
            """),
        "perplexity": _code("""
            import math


            def perplexity(logits, targets):
                return math.exp(sequence_cross_entropy(logits, targets))
            """),
        "sample": _code("""
            def sample(logits, temperature, rng):
                if temperature <= 0:
                    return np.argmax(logits, axis=1)
                z = (logits - logits.max(axis=1, keepdims=True)) / temperature
                p = np.exp(z)
                cdf = np.cumsum(p, axis=1) / p.sum(axis=1, keepdims=True)
                u = rng.random(len(logits))
                ids = [min(int(np.searchsorted(c, x, side="right")), len(c) - 1)
                       for c, x in zip(cdf, u)]
                return np.array(ids)
            """),
        "first_bit_params": _code("""
            def first_bit_params():
                # the solution's unit, written as lists: 3 x_1 - 1.5 = +-1.5 at t = 1; then the
                # self-connection 8 |h| >= 7 outweighs |3 x - 1.5| = 1.5
                return {"W_x": [[3.0]], "W_h": [[8.0]], "b_h": [-1.5], "W_y": [[1.0]],
                        "b_y": [0.0]}
            """),
    }),
    Alternative("log_softmax_then_exp", "cross-entropy through a full log-softmax with "
                "np.logaddexp.reduce and a one-hot product; perplexity as the exp of a mean it "
                "computes itself (not calling its cross-entropy); sampling through rng.choice "
                "per row with probabilities from exp(log-softmax)", {
        "sequence_cross_entropy": _code("""
            def sequence_cross_entropy(logits, targets):
                log_p = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
                one_hot = np.eye(logits.shape[-1])[targets]                     # (T, B, V)
                return float(-(one_hot * log_p).sum(axis=-1).mean())
            """),
        "perplexity": _code("""
            def perplexity(logits, targets):
                log_p = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
                picked = np.take_along_axis(log_p, targets[..., None], axis=-1)
                return float(np.exp(-picked.mean()))
            """),
        "sample": _code("""
            def sample(logits, temperature, rng):
                if temperature == 0:
                    return logits.argmax(axis=-1)
                z = logits / temperature
                p = np.exp(z - np.logaddexp.reduce(z, axis=-1, keepdims=True))
                return np.array([rng.choice(len(row), p=row / row.sum()) for row in p])
            """),
    }),
]
