"""Throughput of autograding: the sandboxed grader against plain nbgrader, same submissions, one run.

    python benchmarks/bench_grading.py [--assignment ch01_basic_structure] [--copies 1]
                                       [--sample 4] [--students 300] [--cores 2] [--jobs 2]
                                       [--term-students 0]
                                       [--grader-config 'c.SandboxedGrading.visible_tests = False']

1. Head to head on --assignment: a temporary course receives N submissions (the solution, the
   untouched release, every wrong answer and every alternative of tests/course/answers/, --copies
   times under other student ids) and grades them twice, each into its own copy of the course:
   plain ``nbgrader autograde`` (nbgrader's Execute: one kernel per notebook, one at a time) and
   ``python -m rnncore_grader autograde`` (sandboxed, --jobs at a time). Per notebook: the batch's
   wall time / N, and CPU-seconds / N (the command and every process it waited for: kernels,
   sandboxes; os.wait4).
2. Where the grader's time goes: per notebook, from the times each graded notebook records
   (metadata grader.phases: the run's start, the notebook's own cells, the answer cells, the
   visible tests, the questions' calls into the sandbox, the questions' own work), and what a
   start costs, measured apart (CPU): a worker's zygote (bwrap, Python and the imports, once per
   worker) with Python's start and the imports apart (median of 5), and a run forked by the
   zygote (what every submission pays). CPU-seconds come from a cpuacct cgroup per command where cgroup v1's
   cpuacct is mounted (as root): every process counts, sandboxes included.
3. The whole term: the same two commands on a sample of each of the 8 assignments (--sample
   submissions: the solution, then wrong answers and alternatives spread over the corpus), their
   CPU-seconds per notebook, and a term of --students students EXTRAPOLATED from them: CPU-minutes
   = students x the sum over assignments of CPU-s per notebook (+ each command's fixed start-up
   once per assignment), and its wall time on --cores free cores = CPU / cores (a floor: it assumes
   the cores are free and evenly busy). With so few submissions a batch keeps its workers
   busy only part of the time and each worker's zygote starts for two or three notebooks, so
   the wall time extrapolated from it is high, and the CPU floor low.
4. The term, measured (--term-students N): N students of every assignment, each assignment one
   batch of the grader; the term of --students: each command's fixed start-up once, the rest
   scaled by --students / N (with N = --students, the term itself, as measured).

Needs root (the sandbox). Quote the figures with the machine's load (printed).
"""
import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "course")]   # course_files, answers

from course_files import ASSIGNMENTS  # noqa: E402
from test_exercises import filled, read, release_path, submissions  # noqa: E402


def plain_config(config):
    """nbgrader_config.py with nbgrader's own Execute in place of the sandboxed grader."""
    config = config.replace("from rnncore_grader.nbgrader_plugin import SandboxedGrading, "
                            "SubmissionExporter\n", "")
    config = re.sub(r"c\.Autograde\.autograde_preprocessors = \[.*?\]\n", "", config, flags=re.S)
    config = re.sub(r"c\.(SandboxedGrading|Autograde\.exporter_class).*\n", "", config)
    return config + ("from nbgrader.preprocessors import Execute\n"
                     "c.Autograde.autograde_preprocessors = [Execute, IgnorePattern, "
                     "ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, AssignLatePenalties, "
                     "CheckCellMetadata]\n")


GRADER_CONFIG = []      # --grader-config: lines added to the grader's nbgrader_config.py


def course(path, assignment, students, plain):
    """A course folder with the assignment generated and these students' submissions."""
    path.mkdir(parents=True)
    config = (ROOT / "nbgrader_config.py").read_text()
    (path / "nbgrader_config.py").write_text(
        plain_config(config) if plain else "\n".join([config, *GRADER_CONFIG, ""]))
    assert plain or "SandboxedGrading" in config
    shutil.copytree(ROOT / "solutions" / assignment, path / "solutions" / assignment)
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment,
                    "--force"], cwd=path, check=True, capture_output=True)
    release = read(release_path(assignment))
    for student, codes in students.items():
        folder = path / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(release if codes is None else filled(release, codes),
                       folder / f"{assignment}.ipynb")
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    return len(students)


def corpus(assignment, copies=1, sample=None):
    """student id -> answer codes (None: the release): the corpus of tests/course/answers, or
    `sample` of it: the solution, then submissions spread evenly over the rest."""
    found = {s: codes for s, (_, codes) in submissions(assignment).items()}
    if sample:
        rest = [s for s in found if s not in ("solution", "release")]
        step = max(1, len(rest) // max(1, sample - 1))
        found = {s: found[s] for s in ["solution", *rest[::step][:sample - 1]]}
    return {f"{s}-{k}": codes for k in range(copies) for s, codes in found.items()}


CPUACCT = Path("/sys/fs/cgroup/cpuacct")       # cgroup v1's CPU accounting, where it is mounted
_GROUPS = []


def _accounting():
    """A fresh cpuacct cgroup (every process started in it, sandboxes included, is counted, even
    those whose parent never waits for them), or None where there is none (then os.wait4 counts
    the command and the processes it waited for; a sandboxed run killed with its namespace may
    escape it)."""
    if not (CPUACCT / "cpuacct.usage").exists() or os.geteuid() != 0:
        return None
    _GROUPS.append(None)
    group = CPUACCT / f"bench-grading-{os.getpid()}-{len(_GROUPS)}"
    group.mkdir()
    return group


def _accounting_kind():
    group = _accounting()
    if group is not None:
        group.rmdir()
    return group is not None


def timed(command, cwd):
    """(returncode, stdout, stderr, wall seconds, CPU-seconds of the command and every process
    it started)."""
    group = _accounting()

    def enter():
        if group is not None:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    start = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, text=True,
                                   preexec_fn=enter)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - start
        cpu = usage.ru_utime + usage.ru_stime
        if group is not None:
            for _ in range(100):        # until the last process of the run has left the group
                if not (group / "cgroup.procs").read_text().strip():
                    break
                time.sleep(0.05)
            cpu = int((group / "cpuacct.usage").read_text()) / 1e9
            group.rmdir()
        out.seek(0), err.seek(0)
        return process.returncode, out.read(), err.read(), wall, cpu


def run_plain(path, assignment):
    command = [sys.executable, "-m", "nbgrader", "autograde", assignment,
               "--Application.log_format=%(created)f %(message)s", "--log-level=INFO"]
    code, _, err, wall, cpu = timed(command, path)
    if code != 0:
        raise SystemExit(err[-3000:])
    again = timed(command, path)          # it skips what it graded: the command's fixed cost
    starts = [float(line.split()[0]) for line in err.splitlines()
              if re.match(r"[0-9.]+ Creating/updating student with ID", line)]
    ends = [float(line.split()[0]) for line in err.splitlines()
            if re.match(r"[0-9.]+ Writing .* bytes to .*autograded", line)]
    # each submission: from its student record to the last write of its autograded notebook
    own = [b - a for a, b in zip(starts, starts[1:] + [ends[-1]])]
    return {"wall": wall, "cpu": cpu, "fixed_cpu": again[4], "fixed_wall": again[3], "own": own}


def run_grader(path, assignment, jobs):
    command = [sys.executable, "-m", "rnncore_grader", "autograde", assignment, "--jobs", str(jobs)]
    code, out, err, wall, cpu = timed(command, path)
    if code != 0:
        raise SystemExit(out + err[-3000:])
    again = timed(command, path)          # nothing left to grade: the command's fixed cost
    phases, own = [], []
    for notebook in sorted((path / "autograded").glob(f"*/{assignment}/*.ipynb")):
        meta = json.loads(notebook.read_text())["metadata"].get("grader", {})
        if meta.get("phases"):
            phases.append(meta["phases"])
            own.append(meta["seconds"])
    with open(path / ".grader" / f"{assignment}-report.csv") as f:
        assert len({row["student"] for row in csv.DictReader(f)}) > 0
    return {"wall": wall, "cpu": cpu, "fixed_cpu": again[4], "fixed_wall": again[3],
            "phases": phases, "own": own}


def per_notebook(run, n):
    """(wall, CPU) seconds per notebook, without the command's fixed start-up (paid once per
    run, whatever the number of notebooks)."""
    return (run["wall"] - run["fixed_wall"]) / n, (run["cpu"] - run["fixed_cpu"]) / n


def median_cpu(command, repeat=5):
    """CPU-seconds of a command (the median of `repeat` runs)."""
    return statistics.median(timed(command, ROOT)[4] for _ in range(repeat))


def start_costs():
    """CPU-seconds of what sandboxed runs pay before the notebook's first cell: each worker's
    zygote once, then a fork per run."""
    python = [sys.executable, "-I", "-c"]
    bare = median_cpu(python + ["pass"])
    preload = median_cpu(python + ["from rnncore_grader import runner; runner._preload()"])
    # A process that starts `runs` sandboxed runs up to the runner's first reply, minus the same
    # process starting none: with 1, the zygote's start and one fork; from 1 to 6, five forks.
    probe = ("import sys; sys.path.insert(0, {root!r})\n"
             "from rnncore_grader import engine\n"
             "from rnncore_grader.nbgrader_plugin import SandboxedGrading\n"
             "box = SandboxedGrading().box(0)\n"
             "for _ in range({runs}):\n"
             "    session = engine.Session(box, [], engine.Timeouts())\n"
             "    session.ensure(); session.close()\n"
             "box.close()\n")
    cpu = {}
    for runs in (0, 1, 6):
        code, _, err, _, cpu[runs] = timed(
            [sys.executable, "-c", probe.format(root=str(ROOT), runs=runs)], ROOT)
        if code != 0:
            raise SystemExit(err[-3000:])
    return {"a worker's zygote and its first run (once per worker and command)": cpu[1] - cpu[0],
            "- of which, measured apart without the sandbox: Python's start (python -I -c pass)":
                bare,
            "- the zygote's imports (numpy, autograd, rnncore, IPython's cell transformer)":
                preload - bare,
            "each later run, forked by the zygote, to the runner's first reply":
                (cpu[6] - cpu[1]) / 5}


PHASES = ["start", "other cells", "answer cells", "visible tests", "calls", "questions"]


def phase_table(phases, own):
    """Mean seconds per notebook of each phase the engine recorded."""
    means = {name: statistics.fmean(p.get(name, 0.0) for p in phases) for name in PHASES}
    means["(grading one notebook, in all)"] = statistics.fmean(own)
    return means


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="ch01_basic_structure")
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--sample", type=int, default=4, help="submissions per assignment for "
                                                              "the term (0: skip the term)")
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--term-students", type=int, default=0, metavar="N",
                        help="4. also grade N students of every assignment with the grader "
                             "(the corpus over and over) and scale the measured wall time to "
                             "--students (0: skip)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--grader-config", action="append", default=[], metavar="LINE",
                        help="a line for the grader's nbgrader_config.py, e.g. "
                             "'c.SandboxedGrading.visible_tests = False' (repeatable)")
    args = parser.parse_args()
    GRADER_CONFIG.extend(args.grader_config)
    load = os.getloadavg()
    print(f"CPU-seconds from {'a cpuacct cgroup per command' if _accounting_kind() else 'os.wait4'}")
    print(f"Machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"at the start; {time.strftime('%Y-%m-%d %H:%M %Z')}"
          + "".join(f"\nThe grader's configuration adds: {line}" for line in GRADER_CONFIG))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # 1. head to head
        students = corpus(args.assignment, args.copies)
        n = course(tmp / "plain", args.assignment, students, plain=True)
        course(tmp / "grader", args.assignment, students, plain=False)
        plain = run_plain(tmp / "plain", args.assignment)
        graded = run_grader(tmp / "grader", args.assignment, args.jobs)
        print(f"\n1. {n} submissions of {args.assignment} (solution, release, wrong answers and "
              f"alternatives, x{args.copies})\n")
        print("| command | batch wall s | batch CPU-s | fixed start-up per run (wall s / "
              "CPU-s) | s per notebook | CPU-s per notebook | median s of one notebook on its "
              "own |")
        print("|---|---|---|---|---|---|---|")
        for name, run in [("plain `nbgrader autograde` (1 at a time)", plain),
                          (f"`python -m rnncore_grader autograde` ({args.jobs} at a time, "
                           f"sandboxed)", graded)]:
            wall, cpu = per_notebook(run, n)
            print(f"| {name} | {run['wall']:.1f} | {run['cpu']:.1f} | {run['fixed_wall']:.1f} / "
                  f"{run['fixed_cpu']:.1f} | {wall:.2f} | {cpu:.2f} | "
                  f"{statistics.median(run['own']):.2f} |")
        (plain_wall, plain_cpu), (grader_wall, grader_cpu) = (per_notebook(plain, n),
                                                              per_notebook(graded, n))
        print(f"\n(per notebook: the batch minus the command's fixed start-up, measured as a "
              f"second run that finds nothing to grade, divided by N)\n"
              f"Throughput per notebook, grader / plain: {plain_wall / grader_wall:.1f}x in wall "
              f"time, {plain_cpu / grader_cpu:.1f}x in CPU-seconds; whole batches, start-up "
              f"included: {plain['wall'] / graded['wall']:.1f}x wall (target: 10x).")

        # 2. where the time goes
        print(f"\n2. Where the grader's time goes, per notebook ({args.assignment}; wall "
              f"seconds, {args.jobs} at a time)\n")
        print("| phase | s per notebook |")
        print("|---|---|")
        for name, seconds in phase_table(graded["phases"], graded["own"]).items():
            print(f"| {name} | {seconds:.3f} |")
        print("\nWhat a sandboxed start costs (CPU-seconds)\n")
        print("| part of a start | CPU-s |")
        print("|---|---|")
        for name, seconds in start_costs().items():
            print(f"| {name} | {seconds:.3f} |")

        # 3. the term
        if args.sample:
            print(f"\n3. The term: {args.sample} submissions of each assignment, graded by both "
                  f"commands\n")
            print("| assignment | grader CPU-s / notebook | grader fixed CPU-s per run | plain "
                  "CPU-s / notebook | grader s / notebook (wall) | plain s / notebook (wall) | "
                  "grader phases, s: " + " / ".join(PHASES) + " |")
            print("|---|---|---|---|---|---|---|")
            totals = {"grader": 0.0, "plain": 0.0, "fixed": 0.0, "grader_wall": 0.0,
                      "plain_wall": 0.0}
            for assignment in ASSIGNMENTS:
                sample = corpus(assignment, 1, args.sample)
                k = course(tmp / f"term-grader-{assignment}", assignment, sample, plain=False)
                course(tmp / f"term-plain-{assignment}", assignment, sample, plain=True)
                g = run_grader(tmp / f"term-grader-{assignment}", assignment, args.jobs)
                p = run_plain(tmp / f"term-plain-{assignment}", assignment)
                (g_wall, g_cpu), (p_wall, p_cpu) = per_notebook(g, k), per_notebook(p, k)
                totals["grader"] += g_cpu
                totals["fixed"] += g["fixed_cpu"]
                totals["plain"] += p_cpu
                totals["grader_wall"] += g_wall
                totals["plain_wall"] += p_wall
                phases = phase_table(g["phases"], g["own"])
                print(f"| {assignment} | {g_cpu:.2f} | {g['fixed_cpu']:.1f} | {p_cpu:.2f} | "
                      f"{g_wall:.2f} | {p_wall:.2f} | " + " / ".join(
                          f"{phases[name]:.2f}" for name in PHASES) + " |")
            s = args.students
            grader_cpu = (s * totals["grader"] + totals["fixed"]) / 60
            plain_cpu = s * totals["plain"] / 60
            print(f"\nA term of {s} students x {len(ASSIGNMENTS)} assignments = "
                  f"{s * len(ASSIGNMENTS)} notebooks, EXTRAPOLATED from the samples above "
                  f"(not measured on {s} students):")
            print(f"- grader: {grader_cpu:.1f} CPU-minutes -> at least {grader_cpu / args.cores:.1f} "
                  f"min on {args.cores} free cores (target: under 20 min); at this run's "
                  f"measured wall time per notebook ({args.jobs} jobs, this machine's load): "
                  f"{s * totals['grader_wall'] / 60:.1f} min")
            print(f"- plain nbgrader: {plain_cpu:.1f} CPU-minutes; one notebook at a time, as "
                  f"measured: {s * totals['plain_wall'] / 60:.1f} min")
            print(f"- throughput per notebook over the term, grader / plain: "
                  f"{plain_cpu / grader_cpu:.1f}x in CPU-seconds")
        # 4. the term, measured on --term-students
        if args.term_students:
            measured_term(tmp, args.term_students, args.students, args.jobs)
    load = os.getloadavg()
    print(f"\nLoad average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def cycled(assignment, n):
    """n submissions of the assignment: the answer corpus (solution, release, wrong answers,
    alternatives) over and over under new student ids. Wrong answers are most of the corpus,
    far more than in a class: it costs the grader more (their visible tests run again)."""
    found = [codes for _, codes in submissions(assignment).values()]
    return {f"student{k:04d}": found[k % len(found)] for k in range(n)}


def measured_term(tmp, n, students, jobs):
    """Each assignment's batch of n students graded by `python -m rnncore_grader autograde`
    (one command per assignment), and the term of `students` from it: each command's fixed
    start-up (measured: the same command again, with nothing left to grade) once per assignment,
    plus the rest scaled to `students`."""
    print(f"\n4. The term, measured: {n} students x {len(ASSIGNMENTS)} assignments graded by the "
          f"grader ({jobs} at a time; each assignment's submissions are its answer corpus "
          f"cycled)\n")
    print("| assignment | batch wall s | batch CPU-s | fixed start-up wall s / CPU-s | "
          "wall s / notebook | CPU-s / notebook |")
    print("|---|---|---|---|---|---|")
    total = {"wall": 0.0, "cpu": 0.0, "fixed_wall": 0.0, "fixed_cpu": 0.0}
    for assignment in ASSIGNMENTS:
        path = tmp / f"measured-{assignment}"
        course(path, assignment, cycled(assignment, n), plain=False)
        run = run_grader(path, assignment, jobs)
        for key in total:
            total[key] += run[key]
        wall, cpu = per_notebook(run, n)
        print(f"| {assignment} | {run['wall']:.1f} | {run['cpu']:.1f} | {run['fixed_wall']:.1f} / "
              f"{run['fixed_cpu']:.1f} | {wall:.2f} | {cpu:.2f} |")
        shutil.rmtree(path)
    print(f"| all {len(ASSIGNMENTS)} | {total['wall']:.1f} | {total['cpu']:.1f} | "
          f"{total['fixed_wall']:.1f} / {total['fixed_cpu']:.1f} | | |")
    scale = students / n

    def term(kind):
        return (total[f"fixed_{kind}"] + (total[kind] - total[f"fixed_{kind}"]) * scale) / 60

    print(f"\nMeasured: {n * len(ASSIGNMENTS)} notebooks in {total['wall'] / 60:.1f} min wall "
          f"({total['cpu'] / 60:.1f} CPU-minutes). "
          + (f"A term of {students} students (each command's start-up once, the rest x "
             f"{scale:.2f}): " if scale != 1 else "")
          + f"{term('wall'):.1f} min wall, {term('cpu'):.1f} CPU-minutes (target: under 20 min).")

if __name__ == "__main__":
    main()
