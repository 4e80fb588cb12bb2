"""Grading without root (issue 14): the bubblewrap sandbox as an ordinary user, and the cgroup.

As an ordinary user (uid 65534 through setpriv when the tests run as root, as CI does; the
tests' own user otherwise), in a copy of chapter 1's course that the user owns:

- the formgrader's Autograde button: the call its handler makes, nbgrader's
  ``NbGraderAPI.autograde(assignment, student)`` (nbgrader's Autograde with this course's
  SandboxedGrading), gives the right scores, and the submission ran sandboxed (in a user
  namespace, as the run's own uid, without the course);
- ``python -m rnncore_grader autograde`` grades a subset of test_grader.py's hostile corpus (one
  case per guarantee, listed in UNPRIVILEGED) with the same scores and reasons, says once which
  limits hold, and leaves no process behind;
- ``python -m rnncore_grader selftest`` passes, and after a run as root left .grader/ to root it
  says what to do instead of a PermissionError traceback.

As root, where a cgroup can be made (v1 on these machines): a submission whose processes
together go over SandboxedGrading.run_memory_mb, each far within the per-process limit, is
killed as a whole and recorded with the reason; the v2 choices are checked on a fake cgroup tree.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from answers import code
from course_files import read
from test_grader import (A, CASES, POINTS, SOL, TESTS, WRONG_STEP, Case, build, expected_scores,
                         gradebook_rows, make_course, messages, process_status)
from rnncore_grader import cgroups

ROOT_RUN = os.geteuid() == 0
USER = 65534 if ROOT_RUN else os.geteuid()            # the ordinary user the tests grade as

# One case of test_grader's corpus per guarantee the sandbox gives.
UNPRIVILEGED = ["solution", "release", "reads_solution", "writes_gradebook", "network",
                "leaves_processes", "thread_left_running", "startup_file", "infinite_loop_call",
                "memory_bomb_call", "fork_bomb", "os_exit_call", "segfault", "huge_output"]
WHOAMI = Case("whoami", "correct answers that print who and where they run",
              answers={"output_layer": SOL["output_layer"] + "\n\n" + code("""

                  import os, socket
                  print("uid", os.getuid(), "| map", open("/proc/self/uid_map").read().split(),
                        "| host", socket.gethostname(), "| course", os.path.exists("COURSE"),
                        "| root", sorted(os.listdir("/")))
                  """)})

# Each child holds its 250 MiB until the answer has heard from all four, then lets go: no fixed
# sleep, so the call takes what the allocations take (first touches of fresh memory are slow on
# these VMs: about 0.4 s per 250 MiB, and several at once share the two cores) and stays well
# within the corpus's 6 s call limit even while other gradings run beside it. A sleep of 3 s in
# every child left too little of those 6 s with test_grader.py running alongside (`pytest -n 2`).
TOGETHER = Case("memory_together", "four processes of 250 MiB each: 1 GiB together, each far "
                "within the per-process limit", answers={"output_layer": code("""
                    import subprocess, sys
                    GROW = ("import sys; x = bytearray(b'1') * (250 * 2**20); "
                            "print('held', flush=True); sys.stdin.read()")
                    def output_layer(params, hs):
                        children = [subprocess.Popen([sys.executable, "-c", GROW],
                                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                                    for _ in range(4)]
                        held = [child.stdout.readline().strip() for child in children]
                        assert held == [b"held"] * 4, held       # 1 GiB held together
                        for child in children:
                            child.stdin.close()
                            child.wait()
                        return hs @ params["W_y"] + params["b_y"]
                    """)}, zero=("test_output_layer",), reason="SIGKILL")


def as_user(command):
    """command, run as USER: through setpriv when the tests run as root."""
    if not ROOT_RUN:
        return command
    return ["setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups", *command]


def run_as_user(args, cwd, home, timeout=600):
    """python args... as USER (the venv's Python directly: setpriv may exec it where USER could
    not look itself)."""
    environment = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
                   "JUPYTER_DATA_DIR": str(home / ".local/share/jupyter"),
                   "OPENBLAS_NUM_THREADS": "1"}
    environment.pop("GRADER_BWRAP", None)
    return subprocess.run(as_user([sys.executable, *args]), cwd=cwd, env=environment, text=True,
                          capture_output=True, timeout=timeout)


def give_to_user(path):
    if ROOT_RUN:
        for item in [path, *path.rglob("*")]:
            os.chown(item, USER, USER, follow_symlinks=False)


def namespaced_processes():
    """Processes of USER that run in a PID namespace below this one (a sandbox's)."""
    return [(pid, fields.get("Name", "").strip()) for pid, fields in process_status()
            if int(fields["Uid"].split()[1]) == USER and len(fields.get("NSpid", "").split()) > 1]


@pytest.fixture(scope="module")
def place():
    base = Path(tempfile.mkdtemp(prefix="grader-unprivileged-"))
    (base / "home").mkdir()
    give_to_user(base)
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def course(place):
    """The corpus subset and WHOAMI, graded by `python -m rnncore_grader autograde` as USER."""
    # Where the user can make no cgroup (a user on cgroup v1, as here), nothing bounds the run as
    # a whole: TOGETHER then keeps its points (the docs say so).
    probe = run_as_user(["-c", "from rnncore_grader import cgroups; print(cgroups.detect().kind)"],
                        place, place / "home")
    unbounded = probe.stdout.strip() == "None"
    together = Case(TOGETHER.name, TOGETHER.why, TOGETHER.answers,
                    zero=() if unbounded else TOGETHER.zero, reason=TOGETHER.reason)
    cases = [c for c in CASES if c.name in UNPRIVILEGED] + [WHOAMI, together]
    path = make_course(place / "course", cases)
    give_to_user(path)
    start = time.monotonic()
    run = run_as_user(["-m", "rnncore_grader", "autograde", A], path, place / "home")
    assert run.returncode == 0, run.stdout + run.stderr
    return {"path": path, "run": run, "cases": cases, "seconds": time.monotonic() - start,
            "unbounded": unbounded}


@pytest.mark.slow
@pytest.mark.parametrize("name", UNPRIVILEGED + [WHOAMI.name, TOGETHER.name])
def test_the_corpus_as_an_ordinary_user(course, name):
    case = next(c for c in course["cases"] if c.name == name)
    rows = gradebook_rows(course["path"])
    errors, notes = messages(course["path"], name)
    got = {t: rows[name][t][0] for t in TESTS}
    assert got == expected_scores(case), f"{name}: {got}; messages {errors}"
    if case.zero:
        assert case.reason in errors[case.zero[0]], (name, errors)
    assert case.note in notes


def _printed(course_path, student):
    nb = read(course_path / "autograded" / student / A / f"{A}.ipynb")
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))


@pytest.mark.slow
def test_an_ordinary_user_grades_sandboxed_and_nothing_outlives_the_batch(course):
    run = course["run"]
    # What holds here, said once: no root, a user namespace, and where no cgroup can be made
    # (cgroup v1 for a user) that only the per-process limits hold.
    assert run.stdout.count("Sandbox: bubblewrap") == 1, run.stdout
    assert f"as uid {USER}: each run in a user namespace of its own" in run.stdout, run.stdout
    assert ("NO limit on the whole run's memory" if course["unbounded"] else
            "the whole run:") in run.stdout, run.stdout
    printed = _printed(course["path"], WHOAMI.name)
    # test_grader's base_uid, in a user namespace (its map: one uid, 62000 inside)
    assert "uid 62000 | map ['62000', " in printed and "'1'] | host grader" in printed, printed
    assert "| course False" in printed and "'grader-lib'" in printed and "'grading'" in printed
    written = _printed(course["path"], "writes_gradebook")
    assert written.count("cannot write") == 4 and "wrote" not in written.replace("cannot write", "")
    assert "network: reached" not in _printed(course["path"], "network")
    time.sleep(1.0)                # the processes left behind were meant to act after a moment
    assert namespaced_processes() == [], "processes of the sandbox are still running"
    assert (course["path"] / "gradebook.db").read_bytes()[:16] == b"SQLite format 3\x00"


FORMGRADER = """
import json, sys
from nbgrader.apps import NbGrader
from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
# As the formgrader's handlers build their API (nbgrader/server_extensions/formgrader/base.py)
app = NbGrader()
app.load_config_file()                 # the course's nbgrader_config.py, from the course root
api = NbGraderAPI(CourseDirectory(parent=app), parent=app)
print(json.dumps(api.autograde(sys.argv[1], sys.argv[2])))
"""


@pytest.mark.slow
def test_the_formgrader_autograde_button_works_for_an_ordinary_user(course, place):
    import json
    path = course["path"]
    for student, answers in [("fg_wrong", {"rnn_step": WRONG_STEP}), ("fg_whoami", WHOAMI.answers)]:
        folder = path / "submitted" / student / A
        folder.mkdir(parents=True)
        (folder / f"{A}.ipynb").write_bytes(build(Case(student, "", answers), path))
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
        give_to_user(path / "submitted" / student)
        run = run_as_user(["-c", FORMGRADER, A, student], path, place / "home")
        assert run.returncode == 0, run.stdout + run.stderr
        result = json.loads(run.stdout.strip().splitlines()[-1])
        assert result["success"], result.get("error") or result.get("log")
    rows = gradebook_rows(path)
    assert {t: s for t, (s, _) in rows["fg_wrong"].items()} == {
        **POINTS, "test_rnn_step": 0.0}
    assert {t: s for t, (s, _) in rows["fg_whoami"].items()} == POINTS
    printed = _printed(path, "fg_whoami")
    assert "uid 62000 | map ['62000', " in printed and "'1'] | host grader" in printed, printed
    assert "| course False" in printed, printed
    assert "differs" in messages(path, "fg_wrong")[0]["test_rnn_step"]


@pytest.mark.slow
def test_selftest_as_an_ordinary_user_and_after_root_took_the_grader_folder(course, place):
    path = course["path"]
    run = run_as_user(["-m", "rnncore_grader", "selftest", A], path, place / "home")
    assert run.returncode == 0 and "FAIL" not in run.stdout, run.stdout + run.stderr
    assert run.stdout.count("ok  ") == 2 * len(TESTS), run.stdout
    if not ROOT_RUN:
        return
    for item in [path / ".grader", *(path / ".grader").rglob("*")]:   # as a run as root leaves it
        os.chown(item, 0, 0)
    run = run_as_user(["-m", "rnncore_grader", "selftest", A], path, place / "home")
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert "may not open" in run.stderr and "belongs to uid 0" in run.stderr, run.stderr
    assert "chown" in run.stderr, run.stderr
    give_to_user(path / ".grader")


# --- the whole run's memory: a cgroup (as root) -----------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(not ROOT_RUN or cgroups.detect().kind is None,
                    reason="needs a cgroup this process can make (as root here)")
def test_a_run_over_its_whole_memory_limit_is_killed_as_a_whole(tmp_path):
    path = make_course(tmp_path / "course", [CASES[0], TOGETHER],
                       config="c.SandboxedGrading.run_memory_mb = 600\n")
    grader = subprocess.Popen([sys.executable, "-m", "rnncore_grader", "autograde", A], cwd=path,
                              text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = grader.communicate(timeout=600)
    run = subprocess.CompletedProcess(grader.args, grader.returncode, stdout, stderr)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "the whole run: 600 MiB of memory for all its processes together (cgroup" in run.stdout
    rows = gradebook_rows(path)
    assert {t: s for t, (s, _) in rows["solution"].items()} == POINTS
    got = {t: s for t, (s, _) in rows[TOGETHER.name].items()}
    assert got == expected_scores(TOGETHER), (got, messages(path, TOGETHER.name))
    reason = messages(path, TOGETHER.name)[0]["test_output_layer"]
    assert "output_layer(...) stopped the grader's run" in reason and "SIGKILL" in reason, reason
    assert "went over the 600 MiB of memory a run may use" in reason, reason
    # Every group this grader made (named <its pid>-<worker>-<n>) is gone; other graders of the
    # machine (another test running at the same time) may have theirs.
    for parent in cgroups.detect().parent:
        assert not [p for p in parent.iterdir() if p.is_dir()
                    and p.name.startswith(f"{grader.pid}-")], list(parent.iterdir())


def test_cgroup_v2_choices_on_a_fake_tree(tmp_path):
    """Which v2 group the runs get, and what is written in it (the kernel's side is not here)."""
    mount = tmp_path / "cgroup"
    me = mount / "user.slice" / "me"
    me.mkdir(parents=True)
    (mount / "cgroup.controllers").write_text("cpu io memory pids\n")
    (mount / "cgroup.subtree_control").write_text("cpu memory pids\n")
    proc = tmp_path / "cgroup-of-process"
    proc.write_text("0::/user.slice/me\n")
    found = cgroups.detect(mount, proc, root=True)            # root: at the top of the tree
    assert (found.kind, found.parent) == ("v2", (mount,))
    group = cgroups.Group(found, "1-0-1", 600, 64)
    assert (mount / "1-0-1" / "memory.max").read_text() == str(600 * 2**20)
    assert group.procs() == [str(mount / "1-0-1" / "cgroup.procs")] and group.prefix == []
    # A group left by a grader that was killed is swept; a running grader's is not.
    stale, alive = mount / "4194999-0-3", mount / f"{os.getpid()}-1-1"
    stale.mkdir(), alive.mkdir()
    cgroups.sweep(mount)
    assert not stale.exists() and alive.exists()
    # A user: beside their own group when its parent is delegated (memory in its subtree)...
    (mount / "user.slice" / "cgroup.subtree_control").write_text("memory pids\n")
    assert cgroups.detect(mount, proc, root=False).parent == (mount / "user.slice",)
    # ... else none (or systemd-run --user --scope, where it works).
    (mount / "user.slice" / "cgroup.subtree_control").write_text("pids\n")
    assert cgroups.detect(mount, proc, root=False).kind in (None, "systemd")
    # cgroup v1 without a writable memory group (a user here): none, and why.
    (tmp_path / "v1" / "memory" / "a").mkdir(parents=True)
    (tmp_path / "v1" / "memory" / "cgroup.procs").write_text("")
    proc.write_text("4:memory:/a\n0::/\n")
    (tmp_path / "v1" / "memory" / "a").chmod(0o555)
    try:
        found = cgroups.detect(tmp_path / "v1", proc, root=False)
        if os.access(tmp_path / "v1" / "memory" / "a", os.W_OK):     # root writes anyway
            assert found.kind == "v1"
        else:
            assert found.kind is None and "not writable" in found.why
    finally:
        (tmp_path / "v1" / "memory" / "a").chmod(0o755)
