"""The worker's zygote (rnncore_grader.sandbox, runner.zygote): one sandbox per worker whose
trusted process imports numpy and rnncore once and forks a fresh run per submission.

What one run does must never reach the next one, which is another student's: no file left in
/grading, no process left running, no state in the zygote (a run cannot trace it, read its
memory or its files in /proc). A run that kills or stops the zygote only stops its own grading:
the next run starts in a new sandbox.
"""
import json
import os
import time

import pytest

from rnncore_grader import engine, sandbox

pytestmark = pytest.mark.skipif(os.geteuid() != 0 and not os.path.exists(sandbox.BWRAP),
                                reason="needs bubblewrap")


def run(box, code, timeout=20):
    """The outcome of one cell run as a run of its own in box: {"status", "output", "error"}."""
    session = engine.Session(box, [("<cell>", code, "other cells")],
                             engine.Timeouts(cell=timeout))
    try:
        session.ensure()
        return session.outcomes[0]
    finally:
        session.close()


@pytest.fixture
def box():
    box = sandbox.Sandbox(7)
    yield box
    box.close()


LOOK = """
import json, os
others = sorted(int(p) for p in os.listdir("/proc") if p.isdigit()
                and int(p) not in (1, os.getpid(), os.getppid()))
ipc = [line for kind in ("shm", "msg", "sem")
       for line in open(f"/proc/sysvipc/{kind}").read().splitlines()[1:]]
print(json.dumps({"files": sorted(os.listdir(os.environ["HOME"])), "others": others,
                  "ipc": ipc}))
"""


def look(box):
    outcome = run(box, LOOK)
    assert outcome["status"] == "ok", outcome
    return json.loads(outcome["output"])


def test_nothing_of_a_run_reaches_the_next_one(box):
    first = look(box)
    assert first["others"] == [], first
    zygote = box._zygote
    left = run(box, """
import os, subprocess, sys, time
open(os.path.join(os.environ["HOME"], "planted.py"), "w").write("x = 1")
os.makedirs(os.path.join(os.environ["HOME"], "locked/inner"))
open(os.path.join(os.environ["HOME"], "locked/inner/f"), "w").write("x")
os.chmod(os.path.join(os.environ["HOME"], "locked/inner"), 0)
os.chmod(os.path.join(os.environ["HOME"], "locked"), 0)
for _ in range(3):     # daemons: their own session, not children of the run any more
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                     start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(600)
    os._exit(0)
import ctypes
libc = ctypes.CDLL(None)
IPC_CREAT, IPC_PRIVATE = 0o1000, 0
assert libc.shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600) >= 0     # System V shared memory
assert libc.msgget(IPC_PRIVATE, IPC_CREAT | 0o600) >= 0            # and a message queue
time.sleep(0.5)
print(len([p for p in os.listdir("/proc") if p.isdigit()]))
""")
    assert left["status"] == "ok" and int(left["output"]) >= 6, left
    after = look(box)
    assert not {"planted.py", "locked"} & set(after["files"]), after
    assert set(after["files"]) <= {"output.txt", "tmp"}, after   # the runner's own only
    assert after["others"] == [], after                      # no daemon survived
    assert after["ipc"] == [], after                         # no shared memory, no queue
    assert box._zygote is zygote                             # ... and the zygote cleaned up


def test_a_run_cannot_trace_the_zygote_or_read_its_memory(box):
    outcome = run(box, """
import ctypes, os
zygote = os.getppid()
found = []
for name in ("mem", "environ", "maps"):
    try:
        open(f"/proc/{zygote}/{name}", "rb").read(1)
        found.append(name)
    except OSError:
        pass
try:
    os.listdir(f"/proc/{zygote}/fd")
    found.append("fd")
except OSError:
    pass
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_ATTACH = 16
if libc.ptrace(PTRACE_ATTACH, zygote, 0, 0) == 0:
    found.append("ptrace")
print(found)
""")
    assert outcome["status"] == "ok" and outcome["output"].strip() == "[]", outcome


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGSTOP"])
def test_a_run_that_kills_or_stops_the_zygote_stops_only_its_own_grading(box, monkeypatch,
                                                                         signal_name):
    monkeypatch.setattr(sandbox, "ZYGOTE_ANSWER", 2.0)
    look(box)
    zygote = box._zygote
    run(box, f"import os, signal, time\nos.kill(os.getppid(), signal.{signal_name})\n"
             f"open('planted', 'w').close()\ntime.sleep(1)\nprint('still here')")
    start = time.monotonic()
    after = look(box)
    assert box._zygote is not zygote                         # a new sandbox, a new zygote
    assert after["others"] == [] and "planted" not in after["files"], after
    assert time.monotonic() - start < 15


def test_each_run_has_a_fresh_global_random_state(box):
    draws = {run(box, "import numpy as np\nprint(np.random.rand())")["output"] for _ in range(3)}
    assert len(draws) == 3, draws


def test_a_run_is_forked_in_a_fraction_of_a_start(box):
    """What the zygote is for: after the first run, a run starts without Python's start or the
    imports (measured: ~0.9 s for the zygote, ~15 ms per run after it)."""
    run(box, "pass")
    session = engine.Session(box, [], engine.Timeouts())
    try:
        for _ in range(3):
            session.ensure()
            session.kill()
    finally:
        session.close()
    assert session.started == 3
    assert session.seconds["start"] / 3 < 0.25, session.seconds
