"""``python -m rnncore_grader``: the instructor's commands around nbgrader.

    python -m rnncore_grader autograde ASSIGNMENT [--student ID ...] [--force] [--jobs N]
                                          [--shard K/N] [--scheduler ADDRESS]
                                          [--unsafe-no-sandbox]
    python -m rnncore_grader selftest ASSIGNMENT      # the solution scores full marks, the release zero
    python -m rnncore_grader student-edition OUT [--repository URL]   # the course without its answers

``autograde`` does what ``nbgrader autograde ASSIGNMENT`` does, into the same gradebook and
autograded/ folder, and more: it reads every submitted file itself (so a file that is not JSON,
is cut short, is in nbformat 3 or belongs to another assignment still gets a score of zero and a
reason), grades the submissions in parallel, one sandbox per core, and records each student as
``nbgrader autograde`` would, with nbgrader's own SaveAutoGrades. Run it from the course root
(where nbgrader_config.py is). Without --force it grades the submissions that have no complete
grade yet (new, resubmitted, or cut short by an interrupted run) and leaves the others alone.

``--shard K/N`` grades only shard K (1, 2, ..., N) of N: a student belongs to shard
1 + (sha256 of the student id) mod N, whoever else submitted, so N machines that share the course
folder (or its gradebook) and run 1/N, ..., N/N grade every student exactly once.
``--scheduler ADDRESS`` sends the sandboxed runs to the workers of a Dask cluster (``dask
scheduler`` / ``dask worker ADDRESS --nthreads 1``): this process reads the submissions and alone
writes the gradebook, autograded/ and the report. Every worker must see the course folder at
the same path and import the same rnncore and rnncore_grader (the same checkout).
"""
import argparse
import contextlib
import csv
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbconvert.exporters.exporter import ResourcesDict
from nbgrader.preprocessors import AssignLatePenalties, LimitOutput, SaveAutoGrades
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.exc import SAWarning
from traitlets.config.loader import PyFileConfigLoader

from rnncore_grader import assignment as assignments, edition, sandbox, submission
from rnncore_grader.checks import QuestionError
from rnncore_grader.nbgrader_plugin import SandboxedGrading, grade_notebook


class Refused(RuntimeError):
    """Nothing was graded; the message says why and what to do."""


def parse_shard(text):
    """(k, n) from "K/N" with 1 <= K <= N (shards are numbered from 1), or Refused saying why."""
    k, slash, n = str(text).partition("/")
    if not (slash and k.strip().isdigit() and n.strip().isdigit()):
        raise Refused(f"--shard {text}: expected K/N, e.g. --shard 1/3 (shards are numbered "
                      f"from 1: 1/3, 2/3 and 3/3 grade every student once).")
    k, n = int(k), int(n)
    if n < 1 or not 1 <= k <= n:
        raise Refused(f"--shard {text}: K must be between 1 and N (shards are numbered from 1: "
                      f"1/{max(n, 1)} ... {max(n, 1)}/{max(n, 1)}).")
    return k, n


def shard_of(student, n):
    """The shard (1 ... n) of a student: from the id alone, never from who else submitted."""
    return 1 + int.from_bytes(hashlib.sha256(student.encode("utf-8")).digest()[:8], "big") % n


def _config(root):
    path = root / "nbgrader_config.py"
    if not path.exists():
        raise Refused(f"No nbgrader_config.py in {root}: run the grader from the course root.")
    config = PyFileConfigLoader(path.name, path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    return config


def _course(root, assignment):
    """(root, nbgrader config, CourseDirectory, SandboxedGrading settings, Assignment)."""
    root = Path(root).resolve()
    config = _config(root)
    coursedir = CourseDirectory(config=config)
    spec = assignments.load(root, assignment, coursedir.source_directory,
                            coursedir.release_directory)
    return root, config, coursedir, SandboxedGrading(config=config), spec


def verdicts(graded, points):
    """test grade_id -> "" (full marks) or the reason it scored zero, read from a graded
    notebook by nbgrader's own rule: a test cell with an error output scores zero."""
    found = {}
    for cell in graded.cells:
        grade_id = assignments.nbgrader_of(cell).get("grade_id")
        if grade_id in points:
            errors = [o.evalue for o in cell.get("outputs", []) if o.output_type == "error"]
            found[grade_id] = errors[0] if errors else ""
    return found


def _engine(db_url):
    """A SQLAlchemy engine for a gradebook's URL (one per URL in this process), or Refused when
    its driver is not installed."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError
    if db_url not in _ENGINES:
        try:
            url = make_url(db_url)
            arguments = {"connect_timeout": 10} if url.get_backend_name() == "postgresql" else {}
            _ENGINES[db_url] = create_engine(url, connect_args=arguments, pool_pre_ping=True)
        except (ImportError, NoSuchModuleError, ArgumentError) as error:
            raise Refused(f"The gradebook {_shown(db_url)} needs a database driver that is not "
                          f"installed ({type(error).__name__}: {error}). Nothing was graded. "
                          f"For PostgreSQL use a postgresql:// URL with psycopg 3, which "
                          f"`pip install -r requirements.txt` installs.") from None
    return _ENGINES[db_url]


_ENGINES = {}


def _shown(db_url):
    from sqlalchemy.engine import make_url
    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except Exception:
        return "(a URL that cannot be read)"


def _check_server(db_url, assignment):
    """The pre-flight checks for a gradebook on a database server: it answers, it has the
    assignment, and no other program holds a lock on it that recording would wait for."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError, OperationalError
    engine, shown = _engine(db_url), _shown(db_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError) as error:
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        raise Refused(f"The grader cannot connect to the gradebook {shown}: {reason}. Nothing "
                      f"was graded: start the database server, or correct "
                      f"c.CourseDirectory.db_url in nbgrader_config.py.") from None
    _check_recorded(db_url, assignment)
    if engine.dialect.name != "postgresql":
        return
    try:
        with engine.connect() as connection, connection.begin():
            connection.execute(text("SET LOCAL lock_timeout = '5s'"))
            connection.execute(text("LOCK TABLE submitted_assignment, submitted_notebook, grade, "
                                    "comment IN SHARE ROW EXCLUSIVE MODE"))
    except (OperationalError, DBAPIError) as error:
        if getattr(getattr(error, "orig", None), "sqlstate", None) == "55P03":
            raise Refused(f"The gradebook {shown} is locked by another program (the "
                          f"formgrader, or another nbgrader or grader command?). Nothing was "
                          f"graded; run again when it has finished.") from None
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        raise Refused(f"The gradebook {shown} cannot be used ({reason}). Nothing was "
                      f"graded.") from None


def _check_recorded(db_url, assignment):
    with Gradebook(db_url) as gradebook:
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            raise Refused(f"The gradebook has no assignment {assignment!r}: run `nbgrader "
                          f"generate_assignment {assignment}` first.") from None


def _check_gradebook(db_url, assignment):
    """Refuse, before touching anything, a gradebook that is missing, corrupt, locked or out of
    reach, or that does not have the assignment (SQLite, PostgreSQL, or any other database)."""
    if not db_url.startswith("sqlite:///"):
        return _check_server(db_url, assignment)
    path = Path(db_url[len("sqlite:///"):])
    if not path.exists():
        raise Refused(f"There is no gradebook at {path}: run `nbgrader generate_assignment "
                      f"{assignment}` first (it creates the gradebook and records the assignment).")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=5)
        try:
            (status,) = connection.execute("PRAGMA quick_check").fetchone()
            if status != "ok":
                raise sqlite3.DatabaseError(status)
            connection.execute("BEGIN IMMEDIATE")    # would wait for, then fail on, a writer
            connection.rollback()
        finally:
            connection.close()
    except sqlite3.OperationalError as error:
        if "locked" in str(error):
            raise Refused(f"The gradebook {path} is locked by another program (the formgrader, "
                          f"or another nbgrader or grader command?). Nothing was graded; run "
                          f"again when it has finished.") from None
        raise Refused(f"The gradebook {path} cannot be opened ({error}). Nothing was graded.") from None
    except sqlite3.DatabaseError as error:
        raise Refused(f"The gradebook {path} is damaged ({error}). Nothing was graded and nothing "
                      f"was changed: restore it from a backup (or, if it is lost, run `nbgrader "
                      f"generate_assignment` for each assignment to start a new one).") from None
    _check_recorded(db_url, assignment)


def _digest(path):
    """sha256 of a submitted file (None when it is missing): a second LMS download without
    timestamps changes the file, not the timestamp."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


@contextlib.contextmanager
def _one_engine_per_gradebook():
    """During a batch, every Gradebook nbgrader opens in this process uses the engine of
    :func:`_engine` for its database. nbgrader's Gradebook makes a new engine each time it is
    opened, and recording one student opens four (the check that no other grader recorded them
    meanwhile, the student's rows, SaveAutoGrades, AssignLatePenalties): 2.3 of the 3.8 ms an
    opening costs, for each of them, in the one thread that records while the workers grade
    (with ch01's fast notebooks, recording is what the batch waits for; 66 -> 43 ms a
    notebook). Engines are made to be shared (each Gradebook keeps its own session; closing it
    removes only that), and nbgrader's arguments (echo=False, future=True) are SQLAlchemy 2's
    defaults."""
    import nbgrader.api as api
    original = api.create_engine
    api.create_engine = lambda url, **arguments: _engine(str(url))
    try:
        yield
    finally:
        api.create_engine = original


@contextlib.contextmanager
def _exclusive(root, assignment, db_url=None):
    """One grader at a time records students and writes the report of an assignment: graders of
    the same course folder wait for a file lock, and graders on other machines that share a
    PostgreSQL gradebook wait for an advisory lock of the database."""
    folder = root / ".grader"
    folder.mkdir(exist_ok=True)
    with open(folder / f"{assignment}.lock", "a") as lock:
        hand_back(folder, folder / f"{assignment}.lock")
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if db_url and not db_url.startswith("sqlite"):
                engine = _engine(db_url)
                if engine.dialect.name == "postgresql":
                    from sqlalchemy import text
                    key = int.from_bytes(hashlib.sha256(f"grader:{assignment}".encode())
                                         .digest()[:8], "big", signed=True)
                    with engine.connect() as connection:
                        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
                        try:
                            yield
                        finally:
                            connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                               {"key": key})
                            connection.commit()
                    return
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _complete(gradebook, assignment, student, notebooks, coursedir):
    """Whether the student's submission has a grade for every test cell, graded from the
    submission now in submitted/ (the same timestamp and the same files)."""
    graded = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
    if not graded.is_dir():
        return False
    submitted = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
    for name in notebooks:
        try:
            with open(graded / f"{name}.ipynb", encoding="utf-8") as f:
                recorded = json.load(f)["metadata"]["grader"]["submitted_sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            return False
        if recorded != _digest(submitted / f"{name}.ipynb"):
            return False
    stamp = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment),
                 "timestamp.txt")
    graded_stamp = graded / "timestamp.txt"
    if stamp.exists() != graded_stamp.exists() or (
            stamp.exists() and stamp.read_text() != graded_stamp.read_text()):
        return False
    try:
        for name, spec in notebooks.items():
            notebook = gradebook.find_submission_notebook(name, assignment, student)
            scores = {g.name: g.auto_score for g in notebook.grades}
            if any(scores.get(test) is None for test in spec.points):
                return False
    except MissingEntry:
        return False
    return True


def autograde(root, assignment, students=None, force=False, jobs=None, unsafe=False, out=print,
              shard=None, scheduler=None):
    """Grade and record; returns {(student, notebook): graded notebook}.
    shard: (k, n) grades only the students of shard k of n (shard_of); scheduler: the address
    of a Dask scheduler whose workers run the sandboxes (this process records)."""
    root, config, coursedir, plugin, spec = _course(root, assignment)
    jobs = jobs or plugin.workers
    _check_gradebook(coursedir.db_url, assignment)
    if not unsafe and plugin.sandbox and not scheduler:
        sandbox.check()
        out(sandbox.describe(plugin.limits()))
    submitted = Path(coursedir.format_path(coursedir.submitted_directory, ".", ".")).resolve()
    if not submitted.is_dir():
        raise Refused(f"There is no folder of submissions {submitted}: collect them first "
                      f"(`nbgrader collect {assignment}` or `nbgrader zip_collect {assignment}`).")
    found = sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())
    if students:
        unknown = sorted(set(students) - set(found))
        if unknown:
            raise Refused(f"No submission of {assignment} for {', '.join(unknown)} in {submitted}.")
        found = [s for s in found if s in students]
    if shard:
        k, n = shard
        mine = [s for s in found if shard_of(s, n) == k]
        out(f"Shard {k}/{n}: {len(mine)} of the {len(found)} student(s).")
        found = mine
    if not force:
        with Gradebook(coursedir.db_url) as gradebook:
            todo = [s for s in found if not _complete(gradebook, assignment, s, spec.notebooks,
                                                      coursedir)]
        if len(todo) < len(found):
            out(f"{len(found) - len(todo)} submission(s) already graded (use --force to grade "
                f"them again).")
        found = todo
    if not found:
        out(f"Nothing to grade for {assignment}.")
        return {}
    client = _dask_client(scheduler) if scheduler else None

    # Grade in parallel (here: one sandbox, and uid, per job; or on the Dask cluster's workers);
    # record each student in the gradebook as soon as their notebooks are graded, so an
    # interrupted batch keeps what it did.
    tasks = [(s, n) for s in found for n in spec.notebooks]
    results = {}
    start = time.monotonic()
    graders = (_remote(client, root, coursedir, spec, unsafe, submitted) if client is not None
               else _local(plugin, spec, unsafe, jobs, submitted))
    with graders as grade_all, _one_engine_per_gradebook():
        for (student, name), graded in grade_all(tasks):
            results[student, name] = graded
            if all((student, n) in results for n in spec.notebooks):
                with _exclusive(root, assignment, coursedir.db_url):
                    # Another grader of this folder may have recorded the same files meanwhile.
                    if not force:
                        with Gradebook(coursedir.db_url) as gradebook:
                            if _complete(gradebook, assignment, student, spec.notebooks,
                                         coursedir):
                                out(f"{student}: recorded meanwhile by another grader; "
                                    f"kept as it is.")
                                continue
                    record(config, coursedir, assignment, student,
                           {n: results[student, n] for n in spec.notebooks})
    seconds = time.monotonic() - start
    _report(root, coursedir, assignment, found, spec, results, seconds, out)
    return results


def _missing(spec, name, path):
    graded = submission.graded(submission.prepare(spec.notebooks[name].release, {}), None,
                               unreadable=f"the submission has no {path.name}")
    graded.metadata.setdefault("grader", {})["submitted_sha256"] = None
    return graded


def _read(submitted, assignment, student, name):
    """(path, its bytes or None when it is missing)."""
    path = submitted / student / assignment / f"{name}.ipynb"
    return path, (path.read_bytes() if path.exists() else None)


@contextlib.contextmanager
def _local(plugin, spec, unsafe, jobs, submitted):
    """grade_all(tasks) -> iterator of ((student, notebook), graded), in the order of tasks,
    graded by `jobs` threads of this process, each with a sandbox of its own."""
    for notebook in spec.notebooks.values():
        notebook.ref                                  # run the solution once, before the threads
    boxes = []
    try:
        for k in range(jobs):
            boxes.append(plugin.box(k, unsafe))
    except BaseException:
        for box in boxes:
            box.close()
        raise
    free, lock = list(boxes), threading.Lock()

    def work(task):
        student, name = task
        path, data = _read(submitted, spec.name, student, name)
        if data is None:
            return task, _missing(spec, name, path)
        with lock:
            box = free.pop()
        try:
            graded = grade_notebook(spec.notebooks[name], spec.seed(name, student), data, student,
                                    box, plugin.timeouts(), visible_tests=plugin.visible_tests)
            graded.metadata.setdefault("grader", {})["submitted_sha256"] = (
                hashlib.sha256(data).hexdigest())
            return task, graded
        finally:
            with lock:
                free.append(box)

    pool = ThreadPoolExecutor(jobs)
    try:
        yield partial(pool.map, work)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # on an error, start nothing more
        for box in boxes:
            box.close()


def _dask_client(address):
    """A dask.distributed Client of the scheduler at address, or Refused saying why not."""
    try:
        from distributed import Client
    except ImportError:
        raise Refused("--scheduler needs dask's distributed package: pip install -r "
                      "requirements.txt. Nothing was graded.") from None
    try:
        client = Client(address, timeout=20, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise Refused(f"The grader cannot reach the Dask scheduler at {address} ({error}). "
                      f"Nothing was graded: start it (`dask scheduler`) and its workers "
                      f"(`dask worker {address} --nthreads 1`), or correct --scheduler.") from None
    if not client.scheduler_info().get("workers"):
        try:
            client.wait_for_workers(1, timeout=20)
        except (OSError, TimeoutError) as error:
            client.close()
            raise Refused(f"The Dask scheduler at {address} has no workers ({error}). Nothing "
                          f"was graded: start some with `dask worker {address} --nthreads 1`, "
                          f"on machines that see the course at {Path.cwd()}.") from None
    return client


def grade_on_worker(root, assignment, name, data, student, seed, unsafe):
    """On a Dask worker: the graded notebook (as JSON text) of one submitted file's bytes, in a
    sandbox of this worker, with the course's own settings (nbgrader_config.py) and questions
    read from the same course folder. The seed comes from the recording process: the course's
    secret never travels."""
    _, _, _, plugin, spec = _course(root, assignment)
    box = plugin.box(0, unsafe)
    try:
        graded = grade_notebook(spec.notebooks[name], seed, data, student, box, plugin.timeouts(),
                                visible_tests=plugin.visible_tests)
    finally:
        box.close()
    return nbformat.writes(graded)


@contextlib.contextmanager
def _remote(client, root, coursedir, spec, unsafe, submitted):
    """grade_all(tasks) as _local, graded by the workers of a Dask cluster (in the order they
    finish); this process reads the files and records."""
    from distributed import as_completed
    futures = []

    def grade_all(tasks):
        pending = {}
        for task in tasks:
            student, name = task
            path, data = _read(submitted, spec.name, student, name)
            if data is None:
                yield task, _missing(spec, name, path)
                continue
            future = client.submit(grade_on_worker, str(root), spec.name, name, data, student,
                                   spec.seed(name, student), unsafe, pure=False,
                                   key=f"grade-{spec.name}-{name}-{student}-{os.getpid()}-"
                                       f"{time.monotonic_ns()}")
            futures.append(future)
            pending[future] = (task, hashlib.sha256(data).hexdigest())
        for future in as_completed(list(pending), loop=client.loop):
            task, digest = pending[future]
            graded = nbformat.reads(future.result(), as_version=4)
            graded.metadata.setdefault("grader", {})["submitted_sha256"] = digest
            yield task, graded

    try:
        yield grade_all
    finally:
        client.cancel(futures)                        # on an error, grade nothing more
        client.close()


def record(config, coursedir, assignment, student, notebooks):
    """Write what nbgrader autograde writes for one student's graded notebooks: the student and
    submission rows, autograded/<student>/<assignment>/ (the notebooks, timestamp.txt and the
    exchange's submission_secret.txt), and
    the grades and comments, with nbgrader's own SaveAutoGrades and AssignLatePenalties."""
    source = Path(coursedir.format_path(coursedir.submitted_directory, student, assignment))
    destination = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment))
    timestamp = coursedir.get_existing_timestamp(str(source))
    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
        gradebook.update_or_create_student(student)
        if timestamp:
            gradebook.update_or_create_submission(assignment, student, timestamp=timestamp)
        else:
            gradebook.update_or_create_submission(assignment, student)
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    for name, notebook in notebooks.items():
        resources = ResourcesDict(nbgrader={"notebook": name, "assignment": assignment,
                                            "student": student, "db_url": coursedir.db_url})
        for step in (LimitOutput, SaveAutoGrades, AssignLatePenalties):
            notebook, resources = step(config=config).preprocess(notebook, resources)
        nbformat.write(notebook, destination / f"{name}.ipynb")
    # nbgrader's exchange: release_feedback finds a student's feedback by the secret that
    # `nbgrader collect` put next to the submission (nbgrader autograde copies it too).
    if (source / "submission_secret.txt").exists():
        shutil.copy(source / "submission_secret.txt", destination / "submission_secret.txt")
    if (source / "timestamp.txt").exists():      # last: its presence marks the record complete
        shutil.copy(source / "timestamp.txt", destination / "timestamp.txt")
    hand_back(destination.parent, coursedir.db_url)
    hand_back(destination.parent.parent, recursive=False)     # autograded/ itself, made just now


def hand_back(*paths, recursive=True):
    """Under sudo, give what the grader wrote back to the user who ran sudo (a folder with all
    it holds, or with recursive=False the folder alone)."""
    uid, gid = os.environ.get("SUDO_UID"), os.environ.get("SUDO_GID")
    if os.geteuid() != 0 or not uid:
        return
    for path in paths:
        path = Path(str(path).removeprefix("sqlite:///"))
        if path.exists():
            inside = path.rglob("*") if path.is_dir() and recursive else []
            for item in [path, *inside]:
                os.chown(item, int(uid), int(gid or uid))


REPORT_HEADER = ["student", "notebook", "test", "score", "max", "reason", "seconds"]


def _report(root, coursedir, assignment, students, spec, results, seconds, out):
    """Merge this run's verdicts into .grader/<assignment>-report.csv (the rows of students not
    graded now stay) and print each student's total as the gradebook holds it."""
    rows = []
    for (student, name), graded in sorted(results.items()):
        points = spec.notebooks[name].points
        for test, reason in verdicts(graded, points).items():
            rows.append([student, name, test, 0 if reason else points[test], points[test],
                         reason, graded.metadata.get("grader", {}).get("seconds", "")])
    graded_now = {student for student, _ in results}
    report = root / ".grader" / f"{assignment}-report.csv"
    with _exclusive(root, assignment):
        kept = []
        if report.exists():
            with open(report, newline="", encoding="utf-8") as f:
                old = list(csv.reader(f))
            if old and old[0] == REPORT_HEADER:
                kept = [row for row in old[1:] if row and row[0] not in graded_now]
        merged = sorted(kept + [[str(v) for v in row] for row in rows],
                        key=lambda row: (row[0], row[1]))
        partial = report.with_name(f"{report.name}.{os.getpid()}.tmp")
        with open(partial, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([REPORT_HEADER, *merged])
        os.replace(partial, report)
        hand_back(report)
    reasons = {}
    for student, _, test, _, _, reason, _ in rows:
        if reason and student not in reasons:
            reasons[student] = f"{test}: {reason.strip().splitlines()[0]}"
    width = max(map(len, graded_now), default=7)
    out(f"Graded {len(results)} notebook(s) of {len(students)} student(s) in {seconds:.1f} s "
        f"(totals as the gradebook holds them):")
    with Gradebook(coursedir.db_url) as gradebook:
        for student in sorted(graded_now):
            try:
                found = gradebook.find_submission(assignment, student)
            except MissingEntry:
                continue
            late = found.late_submission_penalty or 0.0
            notes = [f"late penalty {late:g}"] if late else []
            if any(g.manual_score is not None for n in found.notebooks for g in n.grades):
                notes.append("manual grades included")
            line = f"  {student:<{width}}  {found.score - late:g}/{found.max_score:g}"
            line += f" ({'; '.join(notes)})" if notes else ""
            out(line + (f"   {reasons[student][:120]}" if student in reasons else ""))
    out(f"Every reason, per test cell: {report}")


def selftest(root, assignment, out=print):
    """The solution scores full marks and the untouched release zero, with this grading.py."""
    root, _, _, plugin, spec = _course(root, assignment)
    box = plugin.box()
    if plugin.sandbox:
        out(sandbox.describe(plugin.limits()))
    failures = 0
    try:
        for name, notebook in spec.notebooks.items():
            for who, data in [("solution", nbformat.writes(notebook.source).encode()),
                              ("release", nbformat.writes(notebook.release).encode())]:
                graded = grade_notebook(notebook, spec.seed(name, f"selftest-{who}"), data,
                                        f"selftest-{who}", box, plugin.timeouts(),
                                        visible_tests=plugin.visible_tests)
                for test, reason in verdicts(graded, notebook.points).items():
                    ok = bool(reason) == (who == "release")
                    failures += not ok
                    out(f"{'ok  ' if ok else 'FAIL'} {name} {who:<8} {test}: "
                        + (reason[:150] or "full marks"))
    finally:
        box.close()
    return failures


def main(argv=None):
    # nbgrader's gradebook code makes SQLAlchemy warn about its own session use; not ours to fix.
    warnings.filterwarnings("ignore", category=SAWarning)
    parser = argparse.ArgumentParser(prog="python -m rnncore_grader", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("autograde", help="grade the submissions of an assignment")
    grade.add_argument("assignment")
    grade.add_argument("--student", action="append", help="only this student (repeatable)")
    grade.add_argument("--force", action="store_true", help="grade again what is already graded")
    grade.add_argument("--jobs", type=int, help="submissions at once (default: "
                                                "SandboxedGrading.workers, 2)")
    grade.add_argument("--shard", metavar="K/N", help="grade only shard K of N (1 <= K <= N; a "
                       "student's shard depends on the id alone): N machines run 1/N ... N/N")
    grade.add_argument("--scheduler", metavar="ADDRESS", help="run the sandboxes on the workers "
                       "of this Dask scheduler (e.g. tcp://10.0.0.5:8786); this process records")
    grade.add_argument("--unsafe-no-sandbox", action="store_true",
                       help="run submissions as yourself, without the sandbox: trusted code only")
    test = commands.add_parser("selftest", help="check an assignment's grading.py")
    test.add_argument("assignment")
    students = commands.add_parser("student-edition", help="write the course without solutions/, "
                                   "grading.py, tests or benchmarks into a new folder")
    students.add_argument("out", help="a new (or empty) folder outside the course")
    students.add_argument("--repository", help="the URL of the edition's own repository, for "
                                               "its launch buttons (_config.yml)")
    args = parser.parse_args(argv)
    try:
        if args.command == "student-edition":
            chosen = edition.build(Path.cwd(), args.out, args.repository)
            print(f"Wrote the student edition ({len(chosen)} files) to {Path(args.out).resolve()}; "
                  f"left out: {', '.join(edition.WITHHELD)}.")
            return 0
        if args.command == "autograde":
            shard = parse_shard(args.shard) if args.shard is not None else None
            autograde(Path.cwd(), args.assignment, args.student, args.force, args.jobs,
                      args.unsafe_no_sandbox, shard=shard, scheduler=args.scheduler)
            return 0
        return 1 if selftest(Path.cwd(), args.assignment) else 0
    except (Refused, assignments.CourseError, sandbox.SandboxUnavailable,
            edition.EditionError, QuestionError) as error:
        print(f"grader: {error}", file=sys.stderr)
        return 2
    except PermissionError as error:     # e.g. .grader/ left to root by a run as root
        path, owner = Path(error.filename or "."), ""
        for candidate in [path, *path.parents]:
            try:
                owner = f"; {candidate} belongs to uid {candidate.stat().st_uid}"
                break
            except OSError:
                continue
        print(f"grader: uid {os.geteuid()} may not open {error.filename}{owner}. A run as root "
              f"may have left it so: give the course's files back to yourself (e.g. sudo chown "
              f"-R $USER: .grader) or run this command as their owner.", file=sys.stderr)
        return 2
    except sandbox.SandboxFailed as error:
        print(f"grader: grading stopped: {error}\nStudents recorded before this stay recorded; "
              f"run the same command again once it is fixed.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("grader: interrupted. What was recorded stays; run the same command again to "
              "grade the rest.", file=sys.stderr)
        return 130
