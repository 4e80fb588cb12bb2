"""``nbgrader autograde`` with the sandboxed grader in place of nbgrader's Execute.

nbgrader_config.py puts SandboxedGrading where Execute was in ``Autograde.autograde_preprocessors``.
For each notebook, nbgrader still reads the submission, sanitizes it, records the submission in
the gradebook, and afterwards SaveAutoGrades records the scores; between the two, this
preprocessor grades the notebook with rnncore_grader.engine and returns the release with the student's
answers and the results as outputs (an error output in exactly the test cells that lost points).

``python -m rnncore_grader autograde`` (rnncore_grader.cli) grades with the same function, grade_notebook, two
submissions at a time, and records them with the same nbgrader steps.
"""
import nbformat
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Int

from rnncore_grader import assignment as assignments, engine, sandbox, submission
from rnncore_grader.sandbox import BASE_UID

_DESCRIBED = []



class SandboxedGrading(NbGraderPreprocessor):

    sandbox = Bool(True, help="Run submissions in the sandbox (rnncore_grader.sandbox). False runs them "
                              "as the grading user: only for code you trust.").tag(config=True)
    cell_timeout = Float(60.0, help="Seconds for one cell of a submission.").tag(config=True)
    call_timeout = Float(30.0, help="Seconds for one call of a student's function by a "
                                    "question.").tag(config=True)
    memory_mb = Int(4096, help="Address space of the submission's process, in MiB.").tag(config=True)
    cpu_seconds = Int(600, help="CPU time of the submission's process.").tag(config=True)
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
        box = self.box()
        try:
            graded = grade_notebook(assignment.notebooks[info["notebook"]], assignment,
                                    nbformat.writes(nb).encode(), info["student"], box,
                                    self.timeouts(), self.log)
        finally:
            box.close()
        return graded, resources


def grade_notebook(spec, assignment, data, student, box, timeouts, log=None):
    """The graded notebook (see rnncore_grader.submission.graded) of one submitted file's bytes."""
    try:
        answers, notes = submission.read_answers(data, spec.release)
    except submission.Unreadable as error:
        if log:
            log.warning("%s/%s: the submission could not be read: %s", student, spec.name, error)
        return submission.graded(submission.prepare(spec.release, {}), None, unreadable=str(error))
    prepared = submission.prepare(spec.release, answers)
    try:
        result = engine.grade(box, prepared, spec.questions, spec.points, spec.ref,
                              assignment.seed(spec.name, student), timeouts)
    except engine.SandboxError as error:     # the sandbox, not the submission: stop, say why
        raise box.failed(error) from None
    if log:
        log.info("%s/%s graded in %.1f s (%d run%s): %s", student, spec.name, result.seconds,
                 result.runs, "" if result.runs == 1 else "s",
                 ", ".join(f"{g} {s:g}/{m:g}" for g, (s, m) in result.scores.items()))
    graded = submission.graded(prepared, result, notes)
    graded.metadata["grader"] = {"seconds": round(result.seconds, 3), "runs": result.runs}
    return graded
