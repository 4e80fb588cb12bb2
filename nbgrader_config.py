"""nbgrader for this repository: answers are written once in solutions/, released to exercises/.

    nbgrader generate_assignment ch01_basic_structure --force   # solutions/ -> exercises/
    nbgrader autograde ch01_basic_structure                     # submitted/ -> autograded/
"""
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearHiddenTests,
                                    GetGrades, IgnorePattern, LimitOutput, SaveAutoGrades)

from rnncore_grader.nbgrader_plugin import SandboxedGrading, SubmissionExporter

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "rnn-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# The slowest cells train a model: the ch08 capstone's test cell took 5.4 s and ch06's word
# classifier 2.8 s (solutions executed with nbclient at load 2.5 on 2 cores; up to about 23 s
# with the machine loaded far beyond its cores); every other cell takes well under a second.
# 60 s leaves room for a slow or busy laptop while an infinite loop still fails within a minute,
# and a timed-out cell tells the student what to look for.
c.ExecutePreprocessor.timeout = 60
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:",
                             "--InteractiveShell.xmode=Minimal"]

# Autograding: nbgrader's own steps, with the sandboxed grader (grader/) where Execute was. Each
# submission runs in a sandbox as an unprivileged user, and the points of each test cell come
# from the trusted questions of solutions/<assignment>/grading.py, decided outside the student's
# code. The sandbox (bubblewrap) needs root or unprivileged user namespaces; see the README
# ("What the sandbox needs from the machine").
c.Autograde.autograde_preprocessors = [SandboxedGrading, IgnorePattern, ClearMetadataPreprocessor,
                                       LimitOutput, SaveAutoGrades, AssignLatePenalties,
                                       CheckCellMetadata]
# Submitted files are read as `python -m rnncore_grader autograde` reads them: one that is not
# JSON, is cut short or is in nbformat 3 scores zero with a reason, and the batch goes on.
c.Autograde.exporter_class = SubmissionExporter
c.SandboxedGrading.cell_timeout = 60      # seconds per cell of a submission
c.SandboxedGrading.call_timeout = 30      # seconds per call of a student's function by a check
# The visible tests award nothing (the questions decide every point): they run for the feedback
# of the questions that lost points ("failed"); "all" runs every one, "none" none.
c.SandboxedGrading.visible_tests = "failed"
# grading.py holds the trusted questions: never released, never copied next to a submission.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "grading.py"]

# `nbgrader zip_collect <assignment>` imports an LMS download: put the zip(s) in
# downloaded/<assignment>/archive/. This pattern reads files named <student id>_<notebook>.ipynb
# (e.g. alice_ch01_basic_structure.ipynb); adapt it to your LMS, e.g. for Canvas's
# "<name>_<user id>_<submission id>_<file>.ipynb", which says "<name>_LATE_<user id>_..." for a
# late submission and "<file>-1.ipynb", "-2", ... for a resubmission (tests/grading/test_grader.py):
#   r".*/[^_/]+_(?:LATE_)?(?P<student_id>\d+)_\d+_(?P<file_id>[^/]+?)(?:-\d+)?\.ipynb$"
# A second zip_collect of the same assignment needs --force (see the README, "Collect").
c.FileNameCollectorPlugin.named_regexp = r".*/(?P<student_id>[^_/]+)_(?P<file_id>[^/]+\.ipynb)$"

# The release keeps no hidden tests and no solution code.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Feedback shows the visible tests' messages but never the hidden tests (nor their tracebacks).
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
