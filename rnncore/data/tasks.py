r"""Synthetic sequence tasks: each probes one ability (memory over a lag, counting, forecasting).

Every task is a function of ``rng`` (a ``np.random.Generator``) and sizes, returns time-major
arrays (``(T, B, D)`` inputs, ids ``(T, B)``), and is reproducible: the same seed, the same data.
Plain numpy: data are generated, never differentiated.
"""
import numpy as np


def baseline_mse(ys):
    """The MSE of the best constant prediction, the mean of ys: the variance of the targets.

    A model must beat this to have learned anything from its inputs. For the adding problem the
    target is the sum of two independent U(0, 1) values, so the baseline is 2 / 12 = 1/6 ~ 0.167.
    """
    ys = np.asarray(ys, dtype=np.float64)
    return float(np.mean((ys - ys.mean(axis=0)) ** 2))


def adding_problem(rng, T, B, first=None, second=None):
    """The adding problem (Hochreiter & Schmidhuber 1997; in the form of Le et al. 2015).

    Each input step carries two numbers: a value ~ U(0, 1) and a marker, 1 at exactly two steps
    and 0 elsewhere. The target, read after the last step, is the sum of the two marked values.
    The first marker is drawn uniformly from the steps ``first = (start, stop)`` (default the
    first half), the second from ``second`` (default the second half); the model must carry the
    first value for at least T - first[1] steps, so ``first=(0, 10)`` forces a lag near T.
    Predicting the constant 1 scores MSE 1/6 (:func:`baseline_mse`).

    Returns ``xs: (T, B, 2)`` ([value, marker] per step) and ``ys: (B, 1)``.
    """
    first = (0, T // 2) if first is None else tuple(first)
    second = (T // 2, T) if second is None else tuple(second)
    if not 0 <= first[0] < first[1] <= second[0] < second[1] <= T:
        raise ValueError(f"need 0 <= first[0] < first[1] <= second[0] < second[1] <= T = {T}, "
                         f"got first={first}, second={second}")
    values = rng.uniform(0.0, 1.0, (T, B))                       # (T, B)
    i = rng.integers(*first, size=B)                             # first marked step, per example
    j = rng.integers(*second, size=B)                            # second marked step
    b = np.arange(B)
    markers = np.zeros((T, B))
    markers[i, b] = markers[j, b] = 1.0
    xs = np.stack([values, markers], axis=-1)                    # (T, B, 2)
    ys = (values[i, b] + values[j, b])[:, None]                  # (B, 1)
    return xs, ys


def copy_task(rng, B, length=10, delay=20, K=8):
    """The copy (memory) task (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016's form).

    Input ids: ``length`` symbols drawn from 1..K, ``delay`` blanks (0), the delimiter K + 1,
    then ``length`` blanks. Target ids: blank everywhere except the last ``length`` steps, which
    must repeat the symbols, in order. The vocabulary has V = K + 2 ids (:func:`rnncore.data.
    one_hot` turns them into inputs). A model without memory predicts blanks and then guesses:
    its cross-entropy is :func:`copy_baseline` = length log K / T.

    Returns ``xs: (T, B)`` and ``ys: (T, B)``, integer ids, T = 2 length + delay + 1.
    """
    T = 2 * length + delay + 1
    symbols = rng.integers(1, K + 1, size=(length, B))           # (length, B)
    xs = np.zeros((T, B), dtype=np.int64)
    xs[:length] = symbols
    xs[length + delay] = K + 1                                   # the delimiter: "now repeat"
    ys = np.zeros((T, B), dtype=np.int64)
    ys[-length:] = symbols
    return xs, ys


def copy_baseline(length=10, delay=20, K=8):
    """Cross-entropy (nats per step) of the best memoryless strategy on :func:`copy_task`."""
    return length * np.log(K) / (2 * length + delay + 1)


def parity(rng, T, B):
    """Running parity: after each bit, is the number of ones so far odd?

    y_t = (x_1 + ... + x_t) mod 2, the XOR of all bits so far: one bit of memory, flipped by
    every 1, which a single recurrent unit can hold but no fixed window of inputs can.
    Returns ``xs: (T, B, 1)`` (bits as floats) and ``ys: (T, B)`` (0/1 ids for a 2-way softmax).
    """
    bits = rng.integers(0, 2, size=(T, B))                       # (T, B)
    return bits[..., None].astype(np.float64), np.cumsum(bits, axis=0) % 2


def noisy_sine(rng, T, B, noise=0.1, period=(10.0, 40.0)):
    """Sine waves of random period (uniform in ``period``, in steps) and phase, plus noise.

    x_t = sin(2 pi t / P + phi) + noise * eps_t,  eps_t ~ N(0, 1).
    Returns ``(noisy, clean)``, both (T, B, 1): train on noisy, judge against clean.
    """
    P = rng.uniform(*period, size=B)                             # (B,)
    phi = rng.uniform(0.0, 2 * np.pi, size=B)                    # (B,)
    t = np.arange(T)[:, None]                                    # (T, 1)
    clean = np.sin(2 * np.pi * t / P + phi)                      # (T, B)
    noisy = clean + noise * rng.normal(size=(T, B))
    return noisy[..., None], clean[..., None]


def mackey_glass(rng, T, B=1, tau=17.0, beta=0.2, gamma=0.1, n=10, dt=0.1, sample_every=1.0,
                 discard=500.0, x0=None):
    """The Mackey-Glass series, chaotic for tau = 17 (Mackey & Glass 1977), sampled every
    ``sample_every`` time units.

        dx/dt = beta x(t - tau) / (1 + x(t - tau)^n) - gamma x(t)

    Integration: explicit Euler with step dt (default 0.1, so the delay is tau / dt = 170
    steps, read exactly from the stored past), starting from the constant history x(t) = x0 for
    t <= 0, with x0 ~ U(0.5, 1.3) per series unless given; the first ``discard`` time units
    (the transient) are dropped. On the attractor x stays within about 0.2..1.4.

    Returns ``xs: (T, B, 1)``.
    """
    d, every = round(tau / dt), round(sample_every / dt)
    start = round(discard / dt)
    steps = start + (T - 1) * every
    x = np.empty((d + 1 + steps, B))                             # x[k] is x((k - d) dt)
    x[:d + 1] = rng.uniform(0.5, 1.3, size=B) if x0 is None else x0   # the history up to t = 0
    for k in range(d, d + steps):                                # in place: never differentiated
        lagged = x[k - d]
        x[k + 1] = x[k] + dt * (beta * lagged / (1.0 + lagged ** n) - gamma * x[k])
    return x[d + start::every][:T, :, None]                      # (T, B, 1)


def temporal_order(rng, T, B, V=8, symbols=(0, 1), first=None, second=None):
    """The temporal order problem (Hochreiter & Schmidhuber 1997, their experiment 6a), as ids.

    Every step holds a *distractor*, an id drawn uniformly from the V - 2 ids that are not
    ``symbols``, except two: one step in ``first = (start, stop)`` (default (T // 8, T // 4))
    and one in ``second`` (default (T // 2, 3 T // 4)) hold X = symbols[0] or Y = symbols[1],
    each with probability 1/2. The class says which came, in order: XX = 0, XY = 1, YX = 2,
    YY = 3. The first symbol must be kept until the end, at least T - first[1] steps.

    A model blind to order can count X and Y, which tells XX and YY apart from the rest, but
    XY and YX hold the same symbols: such a model is right at most 3 times in 4 (75%).
    Returns ``xs: (T, B)`` integer ids in [0, V) and ``ys: (B,)`` classes in 0..3.
    """
    first = (T // 8, T // 4) if first is None else tuple(first)
    second = (T // 2, 3 * T // 4) if second is None else tuple(second)
    if not 0 <= first[0] < first[1] <= second[0] < second[1] <= T:
        raise ValueError(f"need 0 <= first[0] < first[1] <= second[0] < second[1] <= T = {T}, "
                         f"got first={first}, second={second}")
    symbols = tuple(int(s) for s in symbols)
    if len(symbols) != 2 or symbols[0] == symbols[1] or min(symbols) < 0 or max(symbols) >= V:
        raise ValueError(f"symbols must be two different ids in [0, V) = [0, {V}), "
                         f"got {symbols}")
    if V < 3:
        raise ValueError(f"V must be at least 3 (two symbols and a distractor), got {V}")
    distractors = np.setdiff1d(np.arange(V), symbols)
    xs = rng.choice(distractors, size=(T, B))                    # (T, B)
    which = rng.integers(0, 2, size=(2, B))                      # 0: X, 1: Y; first, second
    b = np.arange(B)
    xs[rng.integers(*first, size=B), b] = np.asarray(symbols)[which[0]]
    xs[rng.integers(*second, size=B), b] = np.asarray(symbols)[which[1]]
    return xs, 2 * which[0] + which[1]                           # (T, B), (B,)
