r"""The fast path behind the recurrent cells: backpropagation through time written by hand.

For each cell (:mod:`rnncore.fastpath.rnn`, :mod:`~rnncore.fastpath.lstm`,
:mod:`~rnncore.fastpath.gru`): ``numpy_forward``, the forward loop in plain numpy writing in place;
``numpy_backward``, its gradient by hand; and ``layer``, the autograd primitive that joins them,
so that autograd sees one operation per sequence instead of a few per time step. Both loops go
through time in blocks of steps that stay in the processor's cache (:mod:`~rnncore.fastpath.shared`,
which also keeps their work arrays between calls, and splits the step matmuls into blocks of
columns that its BLAS multiplies faster). The cell modules' ``forward`` calls ``layer`` after
checking its arguments (the LSTM's calls ``fastpath.lstm.forward``, whose primitive takes the
params dict itself); their ``forward_reference`` is the same layer differentiated by autograd
step by step, and the tests hold the two to each other, to finite differences and to PyTorch.
"""
from . import gru, lstm, rnn  # noqa: F401
