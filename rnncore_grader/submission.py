"""Reading what a student handed in, however broken, and putting it back into the release.

Only the answer cells are taken from a submission, matched by grade_id; everything else the
student may have changed (tests, points, grade ids of other cells, the kernelspec, cells added
or deleted) is not read. A file that cannot be read at all still gets a reason.
"""
import copy
import json

import nbformat

from rnncore_grader.assignment import answer_ids, nbgrader_of

MAX_BYTES = 20 * 2**20


class Unreadable(Exception):
    """The file holds no notebook the grader can read; the message says why."""


def _source(cell):
    source = cell.get("source", cell.get("input"))   # nbformat 3 code cells say "input"
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    return source if isinstance(source, str) else None


def _cells(data):
    if data.get("nbformat") == 4 or "cells" in data:
        cells = data.get("cells")
    elif data.get("nbformat") == 3:
        cells = [c for ws in data.get("worksheets") or [] if isinstance(ws, dict)
                 for c in ws.get("cells") or []]
    else:
        raise Unreadable(f"it is not a Jupyter notebook (nbformat {data.get('nbformat')!r})")
    if not isinstance(cells, list):
        raise Unreadable("its list of cells is missing or not a list")
    return [c for c in cells if isinstance(c, dict)]


def read_answers(data_bytes, release):
    """(answers, notes) from a submitted file's bytes: answers maps each answer grade_id of the
    release that the file has to its code (the first such cell); notes say what was odd."""
    notes = []
    if len(data_bytes) > MAX_BYTES:
        raise Unreadable(f"the file has {len(data_bytes)} bytes, more than the {MAX_BYTES} a "
                         f"notebook of this course can have")
    try:
        text = data_bytes.decode("utf-8")
    except UnicodeDecodeError as error:
        text = data_bytes.decode("utf-8", "replace")
        notes.append(f"The file is not valid UTF-8 ({error.reason} at byte {error.start}); "
                     f"undecodable bytes were replaced.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise Unreadable(f"it is not valid JSON ({error.msg} at line {error.lineno}, column "
                         f"{error.colno}); was it cut short or edited outside Jupyter?") from None
    if not isinstance(data, dict):
        raise Unreadable("its JSON is not a notebook (not an object)")
    if data.get("nbformat") == 3:
        notes.append("The notebook is in the old format 3; its answer cells were read as such.")
    wanted = set(answer_ids(release))
    answers, seen_ids = {}, []
    for cell in _cells(data):
        grade_id = nbgrader_of(cell).get("grade_id") if isinstance(nbgrader_of(cell), dict) else None
        if not isinstance(grade_id, str):
            continue
        seen_ids.append(grade_id)
        if grade_id not in wanted:
            continue
        source = _source(cell)
        if source is None:
            notes.append(f"The answer cell {grade_id} has no readable code.")
        elif grade_id in answers:
            notes.append(f"The answer cell {grade_id} appears more than once; the first was graded.")
        else:
            answers[grade_id] = source
            if cell.get("cell_type") != "code":
                notes.append(f"The answer cell {grade_id} was turned into a {cell.get('cell_type')} "
                             f"cell; its text was run as code.")
    missing = [g for g in answer_ids(release) if g not in answers]
    if missing and not answers:
        others = sorted(set(seen_ids))[:8]
        raise Unreadable("it has none of this assignment's answer cells ("
                         + ", ".join(answer_ids(release)) + ")"
                         + (f"; its cells are named {', '.join(others)}: is it the notebook of "
                            f"another assignment?" if others else
                            "; it has no nbgrader cells at all"))
    for grade_id in missing:
        notes.append(f"The answer cell {grade_id} is missing (deleted, or its grade id edited); "
                     f"the release's stub was run in its place.")
    return answers, notes


def prepare(release, answers):
    """The release with each answer cell's code replaced by answers[grade_id], outputs cleared."""
    notebook = copy.deepcopy(release)
    for cell in notebook.cells:
        grade_id = nbgrader_of(cell).get("grade_id")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            if nbgrader_of(cell).get("solution") and grade_id in answers:
                cell.source = answers[grade_id]
    return notebook


def graded(notebook, result, notes=(), unreadable=None):
    """The prepared notebook with what grading found as outputs, ready for nbgrader's
    SaveAutoGrades: a graded test cell holds an error output exactly when it lost its points."""
    notebook = copy.deepcopy(notebook)
    first_test = True
    for i, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        meta = nbgrader_of(cell)
        outputs, outcome = [], result.outcomes.get(i) if result else None
        is_test = meta.get("grade_id") in (result.scores if result else {}) or (
            meta.get("grade") and not meta.get("solution"))
        if outcome and outcome.get("output"):
            outputs.append(nbformat.v4.new_output("stream", name="stdout", text=outcome["output"]))
        if outcome and outcome.get("status") == "error":
            if is_test:      # (stdout: nbgrader counts any stderr in a test cell as a failure)
                outputs.append(nbformat.v4.new_output(
                    "stream", name="stdout", text="The visible tests of this cell said:\n"
                                                  + outcome.get("error", "") + "\n"))
            else:
                message = outcome.get("error", "")
                last = message.strip().split("\n")[-1]
                outputs.append(nbformat.v4.new_output(
                    "error", ename=last.split(":")[0][:80] or "Error",
                    evalue=last.partition(":")[2].strip(), traceback=message.split("\n")))
        if is_test:
            if first_test and notes:
                outputs.append(nbformat.v4.new_output(
                    "stream", name="stdout", text="".join(f"Grader's note: {n}\n" for n in notes)))
            first_test = False
            grade_id = meta.get("grade_id")
            if unreadable is not None:
                message = f"The submitted file could not be read: {unreadable}"
            else:
                message = result.messages.get(grade_id)
            if message is None:
                points, top = result.scores[grade_id]
                outputs.append(nbformat.v4.new_output(
                    "stream", name="stdout",
                    text=f"Checked by the grader on hidden inputs: {points:g} of {top:g} points.\n"))
            else:
                outputs.append(nbformat.v4.new_output(
                    "error", ename="NotGraded" if unreadable is not None else "CheckFailed",
                    evalue=message, traceback=[message]))
        cell.outputs = outputs
    return notebook
