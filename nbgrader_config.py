"""nbgrader for this repository: answers are written once in solutions/, released to exercises/.

    nbgrader generate_assignment ch01_basic_structure --force   # solutions/ -> exercises/
    nbgrader autograde ch01_basic_structure                     # submitted/ -> autograded/
"""
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "rnn-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# Every exercise cell runs in well under a second; 60 s leaves room for a slow laptop while an
# infinite loop still fails fast.
c.ExecutePreprocessor.timeout = 60
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:",
                             "--InteractiveShell.xmode=Minimal"]

# The release keeps no hidden tests and no solution code.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Feedback shows the visible tests' messages but never the hidden tests (nor their tracebacks).
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
