"""The process inside the sandbox: runs a submission's cells, then calls its functions on request.

Started by the grader (never by hand) as ``python -I -m rnncore_grader.runner``. It takes the request
channel from its stdin and stdout, then points fd 0 at /dev/null and fds 1 and 2 at an output
file, so that what the student's code prints is captured and cannot mix with the channel.

Requests (see rnncore_grader.wire), each answered by one reply:

    {"op": "exec", "code": str, "label": str}  -> {"status": "ok" | "error", "error": str,
                                                    "output": str}
    {"op": "call", "name": str, "args": list, "kwargs": dict, "using": {name: "module:attr"},
     "arguments_after": bool, "forbid": ["module:attr"]}
                                                -> {"status": "ok", "value": ...} or error
    {"op": "value", "name": str}                -> {"status": "ok", "value": ...} or error

A cell runs as Jupyter runs it: IPython's transformation first (``%time f()`` becomes
``get_ipython().run_line_magic("time", "f()")``), then ``exec`` with a ``get_ipython()`` whose
%time, %timeit, %%time, %%timeit and %%capture run their code (%timeit once) and whose other magics
and shell escapes do nothing but say so in the cell's output. During a call, the library functions
in "forbid" raise LibraryUnavailable (rnncore.testing.without); those in "using" are intact copies.

Nothing here is trusted: the submission runs in this process and may change anything in it,
this module included. The grader therefore reads only data from the channel, and decides every
score outside, in its own process.
"""
import contextlib
import importlib
import io
import json
import os
import re
import signal
import sys
import time
import traceback
import types

from rnncore_grader import wire
from rnncore.testing import copy_function, without

OUTPUT_LIMIT = 20_000          # characters of a cell's output sent back
OUTPUT_FILE = "output.txt"


def _read_exactly(fd, n):
    chunks, left = [], n
    while left:
        chunk = os.read(fd, left)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _error_text(error, label):
    """The exception as a student reads it: the frames of their own cells and the message."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith("<")]
    lines = [f"  {f.filename}, line {f.lineno}, in {f.name}" + (f"\n    {f.line}" if f.line else "")
             for f in frames[-6:]]
    message = "".join(traceback.format_exception_only(type(error), error)).strip()
    return "\n".join(["Traceback (most recent call last):", *lines, message]) if lines else message


_TRANSFORMER = []
# What IPython's transforms act on: magics (%), shell (!) and help (?) escapes, prompts (>>>, ...,
# In [n]:), a leading indent or blank line. A cell with none of them that compiles is the Python
# IPython would run, as it is (checked over every cell of the course's notebooks); it is run
# without importing IPython, which costs every sandboxed notebook some 40 ms.
_IPYTHON_SYNTAX = re.compile(r"[%!?]|^\s*(>>>|\.\.\.|In \[)", re.M)


def transform(code):
    """The Python that IPython would run for a cell's code (magics become get_ipython() calls)."""
    if not _IPYTHON_SYNTAX.search(code) and not code[:1].isspace():
        try:
            compile(code, "<cell>", "exec")
            return code
        except SyntaxError:
            pass                      # (e.g. IPython's autocall escapes: ",f a" or "/f a")
    if not _TRANSFORMER:
        from IPython.core.inputtransformer2 import TransformerManager
        _TRANSFORMER.append(TransformerManager())
    return _TRANSFORMER[0].transform_cell(code)


def run_cell(code, label, namespace, local=None):
    exec(compile(transform(code), label, "exec"), namespace, namespace if local is None else local)


RUN_MAGICS = ("%time", "%timeit", "%%time", "%%timeit", "%%capture")
_TIMEIT_OPTION = re.compile(r"\s*-(?:[nrp]\s*[0-9.]+|[tcqo]+)(?=\s|$)")


def _timeit_options(line):
    """(options, the rest): -n1 -r 3 -o f(x) -> ("-n1 -r 3 -o", "f(x)")."""
    options = []
    while True:
        match = _TIMEIT_OPTION.match(line)
        if not match:
            return " ".join(options), line.strip()
        options.append(match.group().strip())
        line = line[match.end():]


class TimeitResult:
    """What %timeit -o returns, for one run."""

    def __init__(self, seconds):
        self.loops, self.repeat, self.compile_time = 1, 1, 0.0
        self.all_runs, self.timings = [seconds], [seconds]
        self.best = self.worst = self.average = seconds
        self.stdev = 0.0

    def __repr__(self):
        return f"{self.average * 1e3:.3g} ms (1 run, 1 loop: the grader times once)"


class CapturedIO:
    """What %%capture name stores: the cell's printed output."""

    def __init__(self, stdout, stderr):
        self.stdout, self.stderr, self.outputs = stdout, stderr, []

    def show(self):
        sys.stdout.write(self.stdout)
        sys.stderr.write(self.stderr)

    __call__ = show


class Shell:
    """get_ipython() while grading: the magics that run code run it, the others say they did
    nothing (there is no shell, no display, no extension)."""

    def __init__(self, namespace):
        self.user_ns = namespace

    @staticmethod
    def _note(what):
        print(f"[grader] {what} was not run: while grading, only {', '.join(RUN_MAGICS)} run "
              f"(their code, once); other magics and shell commands do nothing.")

    def _time(self, code, label):
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            try:
                expression = compile(transform(code).strip() or "None", label, "eval")
            except SyntaxError:
                run_cell(code, label, self.user_ns)
                return None
            return eval(expression, self.user_ns)
        finally:
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            print(f"CPU times: total: {cpu:.3g} s\nWall time: {wall:.3g} s")

    def _timeit(self, setup, code, options, label):
        local = {}
        if setup.strip():
            run_cell(setup, label, self.user_ns, local)
        start = time.perf_counter()
        run_cell(code, label, self.user_ns, local)        # as IPython: its names stay local
        seconds = time.perf_counter() - start
        if "-q" not in options.split():
            print(f"{seconds * 1e3:.3g} ms (the grader runs %timeit's code once)")
        return TimeitResult(seconds) if "-o" in options.split() else None

    def run_line_magic(self, name, line, _stack_depth=1):
        if name == "time":
            return self._time(line, "<%time>")
        if name == "timeit":
            options, statement = _timeit_options(line)
            return self._timeit("", statement, options, "<%timeit>")
        self._note(f"%{name} {line}".strip())
        return None

    def run_cell_magic(self, name, line, cell):
        if name == "time":
            run_cell(cell, "<%%time>", self.user_ns)
            return None
        if name == "timeit":
            options, setup = _timeit_options(line)
            return self._timeit(setup, cell, options, "<%%timeit>")
        if name == "capture":
            words = line.split()
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    run_cell(cell, "<%%capture>", self.user_ns)
                finally:
                    captured = CapturedIO(out.getvalue(), err.getvalue())
            names = [w for w in words if not w.startswith("-")]
            if names:
                self.user_ns[names[0]] = captured
            if "--no-stdout" in words:
                sys.stdout.write(captured.stdout)
            if "--no-stderr" in words:
                sys.stderr.write(captured.stderr)
            return None
        self._note(f"%%{name} {line}".strip() + " (the whole cell)")
        return None

    def magic(self, line):
        name, _, rest = line.lstrip("%").partition(" ")
        return self.run_line_magic(name, rest)

    def system(self, command):
        self._note(f"!{command}")

    def getoutput(self, command, *args, **kwargs):
        self._note(f"!{command}")
        return []

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def main():
    home = os.environ.get("HOME", ".")
    os.chdir(home)
    os.makedirs(os.environ.get("TMPDIR", home), exist_ok=True)
    channel_in, channel_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    output = os.open(OUTPUT_FILE, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(output, 1)
    os.dup2(output, 2)
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    sys.stdin = open(0, "r", closefd=False)
    # Past the file-size limit a write fails with an OSError instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    sys.argv = ["grader"]
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    shell = Shell(namespace)
    namespace["get_ipython"] = lambda: shell

    me = os.getpid()
    while True:
        if os.getpid() != me:
            # A process the submission forked came back here: only the runner itself may
            # answer on the channel.
            os._exit(0)
        try:
            request = wire.receive(channel_in, _read_exactly, functions=True)
        except EOFError:
            os._exit(0)                   # threads the submission left running end here too
        op = request.get("op")
        try:
            if op == "exec":
                start = os.lseek(output, 0, os.SEEK_END)
                reply = {"status": "ok"}
                try:
                    run_cell(request["code"], request["label"], namespace)
                except BaseException as error:      # SystemExit and KeyboardInterrupt too
                    reply = {"status": "error", "error": _error_text(error, request["label"])}
                for stream in (sys.stdout, sys.stderr):
                    try:
                        stream.flush()
                    except Exception:
                        pass
                end = os.lseek(output, 0, os.SEEK_END)
                os.lseek(output, start, os.SEEK_SET)
                text = os.read(output, min(end - start, OUTPUT_LIMIT)).decode("utf-8", "replace")
                if end - start > OUTPUT_LIMIT:
                    text += f"\n[... output cut: {end - start} bytes in all]"
                reply["output"] = text
            elif op in ("call", "value"):
                if request["name"] not in namespace:
                    reply = {"status": "error",
                             "error": f"NameError: {request['name']} is not defined"}
                elif op == "value":
                    reply = {"status": "ok", "value": namespace[request["name"]]}
                else:
                    function = namespace[request["name"]]
                    saved = {}
                    try:
                        # "using": names the call sees replaced by the library's, e.g. a test of
                        # rnn_forward with rnncore.rnn.step as rnn_step: one mistake, one loss.
                        for name, target in request.get("using", {}).items():
                            module, _, attribute = target.partition(":")
                            saved[name] = namespace.get(name)
                            found = getattr(importlib.import_module(module), attribute)
                            # an intact copy: what the question forbids stays available here
                            namespace[name] = (copy_function(found)
                                               if isinstance(found, types.FunctionType) else found)
                        args, kwargs = request.get("args", []), request.get("kwargs", {})
                        with without(*request.get("forbid", []),
                                     why="while this question is graded", missing_ok=True):
                            value = function(*args, **kwargs)
                        if request.get("arguments_after"):   # what the call did to its arguments
                            # (a library function passed as an argument cannot travel back)
                            kept = [None if isinstance(a, types.FunctionType) else a for a in args]
                            value = (value, kept, {k: None if isinstance(v, types.FunctionType)
                                                   else v for k, v in kwargs.items()})
                        reply = {"status": "ok", "value": value}
                    except BaseException as error:
                        reply = {"status": "error", "error": _error_text(error, "")}
                    finally:
                        for name, value_ in saved.items():
                            namespace[name] = value_
            else:
                reply = {"status": "error", "error": f"unknown request {op!r}"}
            if os.getpid() != me:
                os._exit(0)
            data = wire.encode(reply)
        except wire.WireError as error:
            data = wire.encode({"status": "error", "error": f"the result cannot be graded: {error}"})
        view = memoryview(data)
        while view:
            view = view[os.write(channel_out, view):]


# --- the zygote: one per worker, forks a fresh run per submission ----------------------------------
# What every run would import first, imported once, before any student code, by the zygote.
PRELOAD = ("numpy", "autograd", "autograd.numpy", "rnncore")
FIGURES = ("rnncore.plots", "rnncore.diagrams", "rnncore.widgets")   # the book's, not the runs'
PR_SET_DUMPABLE = 4
END_WAIT = 5.0                 # seconds for a run's processes to be gone after SIGKILL


def _preload():
    """Import numpy, autograd, every module of rnncore but the book's figures (matplotlib), and
    IPython's cell transformer: what runs would otherwise each import (about 0.1 s of CPU per
    run)."""
    import pkgutil
    for name in PRELOAD:
        importlib.import_module(name)
    rnncore = sys.modules["rnncore"]
    for module in pkgutil.walk_packages(rnncore.__path__, "rnncore."):
        if module.name not in FIGURES:
            importlib.import_module(module.name)
    transform("%time pass")


def _remove(path):
    """Delete path, making each folder writable first (a run may have taken the rights off)."""
    if os.path.isdir(path) and not os.path.islink(path):
        os.chmod(path, 0o700)
        for name in os.listdir(path):
            _remove(os.path.join(path, name))
        os.rmdir(path)
    else:
        os.unlink(path)


def _end(child, home):
    """Kill every process of the finished run (every process of this PID namespace but its
    init and this zygote), empty home. Returns {"code": the run's exit code as subprocess gives
    it (-signal), or None; "clean": nothing of the run is left}."""
    code, me = None, os.getpid()
    deadline = time.monotonic() + END_WAIT
    while True:
        try:
            os.kill(-1, signal.SIGKILL)      # every process this one may signal, but itself and init
        except ProcessLookupError:
            pass
        while True:                          # zombies of this process (the run; init reaps the rest)
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if not pid:
                break
            if pid == child:                 # (a run that had already ended keeps its status)
                code = os.waitstatus_to_exitcode(status)
        others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]
        if not others or time.monotonic() > deadline:
            break
        time.sleep(0.002)
    clean = not others
    try:
        for name in os.listdir(home):
            _remove(os.path.join(home, name))
        clean = clean and not os.listdir(home) and _remove_ipc()
    except (OSError, RecursionError):
        clean = False
    return {"code": code, "clean": clean}


def _remove_ipc():
    """Remove the System V shared memory, message queues and semaphores a run left in the
    sandbox's IPC namespace; True if none is left."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    IPC_RMID = 0
    remove = {"shm": lambda i: libc.shmctl(i, IPC_RMID, None),
              "msg": lambda i: libc.msgctl(i, IPC_RMID, None),
              "sem": lambda i: libc.semctl(i, 0, IPC_RMID)}
    left = False
    for kind, rm in remove.items():
        for line in _sysv(kind):
            rm(int(line.split()[1]))
        left = left or bool(_sysv(kind))
    return not left


def _sysv(kind):
    try:
        with open(f"/proc/sysvipc/{kind}") as f:
            return f.read().splitlines()[1:]
    except OSError:
        return []


def zygote(control_fd):
    """The worker's zygote (rnncore_grader.sandbox): in the sandbox, before any student code, it
    imports what runs need (_preload), makes itself non-dumpable (the runs have its uid: this
    keeps them from tracing it or reading its memory), then answers on the control socket:

        b"fork" with two descriptors (the run's channel in and out) -> forks a run: the child
                 closes the socket, takes the channel as its stdin and stdout and becomes
                 main(); the zygote replies b"forked";
        b"end"  -> kills every other process of the sandbox, empties /grading, removes the
                 System V IPC objects left, replies JSON {"code", "clean"} (see _end).

    It ends when the socket closes. A run that kills or stops the zygote only stops its own
    grading: the grader then ends the whole sandbox and starts a new one."""
    import ctypes
    import socket
    _preload()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        sys.exit("grader: the zygote could not make itself non-dumpable")
    home = os.environ.get("HOME", ".")
    os.chdir(home)
    control = socket.socket(fileno=control_fd)
    control.sendall(b"ready")
    child = None
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 64, 2)
        except OSError:
            os._exit(0)
        if message == b"fork" and len(fds) == 2 and child is None:
            child = os.fork()
            if child == 0:
                control.close()
                os.dup2(fds[0], 0)
                os.dup2(fds[1], 1)
                for fd in fds:
                    os.close(fd)
                sys.modules["numpy"].random.seed()     # a fresh global state, as in a new process
                main()
            for fd in fds:
                os.close(fd)
            control.sendall(b"forked")
        elif message == b"end":
            control.sendall(json.dumps(_end(child, home)).encode())
            child = None
        else:                                # the socket closed, or a request it does not know
            os._exit(0)


if __name__ == "__main__":
    main()
