"""Chapter 1 as an nbgrader assignment, through nbgrader's own pipeline and gradebook."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat

from cnnbook.__main__ import main

RIGHT = {  # the student version's first line of each answer region -> a right answer
    "def output_size": "    return (w - f + 2 * p) // s + 1",
    "answer = ": "answer = 10 * (5 * 5 * 3 + 1)",
    "def stacked_rf": "    return 2 * n + 1",
    "def tripled_rf": "    return 3 ** n",
    "POOL_INPUT": "gradient = [[0, 1, 0, 0], [0, 1, 4, 0], [0, 0, 1, 1], [1, 0, 0, 0]]",
    "def grid_side": "    return size // 32 - 6",
}


def nbgrader(course: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True,
                          text=True,
                          env=os.environ | {"CNNBOOK_QUICK": "1",   # nbgrader runs alembic from the PATH
                                            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def answered(release: Path, target: Path, right: bool) -> None:
    """The released notebook with the stubs replaced: right answers, or the starter's own values."""
    notebook = nbformat.read(release, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "raise NotImplementedError()" in cell.source:
            key = next((k for k in RIGHT if k in cell.source), "answer = ")
            indent = "    " if cell.source.startswith("def ") else ""
            wrong = indent + ("return 0" if indent else
                              "answer = 0" if key == "answer = " else "gradient = [[0] * 4] * 4")
            cell.source = cell.source.replace(f"{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError()",
                                              RIGHT[key] if right else wrong)
        elif cell.cell_type == "markdown" and cell.source.strip() == "YOUR ANSWER HERE":
            cell.source = "Aligned faces: a locally connected layer."
    target.parent.mkdir(parents=True)
    nbformat.write(notebook, target)


def test_chapter_1_through_nbgrader(tmp_path):
    course = tmp_path / "course"
    assert main(["assignment", "ch1", str(course)]) == 0
    source = course / "source" / "ch1" / "01_convolutions.ipynb"
    cells = nbformat.read(source, as_version=4).cells
    tests = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    manual = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "markdown"]
    assert len(tests) == 6 and all(c.metadata.nbgrader.locked and c.metadata.nbgrader.points == 1 for c in tests)
    assert [c.metadata.nbgrader.grade_id for c in manual] == ["ch1-sharing-answer"]
    assert sum("### BEGIN SOLUTION" in c.source for c in cells) == 7

    nbgrader(course, "generate_assignment", "ch1", "--force")
    release = course / "release" / "ch1" / "01_convolutions.ipynb"
    assert "### BEGIN SOLUTION" not in release.read_text()
    for student, right in (("alice", True), ("bob", False)):
        answered(release, course / "submitted" / student / "ch1" / "01_convolutions.ipynb", right)
    nbgrader(course, "autograde", "ch1", "--create")
    nbgrader(course, "generate_feedback", "ch1")

    with sqlite3.connect(course / "gradebook.db") as db:
        scores = dict(db.execute(
            "select student.id, sum(coalesce(grade.manual_score, grade.auto_score, 0)) from grade "
            "join submitted_notebook on grade.notebook_id = submitted_notebook.id "
            "join submitted_assignment on submitted_notebook.assignment_id = submitted_assignment.id "
            "join student on submitted_assignment.student_id = student.id group by student.id"))
        needs_manual = db.execute("select count(*) from grade where needs_manual_grade = 1").fetchone()[0]
    assert scores == {"alice": 6, "bob": 0}
    assert needs_manual == 2   # the free-response answer of each student
    feedback = (course / "feedback" / "alice" / "ch1" / "01_convolutions.html").read_text()
    assert "matches PyTorch on all 120 settings tried" in feedback
    shutil.rmtree(course)
