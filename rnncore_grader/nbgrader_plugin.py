"""``nbgrader autograde`` with the sandboxed grader in place of nbgrader's Execute.

nbgrader_config.py puts SandboxedGrading where Execute was in ``Autograde.autograde_preprocessors``.
For each notebook, nbgrader still reads the submission, sanitizes it, records the submission in
the gradebook, and afterwards SaveAutoGrades records the scores; between the two, this
preprocessor grades the notebook with rnncore_grader.engine and returns the release with the student's
answers and the results as outputs (an error output in exactly the test cells that lost points).

nbgrader reads each submitted file with SubmissionExporter (``c.Autograde.exporter_class``), which
reads it as the grader's own command does: a file that is not JSON, is cut short, is in
nbformat 3 or is another assignment's notebook scores zero with a reason, and the batch goes on.

``python -m rnncore_grader autograde`` (rnncore_grader.cli) reads the files with the same function,
grades with the same function, grade_notebook, several submissions at a time, and records them
with the same nbgrader steps.
"""
import atexit
import contextlib
import hashlib
import threading

import nbformat
from nbconvert.exporters import NotebookExporter
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Enum, Float, Int, Union

from rnncore_grader import assignment as assignments, engine, sandbox, submission
from rnncore_grader.sandbox import BASE_UID

_DESCRIBED = []
_KEPT, _KEPT_LOCK = {}, threading.Lock()     # settings -> the Sandbox kept (SandboxedGrading)


@atexit.register
def _close_kept():
    with _KEPT_LOCK:
        boxes = list(_KEPT.values())
        _KEPT.clear()
    for box in boxes:
        box.close()



class SandboxedGrading(NbGraderPreprocessor):

    sandbox = Bool(True, help="Run submissions in the sandbox (rnncore_grader.sandbox). False runs them "
                              "as the grading user: only for code you trust.").tag(config=True)
    cell_timeout = Float(60.0, help="Seconds for one cell of a submission.").tag(config=True)
    call_timeout = Float(30.0, help="Seconds for one call of a student's function by a "
                                    "question.").tag(config=True)
    memory_mb = Int(4096, help="Address space of the submission's process, in MiB.").tag(config=True)
    cpu_seconds = Int(600, help="CPU time of the submission's process.").tag(config=True)
    visible_tests = Union([Enum(engine.VISIBLE_TESTS), Bool()], default_value="failed", help=(
        "Which of the release's visible test cells run in the sandbox, for the messages they "
        "show the student; they award nothing (the questions of grading.py decide every "
        "point). 'failed': those of the questions that lost points, in a second run once the "
        "questions have decided (their messages are in the feedback; a right answer's tests "
        "cost nothing: in ch06 and ch08 they train models, most of a notebook's time); 'all': "
        "every one, in the same run; 'none': none (True and False mean 'all' and 'none'). A "
        "test cell that binds a name a later cell reads always runs.")).tag(config=True)
    workers = Int(2, help="Submissions graded at once by python -m rnncore_grader autograde.").tag(config=True)
    base_uid = Int(BASE_UID, help="Submissions run as the first free uid from this one "
                                  "(no user may have it); graded as another user than root, "
                                  "as this uid inside the run's user namespace.").tag(config=True)
    run_memory_mb = Int(2048, help="Memory of all the processes of one submission's run "
                                   "together, in MiB, where a cgroup can be made (see "
                                   "rnncore_grader.cgroups).").tag(config=True)

    def box(self, worker=0, unsafe=False):
        """A Sandbox with these settings (unsafe: run without it, as when sandbox = False)."""
        unsafe = unsafe or not self.sandbox
        if not unsafe and not _DESCRIBED:        # once per process: what holds on this machine
            _DESCRIBED.append(True)
            self.log.info("%s", sandbox.describe(self.limits()))
        return sandbox.Sandbox(worker, self.limits(), unsafe=unsafe, base_uid=self.base_uid)

    @contextlib.contextmanager
    def _kept_box(self):
        """A Sandbox with these settings, kept in this process from one notebook to the next
        (nbgrader makes a new preprocessor for every notebook; the Sandbox's zygote imports numpy
        and rnncore once), closed when the process ends. In the formgrader's server it stays
        between two Autograde clicks: one idle zygote and its uid."""
        key = (self.sandbox, self.limits(), self.base_uid)
        with _KEPT_LOCK:
            box = _KEPT.pop(key, None)
        if box is None:
            box = self.box()
        try:
            yield box
        finally:
            with _KEPT_LOCK:
                box, _KEPT[key] = _KEPT.get(key), box    # (one kept; another one closes)
            if box is not None:
                box.close()

    def limits(self):
        return sandbox.Limits(memory_mb=self.memory_mb, cpu_seconds=self.cpu_seconds,
                              run_memory_mb=self.run_memory_mb)

    def timeouts(self):
        return engine.Timeouts(cell=self.cell_timeout, call=self.call_timeout)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        course = CourseDirectory(config=self.config)
        assignment = assignments.load(course.root, info["assignment"], course.source_directory,
                                      course.release_directory)
        spec = assignment.notebooks[info["notebook"]]
        seed = assignment.seed(spec.name, info["student"])
        read = nb.metadata.get(MARK, {})              # what SubmissionExporter read, if it ran
        if read.get("unreadable") is not None:
            self.log.warning("%s/%s: the submission could not be read: %s", info["student"],
                             spec.name, read["unreadable"])
            graded = unreadable(spec, read["unreadable"])
        else:
            with self._kept_box() as box:
                graded = grade_notebook(spec, seed, nbformat.writes(nb).encode(),
                                        info["student"], box, self.timeouts(), self.log,
                                        notes=read.get("notes", ()),
                                        visible_tests=self.visible_tests)
        graded.metadata.setdefault("grader", {})["submitted_sha256"] = read.get("submitted_sha256")
        return graded, resources


MARK = "rnncore_grader"          # the notebook metadata SubmissionExporter leaves for the grading


class SubmissionExporter(NotebookExporter):
    """``nbgrader autograde``'s reader of submitted files (c.Autograde.exporter_class): reads
    each file as ``python -m rnncore_grader autograde`` does, so that a file that is not JSON,
    is cut short, is in nbformat 3 or belongs to another assignment gets a zero and a reason
    instead of stopping that student's grading with a traceback.

    nbgrader reads a submission twice: to sanitize it (from submitted/), then to autograde the
    sanitized copy. On the first read, this returns the release with the student's answers in
    place (rnncore_grader.submission), or the bare release when nothing can be read, and notes
    in its metadata what reading found; nbgrader's own steps and SandboxedGrading go on from
    there. The second read is nbgrader's sanitized copy, read as usual."""

    def from_filename(self, filename, resources=None, **kw):
        self._path = filename
        return super().from_filename(filename, resources, **kw)

    def from_file(self, file_stream, resources=None, **kw):
        converter = self.parent
        info = (resources or {}).get("nbgrader")
        if not (info and getattr(converter, "_sanitizing", False)):
            return super().from_file(file_stream, resources, **kw)
        course = converter.coursedir
        spec = assignments.load(course.root, info["assignment"], course.source_directory,
                                course.release_directory).notebooks.get(info["notebook"])
        if spec is None:                              # nbgrader skips notebooks it does not know
            return super().from_file(file_stream, resources, **kw)
        with open(self._path, "rb") as f:
            data = f.read()
        found = {"submitted_sha256": hashlib.sha256(data).hexdigest()}
        try:
            answers, found["notes"] = submission.read_answers(data, spec.release)
        except submission.Unreadable as error:
            answers, found["unreadable"] = {}, str(error)   # (SandboxedGrading logs it)
        notebook = submission.prepare(spec.release, answers)
        notebook.metadata[MARK] = found
        return self.from_notebook_node(notebook, resources, **kw)


def unreadable(spec, reason):
    """The graded notebook of a file that holds no notebook: zero, and why, in each test cell."""
    return submission.graded(submission.prepare(spec.release, {}), None, unreadable=reason)


NOT_RUN = {"none": "The grader did not run the visible tests of {cells} "
                   "(c.SandboxedGrading.visible_tests = 'none'): Validate shows their messages; "
                   "every point comes from the grader's own checks on hidden inputs.",
           "failed": "The grader ran the visible tests of the questions that lost points only "
                     "(not those of {cells}): Validate shows them all; every point comes from "
                     "the grader's own checks on hidden inputs."}


def grade_notebook(spec, seed, data, student, box, timeouts, log=None, notes=(),
                   visible_tests="failed"):
    """The graded notebook (see rnncore_grader.submission.graded) of one submitted file's bytes,
    with the hidden inputs of this seed (Assignment.seed); notes: more grader's notes;
    visible_tests: see SandboxedGrading.visible_tests."""
    try:
        answers, found = submission.read_answers(data, spec.release)
    except submission.Unreadable as error:
        if log:
            log.warning("%s/%s: the submission could not be read: %s", student, spec.name, error)
        return unreadable(spec, str(error))
    prepared = submission.prepare(spec.release, answers)
    try:
        result = engine.grade(box, prepared, spec.questions, spec.points, spec.ref, seed,
                              timeouts, visible_tests=visible_tests)
    except engine.SandboxError as error:     # the sandbox, not the submission: stop, say why
        raise box.failed(error) from None
    if log:
        log.info("%s/%s graded in %.1f s (%d run%s): %s", student, spec.name, result.seconds,
                 result.runs, "" if result.runs == 1 else "s",
                 ", ".join(f"{g} {s:g}/{m:g}" for g, (s, m) in result.scores.items()))
    skipped = [prepared.cells[i].metadata.get("nbgrader", {}).get("grade_id", f"cell {i}")
               for i in result.skipped]
    mode = engine.visible_tests_mode(visible_tests)
    not_run = [NOT_RUN[mode].format(cells=", ".join(skipped))] if skipped else []
    graded = submission.graded(prepared, result, [*notes, *found, *not_run])
    graded.metadata["grader"] = {"seconds": round(result.seconds, 3), "runs": result.runs,
                                 "phases": {k: round(v, 4) for k, v in result.phases.items()}}
    return graded
