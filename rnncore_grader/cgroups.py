"""Memory and processes of a whole sandboxed run, all its processes together: a cgroup per run.

The sandbox's rlimits hold per process (RLIMIT_AS: 4 GiB of address space each), so 64
processes could together take 64 x 4 GiB. A cgroup bounds them all. Which one this machine can
give, tried in this order (``support()``, decided once per grading process):

- cgroup v1, the ``memory`` (and ``pids``) hierarchies mounted under /sys/fs/cgroup and this
  process's own group in them writable (as root): each run gets a child of that group with
  memory.limit_in_bytes (and memsw, where swap is accounted) and pids.max. v1 kills only one
  process on running out of memory; a watcher (an eventfd on memory.oom_control) then kills
  the rest of the run, so a run over its limit ends as a whole.
- cgroup v2 (/sys/fs/cgroup/cgroup.controllers lists memory): the runs' groups go at the top
  of the tree (as root), or beside this process's group when its parent is delegated to the
  user (writable, memory in its cgroup.subtree_control). memory.max, memory.swap.max = 0,
  pids.max, memory.oom.group = 1 (the whole run is killed together). Not tried on a real v2
  machine here: the tests check these choices on a fake tree.
- cgroup v2 through systemd, for a user with a systemd session: ``systemd-run --user --scope``
  with MemoryMax, MemorySwapMax=0 and TasksMax.
- none (e.g. a non-root user on a cgroup v1 machine, as here): only the per-process limits hold.

A run is put in its group by a small shell that writes its own pid there and then execs bwrap,
so the group holds every process of the run from its first instruction.
"""
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

MOUNT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Support:
    kind: str | None        # "v1", "v2", "systemd" or None
    parent: tuple = ()      # the folders the runs' groups go in (v1: memory[, pids]; v2: one)
    why: str = ""           # what was found, in words (for the message printed once per run)


def _own_paths(proc_cgroup="/proc/self/cgroup"):
    """{controller or "": path} of this process's groups ("" is the v2 group)."""
    found = {}
    for line in Path(proc_cgroup).read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            found[controller] = path
    return found


def _writable(path):
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def _gives_memory(folder, enable=False):
    """Whether folder's children get the memory controller (v2); enable: try to make it so."""
    subtree = folder / "cgroup.subtree_control"
    try:
        if "memory" in subtree.read_text().split():
            return True
        if enable:
            for controller in ("+memory", "+pids"):
                try:
                    _write(subtree, controller)
                except OSError:
                    pass
            return "memory" in subtree.read_text().split()
    except OSError:
        pass
    return False


def detect(mount=MOUNT, proc_cgroup="/proc/self/cgroup", root=None):
    """What this process can use (see the module's docstring); mount and proc_cgroup are
    parameters for the tests, which try the v2 logic on a fake tree."""
    root = os.geteuid() == 0 if root is None else root
    try:
        own = _own_paths(proc_cgroup)
    except OSError:
        own = {}
    memory = mount / "memory"
    if "memory" in own and (memory / "cgroup.procs").exists():
        group = memory / own.get("memory", "/").lstrip("/")
        if not _writable(group):
            return Support(None, why=f"cgroup v1: {group} is not writable by uid {os.geteuid()} "
                                     f"(v1 is not delegated to users; as root it is)")
        parents = [group]
        pids = mount / "pids" / own.get("pids", "/").lstrip("/")
        if "pids" in own and _writable(pids):
            parents.append(pids)
        return Support("v1", tuple(parents), "cgroup v1, memory" + (
            " and pids" if len(parents) > 1 else "") + f", in {group}")
    controllers = mount / "cgroup.controllers"
    if controllers.exists() and "memory" in controllers.read_text().split():
        group = mount / own.get("", "/").lstrip("/")
        # The runs' groups go at the top (as root), or beside this process's group (in its
        # parent, delegated to the user), or below it: a folder that is writable and gives its
        # children the memory controller.
        candidates = ([mount] if root else []) + [group.parent, group]
        for parent in dict.fromkeys(c for c in candidates if c == mount or mount in c.parents):
            if _writable(parent) and _gives_memory(parent, enable=root):
                return Support("v2", (parent,), f"cgroup v2 (in {parent})")
        if shutil.which("systemd-run") and not root:
            probe = subprocess.run(["systemd-run", "--user", "--scope", "--quiet", "-p",
                                    "MemoryMax=1G", "true"], capture_output=True, text=True)
            if probe.returncode == 0:
                return Support("systemd", why="cgroup v2 through systemd-run --user --scope")
            return Support(None, why="cgroup v2, but no group of this user's gives the memory "
                                     "controller and systemd-run --user --scope failed: "
                                     + (probe.stderr.strip().splitlines() or ["?"])[-1])
        return Support(None, why=f"cgroup v2, but no group around {group} that uid "
                                 f"{os.geteuid()} may write gives the memory controller")
    return Support(None, why="no cgroup memory controller is mounted at " + str(mount))


_SUPPORT = []


def support():
    if not _SUPPORT:
        _SUPPORT.append(detect())
        for parent in _SUPPORT[0].parent:
            sweep(parent)
    return _SUPPORT[0]


def sweep(parent):
    """Remove the empty groups that graders killed before they could (named <pid>-<worker>-<run>,
    their pid gone). A group that still holds a process cannot be removed, and is not."""
    try:
        folders = [f for f in parent.iterdir() if f.is_dir()]
    except OSError:
        return
    for folder in folders:
        pid, *rest = folder.name.split("-")
        if not (pid.isdigit() and len(rest) == 2 and all(r.isdigit() for r in rest)):
            continue
        try:
            os.kill(int(pid), 0)
            continue                                  # its grader is still running
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        try:
            folder.rmdir()
        except OSError:
            pass


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


class Group:
    """The cgroup of one run: memory_mb and processes for all its processes together."""

    def __init__(self, found, name, memory_mb, processes):
        self.found, self.memory = found, memory_mb * 2**20
        self.folders, self.killed_for_memory, self._removing = [], False, False
        if found.kind == "systemd":
            self.prefix = ["systemd-run", "--user", "--scope", "--quiet", "--collect",
                           "-p", f"MemoryMax={self.memory}", "-p", "MemorySwapMax=0",
                           "-p", f"TasksMax={processes}", "--"]
            return
        self.prefix = []
        if found.kind == "v2":
            folder = found.parent[0] / name
            folder.mkdir()
            self.folders = [folder]
            _write(folder / "memory.max", str(self.memory))
            for setting, value in [("memory.swap.max", "0"), ("memory.oom.group", "1"),
                                   ("pids.max", str(processes))]:
                if (folder / setting).exists():
                    _write(folder / setting, value)
            return
        for parent in found.parent:                          # v1: memory, then pids
            folder = parent / name
            folder.mkdir()
            self.folders.append(folder)
        memory = self.folders[0]
        _write(memory / "memory.limit_in_bytes", str(self.memory))
        if (memory / "memory.memsw.limit_in_bytes").exists():
            _write(memory / "memory.memsw.limit_in_bytes", str(self.memory))
        if len(self.folders) > 1:
            _write(self.folders[1] / "pids.max", str(processes))
        self._watch_v1(memory)

    def procs(self):
        """The files a run's first process writes its pid to."""
        return [str(folder / "cgroup.procs") for folder in self.folders]

    def _watch_v1(self, memory):
        """v1 kills one process when the group runs out of memory: kill the rest of the run."""
        event = os.eventfd(0, os.EFD_CLOEXEC)
        control = os.open(memory / "memory.oom_control", os.O_RDONLY | os.O_CLOEXEC)
        _write(memory / "cgroup.event_control", f"{event} {control}")

        def watch():
            try:
                os.eventfd_read(event)                    # an OOM, or the group's removal
                if not self._removing:
                    self.killed_for_memory = True
                    self.kill()
            except OSError:
                pass
            finally:
                os.close(event)
                os.close(control)
        threading.Thread(target=watch, daemon=True, name=f"oom {memory.name}").start()

    def oom_kills(self):
        """How many processes the kernel killed in this group for want of memory."""
        for folder in self.folders[:1]:
            for name in ("memory.oom_control", "memory.events"):
                try:
                    for line in (folder / name).read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if key == "oom_kill":
                            return int(value)
                except OSError:
                    continue
        return 0

    def kill(self):
        """SIGKILL every process left in the group."""
        for folder in self.folders[:1]:
            if (folder / "cgroup.kill").exists():
                try:
                    _write(folder / "cgroup.kill", "1")
                    continue
                except OSError:
                    pass
            kill_until_gone(lambda: _pids(folder))

    def remove(self):
        """Kill what is left and delete the group (it is empty once its processes are gone)."""
        self._removing = True
        self.kill()
        for folder in reversed(self.folders):
            for _ in range(100):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
        self.folders = []


def _pids(folder):
    """The processes in a group (none once the group is gone)."""
    try:
        return [int(p) for p in (folder / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def kill_until_gone(find, rounds=50, pause=0.02):
    """SIGKILL every process find() lists, again until it lists none (a process may fork while
    its siblings die), for at most `rounds` rounds."""
    for _ in range(rounds):
        pids = find()
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(pause)
