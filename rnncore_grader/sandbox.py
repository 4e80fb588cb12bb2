"""Where a submission runs: a throwaway root, no network, an unprivileged user, hard limits.

With root privileges, each run is

    unshare --mount --net --pid --ipc --uts --fork --kill-child  sh <setup>   (the namespace's init)
      └─ chroot <root>  prlimit <limits>  setpriv --reuid U --regid U --clear-groups
                        --no-new-privs  env -i <fresh environment>  python -I -c <BOOTSTRAP>

where <root> is a tmpfs that holds only what Python needs, bound read-only (/usr, /etc, the
Python installation, the virtual environment, and at /grader-lib the very rnncore and grader
packages the grading process imported, wherever they are: BOOTSTRAP puts /grader-lib first on
sys.path, so an install in the environment that points elsewhere is never used), a fresh
/proc, four device files, and /grading: a small tmpfs owned by U that is the submission's HOME,
IPython, Jupyter and matplotlib directory and its only writable place. The course folder (the
solutions, the hidden tests, the gradebook, the other submissions) is simply not there. The
loopback interface stays down: there is no network. When the grader closes the channel or kills
the run, the namespace's init dies and the kernel kills every process the submission started.
Each parallel worker, of this grader process or of another running at the same time, has a
uid of its own (the first free one from BASE_UID, held with a lock in /run/grader-uids), so
limits on processes count one run at a time.

Without the privileges this needs, ``check()`` says what to run; ``Sandbox(unsafe=True)`` runs
the submission as the current user in a fresh temporary directory with the same limits but none
of the isolation, for code one trusts.
"""
import fcntl
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import rnncore_grader
import rnncore

BASE_UID = 61000
UIDS = 1000                       # a run takes the first free uid of BASE_UID ... BASE_UID + 999
UID_LOCKS = Path("/run/grader-uids")


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 4096        # address space of each process (numpy reserves much of it)
    cpu_seconds: int = 600       # CPU time of each process
    processes: int = 64          # processes and threads of the run's uid
    file_mb: int = 64            # largest file it may write
    work_mb: int = 256           # its whole working directory (a tmpfs)
    open_files: int = 256


class SandboxUnavailable(RuntimeError):
    """This machine or user cannot sandbox; the message says what an administrator must do."""


class SandboxFailed(RuntimeError):
    """A run could not start; the message says what the sandbox printed and where its log is."""


# The one command the README, the instructor page and ADMIN_HELP give (a test checks they agree).
SUDO_COMMAND = "sudo .venv/bin/python -m rnncore_grader autograde <assignment>"

ADMIN_HELP = """\
The grader runs every submission in a sandbox (its own mount, network and PID namespaces, an
unprivileged uid, resource limits). That needs root on Linux with util-linux's unshare, setpriv,
prlimit and chroot:

    sudo apt-get install util-linux                    # Debian/Ubuntu; usually present already
    {sudo}

from the course root, where .venv/bin/python is the Python of the environment you grade with
(here {python}); the files the grader writes are handed back to you. In a container, run it
with --privileged, or with CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID and CAP_SYS_CHROOT. To grade code you trust without a sandbox, add --unsafe-no-sandbox to the grader
command, or set c.SandboxedGrading.sandbox = False in nbgrader_config.py: submissions then run as
you, with your permissions.
Why it is unavailable here: {reason}"""


def _help(reason):
    return ADMIN_HELP.format(sudo=SUDO_COMMAND, python=sys.executable, reason=reason)


_CHECKED = []          # once it has passed, check() does not probe again in this process


def check():
    """Raise SandboxUnavailable (with what to run) unless sandboxed runs can start here."""
    if _CHECKED:
        return
    if sys.platform != "linux":
        raise SandboxUnavailable(_help(f"the platform is {sys.platform}"))
    if os.geteuid() != 0 or os.environ.get("GRADER_PRETEND_UNPRIVILEGED"):   # (the tests' way)
        raise SandboxUnavailable(_help(f"the grader runs as uid {os.geteuid()}, not root"))
    for tool in ("unshare", "setpriv", "prlimit", "chroot", "mount"):
        if shutil.which(tool) is None:
            raise SandboxUnavailable(_help(f"{tool} is not installed"))
    probe = subprocess.run(["unshare", "--mount", "--net", "--pid", "--ipc", "--fork", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        raise SandboxUnavailable(_help(
            f"unshare cannot create namespaces: {probe.stderr.strip()}"))
    _CHECKED.append(True)


# The namespace's init: builds the root, then runs the submission as its child and waits, so
# that when the grader kills unshare, this shell (and with it the namespace) dies too.
SETUP = r"""
set -eu
IFS='
'
mount --make-rprivate /
mount -t tmpfs -o size=16m,mode=0755 grader-root "$ROOT"
for path in $READ_ONLY; do
  [ -e "$path" ] || continue
  if [ -L "$path" ]; then
    mkdir -p "$ROOT$(dirname "$path")"; ln -s "$(readlink "$path")" "$ROOT$path"; continue
  fi
  mkdir -p "$ROOT$path"
  mount --rbind "$path" "$ROOT$path"
  mount -o remount,bind,ro "$ROOT$path"
done
for package in $PACKAGES; do
  target="$ROOT$LIBRARY/$(basename "$package")"
  mkdir -p "$target"
  mount --rbind "$package" "$target"
  mount -o remount,bind,ro "$target"
done
mkdir -p "$ROOT/proc" "$ROOT/dev" "$ROOT/tmp" "$ROOT/grading"
mount -t proc proc "$ROOT/proc"
for device in null zero random urandom; do
  touch "$ROOT/dev/$device"; mount --bind "/dev/$device" "$ROOT/dev/$device"
done
mount -t tmpfs -o "size=${WORK_MB}m,mode=0700,uid=$RUN_UID,gid=$RUN_UID" grader-work "$ROOT/grading"
mount -o remount,ro "$ROOT"
IFS=' '
chroot "$ROOT" prlimit $LIMITS -- \
  setpriv --reuid "$RUN_UID" --regid "$RUN_UID" --clear-groups --no-new-privs \
  env -i $ENVIRONMENT "$PYTHON" -I -c "$BOOTSTRAP"
"""

# Where the grading process's own grader and rnncore packages appear inside the sandbox.
LIBRARY = "/grader-lib"

# The runner's first lines: -I keeps the environment and the user's site out, and /grader-lib
# goes first on sys.path, so that the runner and the library are exactly the grading process's
# (an editable install of another checkout, or an older copy in site-packages, is never used).
BOOTSTRAP = f"""\
import sys
sys.path.insert(0, {LIBRARY!r})
import importlib.util
for name in ("rnncore_grader", "rnncore"):
    spec = importlib.util.find_spec(name)
    where = spec.origin if spec else None
    if not (where or "").startswith({LIBRARY + "/"!r}):
        sys.exit(f"grader: inside the sandbox {{name}} would be imported from {{where}}, not "
                 f"from the grading process's copy at {LIBRARY}/{{name}}")
from rnncore_grader import runner
runner.main()
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


class Sandbox:
    """Starts runs of rnncore_grader.runner for one worker (0, 1, ...): sandboxed, or unsafe=True.
    Sandboxed runs use a uid of their own, the first free one from base_uid."""

    def __init__(self, worker=0, limits=Limits(), unsafe=False, base_uid=BASE_UID):
        self.worker, self.limits, self.unsafe = worker, limits, unsafe
        self.uid, self._uid_lock = None, None
        if not unsafe:
            check()
            self.uid, self._uid_lock = _claim_uid(base_uid)
        self.scratch = Path(tempfile.mkdtemp(prefix=f"grader-{worker}-"))
        os.chmod(self.scratch, 0o700)
        self.log = self.scratch.with_suffix(".log")   # what the last run's setup printed
        self.keep_log = False

    def start(self):
        """A new run: a subprocess whose stdin/stdout are the runner's channel."""
        if self.unsafe:
            return self._start_unsafe()
        limits = self.limits
        prefixes = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix),
                    Path(sys.base_exec_prefix)}
        read_only = ["/usr", "/bin", "/lib", "/lib32", "/lib64", "/sbin", "/etc",
                     *sorted(map(str, prefixes))]
        uid = self.uid
        environment = {
            "ROOT": str(self.scratch), "READ_ONLY": "\n".join(read_only),
            "PACKAGES": "\n".join(str(p) for p in packages()), "LIBRARY": LIBRARY,
            "BOOTSTRAP": BOOTSTRAP,
            "WORK_MB": str(limits.work_mb), "RUN_UID": str(uid), "PYTHON": sys.executable,
            "LIMITS": " ".join([f"--as={limits.memory_mb * 2**20}", f"--cpu={limits.cpu_seconds}",
                                f"--nproc={limits.processes}", f"--fsize={limits.file_mb * 2**20}",
                                f"--nofile={limits.open_files}", "--core=0"]),
            "ENVIRONMENT": " ".join(f"{k}={v}" for k, v in _environment("/grading").items()),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        }
        # The runner starts in / ; it changes to HOME (/grading) itself. Until it has taken its
        # channel, what the set-up and Python print goes to the log (the last run's only).
        with open(self.log, "wb") as log:
            return subprocess.Popen(
                ["unshare", "--mount", "--net", "--pid", "--ipc", "--uts", "--fork",
                 "--kill-child", "sh", "-c", SETUP], env=environment, stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=log, start_new_session=True)

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
        shutil.rmtree(self.scratch, ignore_errors=True)
        if self._uid_lock is not None:
            os.close(self._uid_lock)
            self._uid_lock = None
        if not self.keep_log:
            self.log.unlink(missing_ok=True)
