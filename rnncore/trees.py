"""Parameter trees: nested dicts of arrays (``{"rnn": {"W_h": ...}, "output": {"W_y": ...}}``).

Optimizers, clipping, parameter counts and the gradient checks walk parameters with these two
functions, so a model may nest its parts as deeply as it likes.
"""


def tree_map(f, tree, *rest):
    """f applied to the arrays of one or more nested dicts with the same keys; a new nested dict."""
    if not isinstance(tree, dict):
        return f(tree, *rest)
    for other in rest:
        if set(other) != set(tree):
            raise ValueError(f"the dicts have different keys: {sorted(tree)} and {sorted(other)}")
    return {k: tree_map(f, tree[k], *(other[k] for other in rest)) for k in tree}


def leaves(tree, prefix=""):
    """The (name, array) pairs of a nested dict; nested names are joined by '/' ("encoder/W_h")."""
    if not isinstance(tree, dict):
        return [(prefix, tree)]
    return [pair for k, v in tree.items() for pair in leaves(v, f"{prefix}/{k}" if prefix else k)]
