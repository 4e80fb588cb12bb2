"""Trusted questions of chapter 8's assignment: what each test cell's points are awarded for.

The capstone is graded by outcome. The student's ``fit`` trains on a fresh task of the
capstone's family (``capstone_task`` of the solution notebook): new sequences, drawn from rng,
and two tokens as X and Y that are neither of the visible task's, so that only a model that
learns them from the data can pass. ``predict`` must then reach an accuracy of 0.9 on 1000 fresh
test sequences (an order-blind model reaches 0.75 at most; the solution's GRU about 1.0). Then,
as for every trained model of the course: the same seed must give the same parameters (``fit``
draws from the rng it is given, so a regrade gives the same score), a sequence's class must not
depend on the rest of its batch (one sequence of each predicted class alone, a batch of 7, the
test set reversed), neither function may change its arguments, and ``predict`` must compute
from the params it is given: with every number in them set to 0 it must not predict the same
classes again (a model kept in a global variable by ``fit`` would).

The concept questions are graded against the key below, not against the student's visible
tests (which check only the form of an answer). The counting questions (q1, q7, q9) want the
exact integer: a float, or a count one off, is wrong. Their messages point to the chapter to
reread, never to the answer.
"""
import numpy as np

from rnncore_grader.checks import StudentError, expect, expect_close, question
from rnncore.testing import changed_argument, predicts_without_params

THRESHOLD = 0.9          # accuracy on the hidden test set; the solution's is about 1.0
N_TRAIN, N_TEST = 2000, 1000


# --- the capstone --------------------------------------------------------------------------------

ACCURACY_HINT = ("an accuracy near 0.75 means the model counts X and Y but not their order; near "
                 "0.5 or below, it has forgotten the first relevant token by the end (a vanilla "
                 "RNN forgets it, chapters 4 and 5; a model that reads only the last steps never "
                 "sees it) or has not learned which tokens are X and Y. Learn them from "
                 "train_data, never from particular token values")


@question("test_capstone")
def capstone(student, ref, rng):
    visible = set(ref.capstone_symbols(0))
    others = [v for v in range(ref.V_CAPSTONE) if v not in visible]
    symbols = tuple(int(s) for s in rng.choice(others, size=2, replace=False))
    seed = int(rng.integers(2**31))
    (train_xs, train_ys), (test_xs, test_ys) = ref.capstone_task(seed, N_TRAIN, N_TEST, symbols)
    fit_seed = int(rng.integers(2**31))
    params, after, _ = student.arguments_after().fit((train_xs, train_ys),
                                                     np.random.default_rng(fit_seed))
    expect(not changed_argument([(train_xs, train_ys)], after, ["train_data"]),
           "fit(train_data, rng) changed its argument train_data on the hidden task. Hint: a "
           "function must not write into its inputs: shuffle an index (rng.permutation), not "
           "the arrays in place")
    classes, after, _ = student.arguments_after().predict(params, test_xs)
    classes = np.asarray(classes)
    expect(not changed_argument([params, test_xs], after, ["params", "xs"]),
           "predict(params, xs) changed one of its arguments on the hidden task. Hint: a "
           "function must not write into its inputs")
    what = "on the hidden task (new sequences, other tokens as X and Y)"
    expect(classes.shape == test_ys.shape and classes.dtype.kind in "iu",
           f"predict returned {classes.dtype} of shape {classes.shape} {what}, expected integers "
           f"of shape (B,) = {test_ys.shape}. Hint: one class per sequence, e.g. the argmax of "
           f"the 4 logits")
    expect(classes.size == 0 or (classes.min() >= 0 and classes.max() <= 3),
           f"predict returned classes outside 0..3 {what}. Hint: the classes are 0, 1, 2, 3")
    accuracy = float(np.mean(classes == test_ys))
    expect(accuracy >= THRESHOLD,
           f"the accuracy {what} is {accuracy:.3f}, below {THRESHOLD}. Hint: {ACCURACY_HINT}")
    batch_hint = ("the class of a sequence must not depend on the other sequences of the batch: "
                  "no mean, deviation or normalisation over the batch axis")
    for b in [int(np.flatnonzero(classes == c)[0]) for c in np.unique(classes)]:
        expect_close(np.asarray(student.predict(params, test_xs[:, b:b + 1])), classes[b:b + 1],
                     "predict on one hidden test sequence alone (B = 1)", hint=batch_hint)
    start = int(rng.integers(0, 900))
    expect_close(np.asarray(student.predict(params, test_xs[:, start:start + 7])),
                 classes[start:start + 7], "predict on 7 hidden test sequences as one batch",
                 hint=batch_hint)
    expect_close(np.asarray(student.predict(params, test_xs[:, ::-1]))[::-1], classes,
                 "predict on the hidden test set in reverse order", hint=batch_hint)
    again = student.fit((train_xs, train_ys), np.random.default_rng(fit_seed))
    expect_close(again, params, f"the parameters of a second fit with the same rng seed {what}",
                 exact=True, hint="draw every random number from the rng that fit is given "
                                  "(initialisation, shuffling, dropout...), never from an "
                                  "unseeded np.random.default_rng() or the global np.random")
    expect(not predicts_without_params(student.predict, params, test_xs, classes,
                                       failures=StudentError),
           f"predict gave the same classes {what} with every number in params set to 0: it does "
           f"not compute from the params it is given. Hint: return everything predict needs in "
           f"params and read it from there, never from a global variable that fit set")


# --- the concept check ---------------------------------------------------------------------------

def _choice(name, right, hint):
    """A multiple-choice question: the letter name() returns against the right one."""
    @question(f"test_{name}")
    def check(student, ref, rng):
        answer = getattr(student, name)()
        expect(isinstance(answer, str), f"{name}() returned {answer!r}, not a string. Hint: "
                                        f"return one letter as a string, e.g. \"a\"")
        letter = answer.strip().strip("()").strip().lower()
        expect(len(letter) == 1 and letter in "abcd",
               f"{name}() returned {answer!r}. Hint: return one of the letters a, b, c, d")
        expect(letter == right, f"{name}(): {answer!r} is not the right answer. Hint: {hint}")
    return check


def _integer(name, right, hint):
    """A counting question: the int name() returns against the right one, exactly."""
    @question(f"test_{name}")
    def check(student, ref, rng):
        answer = getattr(student, name)()
        expect(isinstance(answer, (int, np.integer)) and not isinstance(answer, (bool, np.bool_)),
               f"{name}() returned {answer!r}, not an int. Hint: this question counts something: "
               f"return an int such as 42, not 42.0 or a string")
        expect(int(answer) == right, f"{name}(): {answer!r} is not the right count. Hint: {hint}")
    return check


def _number(name, right, hint, rtol=2e-3):
    """A numeric question: the number name() returns against the right one, within rtol."""
    @question(f"test_{name}")
    def check(student, ref, rng):
        answer = getattr(student, name)()
        expect(isinstance(answer, (int, float, np.integer, np.floating))
               and not isinstance(answer, bool),
               f"{name}() returned {answer!r}, not a number. Hint: return an int or a float")
        expect(bool(np.isfinite(answer)), f"{name}() returned {answer}. Hint: return a finite "
                                          f"number")
        expect(bool(np.isclose(float(answer), right, rtol=rtol, atol=0.0)),
               f"{name}(): {answer!r} is not the right value. Hint: {hint}")
    return check


_integer("q1_parameters", 536,
        "count W_x (D x H), W_h (H x H) and b_h (H), then W_y (H x V) and b_y (V): both layers, "
        "biases included")
_number("q2_perplexity", float(np.exp(1.2)),
        "the perplexity undoes the logarithm of the cross-entropy; nats are natural logarithms, "
        "not base 2")
_choice("q3_truncated_bptt", "c",
        "chapter 3, Truncated backpropagation through time: what is carried across a window "
        "boundary, the value of the state or its gradient?")
_choice("q4_vanishing", "a",
        "chapter 4, How large can the product be?: the bound (gamma sigma_max)^k, with gamma = 1 "
        "for tanh, and what it guarantees")
_choice("q5_lstm_cell", "d",
        "chapter 5, Why the cell helps: differentiate c_t with respect to c_{t-1}, holding the "
        "gates fixed")
_choice("q6_forecast_split", "b",
        "chapter 6, forecasting: the test set stands for the future; can anything computed from "
        "it reach the training?")
_integer("q7_receptive_field", 61,
        "one causal convolution with kernel size k and dilation d reaches (k - 1) d steps further "
        "back; count both convolutions of every block, and the current step")
_choice("q8_path_length", "c",
        "chapter 7: a recurrent network passes the signal one step at a time; a doubling "
        "dilation doubles the reach of every layer; attention connects any two positions "
        "directly")
_integer("q9_kv_cache", 8_192_000,
        "every token leaves a key and a value of d numbers in every layer; then bytes, 4 per "
        "number")
_choice("q10_streaming", "b",
        "chapter 8, When recurrence still wins: what does each model keep, and how does it grow "
        "as the stream goes on?")
