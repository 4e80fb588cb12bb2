"""Shape checks that name the argument, the shape it got and the shape it expected.

    >>> dims = check_shapes(xs=(xs, "T B D"), W_x=(W_x, "D H"))   # {"T": 5, "B": 2, "D": 3, "H": 4}

Each spec is a string of dimension symbols (the book's symbols). A symbol is bound by the first
argument that has it; every later argument must agree. A mismatch raises ``ValueError`` such as::

    W_h has shape (4, 5), expected (H, H) = (4, 4) (H = 4 from W_x)

:func:`check_ids` checks integer class indices (tokens, targets) against a vocabulary size.
"""
import numpy as np


def check_ids(name, ids, V):
    """Integer class indices (tokens, targets) in [0, V); return them as an array."""
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer class indices, got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"{name} must lie in [0, V) = [0, {V}), got values from {ids.min()} "
                         f"to {ids.max()}")
    return ids


def _shape_of(name, value):
    shape = getattr(value, "shape", None)
    if shape is None:
        raise ValueError(f"{name} must be an array, got {type(value).__name__}")
    return tuple(int(n) for n in shape)


def check_shapes(**specs):
    """Check every ``name=(array, "SYM SYM ...")`` in order; return the bound dimensions."""
    dims, source = {}, {}
    for name, (value, spec) in specs.items():
        symbols = spec.split()
        shape = _shape_of(name, value)
        expected = tuple(dims.get(s, s) for s in symbols)
        bad = len(shape) != len(symbols) or any(
            s in dims and dims[s] != n for s, n in zip(symbols, shape))
        if not bad:
            # Bind new symbols, checking repeats within this argument (e.g. W_h: "H H").
            for s, n in zip(symbols, shape):
                if dims.setdefault(s, n) != n:
                    bad = True
                    break
                source.setdefault(s, name)
        if bad:
            pretty = "(" + ", ".join(symbols) + (",)" if len(symbols) == 1 else ")")
            known = "(" + ", ".join(str(e) for e in expected) + (",)" if len(expected) == 1 else ")")
            bound = ", ".join(f"{s} = {dims[s]} from {source[s]}" for s in dict.fromkeys(symbols)
                              if s in dims and source.get(s) != name)
            message = f"{name} has shape {shape}, expected {pretty}"
            if known != pretty:
                message += f" = {known}"
            if bound:
                message += f" ({bound})"
            raise ValueError(message)
    return dims
