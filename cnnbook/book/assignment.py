"""A chapter's exercises as an nbgrader assignment, for courses on JupyterHub.

``write_assignment("ch1", "course")`` writes ``course/source/ch1/01_convolutions.ipynb``,
nbgrader's source version of the chapter's exercises: the chapter's code that the
exercises need, then each exercise with

- its answer cell: the chapter's starter code, with the lines to replace in a solution
  region (``### BEGIN SOLUTION`` ... ``### END SOLUTION``), which the student version
  shows as ``# YOUR CODE HERE``;
- for a checkable exercise, a read-only autograder test cell that calls the book's
  checker and fails with its message, worth the exercise's points;
- for a free-response exercise, a manually graded answer cell holding the chapter's
  solution as the teacher's reference (the student version shows ``YOUR ANSWER HERE``).

The course then runs nbgrader's own pipeline: ``nbgrader generate_assignment ch1``,
collecting, ``nbgrader autograde ch1``, ``nbgrader generate_feedback ch1``, with
nbgrader's SQLite gradebook.

    python -m cnnbook assignment ch1 course/
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from .classroom import remove_solutions
from .grading import CHECK_CALL, ROOT, Exercise, cells_to_run, chapter_exercises, chapter_notebook

_SOLUTION = re.compile(r"^(`{3,}|:{3,})\{solution\}\s*(\S+)\n(?::[^\n]*\n)*(.*?)^\1\s*$", re.M | re.S)
_KEPT = re.compile(r"^\s*(def |class |@|import |from |#|$)")   # starter lines outside the solution region


def _metadata(grade_id: str, *, solution: bool, grade: bool, points: float = 0, locked: bool = False) -> dict:
    values = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked,
              "schema_version": 3}
    return {"nbgrader": values | ({"points": points} if grade else {})}


def answer_region(starter: str) -> str:
    """The starter code with the lines a student replaces (all but definitions, imports and
    comments) inside a solution region, indented as the first of them."""
    lines = starter.rstrip().splitlines()
    inside = [i for i, line in enumerate(lines) if not _KEPT.match(line)]
    if not inside:
        return "### BEGIN SOLUTION\n" + starter.rstrip() + "\n### END SOLUTION"
    first, last = inside[0], inside[-1]
    indent = re.match(r"\s*", lines[first]).group(0)
    return "\n".join(lines[:first] + [indent + "### BEGIN SOLUTION"] + lines[first:last + 1]
                     + [indent + "### END SOLUTION"] + lines[last + 1:])


def assignment_notebook(chapter: str, book: str | os.PathLike = ROOT) -> nbformat.NotebookNode:
    """nbgrader's source version of ``chapter``'s exercises (see the module's docstring)."""
    notebook = chapter_notebook(chapter, book)
    exercises = {e.label: e for e in chapter_exercises(notebook)}
    solutions = {label: text.strip() for _, label, text in _SOLUTION.findall(
        "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown"))}
    start = next(i for i, c in enumerate(notebook.cells)
                 if c.cell_type == "markdown" and re.search(r"^#{1,2} Exercises\s*$", c.source, re.M))
    earlier = {c.source for c in notebook.cells[:start] if c.cell_type == "code"}
    setup = [source for source in cells_to_run(notebook,
                                               notebook) if source in earlier]   # what the exercises need
    cells = [new_markdown_cell(f"# Exercises of chapter {chapter.removeprefix('ch')}\n\n"
                               "Run the first cell, then answer each exercise in the cell below it.")]
    cells += [new_code_cell(source,
                            metadata=_metadata(f"setup-{i}", solution=False, grade=False, locked=True))
              for i, source in enumerate(setup)]
    current: Exercise | None = None
    for cell in notebook.cells[start:]:
        if cell.cell_type == "markdown":
            labels = re.findall(r"^:label:\s*(\S+)", cell.source, re.M)
            text = remove_solutions(cell.source[re.search(r"^#{1,2} Exercises\s*$", cell.source,
                                                          re.M).start():]
                                    if cell is notebook.cells[start] else cell.source)
            if text.strip():
                cells.append(new_markdown_cell(text))
            for label in labels:
                current = exercises.get(label)
                if current and not current.checker:   # free response: graded by hand
                    cells.append(new_markdown_cell(
                        f"### BEGIN SOLUTION\n{solutions.get(label, 'A reference answer is in the chapter.')}\n"
                        "### END SOLUTION",
                        metadata=_metadata(f"{label}-answer", solution=True, grade=True,
                                           points=current.points)))
        elif CHECK_CALL.search(cell.source):
            exercise = next(e for e in exercises.values() if e.checker in CHECK_CALL.findall(cell.source))
            call = re.search(r"^check\(\s*[\"'][\w.-]+[\"']\s*,\s*(.+)\)\s*$", cell.source, re.M)
            starter = cell.source[:call.start()] + cell.source[call.end():]
            cells.append(new_code_cell(answer_region(starter),
                                       metadata=_metadata(f"{exercise.label}-answer",
                                                          solution=True, grade=False)))
            cells.append(new_code_cell(
                f"from cnnbook.exercises import check\n\nfeedback = check({exercise.checker!r}, {call.group(1)})\n"
                "print(feedback)\nassert feedback.correct, feedback.message",
                metadata=_metadata(f"{exercise.label}-test", solution=False, grade=True,
                                   points=exercise.points, locked=True)))
    return new_notebook(cells=cells, metadata={"kernelspec": notebook.metadata.get("kernelspec", {}),
                                               "language_info": notebook.metadata.get("language_info", {})})


def write_assignment(chapter: str, course: str | os.PathLike, name: str | None = None,
                     book: str | os.PathLike = ROOT, force: bool = False) -> Path:
    """Write the source version of ``chapter``'s assignment into the nbgrader ``course`` folder
    (``source/<name>/<chapter file>``); an existing one is replaced only with ``force``."""
    notebook = assignment_notebook(chapter, book)   # a wrong chapter fails here
    chapter_file = next(Path(book, "chapters").glob(f"{int(chapter.removeprefix('ch')):02d}_*.ipynb"))
    path = Path(course) / "source" / (name or chapter) / chapter_file.name
    if path.exists() and not force:
        raise ValueError(f"{path} exists: pass --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    config = Path(course) / "nbgrader_config.py"
    if not config.exists():
        config.write_text("c = get_config()  # noqa: F821\n"
                          f"c.CourseDirectory.root = {str(Path(course).resolve())!r}\n"
                          "c.ExecutePreprocessor.timeout = 300   # seconds per cell when autograding\n")
    return path
