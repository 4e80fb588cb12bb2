"""Where a submission runs: bubblewrap (bwrap) namespaces, no network, its own uid, hard limits.

Each worker (Sandbox) has one sandbox at a time:

    sh (writes its pid into the sandbox's cgroup, see rnncore_grader.cgroups)
     └─ exec bwrap --unshare-{user,}pid,net,ipc,uts,cgroup --die-with-parent  <binds>
          └─ python -I -c <BOOTSTRAP> <limits>     (rlimits; as root: chown /grading, setuid)
               └─ rnncore_grader.runner.zygote()    imports numpy and rnncore, runs no student code
                    └─ fork: rnncore_grader.runner.main()    one run (one submission's notebook)

The zygote imports once what every run needs and forks a fresh run per submission (and per
restart after a broken cell): ~15 ms instead of ~0.1 CPU-s for Python and its imports. After a
run, the zygote kills every other process of the PID namespace (kill(-1): each process the run
started, however detached) and empties /grading, and says whether anything was left; if so, or
if it does not answer (a run may kill or stop it: the runs have its uid), the whole sandbox ends
and the next run starts a new one. So what one run leaves never reaches the next, which is
another student's: no file, no process, and no change to the zygote, which is non-dumpable (a
run can neither trace it nor read its memory, its files or its descriptors in /proc).

bwrap builds a new root on a tmpfs holding only what Python needs, bound read-only (/usr,
/etc, the Python installation, the virtual environment, and at /grader-lib the very rnncore and
grader packages the grading process imported, wherever they are: BOOTSTRAP puts /grader-lib
first on sys.path, so an install in the environment that points elsewhere is never used), a
fresh /proc, four device files, and /grading: a small tmpfs, mode 0700, owned by the run's uid,
that is the submission's HOME, IPython, Jupyter and matplotlib directory and its only writable
place. The root is then remounted read-only. The course folder (the solutions, the hidden tests,
the gradebook, the other submissions) is simply not there. The network namespace has only its
own loopback: no network. The zygote is PID 1's child in a PID namespace of its own: when the
grader kills the sandbox's process group (bwrap and the namespace's init), or dies itself
(--die-with-parent), the kernel kills every process the submissions started.

One implementation, two ways of holding the uid:

- as root, bwrap makes the namespaces itself (no user namespace) and BOOTSTRAP drops to a uid
  of the run's own (the first free one from BASE_UID, held with a lock in /run/grader-uids, so
  limits on processes count one run at a time) with no capability left;
- as any other user, where unprivileged user namespaces are enabled (Debian and most
  distributions), bwrap makes a user namespace in which the run is uid BASE_UID; outside it
  is the grading user, without any capability. RLIMIT_NPROC is set inside that namespace, so
  it counts the run's processes only (Linux counts rlimits per user namespace since 5.15).

Rlimits hold per process (address space, CPU time, file size, open files; processes per uid).
Memory and processes of the whole run are bounded by a cgroup where this process can make one
(rnncore_grader.cgroups: v1 or v2 as root, a delegated v2 group or systemd-run as a user);
where none can be made, only the per-process limits hold, and describe() says so.

Where bwrap is missing or cannot make its namespaces, ``check()`` says what to install or
enable; ``Sandbox(unsafe=True)`` runs the submission as the current user in a fresh temporary
directory with the same rlimits but none of the isolation, for code one trusts.
"""
import fcntl
import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import rnncore_grader
import rnncore
from rnncore_grader import cgroups, engine, runner

BASE_UID = 61000
UIDS = 1000                       # a run takes the first free uid of BASE_UID ... BASE_UID + 999
UID_LOCKS = Path("/run/grader-uids")
# The bubblewrap binary (GRADER_BWRAP: another one, e.g. for the tests of the refusal).
BWRAP = os.environ.get("GRADER_BWRAP") or shutil.which("bwrap") or "/usr/bin/bwrap"


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 4096        # address space of each process (numpy reserves much of it)
    cpu_seconds: int = 600       # CPU time of each process
    processes: int = 64          # processes and threads of the run
    file_mb: int = 64            # largest file it may write
    work_mb: int = 256           # its whole working directory (a tmpfs)
    open_files: int = 256
    run_memory_mb: int = 2048    # memory of all the run's processes together (where a cgroup can be made)


class SandboxUnavailable(RuntimeError):
    """This machine or user cannot sandbox; the message says what an administrator must do."""


class SandboxFailed(RuntimeError):
    """A run could not start; the message says what the sandbox printed and where its log is."""


# The one command the README, the instructor page and ADMIN_HELP give (a test checks they agree).
SUDO_COMMAND = "sudo .venv/bin/python -m rnncore_grader autograde <assignment>"

ADMIN_HELP = """The grader runs every submission in a sandbox made with bubblewrap (bwrap): namespaces of its
own (user, mount, network, PID), a read-only system, resource limits. It needs no root where
unprivileged user namespaces are enabled; here the sandbox cannot start.
Why: {reason}

So that any user can grade, an administrator runs once (Debian/Ubuntu):

{enable}
In a container, user namespaces are often refused by its seccomp profile: start it with
--security-opt seccomp=unconfined (Docker, Podman) or --privileged. Or grade as root:

    {sudo}

from the course root, where .venv/bin/python is the Python of the environment you grade with
(here {python}); the files the grader writes are handed back to you. To grade code you trust
without a sandbox, add --unsafe-no-sandbox to the grader command, or set
c.SandboxedGrading.sandbox = False in nbgrader_config.py: submissions then run as you, with
your permissions."""

# sysctl -> the value that allows unprivileged user namespaces (when the sysctl exists).
SYSCTLS = {"user.max_user_namespaces": "15000", "kernel.unprivileged_userns_clone": "1",
           "kernel.apparmor_restrict_unprivileged_userns": "0"}


def _sysctl(name):
    try:
        return Path("/proc/sys", *name.split(".")).read_text().strip()
    except OSError:
        return None


def enable_commands():
    """The commands that let bwrap work for every user here: installing it when it is missing,
    and the three sysctls that can block unprivileged user namespaces, each with its value on
    this machine."""
    lines = []
    if not (os.path.isfile(BWRAP) and os.access(BWRAP, os.X_OK)):
        lines.append(f"    {'sudo apt-get install bubblewrap':<64}# provides /usr/bin/bwrap")
    for name, value in SYSCTLS.items():
        now = _sysctl(name)
        blocks = now == "0" if name == "user.max_user_namespaces" else now not in (None, value)
        state = ("not on this kernel" if now is None else
                 f"now {now}: " + ("this blocks them" if blocks else "allows them"))
        lines.append(f"    {f'sudo sysctl -w {name}={value}':<64}# {state}")
    lines.append("    (and the same sysctls in /etc/sysctl.d/99-grader.conf, to keep them after "
                 "a reboot)")
    return "\n".join(lines) + "\n"


def _help(reason):
    return ADMIN_HELP.format(sudo=SUDO_COMMAND, python=sys.executable, reason=reason,
                             enable=enable_commands())


def _unprivileged():
    return os.geteuid() != 0


def _namespaces():
    """bwrap's namespace arguments, for root or for another user."""
    common = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
              "--unshare-cgroup-try", "--die-with-parent"]
    return ["--unshare-user", *common, "--disable-userns"] if _unprivileged() else common


_CHECKED = []          # once it has passed, check() does not probe again in this process


def check():
    """Raise SandboxUnavailable (with what to install or enable) unless sandboxed runs can
    start here, as this user."""
    if _CHECKED:
        return
    if sys.platform != "linux":
        raise SandboxUnavailable(_help(f"the platform is {sys.platform}, not Linux"))
    if not (os.path.isfile(BWRAP) and os.access(BWRAP, os.X_OK)):
        raise SandboxUnavailable(_help(f"bubblewrap is not installed ({BWRAP} is missing)"))
    try:
        probe = subprocess.run([BWRAP, *_namespaces(), "--ro-bind", "/", "/", "--proc", "/proc",
                                "true"], capture_output=True, text=True, timeout=60)
        failed, said = probe.returncode != 0, probe.stderr.strip() or probe.stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as error:
        failed, said = True, str(error)
    if failed:
        who = f"uid {os.geteuid()}" + (", in a user namespace" if _unprivileged() else "")
        raise SandboxUnavailable(_help(f"{BWRAP} cannot make the sandbox's namespaces as "
                                       f"{who}: {said or 'it failed and printed nothing'}"))
    _CHECKED.append(True)


def describe(limits):
    """What holds on this machine, in words (printed once per grading run)."""
    found = cgroups.support()
    who = ("as root: each run as a uid of its own (from SandboxedGrading.base_uid)"
           if not _unprivileged() else
           f"as uid {os.geteuid()}: each run in a user namespace of its own")
    per = (f"per process {limits.memory_mb} MiB of address space, {limits.cpu_seconds} s of "
           f"CPU, {limits.file_mb} MiB per file, {limits.open_files} open files; "
           f"{limits.processes} processes per run")
    if found.kind:
        run = (f"the whole run: {limits.run_memory_mb} MiB of memory for all its processes "
               f"together ({found.why})")
    else:
        run = (f"NO limit on the whole run's memory ({found.why}): only the per-process "
               f"limit holds, up to {limits.processes} x {limits.memory_mb} MiB")
    return f"Sandbox: bubblewrap, {who}; {per}; {run}."


# Where the grading process's own grader and rnncore packages appear inside the sandbox.
LIBRARY = "/grader-lib"

# The runner's first lines (trusted: no student code has run yet): the rlimits; as root, the
# working folder handed to the run's uid and every privilege dropped; then -I keeps the
# environment and the user's site out, and /grader-lib goes first on sys.path, so that the
# runner and the library are exactly the grading process's (an editable install of another
# checkout, or an older copy in site-packages, is never used).
BOOTSTRAP = f"""\
import json, os, resource, sys
settings = json.loads(sys.argv[1])
for name, value in settings["limits"].items():
    resource.setrlimit(getattr(resource, name), (value, value))
uid = settings["uid"]
if uid is not None:
    os.chown({"/grading"!r}, uid, uid)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        sys.exit("grader: the sandbox could not take uid %d" % uid)
sys.argv = ["grader"]
sys.path.insert(0, {LIBRARY!r})
import importlib.util
for name in ("rnncore_grader", "rnncore"):
    spec = importlib.util.find_spec(name)
    where = spec.origin if spec else None
    if not (where or "").startswith({LIBRARY + "/"!r}):
        sys.exit(f"grader: inside the sandbox {{name}} would be imported from {{where}}, not "
                 f"from the grading process's copy at {LIBRARY}/{{name}}")
from rnncore_grader import runner
if settings["zygote"] is None:
    runner.main()
else:
    runner.zygote(settings["zygote"])
"""


def _environment(home):
    return {"HOME": home, "TMPDIR": f"{home}/tmp", "IPYTHONDIR": f"{home}/.ipython",
            "JUPYTER_CONFIG_DIR": f"{home}/.jupyter", "JUPYTER_DATA_DIR": f"{home}/.local/share/jupyter",
            "JUPYTER_RUNTIME_DIR": f"{home}/.local/share/jupyter/runtime",
            "MPLCONFIGDIR": f"{home}/.matplotlib", "MPLBACKEND": "Agg",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONHASHSEED": "0", "PYTHONIOENCODING": "utf-8", "LANG": "C.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin:/bin"}


def packages():
    """The folders of the grader and rnncore packages that this process imported."""
    return [Path(rnncore_grader.__file__).resolve().parent, Path(rnncore.__file__).resolve().parent]


def _claim_uid(base):
    """(uid, lock): the first uid from base that no other sandbox on this machine holds (every
    grader process, and every worker in it, runs its submissions as a uid of its own, so limits
    on processes count one run only); the lock is held until close()."""
    UID_LOCKS.mkdir(mode=0o700, exist_ok=True)
    for uid in range(base, base + UIDS):
        lock = os.open(UID_LOCKS / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return uid, lock
        except BlockingIOError:
            os.close(lock)
    raise SandboxUnavailable(_help(f"all {UIDS} sandbox uids from {base} are in use"))


def _system_binds():
    """bwrap arguments for the system: /usr and /etc read-only, /bin, /lib... as on this machine
    (links into /usr, or folders), and Python's installation and environment."""
    args = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for prefix in sorted(prefixes):
        if not prefix.startswith(("/usr/", "/etc/")) and prefix != "/usr" and os.access(
                prefix, os.R_OK | os.X_OK):
            args += ["--ro-bind", prefix, prefix]
    return args


def _interpreter():
    """(bwrap arguments, descriptors to pass) that make sys.executable runnable inside when its
    real file lies where this user cannot look (a Python built under /root, run by another
    user): the file is copied in from /proc/self/exe and the first link this user cannot read
    points at it. Nothing otherwise."""
    exe = os.readlink("/proc/self/exe")
    if os.access(exe, os.X_OK):
        return [], []
    hop = sys.executable
    for _ in range(40):
        try:
            hop = os.path.join(os.path.dirname(hop), os.readlink(hop))
        except PermissionError:
            break
        except OSError:
            return [], []
    fd = os.open("/proc/self/exe", os.O_RDONLY | os.O_CLOEXEC)
    links = ["--symlink", exe, hop] if os.path.normpath(hop) != exe else []
    return ["--perms", "0755", "--file", str(fd), exe, *links], [fd]


# bwrap's options that take (source, destination) or (descriptor, destination).
_TWO = ("--ro-bind", "--bind", "--dev-bind", "--symlink", "--file", "--ro-bind-fd")


def _folders(binds):
    """--dir options, mode 0755, for the folders that hold the binds' destinations: bwrap would
    make them 0700 and owned by root, which the run's uid could not cross."""
    destinations = [binds[i + 2] for i, option in enumerate(binds) if option in _TWO]
    destinations += [binds[i + 1] for i, option in enumerate(binds) if option == "--proc"]
    folders = sorted({str(parent) for d in destinations for parent in Path(d).parents
                      if str(parent) != "/"}, key=lambda f: (f.count("/"), f))
    return [arg for folder in folders for arg in ("--perms", "0755", "--dir", folder)]


ZYGOTE_START = 60.0       # seconds for a zygote to start (bwrap, Python, the imports)
ZYGOTE_ANSWER = 10.0      # seconds for it to answer a request


class _NoAnswer(Exception):
    pass


class _Zygote:
    """The bwrap process of a worker's zygote and our end of its control socket."""

    def __init__(self, process, control):
        self.process, self.control = process, control

    def receive(self, timeout):
        ready, _, _ = select.select([self.control], [], [], timeout)
        if not ready:
            raise _NoAnswer(f"no answer within {timeout:g} s")
        message = self.control.recv(4096)
        if not message:
            raise _NoAnswer("the zygote has ended")
        return message

    def expect(self, message, timeout):
        got = self.receive(timeout)
        if got != message:
            raise _NoAnswer(f"the zygote answered {got[:80]!r}, not {message!r}")

    def kill(self):
        self.control.close()
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


class Run:
    """One sandboxed run of rnncore_grader.runner: its channel (stdin: requests, stdout: replies)
    and stop(), which ends it and everything it started and returns its exit code as
    subprocess gives it (-N: killed by signal N; None: unknown). A run is either a process of
    its own (Sandbox(unsafe=True)) or forked by the worker's zygote."""

    def __init__(self, process, stdin=None, stdout=None, sandbox=None):
        self.process, self.sandbox = process, sandbox
        self.stdin = process.stdin if process else stdin
        self.stdout = process.stdout if process else stdout

    def close_channel(self):
        for pipe in (self.stdin, self.stdout):
            try:
                pipe.close()
            except OSError:
                pass

    def stop(self):
        if self.process is None:
            code = self.sandbox._end_run()
            self.close_channel()
            return code
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.close_channel()
        return self.process.wait()


class Sandbox:
    """Starts runs of rnncore_grader.runner for one worker (0, 1, ...): sandboxed, or unsafe=True.
    Sandboxed runs use a uid of their own: as root, the first free one from base_uid; as another
    user, base_uid inside the run's user namespace."""

    def __init__(self, worker=0, limits=Limits(), unsafe=False, base_uid=BASE_UID):
        self.worker, self.limits, self.unsafe = worker, limits, unsafe
        self.uid, self._uid_lock, self.group, self.runs = None, None, None, 0
        if not unsafe:
            check()
            if _unprivileged():
                self.uid = base_uid
            else:
                self.uid, self._uid_lock = _claim_uid(base_uid)
        self.scratch = Path(tempfile.mkdtemp(prefix=f"grader-{worker}-"))
        os.chmod(self.scratch, 0o700)
        self.log = self.scratch.with_suffix(".log")   # what the zygote's start printed
        self.keep_log = False
        self._zygote = None

    def command(self, zygote=None):
        """(the bwrap command of a run, the descriptors it needs); zygote: the descriptor of the
        control socket, for a zygote (see start) instead of a single run."""
        limits = self.limits
        python, fds = _interpreter()
        args = [BWRAP, *_namespaces(), "--hostname", "grader"]
        if _unprivileged():
            args += ["--uid", str(self.uid), "--gid", str(self.uid)]
        else:      # bwrap as root keeps only what BOOTSTRAP needs to hand over /grading
            args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                     "--cap-add", "CAP_CHOWN"]
        binds = [*_system_binds(), *python]
        for package in packages():
            binds += ["--ro-bind", str(package), f"{LIBRARY}/{package.name}"]
        binds += ["--proc", "/proc"]
        for device in ("null", "zero", "random", "urandom"):
            binds += ["--dev-bind", f"/dev/{device}", f"/dev/{device}"]
        args += [*_folders(binds), *binds]
        args += ["--size", str(limits.work_mb * 2**20), "--perms", "0700", "--tmpfs", "/grading",
                 "--dir", "/tmp", "--remount-ro", "/", "--chdir", "/grading", "--clearenv"]
        for name, value in _environment("/grading").items():
            args += ["--setenv", name, value]
        rlimits = {"RLIMIT_AS": limits.memory_mb * 2**20, "RLIMIT_CPU": limits.cpu_seconds,
                   "RLIMIT_NPROC": limits.processes, "RLIMIT_FSIZE": limits.file_mb * 2**20,
                   "RLIMIT_NOFILE": limits.open_files, "RLIMIT_CORE": 0}
        settings = {"limits": rlimits, "uid": None if _unprivileged() else self.uid,
                    "zygote": zygote}
        return [*args, sys.executable, "-I", "-c", BOOTSTRAP, json.dumps(settings)], fds

    def start(self):
        """A new run (see Run): forked by this worker's zygote, started first if need be."""
        if self.unsafe:
            return Run(self._start_unsafe())
        for attempt in range(2):
            if self._zygote is None:
                self._zygote = self._start_zygote()
            try:
                return self._fork()
            except (OSError, _NoAnswer):
                self._end_zygote()
                if attempt:
                    raise

    def _start_zygote(self):
        """The sandbox of this worker's runs: bubblewrap, then rnncore_grader.runner.zygote, which
        imports what the runs need once and forks one run per submission (a fork costs ~10 ms;
        a whole sandboxed start, Python and its imports, ~0.1 s of CPU)."""
        self._end_group()
        self.runs += 1
        found = cgroups.support()
        procs = []
        if found.kind:
            try:
                self.group = cgroups.Group(found, f"{os.getpid()}-{self.worker}-{self.runs}",
                                           self.limits.run_memory_mb, self.limits.processes)
            except OSError as error:
                raise SandboxFailed(f"the run's cgroup could not be made ({found.why}): "
                                    f"{error}") from None
            procs = self.group.procs()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command, fds = self.command(zygote=theirs.fileno())
        prefix = self.group.prefix if self.group else []
        # The shell enters the run's cgroup, then becomes bwrap (same pid, same process group).
        enter = 'for f in $GRADER_CGROUP; do echo $$ > "$f" || exit 125; done; exec "$@"'
        environment = {"PATH": "/usr/bin:/bin", "GRADER_CGROUP": "\n".join(procs),
                       "IFS": "\n"}
        # What bwrap and Python print before the zygote is ready goes to the log; it is kept
        # when the sandbox could not start.
        try:
            with open(self.log, "wb") as log:
                process = subprocess.Popen(
                    [*prefix, "/bin/sh", "-c", enter, "sh", *command], env=environment,
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    pass_fds=[*fds, theirs.fileno()], start_new_session=True)
        finally:
            theirs.close()
            for fd in fds:
                os.close(fd)
        zygote = _Zygote(process, ours)
        try:
            zygote.expect(b"ready", ZYGOTE_START)
        except (OSError, _NoAnswer) as error:
            code = process.poll()                    # (before the kill, which would be its end)
            zygote.kill()
            self._end_group()
            raise self.failed(f"the sandbox did not start ({error}, "
                              f"{engine.exit_description(code)})") from None
        return zygote

    def _fork(self):
        """A run forked by the zygote, with a new channel: two pipes, the run's ends sent over
        the control socket."""
        to_run, from_run = os.pipe2(os.O_CLOEXEC), os.pipe2(os.O_CLOEXEC)
        try:
            socket.send_fds(self._zygote.control, [b"fork"], [to_run[0], from_run[1]])
        except OSError:
            for fd in (*to_run, *from_run):
                os.close(fd)
            raise
        os.close(to_run[0])
        os.close(from_run[1])
        run = Run(None, os.fdopen(to_run[1], "wb", buffering=0),
                  os.fdopen(from_run[0], "rb", buffering=0), self)
        try:
            self._zygote.expect(b"forked", ZYGOTE_ANSWER)
        except (OSError, _NoAnswer):
            run.close_channel()
            raise
        return run

    def _end_run(self):
        """Kill what is left of the zygote's run, empty /grading; the run's exit code (None if
        unknown). Where the zygote does not answer, or something of the run is left, the whole
        sandbox ends: the next run starts a new one."""
        zygote = self._zygote
        if zygote is None:
            return None
        try:
            zygote.control.sendall(b"end")
            ended = json.loads(zygote.receive(ZYGOTE_ANSWER + runner.END_WAIT))
            code, clean = ended.get("code"), ended.get("clean") is True
        except (OSError, _NoAnswer, ValueError, AttributeError):
            code, clean = None, False
        if not clean:
            self._end_zygote()
        return code if isinstance(code, int) else None

    def _end_zygote(self):
        if self._zygote is not None:
            self._zygote.kill()
            self._zygote = None

    def killed_for_memory(self):
        """Whether the last run went over its whole-run memory limit (cgroup) and was killed."""
        group = self.group
        return bool(group and (group.killed_for_memory or group.oom_kills()))

    def _end_group(self):
        if self.group is not None:
            self.group.remove()
            self.group = None

    def failed(self, error):
        """SandboxFailed for a run that could not start (error: the engine's SandboxError):
        its message quotes the first lines the run printed, and the log is kept for reading."""
        self.keep_log = True
        try:
            lines = self.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            lines = []
        hint = ""
        if any(sign in line for line in lines for sign in ("failed to map segment", "MemoryError",
                                                           "Cannot allocate memory")):
            hint = (f"\nThe limit on memory (SandboxedGrading.memory_mb = "
                    f"{self.limits.memory_mb} MiB) looks too small for Python and numpy to start.")
        if not lines:
            printed = "It printed nothing."
        else:
            shown = lines[:8] + (["  [...]", lines[-1]] if len(lines) > 8 else [])
            printed = "It printed:\n" + "\n".join(f"    {line[:300]}" for line in shown)
        return SandboxFailed(f"{error}\n{printed}{hint}\nThe whole log stays at {self.log}.")

    def _start_unsafe(self):
        home = Path(tempfile.mkdtemp(dir=self.scratch))
        limits = self.limits

        def limit():
            for what, value in [(resource.RLIMIT_AS, limits.memory_mb * 2**20),
                                (resource.RLIMIT_CPU, limits.cpu_seconds),
                                (resource.RLIMIT_FSIZE, limits.file_mb * 2**20),
                                (resource.RLIMIT_NOFILE, limits.open_files),
                                (resource.RLIMIT_CORE, 0)]:
                resource.setrlimit(what, (value, value))

        environment = _environment(str(home))
        environment["PYTHONPATH"] = os.pathsep.join(
            str(Path(p.__file__).parent.parent) for p in (rnncore, rnncore_grader))
        with open(self.log, "wb") as log:
            return subprocess.Popen([sys.executable, "-m", "rnncore_grader.runner"], cwd=home,
                                    env=environment, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=log, start_new_session=True,
                                    preexec_fn=limit)

    def close(self):
        self._end_zygote()
        self._end_group()
        shutil.rmtree(self.scratch, ignore_errors=True)
        if self._uid_lock is not None:
            os.close(self._uid_lock)
            self._uid_lock = None
        if not self.keep_log:
            self.log.unlink(missing_ok=True)
