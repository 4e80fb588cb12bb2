"""The course's grader: nbgrader's workflow, with scores decided outside the student's code.

Plain nbgrader runs a submission in a kernel with the grader's permissions and gives the points
of a test cell when the cell raises nothing, so the submission can change what the tests see.
Here every submission runs in a sandbox (rnncore_grader.sandbox), and the points of each graded test cell
come from a question in ``solutions/<assignment>/grading.py`` (rnncore_grader.checks) that calls the
student's functions on hidden inputs and compares the plain data they return with the solution's,
in the grader's own process (rnncore_grader.engine). ``nbgrader autograde`` uses it through a
preprocessor (rnncore_grader.nbgrader_plugin); ``python -m rnncore_grader autograde`` adds robust reading of
broken files and both cores (rnncore_grader.cli). Results go into nbgrader's gradebook, so the
formgrader, ``generate_feedback`` and ``export`` work as usual.
"""
