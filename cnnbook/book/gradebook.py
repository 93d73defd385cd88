"""What grading leaves for the teacher: a gradebook and a feedback file per submission.

``gradebook.csv`` has one row per submission and exercise: the student, the notebook,
the exercise, the points given and possible, the verdict (correct, not yet, not graded,
or to grade by hand for free-response exercises) and the checker's message.
``feedback/<notebook>.md`` is what a student gets back: the score, every exercise's
verdict and message, and the exercises still to be graded by hand.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from .grading import Grade

COLUMNS = ["student", "notebook", "exercise", "points", "possible", "verdict", "message"]


def _verdict(grade: Grade, correct: bool, message: str) -> str:
    if message.startswith("not graded:"):
        return "not graded"
    return "correct" if correct else "not yet"


def rows(grade: Grade) -> list[dict[str, str]]:
    """The gradebook's rows for one submission."""
    notebook = Path(grade.notebook).name
    out = [dict(student=grade.student, notebook=notebook, exercise=r.exercise,
                points=f"{grade.points[r.exercise] if r.correct else 0:g}",
                possible=f"{grade.points[r.exercise]:g}", verdict=_verdict(grade, r.correct, r.message),
                message=r.message) for r in grade.results]
    out += [dict(student=grade.student, notebook=notebook, exercise=e.label, points="",
                 possible=f"{e.points:g}", verdict="to grade by hand", message=e.title) for e in grade.manual]
    if not grade.results and grade.problem:
        out.append(dict(student=grade.student, notebook=notebook, exercise="", points="0", possible="",
                        verdict="not graded", message=grade.problem))
    return out


def feedback(grade: Grade) -> str:
    """The Markdown feedback for one submission."""
    lines = [f"# Feedback on {Path(grade.notebook).name}", "",
             f"Score on the checked exercises: **{grade.score:g} of {grade.possible:g}** points.", ""]
    if grade.problem:
        lines += [f"Your notebook could not be graded in full: {grade.problem}.", ""]
    lines += ["| exercise | points | verdict | message |", "|---|---|---|---|"]
    for row in rows(grade):
        if row["exercise"]:
            message = row["message"].replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {row['exercise']} | {row['points'] or '?'} / {row['possible']} | {row['verdict']} | {message} |")
    if grade.manual:
        lines += ["", "The exercises marked *to grade by hand* are read and graded by your teacher."]
    return "\n".join(lines) + "\n"


def write(grades: list[Grade], folder: str | os.PathLike, force: bool = False) -> Path:
    """Write ``gradebook.csv`` and ``feedback/*.md`` into ``folder``; an earlier gradebook is
    kept unless ``force``."""
    folder = Path(folder)
    book = folder / "gradebook.csv"
    if book.exists() and not force:
        raise ValueError(f"{book} exists: grade into another folder, or pass --force to replace it")
    (folder / "feedback").mkdir(parents=True, exist_ok=True)
    with open(book, "w", newline="") as file:
        writer = csv.DictWriter(file, COLUMNS)
        writer.writeheader()
        for grade in grades:
            writer.writerows(rows(grade))
    for grade in grades:
        (folder / "feedback" / f"{Path(grade.notebook).stem}.md").write_text(feedback(grade))
    return book
