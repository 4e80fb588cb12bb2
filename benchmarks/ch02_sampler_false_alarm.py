"""How often chapter 2's check of the sampler fails a correct sampler (the library's), measured.

Trains chapter 2's character RNN (the same seed and settings), takes its distribution after the
prompt "The value of the ", and runs two checks of n = 20,000 draws at temperature 1 on 1,000
seeds (100 ... 1,099) other than the chapter's:

- "every class": each of the 94 frequencies within 5 standard errors sqrt(p (1 - p) / n);
- "pooled": only the classes expected at least 20 times, the rest pooled into one class.

It prints each check's failure rate at the threshold 5 and, for the pooled check, the rate at lower
thresholds against the normal approximation's prediction 1 - (1 - P(|Z| > z))^k.

    OPENBLAS_NUM_THREADS=1 python benchmarks/ch02_sampler_false_alarm.py    # about 2 minutes
"""
import math

import numpy as np

from rnncore import data, generate, losses, numerics, optim, rnn_lm, train
from rnncore.data import datasets

corpus = datasets.load_corpus()
vocab = data.Vocab.from_text(corpus)
V = len(vocab)
train_ids = vocab.encode(corpus)[:50_000]
T, B, H = 32, 32, 128
rng = np.random.default_rng(seed=2)
params = rnn_lm.init(V, H, V, rng)
too_large = {name: rng.normal(size=p.shape) for name, p in params.items()}   # as the chapter


def epoch(rng):
    shift = rng.integers(T)
    return [(data.one_hot(x, V), y) for x, y in data.lm_batches(train_ids[shift:], B, T)]


params, _ = train.train(rnn_lm.loss, params, epoch, optim.adam(1e-2), steps=576, clip=1.0,
                        rng=rng, progress=False)
context = vocab.encode("The value of the ")[:, None]
y_next = rnn_lm.forward(params, data.one_hot(context, V))[0][-1]      # (1, V)
p = numerics.softmax(y_next)[0]

n, seeds = 20_000, range(100, 1100)
common = n * p >= 20
p_tested = np.r_[p[common], p[~common].sum()]
k = len(p_tested)
every_z, pooled_z = [], []
for seed in seeds:
    counts = np.bincount(generate.sample(np.repeat(y_next, n, axis=0), 1.0,
                                         np.random.default_rng(seed)), minlength=V)
    every_z.append(np.max(np.abs(counts / n - p) / np.sqrt(p * (1 - p) / n)))
    tested = np.r_[counts[common], counts[~common].sum()] / n
    pooled_z.append(np.max(np.abs(tested - p_tested) / np.sqrt(p_tested * (1 - p_tested) / n)))
every_z, pooled_z = np.array(every_z), np.array(pooled_z)

print(f"every class (94 tests): fails {np.sum(every_z >= 5)} of {len(seeds)} seeds")
print(f"pooled ({k} tests):      fails {np.sum(pooled_z >= 5)} of {len(seeds)} seeds; "
      f"largest |z| {pooled_z.max():.2f}")
for z in [2.5, 3.0, 3.5, 4.0, 5.0]:
    predicted = 1 - (1 - math.erfc(z / math.sqrt(2))) ** k
    print(f"  threshold {z}: measured {np.mean(pooled_z >= z):.4f}, predicted {predicted:.2e}")
