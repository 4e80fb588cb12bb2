"""What the three fast paths share: the input term of every step, computed before the loop."""


def input_term(xs, W_x):
    """x_t W_x for every step at once: xs (T, B, D), W_x (D, G) -> (T*B, G), a new array.

    With D = 1 it is an outer product, which broadcasting computes several times faster than a
    matmul whose inner dimension is 1 (and to the same bits: one product per entry, no sum)."""
    T, B, D = xs.shape
    if D == 1:
        return xs.reshape(T * B, 1) * W_x
    return xs.reshape(T * B, D) @ W_x
