"""rnncore: recurrent neural networks in numpy, small enough to read, checked by autograd.

Modules, one idea each:

- :mod:`rnncore.rnn`       the vanilla RNN layer (init, step, forward)
- :mod:`rnncore.output`    the output layer y_t = W_y h_t + b_y (logits)
- :mod:`rnncore.losses`    softmax cross-entropy over sequences, mean squared error, accuracy,
                           perplexity
- :mod:`rnncore.model`     RNN -> output -> loss as one function autograd can differentiate
- :mod:`rnncore.bptt`      backpropagation through time, by hand
- :mod:`rnncore.gradcheck` finite differences and gradient comparison that says where
- :mod:`rnncore.shapes`    shape checks with errors a student can act on
- :mod:`rnncore.testing`   assertions for exercises that name the quantity and the place
- :mod:`rnncore.optim`     SGD, momentum, Adagrad and Adam as pure (init, update) pairs; clipping
- :mod:`rnncore.train`     the training loop (progress bar, history); truncated BPTT in windows
- :mod:`rnncore.data`      character vocabulary, language-model batches, windows, splits, scaling
- :mod:`rnncore.tasks`     synthetic tasks: adding, copy, parity, noisy sine, Mackey-Glass
- :mod:`rnncore.datasets`  small real data shipped with the package: sunspots and a text corpus
- :mod:`rnncore.plots`, :mod:`rnncore.widgets`  the book's figures and controls

Layout, everywhere: time-major sequences ``xs: (T, B, D)``, hidden states ``(B, H)``, row
vectors times weights (``h @ W_h``), so each weight is the transpose of the book's column form.
"""
__version__ = "0.1.0"

from . import (bptt, data, datasets, gradcheck, losses, model, optim, output, rnn,  # noqa: E402,F401
               shapes, tasks, testing, train)
