"""Trusted questions of chapter 2's assignment: what each test cell's points are awarded for.

Each question calls the student's function in the sandbox on hidden inputs drawn from rng (other
shapes, scales, temperatures and bit sequences than the visible tests) and compares the result
with the solution's (expect_call, which also fails a call that writes into its arguments), or,
for sampling and the hand-set weights, checks the behaviour: the frequencies of the samples, and
the sign of the RNN's output run by the library on every step. While a question runs, the library
functions that compute what it asks for are unavailable to the submission (forbid=...).
"""
import numpy as np

from rnncore_grader.checks import expect, expect_call, expect_close, question
from rnncore import linear, rnn

TOL = dict(rtol=1e-4, atol=1e-5)
LIBRARY_CE = ("rnncore.losses:softmax_cross_entropy", "rnncore.numerics:log_softmax",
              "rnncore.numerics:softmax")
LIBRARY_PERPLEXITY = ("rnncore.losses:perplexity",)
LIBRARY_SAMPLE = ("rnncore.generate:sample", "rnncore.numerics:softmax",
                  "rnncore.numerics:log_softmax")


# --- sequence_cross_entropy ----------------------------------------------------------------------

CE_HINT = ("L is the MEAN over all T*B positions of -log p(target), with p the softmax over the "
           "last axis (the V classes)")


@question("test_sequence_cross_entropy", forbid=LIBRARY_CE)
def sequence_cross_entropy(student, ref, rng):
    large = CE_HINT + "; subtract EACH position's own maximum before np.exp"
    cases = [((5, 3, 7), 1.0), ((1, 2, 2), 3.0), ((12, 4, 94), 2.0), ((3, 2, 50), 300.0),
             ((6, 5, 4), 30.0), ((2, 7, 3), 1000.0),
             ((int(rng.integers(2, 9)), int(rng.integers(2, 6)), int(rng.integers(2, 30))), 5.0)]
    for (T, B, V), scale in cases:
        logits = scale * rng.normal(size=(T, B, V))
        targets = rng.integers(0, V, size=(T, B))
        where = f"for T={T}, B={B}, V={V}, logits of size ~{scale:g}"
        expect_call(student, ref, "sequence_cross_entropy", logits, targets, where=where,
                    hint=large, **TOL)
        # the same in float32, with int32 targets
        expect_call(student, ref, "sequence_cross_entropy", logits.astype(np.float32),
                    targets.astype(np.int32), where=where + ", float32 logits, int32 targets",
                    hint=CE_HINT, rtol=1e-4, atol=1e-4 * max(1.0, scale))

    # Positions on very different scales: each shifted by its own random offset of size ~1000.
    T, B, V = 4, 3, 6
    logits = rng.normal(size=(T, B, V)) + 1000.0 * rng.normal(size=(T, B, 1))
    expect_call(student, ref, "sequence_cross_entropy", logits, rng.integers(0, V, size=(T, B)),
                where=f"for T={T}, B={B}, V={V}, each position shifted by its own ~1000",
                hint=large, **TOL)

    # Uniform predictions cost ln V per position, whatever the targets.
    T, B, V = int(rng.integers(1, 8)), int(rng.integers(2, 5)), int(rng.integers(2, 120))
    expect_close(student.sequence_cross_entropy(np.full((T, B, V), float(rng.normal())),
                                                rng.integers(0, V, size=(T, B))),
                 float(np.log(V)), f"sequence_cross_entropy for uniform logits (T={T}, B={B}, "
                                   f"V={V})", **TOL,
                 hint="uniform logits give p = 1/V everywhere, so L = ln V")

    # L is a mean: repeating the sequences along time does not change it.
    logits, targets = rng.normal(size=(4, 2, 5)), rng.integers(0, 5, size=(4, 2))
    expect_close(student.sequence_cross_entropy(np.concatenate([logits] * 5),
                                                np.concatenate([targets] * 5)),
                 ref.sequence_cross_entropy(logits, targets),
                 "sequence_cross_entropy for sequences repeated 5 times along time (T=20, B=2, "
                 "V=5)", **TOL, hint="L is a mean, not a sum: repeating the data must not "
                                     "change it")


# --- perplexity ----------------------------------------------------------------------------------

@question("test_perplexity", forbid=LIBRARY_PERPLEXITY)
def perplexity(student, ref, rng):
    # The student's perplexity with the library's cross-entropy, so that a wrong
    # sequence_cross_entropy costs only its own points (as in the visible tests).
    own = student.using(sequence_cross_entropy="rnncore.losses:softmax_cross_entropy")
    hint = ("the perplexity is exp(L), the exponential of the MEAN cross-entropy in nats: the "
            "geometric mean of 1/p, not the arithmetic mean; for long sequences a product of "
            "probabilities underflows to 0, so go through the mean log-probability instead")
    for (T, B, V), scale in [((4, 3, 6), 1.0), ((2500, 2, 90), 0.5), ((1, 2, 3), 2.0),
                             ((500, 8, 20), 3.0), ((3, 2, 5), 0.0)]:
        logits = scale * rng.normal(size=(T, B, V))
        targets = rng.integers(0, V, size=(T, B))
        expect_call(own, ref, "perplexity", logits, targets,
                    where=f"for T={T}, B={B}, V={V}" + (" (uniform logits)" if scale == 0 else ""),
                    hint=hint, **TOL)
    # Perplexities of a few units, where a rounded result shows: rounded to 2 decimals, it is
    # off by more than the tolerance on almost every one of these.
    for _ in range(12):
        T, B, V = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(2, 5))
        expect_call(own, ref, "perplexity", rng.normal(size=(T, B, V)),
                    rng.integers(0, V, size=(T, B)), where=f"for T={T}, B={B}, V={V}",
                    hint=hint + "; return it as computed, not rounded", **TOL)
    # A model that is certain and right has perplexity 1.
    targets = rng.integers(0, 7, size=(5, 3))
    certain = 50.0 * (targets[..., None] == np.arange(7))
    expect_close(own.perplexity(certain, targets), 1.0,
                 "perplexity of a certain, right model (T=5, B=3, V=7)", **TOL, hint=hint)


# --- sample --------------------------------------------------------------------------------------

def _generator(rng):
    return np.random.default_rng(int(rng.integers(2**63)))


def _sample(student, logits, temperature, generator, where):
    """The student's sample(), checked to leave logits unchanged and to return integers of
    shape (B,) in [0, V)."""
    ids, args_after, _ = student.arguments_after().sample(logits, temperature, generator)
    B, V = logits.shape
    expect(np.array_equal(np.asarray(args_after[0]), logits),
           f"sample(logits, temperature, rng) for logits of shape ({B}, {V}) ({where}) changed "
           f"its argument logits: a function must not write into its inputs. Hint: compute "
           f"z = logits / temperature (a new array), not logits /= temperature")
    ids_array = np.asarray(ids) if isinstance(ids, (np.ndarray, list, tuple)) else None
    expect(ids_array is not None and ids_array.shape == (B,) and ids_array.dtype.kind in "iu",
           f"sample(logits, temperature, rng) for logits of shape ({B}, {V}) ({where}) should "
           f"return integers of shape (B,) = ({B},), not "
           + (f"{ids_array.dtype} of shape {ids_array.shape}" if ids_array is not None
              else f"a {type(ids).__name__}") + ". Hint: one class index per row of logits")
    expect(ids_array.min() >= 0 and ids_array.max() < V,
           f"sample returned classes outside [0, V) = [0, {V}) ({where}). Hint: classes are "
           f"0-based")
    return ids_array


def _p_at(row, temperature):
    """softmax(row / temperature), as p ** (1 / temperature) renormalised; -inf gives 0."""
    p = np.exp(row - row.max())
    q = (p / p.sum()) ** (1.0 / temperature)
    return q / q.sum()


def _check_frequencies(ids, p, where):
    """Each class's frequency against its probability, within 6 standard errors (a correct
    sampler is that far off for a given class about once in 500 million runs; the mistakes looked
    for are off by 20 or more), plus 5 draws for classes of tiny but nonzero probability. A class
    of probability 0 must never be drawn."""
    n = len(ids)
    frequencies = np.bincount(ids, minlength=len(p)) / n
    error = np.sqrt(p * (1 - p) / n)
    bad = np.abs(frequencies - p) > 6 * error + np.where(p > 0, 5.0 / n, 0.0)
    if bad.any():
        v = int(np.argmax(bad))
        how = ("drawn although its probability is 0" if p[v] == 0 else
               f"drawn {'more' if frequencies[v] > p[v] else 'less'} often than its probability "
               f"allows ({abs(frequencies[v] - p[v]) / error[v]:.0f} standard errors off)")
        expect(False, f"over {n} draws of sample {where}, class {v} of {len(p)} was {how}. "
                      f"Hint: sample from softmax(logits / temperature): divide the logits by "
                      f"the temperature (not multiply), then take the softmax of each row")


@question("test_sample", forbid=LIBRARY_SAMPLE)
def sample(student, ref, rng):
    n = 10_000
    # Temperature 0 is the argmax of each row.
    B, V = int(rng.integers(3, 40)), int(rng.integers(2, 30))
    logits = rng.normal(size=(B, V))
    for temperature in (0, 0.0):
        ids = _sample(student, logits, temperature, _generator(rng), f"temperature {temperature}")
        expect_close(ids, np.argmax(logits, axis=-1), f"the classes drawn at temperature "
                     f"{temperature} (B={B}, V={V})", rtol=0, atol=0,
                     hint="temperature 0 means greedy decoding: the argmax of each row")

    # (The quick checks first, so that a sampler they catch is not run on every draw below;
    # the frequencies of five batches of 30,000 rows come last.)
    # A class with a logit of -inf has probability 0 and must never be drawn.
    row = rng.normal(size=5)
    row[rng.permutation(5)[:2]] = -np.inf
    temperature = float(rng.uniform(0.5, 3.0))
    ids = _sample(student, np.tile(row, (2000, 1)), temperature, _generator(rng),
                  "logits with -inf")
    _check_frequencies(ids, _p_at(row, temperature),
                       f"when two of five logits are -inf (temperature {temperature:.3g})")

    # Randomness comes from rng only: equal generators give equal samples, others others.
    logits = rng.normal(size=(200, 6))
    seed = int(rng.integers(2**63))
    first = _sample(student, logits, 1.0, np.random.default_rng(seed), "a given rng")
    again = _sample(student, logits, 1.0, np.random.default_rng(seed), "an equal rng")
    other = _sample(student, logits, 1.0, np.random.default_rng(seed + 1), "another rng")
    hint = ("take every random number from the rng you are given (rng.random, rng.choice, ...), "
            "not from np.random.* or a new generator")
    expect_close(again, first, "the samples of a second call of sample with an equal rng "
                               "(B=200, V=6)", rtol=0, atol=0, hint=hint)
    expect(not np.array_equal(first, other),
           f"sample gave the same 200 samples for two different rngs. Hint: {hint}")

    # Near zero temperature: the argmax, and no overflow. Each row is a shuffle of 0, 1, ..., 11,
    # so the best class leads by 1 and logits / 0.01 reach 1100 (np.exp(1100.0) is inf).
    logits = np.argsort(rng.random((300, 12)), axis=1).astype(float)
    for temperature in [0.01, 0.0]:
        ids = _sample(student, logits, temperature, _generator(rng), f"temperature {temperature}")
        expect_close(ids, np.argmax(logits, axis=-1), f"the classes drawn at temperature "
                     f"{temperature} (B=300, V=12, the best logit ahead by 1)", rtol=0, atol=0,
                     hint="as the temperature goes to 0 the largest logit takes all the "
                          "probability; subtract each row's maximum before np.exp so that "
                          "logits / temperature cannot overflow")

    # Huge logits: only their differences matter, within each row. Two rows interleaved, one
    # near +1000 and one near -1000.
    rows = rng.normal(size=(2, 4)) + np.array([[1000.0], [-1000.0]])
    temperature = float(rng.uniform(0.7, 1.5))
    ids = _sample(student, np.tile(rows, (n, 1)), temperature, _generator(rng),
                  "logits near +1000 and -1000")
    for r, size in enumerate(["+1000", "-1000"]):
        _check_frequencies(ids[r::2], _p_at(rows[r], temperature),
                           f"for the row of logits near {size} in a batch of rows near +1000 "
                           f"and -1000 (temperature {temperature:.3g})")

    # Over 10,000 draws, the frequencies follow softmax(logits / temperature); three different
    # rows interleaved in one batch, each its own distribution.
    for V, temperature in [(2, 0.3), (10, 1.5), (50, 5.0), (7, 1.0),
                           (int(rng.integers(3, 12)), float(rng.uniform(0.2, 0.8)))]:
        rows = 2.0 * rng.normal(size=(3, V))
        ids = _sample(student, np.tile(rows, (n, 1)), temperature, _generator(rng),
                      f"V={V}, temperature {temperature:.3g}")
        for r in range(3):
            _check_frequencies(ids[r::3], _p_at(rows[r], temperature),
                               f"from row {r} of a batch of three distributions (V={V}, "
                               f"temperature {temperature:.3g})")


# --- first_bit_params ----------------------------------------------------------------------------

SHAPES = {"W_x": "(1, H)", "W_h": "(H, H)", "b_h": "(H,)", "W_y": "(H, 1)", "b_y": "(1,)"}


def _checked_params(params):
    expect(isinstance(params, dict) and set(params) == set(SHAPES),
           f"first_bit_params() should return a dict with the keys {sorted(SHAPES)}, got "
           + (f"the keys {sorted(params)}" if isinstance(params, dict)
              else f"a {type(params).__name__}")
           + ". Hint: W_x, W_h, b_h for the recurrent layer, W_y, b_y for the output")
    arrays = {}
    for name, value in params.items():
        try:
            arrays[name] = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            expect(False, f"first_bit_params()[{name!r}] is not an array of numbers")
    H = arrays["W_h"].shape[0] if arrays["W_h"].ndim == 2 else -1
    expected = {"W_x": (1, H), "W_h": (H, H), "b_h": (H,), "W_y": (H, 1), "b_y": (1,)}
    for name, shape in expected.items():
        expect(arrays[name].shape == shape and 1 <= H <= 16,
               f"first_bit_params()[{name!r}] has shape {arrays[name].shape}, expected "
               f"{SHAPES[name]} with 1 <= H <= 16 (H = {H} from W_h). Hint: the shapes of "
               f"rnncore, row vectors times weights")
        expect(np.all(np.isfinite(arrays[name])),
               f"first_bit_params()[{name!r}] holds NaN or inf. Hint: use finite weights")
    return arrays


def _check_first_bit(params, bits, what):
    """Run the RNN (the library's) on bits (T, B) of 0s and 1s and check the sign of y_t at every
    step against the first bit."""
    with np.errstate(all="ignore"):
        hs, _ = rnn.forward(params, bits[..., None])                     # (T, B, H)
        y = linear.forward(params, hs)[..., 0]                           # (T, B)
    wrong = np.sign(y) != np.where(bits[0] == 1, 1.0, -1.0)              # (T, B)
    if wrong.any():
        t, b = (int(i) for i in np.argwhere(wrong)[0])
        first = int(bits[0, b])
        expect(False, f"with the weights of first_bit_params(), y_t has the wrong sign at time "
                      f"step {t} (counting from 0) of one of the {what}: the first bit is "
                      f"{first}, so y_t should be {'> 0' if first else '< 0'} at every step. "
                      f"Hint: at t = 0 only x W_x + b_h count (h_0 = 0) and must give the sign "
                      f"of the first bit; later, h_(t-1) W_h must outweigh x_t W_x + b_h so "
                      f"that no later input can change that sign")


@question("test_first_bit_params")
def first_bit_params(student, ref, rng):
    params = _checked_params(student.first_bit_params())
    # Every sequence of up to 10 bits.
    for T in range(1, 11):
        every = ((np.arange(2 ** T)[None, :] >> np.arange(T)[:, None]) & 1).astype(float)
        _check_first_bit(params, every, f"{2 ** T} sequences of {T} bits (all of them)")
    # Random sequences with few, half and many 1s, up to 1,000 steps.
    for p_one in [0.05, 0.5, 0.95, float(rng.uniform(0.1, 0.9))]:
        T = int(rng.integers(150, 400))
        _check_first_bit(params, (rng.random((T, 500)) < p_one).astype(float),
                         f"500 random sequences of {T} bits, each 1 with probability {p_one:.2g}")
    # A first bit, then a long run of the other bit, or alternating, or random, 1,000 steps.
    T = int(rng.integers(900, 1100))
    columns = []
    for first in [0, 1]:
        alternating = np.arange(T - 1) % 2 == first
        columns += [np.r_[first, np.full(T - 1, 1 - first)], np.r_[first, alternating],
                    np.r_[first, np.full(T - 1, first)],
                    np.r_[first, rng.random(T - 1) < rng.uniform(0.1, 0.9)]]
    _check_first_bit(params, np.array(columns, dtype=float).T,
                     f"sequences of {T} bits: a first bit, then the other bit, alternating "
                     f"bits, the same bit or random bits")
