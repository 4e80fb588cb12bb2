"""The process inside the sandbox: runs a submission's cells, then calls its functions on request.

Started by the grader (never by hand) as ``python -I -m grader.runner``. It takes the request
channel from its stdin and stdout, then points fd 0 at /dev/null and fds 1 and 2 at an output
file, so that what the student's code prints is captured and cannot mix with the channel.

Requests (see grader.wire), each answered by one reply:

    {"op": "exec", "code": str, "label": str}  -> {"status": "ok" | "error", "error": str,
                                                    "output": str}
    {"op": "call", "name": str, "args": list, "kwargs": dict, "using": {name: "module:attr"},
     "arguments_after": bool}
                                                -> {"status": "ok", "value": ...} or error
    {"op": "value", "name": str}                -> {"status": "ok", "value": ...} or error

Nothing here is trusted: the submission runs in this process and may change anything in it,
this module included. The grader therefore reads only data from the channel, and decides every
score outside, in its own process.
"""
import importlib
import os
import signal
import sys
import traceback

from grader import wire

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


class _NoIPython:
    """get_ipython() for cells that use magics: they do nothing while grading."""

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
    namespace = {"__name__": "__main__", "__builtins__": __builtins__,
                 "get_ipython": _NoIPython}

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
                    exec(compile(request["code"], request["label"], "exec"), namespace)
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
                            namespace[name] = getattr(importlib.import_module(module), attribute)
                        args, kwargs = request.get("args", []), request.get("kwargs", {})
                        value = function(*args, **kwargs)
                        if request.get("arguments_after"):   # what the call did to its arguments
                            value = (value, list(args), dict(kwargs))
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


if __name__ == "__main__":
    main()
