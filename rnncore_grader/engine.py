"""Grading one submitted notebook: run it in a sandbox, then let the trusted checks decide.

1. The notebook that runs is the release (the instructor's cells, visible tests included) with
   each answer cell replaced by the student's answer of the same grade_id. Whatever else the
   student changed (tests, points, grade ids, kernelspec, added cells) is not used.
2. Its code cells run in order in a sandboxed ``rnncore_grader.runner``. A cell that times out or kills
   the process is marked broken; the run restarts without it, so one broken cell costs only what
   depends on it.
3. Each graded test cell's question (``grading.py``, see rnncore_grader.checks) runs HERE, in the
   grader's process: it calls the student's functions in the sandbox on hidden inputs, gets plain
   data back and compares it with the solution's. The visible tests run in the sandbox only to
   give the student their messages; they award nothing, so by default (visible_tests="failed")
   only those of the questions that lost points run, in a second run after the questions.
"""
import errno
import os
import select
import signal
import time
from dataclasses import dataclass, field

import numpy as np

from rnncore_grader import names, wire
from rnncore_grader.checks import CheckFailed, QuestionError, StudentError
from rnncore.testing import resolve


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the submission): grading cannot go on."""


class _Timeout(Exception):
    pass


class _Crash(Exception):
    pass


def exit_description(code):
    """How a process ended, in words, from its exit code as subprocess gives it (None: it did not
    end, or it is unknown)."""
    if code is None:
        return "it stopped answering"
    if code < 0 or code > 128:
        number = -code if code < 0 else code - 128
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        hint = {"SIGKILL": " (killed: a limit on memory, CPU time or processes?)",
                "SIGSEGV": " (a segmentation fault)", "SIGXCPU": " (the CPU time limit)"}
        return f"the process was killed by {name}{hint.get(name, '')}"
    return f"the process exited with status {code}"


@dataclass
class Timeouts:
    cell: float = 60.0       # seconds for one cell of the notebook
    call: float = 30.0       # seconds for one call of a student's function by a question


class Session:
    """A sandboxed run of one notebook's cells that restarts, skipping broken cells, when needed.

    cells: [(label, code, kind)] (kind: "answer cells", "visible tests" or "other cells").
    outcomes[i] is what cell i did on its first run: {"status": "ok" | "error", "error": str,
    "output": str}. seconds: where the wall time went, {"start": the sandbox's set-up, Python's
    start and the runner's imports, then one entry per kind of cell (its runs summed),
    "questions": the questions' calls}.
    """

    def __init__(self, sandbox, cells, timeouts):
        self.sandbox, self.cells, self.timeouts = sandbox, cells, timeouts
        self.outcomes, self.broken, self.process = {}, set(), None
        self.started = 0
        self.seconds = {}

    def _spent(self, what, since):
        self.seconds[what] = self.seconds.get(what, 0.0) + time.monotonic() - since

    # --- the channel, with deadlines ---------------------------------------------------------
    def _write(self, data, deadline):
        fd = self.process.stdin.fileno()
        os.set_blocking(fd, False)
        view = memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Timeout
            _, ready, _ = select.select([], [fd], [], left)
            if ready:
                try:
                    view = view[os.write(fd, view):]
                except BrokenPipeError:
                    raise _Crash from None
                except OSError as error:
                    if error.errno != errno.EAGAIN:
                        raise _Crash from None

    def _read_exactly(self, fd, n, deadline):
        chunks, left = [], n
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise _Timeout
            ready, _, _ = select.select([fd], [], [], wait)
            if ready:
                chunk = os.read(fd, min(left, 1 << 20))
                if not chunk:
                    raise _Crash
                chunks.append(chunk)
                left -= len(chunk)
        return b"".join(chunks)

    def _request(self, message, timeout):
        deadline = time.monotonic() + timeout
        self._write(wire.encode(message), deadline)
        reply = wire.receive(self.process.stdout.fileno(),
                             lambda fd, n: self._read_exactly(fd, n, deadline))
        if not isinstance(reply, dict) or reply.get("status") not in ("ok", "error"):
            raise wire.WireError("the reply is not a grader reply")
        return reply

    # --- the process ---------------------------------------------------------------------------
    def kill(self):
        """End the run and everything it started; its exit code (see sandbox.Run.stop)."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        return process.stop()

    def ended(self, code):
        """How the run ended (code: the run's exit status), naming the whole run's memory limit
        when the sandbox's cgroup says that is what stopped it."""
        over = getattr(self.sandbox, "killed_for_memory", None)
        if over is not None and over():
            return (f"the process was killed by SIGKILL: all the run's processes together went "
                    f"over the {self.sandbox.limits.run_memory_mb} MiB of memory a run may use")
        return exit_description(code)

    def close(self):
        self.kill()

    def ensure(self):
        """A live run in which every cell not known to be broken has run."""
        while self.process is None:
            since = time.monotonic()
            self.process = self.sandbox.start()
            self.started += 1
            try:                                      # before any student code: the sandbox itself
                self._request({"op": "exec", "code": "pass", "label": "<start>"}, 60)
            except (_Timeout, _Crash, wire.WireError) as error:
                code = self.kill()
                raise SandboxError(f"the sandbox did not start ({type(error).__name__}, "
                                   f"{exit_description(code)}); see {self.sandbox.log}")
            self._spent("start", since)
            for i, (label, code, kind) in enumerate(self.cells):
                if i in self.broken:
                    continue
                since = time.monotonic()
                try:
                    reply = self._request({"op": "exec", "code": code, "label": label},
                                          self.timeouts.cell)
                except _Timeout:
                    self.kill()
                    failure = (f"the cell did not finish within {self.timeouts.cell:g} s. "
                               f"Does a loop never end? Does it train for longer than the "
                               f"notebook asks (run it with %%time in Jupyter: it should take a "
                               f"few seconds)? The cells after it ran without it")
                except (_Crash, wire.WireError) as error:
                    code_ = self.kill()
                    failure = (f"the grader could not read its result ({error})"
                               if isinstance(error, wire.WireError) else self.ended(code_))
                else:
                    self.outcomes.setdefault(i, reply)
                    continue
                finally:
                    self._spent(kind, since)
                self.broken.add(i)
                self.outcomes.setdefault(i, {"status": "error", "output": "",
                                             "error": f"Grading stopped this cell: {failure}."})
                break

    def call(self, op, name, args=(), kwargs=None, using=None, arguments_after=False,
             forbid=()):
        """The value of the student's name(*args, **kwargs) (op "call") or of name ("value");
        using: {name: "module:attribute"} replaced in the student's namespace during the call;
        arguments_after: return (value, args, kwargs) as they are after the call;
        forbid: ["module:attribute"] library functions that raise LibraryUnavailable during
        the call (the question asks the student to write them)."""
        what = f"{name}(...)" if op == "call" else name
        self.ensure()
        since = time.monotonic()
        try:
            reply = self._request({"op": op, "name": name, "args": list(args),
                                   "kwargs": dict(kwargs or {}), "using": dict(using or {}),
                                   "arguments_after": arguments_after,
                                   "forbid": list(forbid)}, self.timeouts.call)
        except _Timeout:
            self.kill()
            raise StudentError(f"{what} did not return within {self.timeouts.call:g} s on the "
                               f"grader's inputs (of the sizes the notebook uses). Does a loop "
                               f"never end, or does it do far more work than needed (a Python "
                               f"loop over every entry of a large array)?") from None
        except _Crash:
            raise StudentError(f"{what} stopped the grader's run: "
                               f"{self.ended(self.kill())}") from None
        except wire.WireError as error:
            self.kill()
            raise StudentError(f"the result of {what} cannot be graded: {error}") from None
        finally:
            self._spent("calls", since)
        if reply["status"] == "error":
            error = str(reply.get("error", ""))
            raise StudentError(f"{what} raised {error.strip().splitlines()[-1] if error.strip() else 'an error'}"
                               + (f"\n{error}" if "\n" in error else ""))
        return reply.get("value")


class Student:
    """The submission, as the questions see it:

    student.f(...)                                calls f in the sandbox, returns its result;
    student.value("x")                            reads its global x;
    student.using(f="rnncore.rnn:step").g(...)    calls g while the student's f is the library's
                                                  (to test g on its own);
    student.arguments_after().f(a, b)             returns (result, [a, b], {}) with a and b as
                                                  the call left them (did it write into them?).

    A library function is passed as an argument with rnncore_grader.checks.library("module:name").
    While a question with forbid=(...) runs, its student's calls run with those library
    functions unavailable; passing one of them with using() or library() is the question's bug
    (QuestionError)."""

    def __init__(self, session, using=None, arguments_after=False, forbid=()):
        self._session, self._using, self._after = session, dict(using or {}), arguments_after
        self._forbid = tuple(forbid)

    def _check_not_forbidden(self, targets, how):
        hidden = {id(resolve(t)[0]): t for t in self._forbid}
        for target in targets:
            if id(resolve(target)[0]) in hidden:
                raise QuestionError(f"the question forbids {hidden[id(resolve(target)[0])]} and "
                                    f"also gives it to the student ({how} {target}): a function "
                                    f"cannot be both; remove it from one of the two")

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args, **kwargs):
            if self._forbid:
                self._check_not_forbidden([a.target for a in [*args, *kwargs.values()]
                                           if isinstance(a, wire.Library)], "library")
            got = self._session.call("call", name, args, kwargs, self._using, self._after,
                                     self._forbid)
            if self._after and not (isinstance(got, (tuple, list)) and len(got) == 3
                                    and isinstance(got[1], (tuple, list))
                                    and len(got[1]) == len(args) and isinstance(got[2], dict)):
                raise StudentError(f"{name}(...): the grader could not read its arguments back")
            return got
        return call

    def value(self, name):
        return self._session.call("value", name)

    def using(self, **names):
        self._check_not_forbidden(names.values(), "using")
        return Student(self._session, {**self._using, **names}, self._after, self._forbid)

    def arguments_after(self):
        return Student(self._session, self._using, True, self._forbid)


@dataclass
class Result:
    """What grading one notebook found."""
    scores: dict = field(default_factory=dict)      # test grade_id -> (points, max_points)
    messages: dict = field(default_factory=dict)    # test grade_id -> why it lost its points
    outcomes: dict = field(default_factory=dict)    # cell index in the notebook -> outcome
    notes: list = field(default_factory=list)       # about the submission as a whole
    regrades: dict = field(default_factory=dict)    # other seed -> {grade_id: points}
    regrade_seconds: float = 0.0
    seconds: float = 0.0
    runs: int = 0
    phases: dict = field(default_factory=dict)      # where the seconds went (Session.seconds,
                                                    # "questions": the checks' own work here)
    skipped: list = field(default_factory=list)     # visible test cells not run (grade's
                                                    # visible_tests)


def _ask(check, student, ref, rng):
    """None if the question check gives its points, else the message saying why not."""
    try:
        check(student, ref, rng)
    except (CheckFailed, StudentError) as error:
        return str(error)
    except QuestionError:
        raise                                         # the author's bug: nothing can be graded
    except Exception as error:                        # the result broke the check's arithmetic
        return f"the result could not be checked: {type(error).__name__}: {error}"
    return None


VISIBLE_TESTS = ("failed", "all", "none")


def visible_tests_mode(value):
    """The mode of SandboxedGrading.visible_tests: "failed", "all" or "none" (True and False,
    the setting's earlier values, are "all" and "none")."""
    mode = {True: "all", False: "none"}.get(value, value) if isinstance(value, bool) else value
    if mode not in VISIBLE_TESTS:
        raise ValueError(f"visible_tests must be one of {', '.join(VISIBLE_TESTS)} (or True, "
                         f"False), got {value!r}")
    return mode


def grade(sandbox, notebook, questions, points, ref, seed, timeouts=Timeouts(), regrade=(),
          regrade_only=None, visible_tests="all"):
    """Grade one prepared notebook (see rnncore_grader.submission.prepare).

    notebook:  nbformat notebook: the release with the student's answers in place.
    questions: grade_id -> check function (rnncore_grader.checks); points: grade_id -> max points.
    ref:       namespace of the solution; seed: int, the per-submission seed of the inputs.
    regrade:   more seeds (other students' hidden inputs): after grading, the questions (those
               in regrade_only, if given) run again with each of them in the same sandboxed
               run, and result.regrades[seed] = {grade_id: points} -- is the grade the same
               whatever the draw? (for the course's tests; grading never needs it)
    visible_tests: which of the release's graded test cells run, "all", "failed" or "none".
               They award nothing (the questions decide every point) but show the student
               their messages, and where they train models they cost more than all the rest
               (ch06, ch08). "failed" leaves them out of the run and, once the questions have
               decided, runs the notebook again in a fresh run with the test cells of the
               questions that lost points: their messages are in the feedback, as with "all".
               "none" never runs them. Either way a test cell that binds a name a later cell
               reads (rnncore_grader.names) always runs. result.skipped: the test cells not run.
    """
    mode = visible_tests_mode(visible_tests)
    start = time.monotonic()
    code_cells = [(i, c) for i, c in enumerate(notebook.cells) if c.cell_type == "code"]
    cells = []
    for i, cell in code_cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id", f"cell {i}")
        kind = ("answer cells" if meta.get("solution") else
                "visible tests" if meta.get("grade") else "other cells")
        cells.append((i, grade_id, f"<cell {grade_id}>", cell.source, kind))
    left_out = set()                                 # notebook indices of test cells not run
    if mode != "all":
        left_out = {cells[k][0] for k in names.deferrable(
            [(code, kind == "visible tests" and grade_id in questions)
             for _, grade_id, _, code, kind in cells])}
    session = Session(sandbox, [c[2:] for c in cells if c[0] not in left_out], timeouts)
    ran = [c[0] for c in cells if c[0] not in left_out]
    students = {grade_id: Student(session, forbid=getattr(check, "forbid", ()))
                for grade_id, check in questions.items()}
    result = Result()
    try:
        session.ensure()
        asking, in_session = time.monotonic(), sum(session.seconds.values())
        for n, (grade_id, check) in enumerate(questions.items()):
            message = _ask(check, students[grade_id], ref, np.random.default_rng([seed, n]))
            if message is not None:
                result.messages[grade_id] = message
            result.scores[grade_id] = (0.0 if message is not None else points[grade_id],
                                       points[grade_id])
        regrading = time.monotonic()
        # the questions' own work in this process: what the session spent meanwhile aside
        asked = regrading - asking - (sum(session.seconds.values()) - in_session)
        for other in regrade:
            result.regrades[other] = {
                grade_id: 0.0 if _ask(check, students[grade_id], ref,
                                      np.random.default_rng([other, n])) else points[grade_id]
                for n, (grade_id, check) in enumerate(questions.items())
                if regrade_only is None or grade_id in regrade_only}
        result.regrade_seconds = time.monotonic() - regrading
        session.ensure()                              # every cell has run once, for feedback
    finally:
        session.close()
    result.outcomes = {ran[k]: outcome for k, outcome in session.outcomes.items()}
    result.runs, result.phases = session.started, dict(session.seconds)
    failed = {i for i, grade_id, *_ in cells if i in left_out and grade_id in result.messages}
    if mode == "failed" and failed:
        # Again, in order, with the failed questions' test cells, for their messages.
        again = [c for c in cells if c[0] not in left_out or c[0] in failed]
        rerun = Session(sandbox, [c[2:] for c in again], timeouts)
        broken = {ran[k] for k in session.broken}    # (notebook indices)
        rerun.broken = {k for k, c in enumerate(again) if c[0] in broken}
        try:
            rerun.ensure()
        finally:
            rerun.close()
        result.outcomes.update({again[k][0]: outcome for k, outcome in rerun.outcomes.items()
                                if again[k][0] in failed})
        result.runs += rerun.started
        for what, seconds in rerun.seconds.items():
            result.phases[what] = result.phases.get(what, 0.0) + seconds
        left_out -= failed
    result.skipped = sorted(left_out)
    result.seconds = time.monotonic() - start
    result.phases["questions"] = asked
    return result
