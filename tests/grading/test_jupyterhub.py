"""A class on a real JupyterHub (issue 14), end to end, on 127.0.0.1.

JupyterHub (PyPI ``jupyterhub``) with its proxy (npm ``configurable-http-proxy``), the
DummyAuthenticator and the LocalProcessSpawner runs three throwaway local users made with
``useradd``: an instructor and two students, each with a single-user JupyterLab server of their
own behind the hub's proxy. nbgrader's exchange is a shared folder; the course id and the
exchange root are in a shared ``nbgrader_config.py`` on the users' Jupyter config path (what
``/etc/jupyter/nbgrader_config.py`` would be on a real hub). Every request goes through the hub's
proxy with the user's own API token, which the user gets from the hub by logging in:

1. the instructor generates and releases chapter 1's assignment through the formgrader;
2. each student fetches it through the Assignment List's handlers of their own server, writes
   an answer with the server's contents API (the solution for one, a wrong ``rnn_step`` from
   tests/course/answers/ for the other), presses Validate (which runs the notebook in the
   student's own kernel, importing rnncore) and submits;
3. the instructor collects through the formgrader; root grades with this course's grader
   (``python -m rnncore_grader autograde``, as ``sudo`` from the instructor would run it);
   the instructor generates and releases the feedback through the formgrader;
4. each student fetches the feedback through their server and reads their score in it.

The students' Python is the course's environment with ``rnncore`` installed from the student
edition (``python -m rnncore_grader student-edition``), as a hub would install it; the test then
walks everything a student can read (their home, the exchange as they see it, the rnncore
installed for them) and finds no ``solutions/``, no ``grading.py``, no nbgrader solution or
hidden-test marker and no two consecutive lines of the grading questions; the instructor's
course, the other student's home, the exchange's inbound and the formgrader are closed to them.

It needs root (users, the grader's sandbox): without root it skips, except in CI (CI=true),
where it fails. The hub and whatever the test runs as a user run in a mount namespace of their
own (see reachable()) so that the users can start this environment's Python even where it lives
under /root; nothing on the machine changes, and the users, their processes and their files
are removed afterwards. 46 s wall on a 2-core machine at load 4, 83-112 s at load 7 to 9
(29-37 CPU-s).
"""
import html
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from answers import WRONG
from course_files import ROOT, code_lines, filled, read, release_path, solution_code
from rnncore_grader.cgroups import kill_until_gone
from test_grader import processes_of

A = "ch01_basic_structure"
COURSE_ID = "rnn-course"                    # nbgrader_config.py's CourseDirectory.course_id
WRONG_STEP = next(w for w in WRONG[A] if w.cell == "rnn_step" and w.name == "no_tanh")
MARKER = re.compile(r"(?m)^[ \t]*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)")
pytestmark = pytest.mark.slow             # an end-to-end test, like test_grader.py's
PROXY_VERSION = "5.3.0"                     # .ci/run installs configurable-http-proxy@5.3.0
PROXY_CACHE = (Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rnn-course"
               / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy")
SITE = sysconfig.get_paths()["purelib"]     # the course's environment (its site-packages)


def in_ci():
    return os.environ.get("CI", "").lower() == "true"


def unavailable(reason):
    """Skip (outside CI) or fail (in CI): the hub test must run in CI."""
    message = f"the JupyterHub class test cannot run: {reason}"
    if in_ci():
        pytest.fail(message + " In CI (CI=true) it must run: .ci/run runs it as root.",
                    pytrace=False)
    pytest.skip(message)


def proxy_command():
    """configurable-http-proxy: $CONFIGURABLE_HTTP_PROXY, on PATH, or where .ci/run puts it."""
    for candidate in (os.environ.get("CONFIGURABLE_HTTP_PROXY"),
                      shutil.which("configurable-http-proxy"), PROXY_CACHE):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


# --- local users ---------------------------------------------------------------------------------

def as_user(user, argv, wrap=(), **kw):
    """Run argv as the local user (uid, gid and groups of their own; no privileges), inside
    the wrapper wrap (see reachable())."""
    entry = pwd.getpwnam(user)
    env = {"HOME": entry.pw_dir, "USER": user, "LOGNAME": user, "PATH": "/usr/bin:/bin",
           "LANG": "C.UTF-8", **kw.pop("env", {})}
    return subprocess.run([*wrap, "setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}",
                           "--init-groups", "--no-new-privs", "--", *argv],
                          env=env, cwd=kw.pop("cwd", entry.pw_dir), capture_output=True,
                          text=True, timeout=kw.pop("timeout", 120), **kw)


def reachable(paths, stash):
    """A command prefix that runs its command in a mount namespace of its own where the users
    can reach each of paths (folders), and nothing on the machine changes.

    The course environment's Python may live under a folder other users cannot enter (pyenv
    installs under /root, mode 700, and its python has /root/... as its library path). In
    the namespace such a folder is covered by an empty tmpfs they can pass through (0711)
    holding only the paths, bind-mounted from the real ones: nothing else in it shows."""
    exposed = sorted({Path(p).resolve() for p in paths})
    exposed = [p for p in exposed if not any(q in p.parents for q in exposed)]
    closed = {}
    for path in exposed:
        for ancestor in reversed(path.parents):          # from / down
            if not ancestor.stat().st_mode & 0o001:
                closed.setdefault(ancestor, []).append(path)
                break
    if not closed:
        return []
    lines = ["set -e"]
    for i, (folder, inside) in enumerate(sorted(closed.items())):
        for j, path in enumerate(inside):
            lines += [f"mkdir -p '{stash}/{i}-{j}'", f"mount --bind '{path}' '{stash}/{i}-{j}'"]
        lines.append(f"mount -t tmpfs -o mode=0711,size=1m tmpfs '{folder}'")
        for j, path in enumerate(inside):
            lines += [f"mkdir -p '{path}'", f"mount --move '{stash}/{i}-{j}' '{path}'"]
    lines.append('exec "$@"')
    return ["unshare", "--mount", "--propagation", "private", "--",
            "sh", "-c", "\n".join(lines), "sh"]




def python_for_users(user, wrap):
    """This environment's base interpreter, if the user (inside wrap) can run it with its own
    standard library (a Python that cannot read its prefix falls back to /usr's, silently)."""
    python = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    run = as_user(user, [python, "-c", "import os, sys; os.stat(sys.executable); "
                         "os.stat(os.__file__); print(sys.version)"], wrap=wrap)
    if run.returncode == 0 and run.stdout.strip() == sys.version:
        return python
    return None


def environment(base_python, path, site_line):
    """A virtual environment for the hub's users on top of the course's one: its .pth adds
    the course environment's site-packages (site_line says how)."""
    subprocess.run([base_python, "-m", "venv", "--without-pip", str(path)], check=True,
                   capture_output=True, timeout=60)
    purelib = subprocess.run([str(path / "bin" / "python"), "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "course-environment.pth").write_text(site_line + "\n")
    # The course environment's commands (alembic, which nbgrader runs, jupyter, nbgrader, ...)
    # with this environment's Python in their #! line.
    own = Path(sys.prefix) / "bin"
    for script in own.iterdir():
        if script.is_file() and not script.name.startswith(("python", "activate", "Activate")):
            text = script.read_bytes()
            first, _, rest = text.partition(b"\n")
            if first.startswith(b"#!") and first[2:].strip().startswith(str(own).encode()):
                target = path / "bin" / script.name
                target.write_bytes(b"#!" + str(path / "bin" / "python").encode() + b"\n" + rest)
                target.chmod(0o755)
    return path / "bin" / "python"


# --- HTTP through the hub's proxy ------------------------------------------------------------------

def request(url, token=None, method="GET", data=None, form=None, timeout=120):
    """(status, parsed JSON or text) of a request; data: a JSON body, form: a form body."""
    headers = {}
    body = None
    if token:
        headers["Authorization"] = f"token {token}"
    if data is not None:
        body, headers["Content-Type"] = json.dumps(data).encode(), "application/json"
    elif form is not None:
        body = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif method in ("POST", "PUT"):
        body = b""
    req = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode(errors="replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


class Hub:
    """The running hub: its URL, its users (role -> login name) and their tokens."""

    def __init__(self, url, users, base):
        self.url, self.users, self.base, self.tokens = url, users, base, {}

    def server(self, role, path, **kw):
        """A request to the user's own single-user server, through the proxy, as that user."""
        name = self.users[role]
        return request(f"{self.url}/user/{name}/{path}", self.tokens[role], **kw)

    def ok(self, role, path, **kw):
        status, body = self.server(role, path, **kw)
        assert status in (200, 201), f"{role}: {kw.get('method', 'GET')} {path}: {status} {body}"
        if isinstance(body, dict) and "success" in body:
            assert body["success"], f"{role}: {path} failed:\n{body.get('value') or body}"
        return body


def hub_config(base, ports, users, proxy, environments):
    config = base / "hub" / "jupyterhub_config.py"
    (base / "hub").mkdir()
    port, hub_port, api_port = ports
    config.write_text(f"""\
# A JupyterHub for the test: local users, local processes, everything on 127.0.0.1.
c = get_config()  # noqa: F821
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.pid_file = {str(base / 'hub' / 'proxy.pid')!r}
c.JupyterHub.db_url = {'sqlite:///' + str(base / 'hub' / 'jupyterhub.sqlite')!r}
c.JupyterHub.cookie_secret_file = {str(base / 'hub' / 'cookie_secret')!r}
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {set(users.values())!r}
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.ip = "127.0.0.1"
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.Spawner.env_keep = ["LANG", "LC_ALL"]
import os
ENVIRONMENTS = {environments!r}

def pre_spawn_hook(spawner):
    # The instructor's and the students' environments differ (see the test's docstring).
    python, environment = ENVIRONMENTS[spawner.user.name]
    spawner.cmd = [python, "-m", "jupyterhub.singleuser"]
    spawner.environment.update(environment,
                               PATH=os.path.dirname(python) + ":/usr/local/bin:/usr/bin:/bin")

c.Spawner.pre_spawn_hook = pre_spawn_hook
""")
    return config


# --- the hub, its users and their environments ---------------------------------------------------

@pytest.fixture()
def hub():
    """A running JupyterHub with an instructor and two students (fresh local users), the
    instructor's course folder, the shared exchange and the students' environment."""
    if os.geteuid() != 0:
        unavailable("it needs root (local users made with useradd, servers spawned as them, "
                    "the grader's sandbox); run it as root, e.g. in a container or with sudo")
    missing = [tool for tool in ("useradd", "userdel", "setpriv") if not shutil.which(tool)]
    proxy = proxy_command()
    if proxy is None:
        missing.append(f"configurable-http-proxy (npm install --prefix ~/.cache/rnn-course/proxy "
                       f"configurable-http-proxy@{PROXY_VERSION}; .ci/run does)")
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        missing.append("the Python package jupyterhub (pip install -r requirements.txt)")
    if missing:
        unavailable("missing " + "; ".join(missing))

    base = Path(tempfile.mkdtemp(prefix="rnnhub-", dir="/tmp"))
    base.chmod(0o755)               # the users reach their homes and the exchange through it
    tag = secrets.token_hex(3)
    users = {role: f"rnnhub-{role}-{tag}" for role in ("prof", "ada", "bo")}
    created, hub_process, log = [], None, None
    try:
        (base / "home").mkdir(mode=0o755)
        for name in users.values():
            subprocess.run(["useradd", "--create-home", "--home-dir", str(base / "home" / name),
                            "--user-group", "--shell", "/usr/sbin/nologin", "--no-log-init",
                            name], check=True, capture_output=True, text=True)
            created.append(name)
            (base / "home" / name).chmod(0o700)         # nobody else reads a home
        homes = {role: Path(pwd.getpwnam(name).pw_dir) for role, name in users.items()}

        # The hub and everything the test runs as a user run in a mount namespace where the
        # users can reach the course's Python and the proxy (see reachable()).
        (base / "stash").mkdir()
        proxy_files = Path(proxy).resolve()           # its package, with its node_modules
        if "node_modules" in proxy_files.parts:
            proxy_files = Path(*proxy_files.parts[:proxy_files.parts.index("node_modules")])
        else:
            proxy_files = proxy_files.parent
        # rnncore and the grader: the instructor's editable install imports them from here
        wrap = reachable([sys.base_prefix, sys.prefix, proxy_files, ROOT / "rnncore",
                          ROOT / "rnncore_grader"], base / "stash")
        python = python_for_users(users["ada"], wrap)
        if python is None:
            unavailable(f"the users cannot run this Python ({sys.executable}) with its own "
                        f"standard library, even in a mount namespace")

        # The exchange: one shared folder that everyone can write into (nbgrader makes each
        # course's inbound/outbound/feedback below it with the permissions it needs).
        exchange = base / "exchange"
        exchange.mkdir()
        exchange.chmod(0o777)
        # What /etc/jupyter would hold on a real hub: the course id and the exchange for all
        # users, and for the students, the formgrader switched off.
        shared, students = base / "etc" / "jupyter", base / "etc" / "jupyter-students"
        shared.mkdir(parents=True)
        students.mkdir(parents=True)
        (shared / "nbgrader_config.py").write_text(
            f"c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = {COURSE_ID!r}\n"
            f"c.Exchange.root = {str(exchange)!r}\n")
        (students / "jupyter_server_config.json").write_text(json.dumps(
            {"ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.formgrader": False,
                                                   "nbgrader.server_extensions.course_list": False}}}))
        for folder in (base / "etc", shared, students):
            folder.chmod(0o755)
            for item in folder.iterdir():
                item.chmod(0o755 if item.is_dir() else 0o644)

        # The students' environment: the course's Python packages with rnncore installed from
        # the student edition (never from this checkout, whose solutions/ it must not see).
        edition = base / "edition"
        run = subprocess.run([sys.executable, "-m", "rnncore_grader", "student-edition",
                              str(edition)], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, f"student-edition failed:\n{run.stdout}\n{run.stderr}"
        student_python = environment(python, base / "envs" / "students", SITE)
        run = subprocess.run([sys.executable, "-m", "pip", "--python", str(student_python),
                              "install", "--quiet", "--no-deps", "--no-build-isolation",
                              "--no-index", str(edition)], capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0, f"installing the edition failed:\n{run.stdout}\n{run.stderr}"
        # The instructor's: the whole course environment (rnncore and the grader from the
        # course repository), its .pth files included.
        instructor_python = environment(python, base / "envs" / "instructor",
                                        f"import site; site.addsitedir({SITE!r})")
        subprocess.run(["chmod", "-R", "a+rX", str(base / "envs"), str(edition)], check=True)

        # The instructor's course folder, in their home: the course's nbgrader_config.py and
        # chapter 1's source (solution and grading.py); the formgrader finds it by
        # CourseDirectory.root in the instructor's own nbgrader config.
        course = homes["prof"] / "course"
        (course / "solutions").mkdir(parents=True)
        shutil.copy(ROOT / "nbgrader_config.py", course)
        shutil.copytree(ROOT / "solutions" / A, course / "solutions" / A,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        (homes["prof"] / ".jupyter").mkdir()
        (homes["prof"] / ".jupyter" / "nbgrader_config.py").write_text(
            f"c = get_config()  # noqa: F821\nc.CourseDirectory.root = {str(course)!r}\n")
        subprocess.run(["chown", "-R", f"{users['prof']}:{users['prof']}", str(course),
                        str(homes["prof"] / ".jupyter")], check=True)

        prefix = Path(sys.prefix)
        common = {"JUPYTER_PATH": str(prefix / "share" / "jupyter"),
                  "JUPYTERLAB_DIR": str(prefix / "share" / "jupyter" / "lab"),
                  "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        environments = {
            users["prof"]: (str(instructor_python), {
                **common, "JUPYTER_CONFIG_PATH": f"{shared}:{prefix / 'etc' / 'jupyter'}"}),
            **{users[s]: (str(student_python), {
                **common,
                "JUPYTER_CONFIG_PATH": f"{students}:{shared}:{prefix / 'etc' / 'jupyter'}"})
               for s in ("ada", "bo")}}
        ports = free_ports(3)
        config = hub_config(base, ports, users, proxy, environments)
        log = (base / "hub" / "jupyterhub.log").open("w")
        hub_process = subprocess.Popen(
            [*wrap, sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=base / "hub",
            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        the_hub = Hub(f"http://127.0.0.1:{ports[0]}", users, base)
        the_hub.homes, the_hub.course, the_hub.exchange = homes, course, exchange
        the_hub.student_python, the_hub.wrap = student_python, wrap
        the_hub.log = base / "hub" / "jupyterhub.log"
        deadline = time.monotonic() + 60
        while True:
            try:
                if request(f"{the_hub.url}/hub/api/", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            if hub_process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("JupyterHub did not start:\n" + the_hub.log.read_text()[-4000:])
            time.sleep(0.3)
        # Each user logs in (the DummyAuthenticator takes any password) and gets an API token
        # of their own, then starts their server with it.
        for role, name in users.items():
            status, body = request(f"{the_hub.url}/hub/api/users/{name}/tokens", method="POST",
                                   data={"auth": {"username": name, "password": "any"},
                                         "note": "the JupyterHub class test"})
            assert status in (200, 201), f"no token for {name}: {status} {body}"
            the_hub.tokens[role] = body["token"]
        for role, name in users.items():
            status, body = request(f"{the_hub.url}/hub/api/users/{name}/server",
                                   the_hub.tokens[role], method="POST")
            if status not in (201, 202):
                log.flush()
                pytest.fail(f"{name}'s server did not start: {status} {body}\n"
                            + the_hub.log.read_text()[-6000:])
        deadline = time.monotonic() + 240
        waiting = set(users)
        while waiting:
            for role in sorted(waiting):
                status, body = request(f"{the_hub.url}/hub/api/users/{users[role]}",
                                       the_hub.tokens[role])
                servers = body.get("servers") if status == 200 else None
                if servers is not None and not servers:
                    log.flush()       # the spawn failed: the hub has forgotten the server
                    pytest.fail(f"the server of {users[role]} did not start:\n"
                                + the_hub.log.read_text()[-6000:])
                if (servers or {}).get("", {}).get("ready"):
                    waiting.discard(role)
            if waiting and time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"the servers of {sorted(waiting)} did not start:\n"
                            + the_hub.log.read_text()[-6000:])
            time.sleep(0.5)
        # For the deployment guide's budget: what each idle single-user server holds in memory.
        for role, name in users.items():
            uid = pwd.getpwnam(name).pw_uid
            rss = sum(int(next(l for l in (Path("/proc") / str(pid) / "status").read_text()
                               .splitlines() if l.startswith("VmRSS:")).split()[1])
                      for pid in processes_of({uid}))
            print(f"{role}'s idle server: {rss / 1024:.0f} MiB resident")
        yield the_hub
    finally:
        uids = set()
        for name in created:
            try:
                uids.add(pwd.getpwnam(name).pw_uid)
            except KeyError:
                pass
        if hub_process is not None:           # the hub stops the servers and the proxy
            hub_process.send_signal(signal.SIGTERM)
            try:
                hub_process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(hub_process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            hub_process.wait()
        if log is not None:
            log.close()
        # whatever the users' servers left behind
        kill_until_gone(lambda: processes_of(uids), rounds=20, pause=0.2)
        for name in created:
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


# --- the class ----------------------------------------------------------------------------------

def assignment_entry(listing, status):
    """The assignment's entry of an Assignment List answer with the given status."""
    entries = [a for a in listing["value"] if a["assignment_id"] == A and a["status"] == status]
    assert entries, f"no {status!r} entry for {A} in {json.dumps(listing)[:3000]}"
    return entries[0]


def gradebook_totals(course):
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {s.id: (gradebook.find_submission(A, s.id).score,
                       gradebook.find_submission(A, s.id).max_score)
                for s in gradebook.students}


def test_a_class_on_jupyterhub_from_release_to_feedback_with_no_answer_in_reach(hub):
    start = time.monotonic()
    prof, ada, bo = (hub.users[r] for r in ("prof", "ada", "bo"))
    action = lambda role, what: hub.ok(role, f"assignments/{what}", method="POST",
                                       form={"course_id": COURSE_ID, "assignment_id": A})

    # 1. The instructor generates the release from the source and releases it (formgrader).
    for step in ("assign", "release"):
        hub.ok("prof", f"formgrader/api/assignment/{A}/{step}", method="POST")
    outbound = hub.exchange / COURSE_ID / "outbound" / A / f"{A}.ipynb"
    assert outbound.is_file(), f"the release is not in the exchange: {outbound}"
    assert not MARKER.search(outbound.read_text()), "the released notebook carries answers"

    # 2. Each student sees it in their Assignment List, fetches it through their own server,
    #    answers, validates (in their own kernel) and submits.
    answers = {"ada": solution_code(A), "bo": {**solution_code(A), "rnn_step": WRONG_STEP.code}}
    for role in ("ada", "bo"):
        listing = hub.ok(role, f"assignments?course_id={COURSE_ID}")
        assert assignment_entry(listing, "released")
        fetched = assignment_entry(action(role, "fetch"), "fetched")
        mine = hub.homes[role] / A / f"{A}.ipynb"
        assert mine.is_file() and mine.stat().st_uid == pwd.getpwnam(
            hub.users[role]).pw_uid, f"{role}'s fetched notebook: {fetched}"
        notebook = filled(read(mine), answers[role])
        hub.ok(role, f"api/contents/{A}/{A}.ipynb", method="PUT",
               data={"type": "notebook", "format": "json", "content": notebook})
    results = {}

    def validate(role):
        results[role] = hub.server(role, "assignments/validate", method="POST",
                                   form={"path": f"{A}/{A}.ipynb"}, timeout=300)
    threads = [threading.Thread(target=validate, args=(r,)) for r in ("ada", "bo")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for role, passes in (("ada", True), ("bo", False)):
        status, body = results[role]
        assert status == 200 and body["success"], f"{role}: validate: {status} {body}"
        value = json.loads(body["value"]) if isinstance(body["value"], str) else body["value"]
        failed = value.get("failed") or value.get("errors")
        assert bool(failed) is not passes, f"{role}: validate says {json.dumps(value)[:2000]}"
    for role in ("ada", "bo"):
        assignment_entry(action(role, "submit"), "submitted")

    # 3. The instructor collects (formgrader); root grades as `sudo` from the instructor would;
    #    the instructor generates and releases the feedback (formgrader).
    hub.ok("prof", f"formgrader/api/assignment/{A}/collect", method="POST")
    for student in (ada, bo):
        submitted = hub.course / "submitted" / student / A
        assert (submitted / f"{A}.ipynb").is_file() and (submitted / "submission_secret.txt").is_file()
    owner = pwd.getpwnam(prof)
    grading = subprocess.run([sys.executable, "-m", "rnncore_grader", "autograde", A],
                             cwd=hub.course, capture_output=True, text=True, timeout=600,
                             env={**os.environ, "SUDO_UID": str(owner.pw_uid),
                                  "SUDO_GID": str(owner.pw_gid), "OPENBLAS_NUM_THREADS": "1"})
    assert grading.returncode == 0, f"the grader failed:\n{grading.stdout}\n{grading.stderr}"
    # Everything the grader wrote as root (autograded/ too) must be the instructor's again.
    not_theirs = [str(p) for p in [hub.course, *hub.course.rglob("*")]
                  if p.stat().st_uid != owner.pw_uid]
    assert not not_theirs, "the grader left files the instructor does not own:\n" + "\n".join(
        not_theirs)
    totals = gradebook_totals(hub.course)
    top = totals[ada][1]
    assert totals[ada][0] == top > 0, (totals, grading.stdout)
    assert totals[bo][0] < top, (totals, grading.stdout)
    for step in ("generate_feedback", "release_feedback"):
        hub.ok("prof", f"formgrader/api/assignment/{A}/{step}", method="POST")

    # 4. Each student fetches the feedback through their server and reads their own score.
    for role, student in (("ada", ada), ("bo", bo)):
        listing = action(role, "fetch_feedback")
        submitted = assignment_entry(listing, "submitted")
        latest = submitted["submissions"][-1]
        assert latest["has_local_feedback"] and latest["feedback_updated"] is False, latest
        path = latest["local_feedback_path"]
        page_path = urllib.parse.quote(f"{path}/{A}.html")
        status, page = hub.server(role, f"api/contents/{page_path}?content=1&type=file"
                                  "&format=text")
        assert status == 200, f"{role}: the feedback page: {status} {page}"
        score, top = totals[student]
        assert f"Score: {score:.1f} / {top:.1f}" in page["content"], (
            f"{role}'s feedback does not show {score} / {top}")
        print(f"{role}: submitted notebook {(hub.course / 'submitted' / student / A / f'{A}.ipynb').stat().st_size / 1024:.0f} KiB, "
              f"graded {(hub.course / 'autograded' / student / A / f'{A}.ipynb').stat().st_size / 1024:.0f} KiB, "
              f"feedback page {len(page['content'].encode()) / 1024:.0f} KiB")
    print(f"the class took {time.monotonic() - start:.1f} s (hub and servers already running)")

    # 5. What the students can read now, with the release, their work and their feedback.
    students_read_no_answers_or_grading(hub)


# --- what the students can read ---------------------------------------------------------------------

SCAN = r"""
import json, os, re, sys
import rnncore, rnncore_grader
marker = re.compile(r"(?m)^[ \t]*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)")
roots, found, files = sys.argv[1:], [], {}
roots += [os.path.dirname(rnncore.__file__), os.path.dirname(rnncore_grader.__file__)]
for root in roots:
    for folder, dirs, names in os.walk(root):      # what this user can list
        for name in names:
            path = os.path.join(folder, name)
            if "solutions" in path.split(os.sep) or name == "grading.py":
                found.append(path + ": named like an answer")
            try:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
            except (OSError, UnicodeDecodeError):
                continue
            files[path] = text
            if marker.search(text):
                found.append(path + ": " + marker.search(text).group(0).strip())
print(json.dumps({"rnncore": rnncore.__file__, "prefix": sys.prefix, "found": found,
                  "files": files}))
"""


def readable_text(path, text):
    """The lines a file shows: a notebook's cell sources, an HTML page's text."""
    if path.endswith(".ipynb"):
        try:
            return "\n".join("".join(c.get("source", "")) for c in json.loads(text)["cells"])
        except (ValueError, KeyError, TypeError):
            return text
    if path.endswith(".html"):
        return html.unescape(re.sub(r"<[^>]+>", "", text))
    return text


def students_read_no_answers_or_grading(hub):
    """Run as each student: walk their home, the exchange as they see it and the rnncore
    installed for them; nothing there is an answer, a hidden test or a grading question,
    and the instructor's course folder and the other student's home are closed to them."""
    grading = (ROOT / "solutions" / A / "grading.py").read_text()
    for role, other in (("ada", "bo"), ("bo", "ada")):
        run = as_user(hub.users[role], [str(hub.student_python), "-c", SCAN,
                                        str(hub.homes[role]), str(hub.exchange)], wrap=hub.wrap,
                      env={"JUPYTER_CONFIG_PATH": str(hub.base / "etc" / "jupyter")})
        assert run.returncode == 0, run.stderr
        seen = json.loads(run.stdout)
        assert Path(seen["rnncore"]).is_relative_to(hub.base / "envs" / "students"), seen["rnncore"]
        assert not seen["found"], f"{role} can read answers:\n" + "\n".join(seen["found"])
        texts = {p: readable_text(p, t) for p, t in seen["files"].items()}
        assert any(p.endswith(f"{A}.html") and "feedback" in p for p in texts), sorted(texts)
        assert any(p.startswith(str(hub.homes[role] / A)) for p in texts)
        # No two consecutive lines of the grading questions that nothing public shows.
        public = set(code_lines(readable_text(".ipynb", release_path(A).read_text()).split("\n")))
        public |= {line for p, t in texts.items() if p.endswith(".py")
                   for line in code_lines(t.split("\n"))}
        lines = code_lines(grading.split("\n"))
        secret = {pair for pair in zip(lines, lines[1:]) if not set(pair) <= public}
        assert secret
        leaks = []
        for path, text in texts.items():
            shown = code_lines(text.split("\n"))
            leaks += [f"{path}: {pair}" for pair in set(zip(shown, shown[1:])) & secret]
        assert not leaks, f"{role} can read grading questions:\n" + "\n".join(leaks)
        # Closed doors: the course folder, the other student's home, the exchange's inbound
        # (where every submission waits for collect), the formgrader.
        inbound = hub.exchange / COURSE_ID / "inbound"
        for closed in (hub.course / "solutions" / A / "grading.py", hub.homes[other] / A,
                       inbound / "x"):
            probe = as_user(hub.users[role], [str(hub.student_python), "-c",
                                              f"import os; os.listdir({str(closed.parent)!r})"],
                            wrap=hub.wrap)
            assert probe.returncode != 0 and "PermissionError" in probe.stderr, closed
        status, _ = hub.server(role, "formgrader/api/assignments")
        assert status == 404, f"{role} reaches the formgrader ({status})"
